package io.strata.restore;

import io.strata.binlog.BinlogBuilder;
import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.repo.Manifest;
import io.strata.restore.PitrWindows.BackupPoint;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Binlogs built in the test: which statements after a backup point TempTables takes as failing in a replay. */
class TempTablesTest {
    private static final int T = BinlogEvent.THREAD_SPECIFIC_F;
    private static final String FILE = "binlog.000001";

    /** One committed statement of connection {@code thread}: GTID, BEGIN, the statement, COMMIT. */
    private static BinlogBuilder stmt(BinlogBuilder b, long seq, long thread, int flags, String sql) {
        return b.gtid(0, seq, false).query(thread, 0, "app", "BEGIN").query(thread, flags, "app", sql).query(thread, 0, "app", "COMMIT");
    }

    private static BackupPoint point(String id, long offset) {
        Manifest m = Manifest.builder().id(id).gtidBinlogPos("0-1-1").build();
        return new BackupPoint(id, m, new Pos(1, FILE, offset), 1_700_000_000L);
    }

    private static Map<BackupPoint, TempTables.Hazard> scan(byte[] file, List<BackupPoint> points) throws IOException {
        TempTables t = new TempTables(points);
        feed(t, FILE, file);
        return t.hazards();
    }

    private static void feed(TempTables t, String name, byte[] file) throws IOException {
        BinlogScanner sc = new BinlogScanner(name, 0, null);
        BinlogEvent e;
        try (ByteArrayInputStream in = new ByteArrayInputStream(file)) {
            while ((e = sc.next(in, file.length, null)) != null) {
                t.event(1, name, e, sc);
            }
        }
    }

    @Test
    void aTableOpenAtThePointFailsAtItsFirstUse() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 1).fde(false, true);
        stmt(b, 2, 7, T, "CREATE TEMPORARY TABLE `scratch` (id INT)");
        stmt(b, 3, 7, T, "INSERT INTO scratch VALUES (1)");
        BackupPoint p = point("b1", b.offset());
        stmt(b, 4, 8, 0, "INSERT INTO app.t VALUES (2)");
        long use = b.offset();
        b.at(1_700_000_100L);
        stmt(b, 5, 7, T, "INSERT INTO app.t SELECT * FROM Scratch");
        stmt(b, 6, 7, T, "DROP /*!40005 TEMPORARY */ TABLE IF EXISTS `scratch`");
        TempTables.Hazard h = scan(b.bytes(), List.of(p)).get(p);
        assertEquals(new Pos(1, FILE, use), h.before());
        assertEquals(7, h.connection());
        assertEquals("scratch", h.table());
        assertEquals(1_700_000_100L, h.time());
        assertEquals("0-1-4", h.gtids());
        assertEquals("not restorable from backup b1: temporary table scratch of connection 7 spans the backup point; restore from a later backup, or to "
                + FILE + ":" + use + " at the latest (--until-position " + FILE + ":" + use + ", or --until 2023-11-14T22:14:59Z)", h.description());
    }

    @Test
    void tablesClosedBeforeThePointOrCreatedAfterItReplay() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 1).fde(false, true);
        stmt(b, 2, 7, T, "CREATE TEMPORARY TABLE app.scratch (id INT)");
        stmt(b, 3, 7, T, "DROP TEMPORARY TABLE scratch");
        BackupPoint p = point("b1", b.offset());
        stmt(b, 4, 7, T, "CREATE TEMPORARY TABLE scratch (id INT)");
        stmt(b, 5, 7, T, "INSERT INTO app.t SELECT * FROM scratch");
        stmt(b, 6, 9, T, "INSERT INTO app.t VALUES (CONNECTION_ID())"); // known: connection 9 has nothing open
        assertTrue(scan(b.bytes(), List.of(p)).isEmpty());
    }

    @Test
    void withoutAServerStartUnexplainedUsesAreTakenAsFailing() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 1).fde(false, false); // a rotated file: tables of earlier files are unknown
        BackupPoint p = point("b1", b.offset());
        stmt(b, 2, 7, T, "CREATE TEMPORARY TABLE scratch (id INT)");
        stmt(b, 3, 7, T, "INSERT INTO app.t SELECT * FROM scratch");
        stmt(b, 4, 7, T, "DROP TEMPORARY TABLE IF EXISTS older");
        b.gtid(0, 40, false).query(8, T, "app", "BEGIN").query(8, T, "app", "SAVEPOINT a").query(8, T, "app", "COMMIT"); // name no table
        long use = b.offset();
        stmt(b, 5, 9, T, "INSERT INTO app.t SELECT * FROM older");
        TempTables.Hazard h = scan(b.bytes(), List.of(p)).get(p);
        assertEquals(use, h.before().offset());
        assertNull(h.table());
        assertTrue(h.description().startsWith("not restorable from backup b1: connection 9 uses a temporary table at " + FILE + ":" + use
                + " that may predate the backup point (its creation is not in the archived binlogs read); restore from a later backup, or to "
                + FILE + ":" + use + " at the latest"), h.description());
    }

    @Test
    void eachPointIsWatchedUntilTheNextOne() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 1).fde(false, true);
        stmt(b, 2, 7, T, "CREATE TEMPORARY TABLE scratch (id INT)");
        BackupPoint p1 = point("b1", b.offset());
        stmt(b, 3, 8, 0, "INSERT INTO app.t VALUES (3)");
        BackupPoint p2 = point("b2", b.offset());
        stmt(b, 4, 7, T, "DROP TEMPORARY TABLE IF EXISTS scratch");
        BackupPoint p3 = point("b3", b.offset());
        stmt(b, 5, 7, T, "CREATE TEMPORARY TABLE scratch (id INT)");
        stmt(b, 6, 7, T, "UPDATE app.t JOIN scratch USING (id) SET v = 1");
        Map<BackupPoint, TempTables.Hazard> h = scan(b.bytes(), List.of(p1, p2, p3));
        // b1's replay is decided by b2 (a later target restores from b2); b2's reaches the DROP ... IF EXISTS, which never fails
        assertTrue(h.isEmpty(), h.toString());
    }

    @Test
    void aServerStartClosesEverything() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 1).fde(false, true);
        stmt(b, 2, 7, T, "CREATE TEMPORARY TABLE scratch (id INT)");
        BackupPoint p = point("b1", b.offset());
        stmt(b, 3, 8, 0, "INSERT INTO app.t VALUES (3)");
        TempTables t = new TempTables(List.of(p));
        feed(t, FILE, b.bytes());
        assertFalse(t.decided(), "connection 7 still has scratch open");
        feed(t, "binlog.000002", stmt(new BinlogBuilder(true, 1).fde(false, true), 4, 7, T, "INSERT INTO app.t SELECT * FROM scratch").bytes());
        assertTrue(t.decided());
        assertTrue(t.hazards().isEmpty(), "after a server start the name is another connection's table: " + t.hazards());
    }
}
