package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Point-in-time recovery under write load: a full and an incremental backup, the binlogs archived
 * by a running {@code strata binlog archive} (killed once and restarted, stopped by SIGTERM at the
 * end, then topped up with --once), two binlog rotations inside the window. Restores to a time
 * between the backups, to a GTID and to a position after the last backup each equal the source at
 * that point: replaying the source's own binlog from the target point onto the restored server
 * gives tables equal to the source's, which cannot happen if the restore stopped elsewhere. The
 * negative control stops one transaction early and must differ.
 */
class PitrIT {

    @Test
    void restoresToATimeAGtidAndAPosition() throws Exception {
        Path work = ItSupport.tempDir("pitr-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            PitrSupport.createApp(source, 10_000);
            String[] archiveArgs = {"binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--interval", "1"};

            // the first archiver is killed (SIGKILL) after the full backup; a second one takes over
            Process first = StrataCli.start(work.resolve("arch1.out"), work.resolve("arch1.err"), archiveArgs);
            String full;
            String incr;
            long time;
            BinlogPosition atTime;
            String marker;
            String beforeMarker;
            BinlogPosition afterMarker;
            BinlogPosition position;
            Process second;
            WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start();
            try {
                Thread.sleep(1500);
                full = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(1000);
                source.exec("FLUSH BINARY LOGS");
                Thread.sleep(1000);
                first.destroyForcibly().waitFor();
                second = StrataCli.start(work.resolve("arch2.out"), work.resolve("arch2.err"), archiveArgs);

                // a point in time between the backups: the load pauses so that every transaction
                // before the pause is stamped at or before `time` and every one after it later
                // stop early in a second, so that transactions stamped with exactly `time` exist:
                // an exclusive reading of --until would then stop before them and fail the oracle
                long t1 = -1;
                time = -2;
                for (int attempt = 0; attempt < 5 && t1 != time; attempt++) {
                    if (attempt > 0) {
                        w = WriteLoad.on(source, "app").threads(2).rate(300).seed(10 + attempt).start();
                        Thread.sleep(700);
                    }
                    while (Long.parseLong(source.query("SELECT MICROSECOND(NOW(6))").get(0).get(0)) > 400_000) {
                        Thread.sleep(20);
                    }
                    t1 = serverTime(source);
                    w.stop();
                    time = serverTime(source);
                }
                assertEquals(t1, time, "the load never stopped within the second it was stopped in");
                while (serverTime(source) < time + 2) {
                    Thread.sleep(100);
                }
                atTime = source.binlogPosition();
                w = WriteLoad.on(source, "app").threads(2).rate(300).seed(2).start();
                Thread.sleep(1500);

                // a second archiver is refused while this one runs
                StrataCli.Result locked = StrataCli.run("binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once");
                String serverKey = PitrSupport.windows(repo).get("server").asText();
                assertEquals(11, locked.exit(), locked.toString());
                assertEquals("ERROR [repo-locked]: the binlogs of " + serverKey + " are already being archived into " + repo.toAbsolutePath().normalize()
                        + " by another strata process (pid " + second.pid() + ")", locked.err().lines().findFirst().orElse(""), locked.toString());

                incr = ItSupport.backup(repo, source, "--type", "incremental");
                Thread.sleep(1000);
                // a GTID after the last backup: a transaction of the test's own, in a table the load never touches
                marker = PitrSupport.markerTransaction(source);
                Thread.sleep(1000);
                source.exec("FLUSH BINARY LOGS");
                Thread.sleep(1000);
                position = source.binlogPosition();
                Thread.sleep(2500);
                w.stop();
            } finally {
                w.close();
                first.destroyForcibly();
            }
            afterMarker = PitrSupport.endOf(source, marker);
            String[] g = marker.split("-");
            beforeMarker = g[0] + "-" + g[1] + "-" + (Long.parseLong(g[2]) - 1);

            // SIGTERM stops the archiver cleanly; a restarted one continues exactly where it stopped
            Thread.sleep(1500);
            second.destroy();
            assertTrue(second.waitFor(60, TimeUnit.SECONDS));
            String err2 = StrataCli.readLog(work.resolve("arch2.err"));
            assertEquals(0, second.exitValue(), err2);
            String stoppedAt = err2.lines().filter(l -> l.startsWith("stopped by a signal; the archive ends at ")).findFirst().orElseThrow(() -> new AssertionError(err2))
                    .substring("stopped by a signal; the archive ends at ".length());
            assertTrue(err2.contains("resuming after "), err2);
            StrataCli.Result top = PitrSupport.archiveOnce(repo, source);
            assertTrue(top.err().contains("; resuming after " + stoppedAt + " in timeline 1"), top.toString());
            assertSegmentsContiguous(repo);

            JsonNode win = PitrSupport.windows(repo);
            assertEquals(1, win.get("windows").size(), win.toString());
            assertEquals(full, win.get("windows").get(0).get("from").get("backup").asText());
            assertEquals(0, win.get("gaps").size(), win.toString());

            // 1. a time between the two backups: from the full backup, across the first rotation
            Path t1 = work.resolve("to-time");
            restoreFrom(repo, t1, full + " (full)", "--until", "@" + time);
            PitrSupport.assertSameAfterReplay(source, t1, atTime);

            // 2. a GTID after the incremental
            Path t2 = work.resolve("to-gtid");
            StrataCli.Result r = restoreFrom(repo, t2, incr + " (incremental)", "--until-gtid", marker);
            assertTrue(r.out().contains("binlog position of the restored data: " + afterMarker), r.toString());
            // the restored directory starts a new history (design rule 9) and names its target
            JsonNode lineage = ItSupport.JSON.readTree(t2.resolve("strata-lineage").toFile());
            assertEquals(incr, lineage.get("restoredFrom").asText());
            assertEquals("GTID " + marker, lineage.get("pitrTarget").asText());
            PitrSupport.assertSameAfterReplay(source, t2, afterMarker);

            // 3. a position after the last backup, across the second rotation
            Path t3 = work.resolve("to-position");
            restoreFrom(repo, t3, incr + " (incremental)", "--until-position", position.toString());
            PitrSupport.assertSameAfterReplay(source, t3, position);

            // negative control: stopping one transaction early must show in the same oracle
            Path t4 = work.resolve("one-early");
            restoreFrom(repo, t4, incr + " (incremental)", "--until-gtid", beforeMarker);
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(t4).start()) {
                restored.exec("SET GLOBAL slave_exec_mode = 'IDEMPOTENT'");
                BinlogReplay.replay(source, afterMarker.file(), afterMarker.position(), restored.socket());
                try (Connection a = source.connection(); Connection b = restored.connection()) {
                    Map<String, String> expected = TableChecksums.of(a, "app");
                    Map<String, String> actual = TableChecksums.of(b, "app");
                    assertNotEquals(expected, actual, "a restore that stopped one transaction early went unnoticed");
                    assertNotEquals(expected.get("app.pitr_marks"), actual.get("app.pitr_marks"));
                }
            }
        }
    }

    private static long serverTime(MariaDbSandbox s) {
        return Long.parseLong(s.query("SELECT UNIX_TIMESTAMP()").get(0).get(0));
    }

    /** A point-in-time restore that must succeed from the named backup ("ID (type)"). */
    private static StrataCli.Result restoreFrom(Path repo, Path target, String backup, String... until) {
        StrataCli.Result r = PitrSupport.restore(repo, target, until);
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains(": backup " + backup + " and "), r.toString());
        return r;
    }

    /**
     * Every archived file's segments follow each other from offset 0 without a hole or an
     * overlap; complete files are one segment, the active one grew in several.
     */
    private static void assertSegmentsContiguous(Path repo) throws Exception {
        Map<String, List<long[]>> files = new TreeMap<>();
        try (var s = Files.walk(repo.resolve("binlogs"))) {
            for (Path p : s.filter(x -> x.toString().endsWith(".sum")).toList()) {
                String[] se = p.getFileName().toString().replace(".sum", "").split("-");
                files.computeIfAbsent(p.getParent().toString(), k -> new ArrayList<>()).add(new long[] {Long.parseLong(se[0]), Long.parseLong(se[1])});
            }
        }
        assertTrue(files.size() >= 3, "expected at least three archived binlog files: " + files.keySet());
        int n = 0;
        for (var e : files.entrySet()) {
            List<long[]> segs = e.getValue();
            segs.sort((a, b) -> Long.compare(a[0], b[0]));
            long at = 0;
            for (long[] x : segs) {
                assertEquals(at, x[0], "segments of " + e.getKey() + " do not follow each other");
                at = x[1];
            }
            if (++n < files.size()) {
                assertEquals(1, segs.size(), "a complete binlog was not compacted into one segment: " + e.getKey());
            } else {
                assertTrue(segs.size() >= 2, "the active binlog was not stored in several segments as it grew: " + e.getKey());
            }
        }
    }
}
