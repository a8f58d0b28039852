package io.strata.restore;

import io.strata.binlog.BinlogBuilder;
import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.binlog.BinlogStats;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogSegmentWriter;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.SourceInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Where targets land, on a repository built in the test: binlog files made event by event,
 * archived as the archiver would, and backups placed at known positions. Transactions are stamped
 * T+0, T+1, T+1, T+3, T+2 (a late commit with an earlier stamp), the backup ends at T+0.
 */
class PitrPlanTest {
    private static final String KEY = "db:3306:/var/lib/mysql";
    private static final long T = 1_700_000_000L;

    private Repository repo;
    private BinlogArchive archive;
    private final List<Long> gtidAt = new ArrayList<>();
    private long afterFirst;
    private long fileEnd;

    private void init(Path dir) {
        repo = Repository.openOrCreate(dir.resolve("repo"));
        archive = BinlogArchive.load(repo, BinlogArchive.sourceDir(KEY, "db", 3306));
        archive.writeSource(new BinlogArchive.Source(1, KEY, "db", 3306, 1, "/var/lib/mysql/binlog", Instant.now().toString()));
        archive.writeTimeline(new BinlogArchive.Timeline(1, 1, "binlog.000001", Instant.now().toString(), "test"));
    }

    private void build(Path dir, boolean recordGap) throws IOException {
        init(dir);

        BinlogBuilder b = new BinlogBuilder(true, 1).at(T).fde(false).checkpoint();
        long[] stamps = {0, 1, 1, 3, 2};
        for (int i = 0; i < stamps.length; i++) {
            gtidAt.add(b.offset());
            b.at(T + stamps[i]).transaction(i + 1);
            if (i == 0) {
                afterFirst = b.offset();
            }
        }
        b.rotate("binlog.000002");
        byte[] f1 = b.bytes();
        fileEnd = f1.length;
        store("binlog.000001", f1, 0, gtidAt.get(2), false, T + 10);
        store("binlog.000001", f1, gtidAt.get(2), f1.length, true, T + 10);
        backup("20240101T000000Z-0001", "binlog.000001", afterFirst, T);

        // binlog.000002 is lost; binlog.000003 follows, with a second backup in it
        BinlogBuilder c = new BinlogBuilder(true, 1).at(T + 20).fde(false).checkpoint();
        long start3 = c.offset();
        c.transaction(20).transaction(21);
        byte[] f3 = c.bytes();
        store("binlog.000003", f3, 0, f3.length, false, T + 30);
        backup("20240101T000100Z-0002", "binlog.000003", start3, T + 20);
        if (recordGap) {
            archive.writeGap(new BinlogArchive.Gap(1, 1, "binlog.000001", f1.length, 1, "binlog.000003", List.of("binlog.000002"),
                    "binlog.000002 was purged from the server before it was archived", "2024-01-01T00:00:30Z"));
        }
    }

    /** Stores [from, to) of a file with the summary the archiver would write. */
    private void store(String name, byte[] file, long from, long to, boolean closed, long asOf) throws IOException {
        BinlogScanner sc = new BinlogScanner(name, from, from == 0 ? null : true);
        ByteArrayInputStream in = new ByteArrayInputStream(file, (int) from, (int) (to - from));
        BinlogStats st = new BinlogStats();
        BinlogEvent e;
        try (BinlogSegmentWriter w = archive.createSegment(1, name, from, to)) {
            while ((e = sc.next(in, to, w.stream())) != null) {
                st.add(e);
            }
            List<BinlogArchive.DomainRange> ranges = new ArrayList<>();
            for (BinlogStats.Range r : st.domains()) {
                ranges.add(new BinlogArchive.DomainRange(r.domain(), r.minSeq(), r.maxSeq(), r.first().toString(), r.last().toString()));
            }
            w.commit(new BinlogArchive.Segment(1, 1, name, from, to, to, closed, "00000000", T, true, st.events(), st.groups(), st.firstTime(),
                    st.lastTime(), st.maxTime(), ranges, asOf, null, Instant.now().toString()));
        }
    }

