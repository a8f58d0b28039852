package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Lineage;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.SourceInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The parent rule of design rule 9: a parent of another lineage, or evidence of another history
 * (LSN behind the parent's end, a GTID position that does not extend the parent's), makes auto take
 * a full backup and an explicit incremental fail with history-diverged.
 */
class BaseSelectorTest {
    private static final String KEY = "h:0:/srv/db";
    private static final SourceInfo SRC = new SourceInfo(KEY, "h", 1, "10.11.19-MariaDB", "/srv/db", 16384, 8 << 20, 0, "ibdata1:12M:autoextend", "full_crc32");
    private static final Lineage RESTORED = new Lineage(Lineage.FORMAT, 1, "5f0c9e6d2a8b4c1e9d7f3a6b0c2e4d81", "20260101T000000Z-0001", "/r", null,
            "2026-01-05T00:00:00Z");

    @TempDir
    Path dir;
    Repository repo;

    @BeforeEach
    void twoBackupsOfTheOrigin() {
        repo = Repository.openOrCreate(dir.resolve("repo"));
        repo.writeManifest(manifest("20260101T000000Z-0001", Manifest.TYPE_FULL, null, 1000, 2000, "0-1-10", null));
        repo.writeManifest(manifest("20260102T000000Z-0002", "incremental", "20260101T000000Z-0001", 3000, 4000, "0-1-20,1-2-5", null));
    }

    private static Manifest manifest(String id, String type, String parent, long start, long end, String gtid, Lineage lineage) {
        return Manifest.builder().id(id).type(type).parent(parent).source(SRC).startLsn(start).endLsn(end).redoEndLsn(end)
                .gtidBinlogPos(gtid).gtidCurrentPos(gtid).lineage(lineage).build();
    }

    private static BackupOptions opts(BackupType type, String base) {
        return new BackupOptions(type, BaseSpec.parse(base), null, null, null, 1, 0, 0, ChangeMethod.AUTO, false);
    }

    private BaseSelector.Base choose(BackupType type, String base, Lineage lineage, long lsn, String gtid) {
        return BaseSelector.choose(repo, opts(type, base), KEY, new BaseSelector.ServerHistory(lineage, lsn, gtid));
    }

    @Test
    void theSameHistoryJoinsTheNewestBackup() {
        BaseSelector.Base b = choose(BackupType.AUTO, null, null, 5000, "0-1-25,1-2-5,2-3-1");
        assertEquals(BackupType.INCREMENTAL, b.type());
        assertEquals("20260102T000000Z-0002", b.parent().id());
        assertEquals(3000L, b.threshold());
        assertNull(b.note());
        // binlog off or reset on the server: no evidence either way
        assertEquals("20260102T000000Z-0002", choose(BackupType.INCREMENTAL, null, null, 5000, "").parent().id());
    }

    @Test
    void aRestoredDataDirectoryStartsANewHistory() {
        // its LSN is past the newest backup's end: the LSN alone would join it
        BaseSelector.Base b = choose(BackupType.AUTO, null, RESTORED, 5000, "0-1-25");
        assertEquals(BackupType.FULL, b.type());
        assertNull(b.parent());
        String why = "the server's data directory was restored by strata from backup 20260101T000000Z-0001 at 2026-01-05T00:00:00Z (lineage 5f0c9e6d),"
                + " but backup 20260102T000000Z-0002 belongs to lineage origin";
        assertEquals(why + ": starting a new history with a full backup", b.note());
        for (String base : new String[] {null, "last", "20260102T000000Z-0002"}) {
            StrataException e = assertThrows(StrataException.class, () -> choose(BackupType.INCREMENTAL, base, RESTORED, 5000, "0-1-25"));
            assertEquals(ErrorCode.HISTORY_DIVERGED, e.code());
            assertEquals(35, e.code().exitCode());
            assertEquals(why + ": an incremental on it would join two histories", e.getMessage());
            assertEquals("take a full backup (--type full or auto) to start the new history, or name a base of lineage 5f0c9e6d with --base", e.hint());
        }
        StrataException d = assertThrows(StrataException.class, () -> choose(BackupType.DIFFERENTIAL, null, RESTORED, 5000, "0-1-25"));
        assertEquals("the server's data directory was restored by strata from backup 20260101T000000Z-0001 at 2026-01-05T00:00:00Z (lineage 5f0c9e6d),"
                + " but backup 20260101T000000Z-0001 belongs to lineage origin: a differential on it would join two histories", d.getMessage());
        // explicit --base on auto is explicit too
        assertEquals(ErrorCode.HISTORY_DIVERGED, assertThrows(StrataException.class, () -> choose(BackupType.AUTO, "last", RESTORED, 5000, "")).code());
    }

