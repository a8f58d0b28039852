package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.Repository;
import io.strata.repo.Tracking;
import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** strata track: continuing where it stopped, one tracker per server, a restart as a gap, pruning. */
class TrackIT {

    @Test
    void aTrackerThatFallsBehindRecordsAGapAndGoesOn() throws Exception {
        Path work = ItSupport.tempDir("behind-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) { // 8 MiB redo log
            source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY, c VARCHAR(100)) ENGINE=InnoDB",
                    "INSERT INTO app.t SELECT seq, 'x' FROM app.seq_1_to_20000");
            // a full backup keeps the change sets and gaps after its start from being pruned
            ItSupport.backup(repo, source, "--type", "full");
            Path err = work.resolve("t.err");
            Process tracker = StrataCli.start(work.resolve("t.out"), err, "track", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--flush-interval", "1", "--debug-read-delay-ms", "4000");
            Tracking tracking;
            try {
                for (int i = 0; i < 300 && !java.nio.file.Files.readString(err).contains("following the redo log"); i++) {
                    Thread.sleep(100);
                }
                // about 30 MiB of redo while the tracker sleeps between reads
                for (int i = 0; i < 12; i++) {
                    source.exec("UPDATE app.t SET c = CONCAT('pass " + i + " ', id)");
                }
                String key = source.query("SELECT CONCAT(@@hostname, ':', @@port, ':', @@datadir)").get(0).get(0);
                tracking = new Tracking(Repository.open(repo), key.endsWith("/") ? key.substring(0, key.length() - 1) : key);
                for (int i = 0; i < 300 && tracking.gaps().isEmpty(); i++) {
                    Thread.sleep(100);
                }
                source.exec("UPDATE app.t SET c = 'after' WHERE id < 10");
                // the tracker reads every 4 s and stores every 1 s: wait (up to 60 s on a loaded machine) for a set after the last gap
                for (int i = 0; i < 600 && !wentOnAfterLastGap(tracking); i++) {
                    Thread.sleep(100);
                }
            } finally {
                tracker.destroy();
                tracker.waitFor();
            }
            String log = StrataCli.readLog(err);
            assertTrue(tracking.gaps().size() >= 1, log);
            Tracking.Gap gap = tracking.gaps().get(0);
            Tracking.Gap lastGap = tracking.gaps().get(tracking.gaps().size() - 1);
            assertTrue(gap.reason().startsWith("the server has written "), gap.reason());
            assertTrue(gap.reason().endsWith(" bytes of redo log since LSN " + gap.from() + ", more than its log holds (8376320 bytes of capacity,"
                    + " innodb_log_file_size)"), gap.reason());
            assertTrue(tracking.sets().stream().anyMatch(s -> s.from() == lastGap.to()), "the tracker went on after the gap: " + tracking.sets() + "\n" + log);
            assertTrue(tracking.sets().stream().anyMatch(s -> s.to() == gap.from()), "what was read before the gap was stored: " + tracking.sets());
        }
    }

    private static boolean wentOnAfterLastGap(Tracking tracking) {
        List<Tracking.Gap> gaps = tracking.gaps();
        return !gaps.isEmpty() && tracking.sets().stream().anyMatch(s -> s.from() == gaps.get(gaps.size() - 1).to());
    }

    @Test
    void continuesRecordsRestartsAndPrunesWhatNoBackupNeeds() throws Exception {
        Path work = ItSupport.tempDir("track-");
        Path repo = work.resolve("repo");
        MariaDbSandbox.requireMariaDb();
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("32M").start()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB",
                    "INSERT INTO app.t SELECT seq, seq FROM app.seq_1_to_1000", "CREATE TABLE app.u (id INT PRIMARY KEY) ENGINE=InnoDB",
                    "INSERT INTO app.u VALUES (1)");
            String full1 = ItSupport.backup(repo, source, "--type", "full");
            JsonNode m1 = ItSupport.manifest(repo, full1);
            Tracking tracking = new Tracking(Repository.open(repo), m1.get("source").get("serverKey").asText());
            String[] track = {"track", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once"};

            StrataCli.Result r = StrataCli.run(track);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("following the redo log from LSN " + m1.get("startLsn").asLong()), r.toString());
            long end1 = tracking.end().lsn();
            assertTrue(r.out().startsWith("tracked LSN " + m1.get("startLsn").asLong() + ".." + end1 + ": "), r.toString());

            // the tracker reads only what is durable (the sandbox fsyncs its log once a second): flush it
            source.exec("UPDATE app.t SET v = v + 1 WHERE id < 100", "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS");
            awaitLogFlushed(source);
            r = StrataCli.run(track);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("[track] continuing from LSN " + end1), r.toString());
            assertEquals(2, tracking.sets().size());
            assertEquals(end1, tracking.sets().get(1).from(), "consecutive ranges");

            // one tracker per server and repository
            Path out = work.resolve("t.out");
            Path err = work.resolve("t.err");
            Process running = StrataCli.start(out, err, "track", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root");
            try {
                for (int i = 0; i < 300 && !java.nio.file.Files.readString(err).contains("[track] continuing"); i++) {
                    Thread.sleep(100);
                }
                r = StrataCli.run(track);
                assertEquals(11, r.exit(), r.toString());
                assertEquals("ERROR [repo-locked]: a strata tracker already follows server " + tracking.serverKey()
                        + " into repository " + repo.toAbsolutePath().normalize() + " (pid " + running.pid() + ")", r.err().lines().findFirst().orElse(""), r.toString());
            } finally {
                running.destroy();
                running.waitFor();
            }

            // a restart is a gap: it may bring back another data directory
            long beforeRestart = tracking.end().lsn();
            source.stop();
            source.startServer();
            source.exec("UPDATE app.t SET v = v + 1 WHERE id < 10", "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS");
            r = StrataCli.run(track);
            assertEquals(1, tracking.gaps().size(), r.toString());
            Tracking.Gap gap = tracking.gaps().get(0);
            TrackingGapIT.assertTrackingGap(repo, r, "LSN " + gap.from() + ".." + gap.to() + ": " + gap.reason());
            assertEquals(beforeRestart, gap.from());
            assertTrue(gap.reason().startsWith("the server restarted (at "), gap.reason());
            assertTrue(gap.reason().endsWith(") after the tracker had read up to LSN " + beforeRestart + "; a restart may bring back a different data directory"),
                    gap.reason());

            // an incremental across the restart cannot use the change sets; one after it can
            StrataCli.Result refused = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                    "--quiet", "--type", "incremental", "--method", "tracked");
            assertEquals(28, refused.exit(), refused.toString());
            String full2 = ItSupport.backup(repo, source, "--type", "full");
            long start2 = ItSupport.manifest(repo, full2).get("startLsn").asLong();
            source.exec("UPDATE app.t SET v = v + 1 WHERE id > 900", "DELETE FROM app.u", "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS");
            r = StrataCli.run(track);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("change sets and gaps ending at or before LSN " + start2 + ", which no future incremental needs"), r.toString());
            for (Tracking.SetRef s : tracking.sets()) {
                assertTrue(s.to() > start2, "kept a change set no incremental needs: " + s);
            }
            assertEquals(List.of(), tracking.gaps(), "the restart gap lies before the newest full backup");
            String inc = ItSupport.backup(repo, source, "--type", "incremental", "--method", "tracked", "--debug-check-method");
            JsonNode m = ItSupport.manifest(repo, inc);
            assertEquals(full2, m.get("parent").asText());
            assertEquals("tracked", m.get("method").asText());
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, inc, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                assertEquals(source.query("CHECKSUM TABLE app.t, app.u"), restored.query("CHECKSUM TABLE app.t, app.u"));
            }

            // a resized log no longer holds what the tracker had not read: a gap
            long beforeResize = tracking.end().lsn();
            source.exec("UPDATE app.t SET v = v + 1 WHERE id < 500", "SET GLOBAL innodb_log_file_size = 48 * 1024 * 1024");
            Path logFile = source.datadir().resolve("ib_logfile0");
            for (int i = 0; i < 300 && java.nio.file.Files.size(logFile) != 48L << 20; i++) {
                Thread.sleep(100);
            }
            assertEquals(48L << 20, java.nio.file.Files.size(logFile), "the log was not resized");
            r = StrataCli.run(track);
            Tracking.Gap resized = tracking.gaps().get(tracking.gaps().size() - 1);
            TrackingGapIT.assertTrackingGap(repo, r, "LSN " + resized.from() + ".." + resized.to() + ": " + resized.reason());
            assertEquals(beforeResize, resized.from(), r.toString());
            assertTrue(resized.reason().startsWith("the tracker was not running while the log moved on: the server's redo log now begins at LSN "), resized.reason());
            assertTrue(resized.reason().endsWith(" (it was resized or re-created since LSN " + beforeResize + ")"), resized.reason());
        }
    }

    /** Waits until the server has made durable all the redo log it wrote (Innodb_lsn_flushed reaches Innodb_lsn_current). */
    private static void awaitLogFlushed(MariaDbSandbox source) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            java.util.Map<String, Long> st = new java.util.HashMap<>();
            for (java.util.List<String> row : source.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current', 'Innodb_lsn_flushed')")) {
                st.put(row.get(0), Long.parseLong(row.get(1)));
            }
            if (st.get("Innodb_lsn_flushed") >= st.get("Innodb_lsn_current")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not flush its redo log within 10 s");
    }
}
