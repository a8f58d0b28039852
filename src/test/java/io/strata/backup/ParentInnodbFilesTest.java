package io.strata.backup;

import io.strata.repo.FileEntry;
import io.strata.repo.FileStat;
import io.strata.repo.KeyManagement;
import io.strata.repo.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ParentInnodbFiles}: page 0 facts come from the parent's entry only for a file whose size
 * and attributes still match that entry's {@code stat} (by the rule of {@link PlainFileReuse}), of
 * the same path and home, never for a DATA DIRECTORY tablespace, and the crypt-data check is
 * skipped only for a path the parent did not count as encrypted.
 */
class ParentInnodbFilesTest {
    @TempDir
    Path dir;

    private static FileEntry entry(String path, String home, long size, FileStat stat, String location) {
        return new FileEntry(path, "innodb", 7L, 21, size, size / 16384, FileEntry.DELTA, 0, "data/000001", 0, "00000000", home, location, stat, null);
    }

    /** The file's attributes as the parent saw them 3 s after its last change. */
    private static FileStat seenBefore(Path f) throws Exception {
        FileStat now = PlainFileReuse.look(f).stat();
        return new FileStat(now.inode(), now.device(), now.ctime(), now.ctime() + 3_000_000_000L);
    }

    private static Manifest parent(List<FileEntry> files, List<String> encrypted) {
        KeyManagement km = encrypted == null ? null : new KeyManagement(true, List.of("test"), encrypted, List.of(), Map.of());
        return Manifest.builder().id("20261201T000001Z-0001").type(Manifest.TYPE_FULL).files(files).keyManagement(km).build();
    }

    @Test
    void anUnchangedFileTakesTheParentsEntryAndAChangedOneDoesNot() throws Exception {
        Path f = dir.resolve("t.ibd");
        Files.write(f, new byte[32768]);
        ParentInnodbFiles p = ParentInnodbFiles.of(parent(List.of(entry("db/t.ibd", null, 32768, seenBefore(f), null)), null));
        PlainFileReuse.Seen now = PlainFileReuse.look(f);
        assertNotNull(p.unchanged(null, "db/t.ibd", now.size(), now.stat()));
        assertNull(p.unchanged("innodb_data_home_dir", "db/t.ibd", now.size(), now.stat()), "another home");
        assertNull(p.unchanged(null, "db/u.ibd", now.size(), now.stat()), "another path");
        assertTrue(p.knownUnencrypted(entry("db/t.ibd", null, 32768, now.stat(), null), f));

        Thread.sleep(20);
        Files.write(f, new byte[32768]); // rewritten, same size: a new change time
        PlainFileReuse.Seen later = PlainFileReuse.look(f);
        assertNull(p.unchanged(null, "db/t.ibd", later.size(), later.stat()));
        assertFalse(p.knownUnencrypted(entry("db/t.ibd", null, 32768, later.stat(), null), f));
    }

    @Test
    void encryptedPathsDataDirectoryTablespacesAndParentsWithoutStatReadPage0() throws Exception {
        Path f = dir.resolve("t.ibd");
        Files.write(f, new byte[32768]);
        FileStat then = seenBefore(f);
        PlainFileReuse.Seen now = PlainFileReuse.look(f);
        ParentInnodbFiles enc = ParentInnodbFiles.of(parent(List.of(entry("db/t.ibd", null, 32768, then, null)), List.of("db/t.ibd")));
        assertNotNull(enc.unchanged(null, "db/t.ibd", now.size(), now.stat()), "space id and flags still come from the parent");
        assertFalse(enc.knownUnencrypted(entry("db/t.ibd", null, 32768, now.stat(), null), f), "the parent counted it encrypted");

        ParentInnodbFiles remote = ParentInnodbFiles.of(parent(List.of(entry("db/t.ibd", null, 32768, then, f.toString())), null));
        assertNull(remote.unchanged(null, "db/t.ibd", now.size(), now.stat()));
        ParentInnodbFiles noStat = ParentInnodbFiles.of(parent(List.of(entry("db/t.ibd", null, 32768, null, null)), null));
        assertNull(noStat.unchanged(null, "db/t.ibd", now.size(), now.stat()));
        assertTrue(ParentInnodbFiles.of(null).isEmpty());
    }
}
