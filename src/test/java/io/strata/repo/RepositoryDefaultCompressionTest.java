package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.LocalObjectStore;
import io.strata.store.StoreLocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 16: the compression a repository is created with is its default, recorded in strata.repo. */
class RepositoryDefaultCompressionTest {
    @TempDir
    Path dir;

    @Test
    void recordedAtCreationAndKept() {
        Path repo = dir.resolve("repo");
        Repository.openOrCreate(StoreLocation.local(repo), null, Compression.zstd(5));
        assertEquals(Compression.zstd(5), Repository.open(repo).defaultCompression());
        // a later writer's choice does not change the repository's default
        assertEquals(Compression.zstd(5), Repository.openOrCreate(StoreLocation.local(repo), null, Compression.LZ4).defaultCompression());
        Map<?, ?> marker = new ObjectIo(new LocalObjectStore(repo)).readJson(Repository.MARKER, "repository", Map.class, ObjectCodec.PLAIN);
        assertEquals("zstd:5", marker.get("compression"));
        assertEquals(Compression.NONE, Repository.openOrCreate(dir.resolve("plain")).defaultCompression());
    }

    @Test
    void markerWithoutTheFieldMeansNoneAndAnUnknownOneIsTooNew() {
        Path repo = dir.resolve("old");
        Repository.openOrCreate(repo);
        ObjectIo io = new ObjectIo(new LocalObjectStore(repo));
        Map<String, Object> marker = new TreeMap<>(Map.of("format", "strata-repository", "version", 2, "created", "2026-11-21T10:00:00Z"));
        io.writeJson(Repository.MARKER, "repository", marker, ObjectCodec.PLAIN);
        assertEquals(Compression.NONE, Repository.open(repo).defaultCompression());

        marker.put("compression", "brotli:4");
        io.writeJson(Repository.MARKER, "repository", marker, ObjectCodec.PLAIN);
        StrataException e = assertThrows(StrataException.class, () -> Repository.open(repo));
        assertEquals(ErrorCode.FORMAT_TOO_NEW, e.code());
        assertTrue(e.getMessage().contains("default compression brotli:4 is unknown to this strata"), e.getMessage());
    }
}
