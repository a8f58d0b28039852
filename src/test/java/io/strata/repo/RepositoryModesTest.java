package io.strata.repo;

import io.strata.store.LocalObjectStore;
import io.strata.store.ObjectStore;
import io.strata.util.FileModes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every directory and file strata creates in a local repository is private: 0700 and 0600, whatever the umask leaves open. */
class RepositoryModesTest {
    @Test
    void aNewRepositoryItsObjectsAndItsLocksArePrivate(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("new").resolve("repo");
        Repository r = Repository.openOrCreate(root);
        try (RepoLock writer = r.lock(); RepoLock other = r.lock("binlog-x.lock", "locked", null)) {
            ObjectStore.Writer w = new LocalObjectStore(root).create("binlogs/s1/t1/binlog.000001/0000");
            w.stream().write("CREATE USER u IDENTIFIED BY 'secret'".getBytes(StandardCharsets.US_ASCII));
            w.commit();
        }
        List<String> seen = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir.resolve("new"))) {
            for (Path p : s.toList()) {
                String mode = FileModes.octal(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                String expected = Files.isDirectory(p) ? "0700" : "0600";
                assertEquals(expected, mode, p.toString());
                seen.add(dir.relativize(p).toString());
            }
        }
        assertTrue(seen.contains("new/repo/" + Repository.MARKER) && seen.contains("new/repo/binlogs/s1/t1/binlog.000001/0000"), seen.toString());
        assertTrue(seen.stream().anyMatch(p -> p.endsWith("binlog-x.lock")), "the named lock's file was walked: " + seen);
    }
}