    @Test
    void aFullOfTheNewLineageIsJoinedAndTheOldHistoryIsNot() {
        repo.writeManifest(manifest("20260106T000000Z-0003", Manifest.TYPE_FULL, null, 1500, 1600, "0-1-12", RESTORED));
        BaseSelector.Base b = choose(BackupType.INCREMENTAL, null, RESTORED, 2500, "0-1-14");
        assertEquals("20260106T000000Z-0003", b.parent().id());
        // the old history, once more in its data directory (the lineage file removed): a new full again
        assertEquals(BackupType.FULL, choose(BackupType.AUTO, null, null, 9000, "0-1-30").type());
    }

    @Test
    void anotherToolsRestoreIsSeenByItsLsnOrGtid() {
        BaseSelector.Base lsn = choose(BackupType.AUTO, null, null, 3500, "0-1-25");
        assertEquals(BackupType.FULL, lsn.type());
        assertEquals("the server's LSN 3500 is below the end LSN 4000 of backup 20260102T000000Z-0002: its data directory was restored or replaced"
                + " since that backup: starting a new history with a full backup", lsn.note());
        StrataException e = assertThrows(StrataException.class, () -> choose(BackupType.INCREMENTAL, null, null, 3500, "0-1-25"));
        assertEquals(ErrorCode.HISTORY_DIVERGED, e.code());
        assertEquals("take a full backup (--type full or auto) to start the new history", e.hint());

        BaseSelector.Base gtid = choose(BackupType.AUTO, null, null, 5000, "0-1-25,1-2-4");
        assertEquals(BackupType.FULL, gtid.type());
        assertEquals("the server's GTID position 0-1-25,1-2-4 does not extend 0-1-20,1-2-5 of backup 20260102T000000Z-0002 (domain 1: sequence number 4 < 5):"
                + " its data directory was restored or replaced since that backup, or its binary log was reset (RESET MASTER): starting a new history with a full backup",
                gtid.note());
        assertEquals(ErrorCode.HISTORY_DIVERGED, assertThrows(StrataException.class,
                () -> choose(BackupType.INCREMENTAL, null, null, 5000, "0-1-19")).code());
    }

    @Test
    void gtidEvidenceNeedsADomainBothPositionsName() {
        assertNull(BaseSelector.gtidBehind("0-1-5", ""));
        assertNull(BaseSelector.gtidBehind("", "0-1-5"));
        assertNull(BaseSelector.gtidBehind(null, "0-1-5"));
        assertNull(BaseSelector.gtidBehind("1-1-1", "0-1-5"));
        assertNull(BaseSelector.gtidBehind("0-2-5", "0-1-5"));
        assertEquals("domain 0: sequence number 4 < 5", BaseSelector.gtidBehind("0-9-4,3-1-1", "0-1-5"));
    }

    /** Partial backups: an incremental must have its parent's scope; auto takes a full instead and says why. */
    @Test
    void anotherScopeThanTheParentsIsRefusedOrStartsAFull() {
        io.strata.repo.Scope scope = io.strata.repo.Scope.parse("shop", null, null, null);
        BackupOptions partial = new BackupOptions(BackupType.INCREMENTAL, null, null, null, null, 1, 0, 0, ChangeMethod.AUTO, false, 0, scope);
        StrataException e = assertThrows(StrataException.class,
                () -> BaseSelector.choose(repo, partial, KEY, new BaseSelector.ServerHistory(null, 5000, "0-1-25")));
        assertEquals(ErrorCode.SCOPE_MISMATCH, e.code());
        assertEquals("backup 20260102T000000Z-0002 holds the whole server, but this backup asks for --databases='shop':"
                + " an incremental must hold the same tables as its parent", e.getMessage());
        BackupOptions auto = new BackupOptions(BackupType.AUTO, null, null, null, null, 1, 0, 0, ChangeMethod.AUTO, false, 0, scope);
        BaseSelector.Base b = BaseSelector.choose(repo, auto, KEY, new BaseSelector.ServerHistory(null, 5000, "0-1-25"));
        assertEquals(BackupType.FULL, b.type());
        assertEquals("backup 20260102T000000Z-0002 holds the whole server, but this backup asks for --databases='shop': taking a full backup with this scope",
                b.note());
    }
}