    private void backup(String id, String file, long pos, long endTime) {
        String end = Instant.ofEpochSecond(endTime).plusMillis(400).toString();
        SourceInfo src = new SourceInfo(KEY, "db", 1, "10.11.19-MariaDB", "/var/lib/mysql", 16384, 100 << 20, 0, "ibdata1:12M:autoextend", "full_crc32");
        Manifest m = Manifest.builder().formatVersion(1).id(id).type("full").tool("strata").beginTime(end).endTime(end).source(src)
                .startLsn(1).startEndLsn(1).endLsn(2).redoEndLsn(2).redoCapacity(1 << 20).redoObject("redo")
                .binlogFile(file).binlogPosition(pos).gtidBinlogPos("0-1-1").gtidCurrentPos("0-1-1").build();
        HistoryRecord h = new HistoryRecord(id, "full", HistoryRecord.RUNNING, null, end, null, "test", null, null, null, null, null, null, null, null, null, 1L);
        repo.history().begin(h);
        repo.writeManifest(m);
        repo.history().end(HistoryRecord.completed(h, m));
    }

    private PitrPlan plan(PitrTarget t) {
        return PitrPlan.of(PitrWindows.of(repo, KEY), t);
    }

    private StrataException refused(PitrTarget t) {
        return assertThrows(StrataException.class, () -> plan(t));
    }

    @Test
    void timesAreInclusiveAndStopBeforeTheFirstLaterTransaction(@TempDir Path dir) throws IOException {
        build(dir, true);
        PitrPlan p = plan(PitrTarget.time("@" + (T + 1)));
        assertEquals("20240101T000000Z-0001", p.backup().id());
        assertEquals(gtidAt.get(3), p.stop().offset(), "everything stamped T+1 is in, the T+3 transaction is not");
        // prefix semantics: the T+2 transaction committed after the T+3 one, so --until T+2 stops before both
        assertEquals(gtidAt.get(3), plan(PitrTarget.time("@" + (T + 2))).stop().offset());
        assertEquals(gtidAt.get(1), plan(PitrTarget.time("@" + T)).stop().offset());
        // after every archived transaction of the run but before its as-of time: the run's end
        assertEquals(fileEnd, plan(PitrTarget.time("@" + (T + 9))).stop().offset());
    }

    /**
     * --until-before stops before the first transaction stamped at or after the time; stamps
     * T+0, T+1, T+1, T+3, T+2 in binlog order.
     */
    @Test
    void beforeTimesAreExclusive(@TempDir Path dir) throws IOException {
        build(dir, true);
        assertEquals(gtidAt.get(1), plan(PitrTarget.beforeTime("@" + (T + 1))).stop().offset(), "both T+1 transactions are out");
        assertEquals(gtidAt.get(3), plan(PitrTarget.beforeTime("@" + (T + 2))).stop().offset(), "both T+1 in, T+3 out");
        assertEquals(plan(PitrTarget.time("@" + (T + 1))).stop(), plan(PitrTarget.beforeTime("@" + (T + 2))).stop());
    }

    /** --until-before-gtid stops at the start of that transaction's GTID event; a GTID not archived is refused by name. */
    @Test
    void beforeGtidsStopAtTheGtidEvent(@TempDir Path dir) throws IOException {
        build(dir, true);
        assertEquals(gtidAt.get(2), plan(PitrTarget.beforeGtid("0-1-3")).stop().offset());
        assertEquals(plan(PitrTarget.gtid("0-1-2")).stop(), plan(PitrTarget.beforeGtid("0-1-3")).stop());
        // the first transaction after the backup: nothing to replay, the stop is the backup's position
        PitrPlan p = plan(PitrTarget.beforeGtid("0-1-2"));
        assertEquals(afterFirst, p.stop().offset());
        assertEquals("20240101T000000Z-0001", p.backup().id());
        StrataException e = refused(PitrTarget.beforeGtid("5-1-3"));
        assertEquals(ErrorCode.PITR_BAD_TARGET, e.code());
        assertEquals("target before GTID 5-1-3 is not in the binlog archive: it holds no transaction of GTID domain 5; restorable windows: "
                + WindowReport.describeWindows(PitrWindows.of(repo, KEY)), e.getMessage());
    }

