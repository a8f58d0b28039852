package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DataDirectoriesTest {
    @TempDir
    Path tmp;

    private static FileEntry ibd(String path, String location) {
        return new FileEntry(path, "innodb", 9L, 0x15, 65536, 4, FileEntry.WHOLE, 0, "data/000001", 100, "00000000", null, location);
    }

    private Manifest manifest() {
        return Manifest.builder().id("B1").files(List.of(
                ibd("db/a.ibd", tmp.resolve("d/db/a.ibd").toString()),
                ibd("db/b#P#p0.ibd", tmp.resolve("dd/db/b#P#p0.ibd").toString()),
                ibd("db/local.ibd", null))).build();
    }

    private DataDirectories plan(String... remaps) {
        return DataDirectories.plan(manifest(), tmp.resolve("target"), List.of(remaps).stream().map(DataDirectories.Remap::parse).toList());
    }

    @Test
    void withoutRemapEveryFileGoesBackToItsLocation() {
        DataDirectories d = plan();
        assertEquals(tmp.resolve("d/db/a.ibd"), d.outside(manifest().files().get(0)));
        assertNull(d.outside(manifest().files().get(2)));
        assertEquals(List.of(tmp.resolve("d/db"), tmp.resolve("dd/db")), d.directories());
    }

    @Test
    void remapMatchesWholeDirectoryPrefixesAndTheFirstMatchWins() {
        // ".../d" is no directory prefix of ".../dd": b moves by the second remap, a by the first, which comes first
        DataDirectories d = plan(tmp.resolve("d") + "=" + tmp.resolve("n1"), tmp + "=" + tmp.resolve("n2"));
        assertEquals(tmp.resolve("n1/db/a.ibd"), d.outside(manifest().files().get(0)));
        assertEquals(tmp.resolve("n2/dd/db/b#P#p0.ibd"), d.outside(manifest().files().get(1)));
        assertEquals(List.of("db/a.ibd -> " + tmp.resolve("n1/db/a.ibd") + " (remapped from " + tmp.resolve("d/db/a.ibd") + ")",
                "db/b#P#p0.ibd -> " + tmp.resolve("n2/dd/db/b#P#p0.ibd") + " (remapped from " + tmp.resolve("dd/db/b#P#p0.ibd") + ")"), d.describe());
    }

    @Test
    void aRemapThatMatchesNothingIsRefused() {
        StrataException e = assertThrows(StrataException.class, () -> plan(tmp.resolve("d/db/a.ibd/x") + "=/n"));
        assertEquals(ErrorCode.REMAP_UNMATCHED, e.code());
        assertEquals("--remap " + tmp.resolve("d/db/a.ibd/x") + "=/n matches no DATA DIRECTORY file of backup B1 (its files lie in "
                + tmp.resolve("d/db") + ", " + tmp.resolve("dd/db") + ")", e.getMessage());
        assertEquals(ErrorCode.USAGE, assertThrows(StrataException.class, () -> plan("relative=/n")).code());
        assertEquals(ErrorCode.USAGE, assertThrows(StrataException.class, () -> plan("/only-old")).code());
    }

    @Test
    void anExistingFileOrANonEmptyDirectoryIsRefusedAndAnEmptyOneIsNot() throws Exception {
        Files.createDirectories(tmp.resolve("dd/db"));
        plan().check(); // empty: fine
        Files.writeString(tmp.resolve("dd/db/other.ibd"), "x");
        StrataException e = assertThrows(StrataException.class, () -> plan().check());
        assertEquals(ErrorCode.TARGET_NOT_EMPTY, e.code());
        assertEquals("the DATA DIRECTORY file db/b#P#p0.ibd would be restored to " + tmp.resolve("dd/db/b#P#p0.ibd") + ", but "
                + tmp.resolve("dd/db") + " is not empty (it holds other.ibd)", e.getMessage());
        assertEquals("strata never overwrites files: move them away, or restore the file elsewhere with --remap " + tmp.resolve("dd") + "=NEWDIR",
                e.hint());
        plan(tmp.resolve("dd") + "=" + tmp.resolve("elsewhere")).check();
        assertFalse(Files.exists(tmp.resolve("elsewhere")), "check writes nothing");
    }
}
