package io.strata.restore;

import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.repo.SourceInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The restore record ({@link RestoredState}) and what a delta restore concludes from it
 * ({@link DeltaBasis#untouched}): a file is left unread only when the restore wrote it, nothing
 * wrote it during the restore's own recovery, and nothing changed its data or attributes since.
 */
class RestoredStateTest {
    private static final SourceInfo SRC = new SourceInfo("h:0:/d", "h", 1, "10.11.19-MariaDB", "/d", 16384, 8 << 20, 0, "ibdata1:12M:autoextend", "full_crc32");

    @TempDir
    Path dir;

    private static Manifest backup(String id, String... paths) {
        List<FileEntry> files = new ArrayList<>();
        for (String p : paths) {
            files.add(new FileEntry(p, "file", null, null, 3, 0, "whole", 0, "000001", 3, "00000000"));
        }
        return Manifest.builder().id(id).type(Manifest.TYPE_FULL).source(SRC).startLsn(100).endLsn(110).redoEndLsn(110).files(files).build();
    }

    @Test
    void aFileIsUntouchedOnlyWhileNothingWroteOrChangedIt() throws Exception {
        Path t = dir.resolve("t");
        Files.createDirectories(t.resolve("db"));
        for (String f : List.of("db/a.frm", "db/b.frm", "db/c.frm", "db/d.frm")) {
            Files.writeString(t.resolve(f), "abc");
        }
        Manifest m = backup("20260101T000000Z-0001", "db/a.frm", "db/b.frm", "db/c.frm", "db/d.frm");
        // files written within a file-time tick of the snapshot could be written again unseen: never taken as written
        assertEquals(List.of(false, false, false, false), RestoredState.snapshot(m, t, fe -> t.resolve(fe.path())).files().stream()
                .map(RestoredState.Entry::written).toList());
        Thread.sleep(150);
        RestoredState snap = RestoredState.snapshot(m, t, fe -> t.resolve(fe.path()));
        assertEquals(List.of(true, true, true, true), snap.files().stream().map(RestoredState.Entry::written).toList());
        // the restore's own recovery writes b.frm (data, so mtime); --owner / modes change a.frm's ctime only
        Thread.sleep(20);
        Files.writeString(t.resolve("db/b.frm"), "abd");
        Files.setPosixFilePermissions(t.resolve("db/a.frm"), PosixFilePermissions.fromString("rw-------"));
        assertNull(new RestoredState.Pending(snap, t, t.resolve("ib_logfile0"), false).complete());

        RestoredState rec = RestoredState.read(t);
        assertEquals("20260101T000000Z-0001", rec.backup());
        assertNull(rec.logInode(), "no crash recovery: no log facts");
        assertEquals(List.of(true, false, true, true), rec.files().stream().map(RestoredState.Entry::written).toList());
        assertTrue(Files.getPosixFilePermissions(t.resolve(RestoredState.FILE_NAME)).equals(PosixFilePermissions.fromString("rw-r-----")));

        List<String> said = new ArrayList<>();
        DeltaBasis basis = DeltaBasis.of(null, m, t, t.resolve("ib_logfile0"), said::add);
        assertEquals(List.of("delta: files other than InnoDB untouched since the last restore of 20260101T000000Z-0001 are left unread; the redo logs"
                + " cannot name the pages changed since, so InnoDB files are compared in full: the last restore did not run crash recovery"), said);
        FileEntry a = m.files().get(0), b = m.files().get(1), c = m.files().get(2), d = m.files().get(3);
        assertTrue(basis.untouched(a, t.resolve("db/a.frm")), "a mode change before the record was taken");
        assertFalse(basis.untouched(b, t.resolve("db/b.frm")), "written during the restore's recovery: not the backup's bytes");
        assertTrue(basis.untouched(c, t.resolve("db/c.frm")));
        assertNull(basis.suspects(c, t.resolve("db/c.frm")), "no log facts: a touched file is compared in full");
        // a second name (cp -al snapshot): writing in place would change the other name's file too, so never left alone
        Files.createLink(t.resolve("db/c-link"), t.resolve("db/c.frm"));
        assertFalse(basis.untouched(c, t.resolve("db/c.frm")));
        Files.delete(t.resolve("db/c-link"));
        assertFalse(basis.untouched(c, t.resolve("db/c.frm")), "the link's removal changed its ctime");

        // since the record: a same-size write, a mode change, a file replaced by another (new inode)
        Thread.sleep(20);
        Files.writeString(t.resolve("db/a.frm"), "xyz");
        Files.setPosixFilePermissions(t.resolve("db/c.frm"), PosixFilePermissions.fromString("rw-r-----"));
        Files.writeString(t.resolve("db/d2"), "abc");
        Files.move(t.resolve("db/d2"), t.resolve("db/d.frm"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertFalse(basis.untouched(a, t.resolve("db/a.frm")));
        assertFalse(basis.untouched(c, t.resolve("db/c.frm")));
        assertFalse(basis.untouched(d, t.resolve("db/d.frm")));
    }

    @Test
    void aFileRecoveryReplacedByRenameIsLeftOutAndAnInnodbFileIsNeverJudgedByItsTimes() throws Exception {
        Path t = dir.resolve("t");
        Files.createDirectories(t);
        Files.writeString(t.resolve("a.frm"), "abc");
        Files.writeString(t.resolve("b.frm"), "abc");
        Manifest m = backup("20260101T000000Z-0001", "a.frm", "b.frm");
        Thread.sleep(150);
        RestoredState snap = RestoredState.snapshot(m, t, fe -> t.resolve(fe.path()));
        Files.writeString(t.resolve("other"), "abc");
        Files.move(t.resolve("other"), t.resolve("b.frm"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertNull(new RestoredState.Pending(snap, t, t.resolve("ib_logfile0"), false).complete());
        assertEquals(List.of("a.frm"), RestoredState.read(t).files().stream().map(RestoredState.Entry::path).toList());
        DeltaBasis basis = DeltaBasis.of(null, m, t, t.resolve("ib_logfile0"), s -> { });
        FileEntry asInnodb = new FileEntry("a.frm", "innodb", 5L, 0, 3, 0, "whole", 0, "000001", 3, "00000000");
        assertFalse(basis.untouched(asInnodb, t.resolve("a.frm")), "InnoDB files: only the redo logs can tell");
        assertTrue(basis.untouched(m.files().get(0), t.resolve("a.frm")));
    }

    @Test
    void aRecordOfAnotherBackupOrNoneOrADamagedOneTellsNothing() throws Exception {
        Path t = dir.resolve("t");
        Files.createDirectories(t);
        Files.writeString(t.resolve("x.frm"), "abc");
        Manifest m = backup("20260101T000000Z-0001", "x.frm");
        List<String> said = new ArrayList<>();
        assertSame(DeltaBasis.NONE, DeltaBasis.of(null, m, t, t.resolve("ib_logfile0"), said::add));
        new RestoredState.Pending(RestoredState.snapshot(m, t, fe -> t.resolve(fe.path())), t, t.resolve("ib_logfile0"), false).complete();
        assertSame(DeltaBasis.NONE, DeltaBasis.of(null, backup("20260102T000000Z-0002", "x.frm"), t, t.resolve("ib_logfile0"), said::add));
        // the same id in another repository: another backup (its files differ)
        Manifest other = Manifest.builder().id(m.id()).type(Manifest.TYPE_FULL).source(SRC).startLsn(200).endLsn(210).redoEndLsn(210).files(m.files()).build();
        assertSame(DeltaBasis.NONE, DeltaBasis.of(null, other, t, t.resolve("ib_logfile0"), said::add));
        Files.writeString(t.resolve(RestoredState.FILE_NAME), "{\"format\":\"strata-restored\",\"version\":1,\"backup\":");
        assertSame(DeltaBasis.NONE, DeltaBasis.of(null, m, t, t.resolve("ib_logfile0"), said::add));
        assertEquals(List.of(
                "delta: " + t + " holds no record of a restore by strata (strata-restored.json): every file is compared",
                "delta: the last restore into " + t + " was of backup 20260101T000000Z-0001, not 20260102T000000Z-0002: every file is compared",
                "delta: the last restore into " + t + " was of another backup with the id 20260101T000000Z-0001 (another repository's): every file is compared",
                "delta: " + t + " holds no record of a restore by strata (strata-restored.json): every file is compared"), said);
        assertFalse(DeltaBasis.NONE.untouched(m.files().get(0), t.resolve("x.frm")));
        assertNull(DeltaBasis.NONE.suspects(m.files().get(0), t.resolve("x.frm")));
    }

    @Test
    void aChunkIsReadOnlyWhenOneOfItsPagesIsASuspect() {
        int ps = 16384;
        BitSet s = new BitSet();
        s.set(64);
        s.set(200);
        assertTrue(DeltaRestore.anySuspect(null, 0, 1 << 20, ps), "no basis: every chunk");
        assertFalse(DeltaRestore.anySuspect(s, 0, 1 << 20, ps), "pages 0-63");
        assertTrue(DeltaRestore.anySuspect(s, 1 << 20, 1 << 20, ps), "pages 64-127");
        assertFalse(DeltaRestore.anySuspect(s, 2L << 20, 1 << 20, ps), "pages 128-191");
        assertTrue(DeltaRestore.anySuspect(s, 3L << 20, 1 << 20, ps), "pages 192-255");
        assertTrue(DeltaRestore.anySuspect(s, 200L * ps, ps, ps));
        assertFalse(DeltaRestore.anySuspect(s, 201L * ps, ps, ps));
        assertTrue(DeltaRestore.anySuspect(s, 200L * ps + 100, 10, ps), "a partial page");
        assertFalse(DeltaRestore.anySuspect(new BitSet(), 0, 1 << 20, ps));
        assertFalse(DeltaRestore.anySuspect(s, 4L << 20, 1 << 20, 4096), "4 KiB pages 1024-1279");
    }
}