    @Test
    void gtidsAndPositions(@TempDir Path dir) throws IOException {
        build(dir, true);
        PitrPlan p = plan(PitrTarget.gtid("0-1-3"));
        assertEquals(gtidAt.get(3), p.stop().offset(), "the transaction is included up to its end");
        assertEquals("binlog.000001", p.stop().file());
        assertEquals(gtidAt.get(2), plan(PitrTarget.position("binlog.000001:" + gtidAt.get(2))).stop().offset());

        StrataException e = refused(PitrTarget.position("binlog.000001:" + (gtidAt.get(2) + 10)));
        assertEquals(ErrorCode.PITR_BAD_TARGET, e.code());
        assertEquals("target position binlog.000001:" + (gtidAt.get(2) + 10) + " is not a transaction boundary in the archived binlog.000001; the nearest are binlog.000001:"
                + gtidAt.get(2) + " and binlog.000001:" + gtidAt.get(3), e.getMessage());
        e = refused(PitrTarget.gtid("0-2-3"));
        assertEquals(ErrorCode.PITR_BAD_TARGET, e.code());
        assertEquals("target GTID 0-2-3 is not in the binlog archive, though it holds domain 0 from sequence 1 to 21; restorable windows: "
                + WindowReport.describeWindows(PitrWindows.of(repo, KEY)), e.getMessage());
        assertEquals(ErrorCode.PITR_AFTER_WINDOW, refused(PitrTarget.gtid("0-1-99")).code());
    }

    @Test
    void outsideTheWindows(@TempDir Path dir) throws IOException {
        build(dir, true);
        PitrWindows w = PitrWindows.of(repo, KEY);
        assertEquals(2, w.windows().size());
        String windows = "from 2023-11-14T22:13:20Z (backup 20240101T000000Z-0001 at binlog.000001:" + afterFirst + ", GTID 0-1-1) to 2023-11-14T22:13:30Z (binlog.000001:"
                + fileEnd + ", GTID 0-1-5); from 2023-11-14T22:13:40Z (backup 20240101T000100Z-0002 at binlog.000003:" + gtidAt.get(0)
                + ", GTID 0-1-1) to 2023-11-14T22:13:50Z (binlog.000003:" + archive.file(1, "binlog.000003").usableEnd() + ", GTID 0-1-21)";
        assertEquals(windows, WindowReport.describeWindows(w));

        StrataException e = refused(PitrTarget.time("@" + (T - 1)));
        assertEquals(ErrorCode.PITR_BEFORE_WINDOW, e.code());
        assertEquals("target time 2023-11-14T22:13:19Z is before the oldest backup that the archived binlogs can roll forward (20240101T000000Z-0001 at binlog.000001:"
                + afterFirst + ", ended 2023-11-14T22:13:20Z); restorable windows: " + windows, e.getMessage());

        e = refused(PitrTarget.time("@" + (T + 15)));
        assertEquals(ErrorCode.PITR_IN_GAP, e.code());
        assertEquals("target time 2023-11-14T22:13:35Z lies in a gap of the binlog archive: binlogs after binlog.000001:" + fileEnd
                + " were not archived: binlog.000002 was purged from the server before it was archived (detected 2024-01-01T00:00:30Z);"
                + " no backup was taken between that gap and the target; restorable windows: " + windows, e.getMessage());
        assertEquals(ErrorCode.PITR_IN_GAP, refused(PitrTarget.position("binlog.000002:4")).code());
        assertEquals(ErrorCode.PITR_AFTER_WINDOW, refused(PitrTarget.time("@" + (T + 31))).code());
        assertEquals(ErrorCode.PITR_AFTER_WINDOW, refused(PitrTarget.position("binlog.000004:4")).code());
        assertEquals("20240101T000100Z-0002", plan(PitrTarget.time("@" + (T + 25))).backup().id());
    }

    @Test
    void anIdleArchiverExtendsTheLastWindow(@TempDir Path dir) throws IOException {
        build(dir, true);
        long end3 = archive.file(1, "binlog.000003").usableEnd();
        assertEquals(ErrorCode.PITR_AFTER_WINDOW, refused(PitrTarget.time("@" + (T + 90))).code());
        archive.writeAsOf(new BinlogArchive.AsOf(1, 1, "binlog.000003", end3, T + 100));
        PitrPlan p = plan(PitrTarget.time("@" + (T + 90)));
        assertEquals("binlog.000003", p.stop().file());
        assertEquals(end3, p.stop().offset());
        assertEquals(T + 100, PitrWindows.of(repo, KEY).windows().get(1).toTime());
        // a record for a position the archive has since passed says nothing
        archive.writeAsOf(new BinlogArchive.AsOf(1, 1, "binlog.000003", end3 - 1, T + 200));
        assertEquals(T + 30, PitrWindows.of(repo, KEY).windows().get(1).toTime());
    }

    @Test
    void aHoleWithoutAGapRecordIsDamage(@TempDir Path dir) throws IOException {
        build(dir, false);
        StrataException e = refused(PitrTarget.position("binlog.000002:4"));
        assertEquals(ErrorCode.BINLOG_MISSING, e.code());
        assertEquals("target position binlog.000002:4 cannot be reached: archived binlog binlog.000002 is missing from the repository"
                + " (no gap was recorded for it, so the archive is damaged); restorable windows: " + WindowReport.describeWindows(PitrWindows.of(repo, KEY)), e.getMessage());
    }

    /** One statement of a connection in its own transaction: GTID, BEGIN, the statement (flagged with {@code flags}), COMMIT. */
    private static BinlogBuilder stmt(BinlogBuilder b, long seq, long thread, int flags, String sql) {
        return b.gtid(0, seq, false).query(thread, 0, "app", "BEGIN").query(thread, flags, "app", sql).query(thread, 0, "app", "COMMIT");
    }

    @Test
    void listAndRestoreJudgeATemporaryTableAlike(@TempDir Path dir) throws IOException {
        init(dir);
        int ts = BinlogEvent.THREAD_SPECIFIC_F;
        // binlog.000001 begins at a server start: the tables open at every later point are known
        BinlogBuilder a = new BinlogBuilder(true, 1).at(T).fde(false, true);
        a.transaction(1);
        long b1 = a.offset();
        stmt(a, 2, 7, ts, "CREATE TEMPORARY TABLE scratch (id INT)");
        stmt(a, 3, 7, ts, "INSERT INTO scratch VALUES (1)");
        a.rotate("binlog.000002");
        byte[] f1 = a.bytes();
        store("binlog.000001", f1, 0, f1.length, true, T + 5);
        backup("20240101T000000Z-0001", "binlog.000001", b1, T);
        // binlog.000002 begins at a rotation; the second backup lies in it, scratch still open
        BinlogBuilder c = new BinlogBuilder(true, 1).at(T + 10).fde(false, false);
        c.transaction(4);
        long b2 = c.offset();
        stmt(c, 5, 9, ts, "INSERT INTO app.t VALUES (CONNECTION_ID())"); // connection 9 has nothing open: it replays
        long use = c.offset();
        c.at(T + 12);
        stmt(c, 6, 7, ts, "INSERT INTO app.t SELECT * FROM scratch");
        long after = c.offset();
        byte[] f2 = c.bytes();
        store("binlog.000002", f2, 0, f2.length, false, T + 20);
        backup("20240101T000100Z-0002", "binlog.000002", b2, T + 10);

        PitrWindows w = PitrWindows.of(repo, KEY).checkReplays();
        assertEquals(1, w.windows().size());
        PitrWindows.Window win = w.windows().get(0);
        TempTables.Hazard h = win.cut();
        assertEquals("20240101T000100Z-0002", h.backup().id());
        assertEquals("scratch", h.table());
        assertEquals(new BinlogArchive.Pos(1, "binlog.000002", use), win.to());
        assertEquals(T + 11, win.toTime());
        assertEquals("0-1-5", win.toGtid());
        assertEquals(List.of("20240101T000000Z-0001", "20240101T000100Z-0002"), win.backups().stream().map(PitrWindows.BackupPoint::id).toList());
        assertEquals("from 2023-11-14T22:13:20Z (backup 20240101T000000Z-0001 at binlog.000001:" + b1 + ", GTID 0-1-1) to 2023-11-14T22:13:31Z (binlog.000002:"
                + use + ", GTID 0-1-5)", WindowReport.describe(win));

        // the restore reads binlog.000001 for the tables open at the second backup, and finds the same
        PitrPlan p = PitrPlan.of(PitrWindows.of(repo, KEY), PitrTarget.position("binlog.000002:" + after));
        assertEquals("20240101T000100Z-0002", p.backup().id());
        PitrBinlogs copy = PitrBinlogs.copy(archive, TempTables.from(p.span(), p.backup().pos().file()), p.files(), p.backup(), p.stop(), dir.resolve("copy"));
        assertEquals(h.description(), copy.hazard().description());
        // a target before the use replays
        p = PitrPlan.of(PitrWindows.of(repo, KEY), PitrTarget.position("binlog.000002:" + use));
        assertEquals(null, PitrBinlogs.copy(archive, TempTables.from(p.span(), p.backup().pos().file()), p.files(), p.backup(), p.stop(), dir.resolve("copy2")).hazard());
    }
}
