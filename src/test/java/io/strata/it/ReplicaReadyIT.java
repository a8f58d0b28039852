package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exclusive point-in-time targets and replica-ready results (issue 19). Under a write load, a full
 * backup; then, with the load paused, the test records the state (CHECKSUM TABLE of every table,
 * SHOW MASTER STATUS, gtid_binlog_pos) just before an "accident" (DROP TABLE) whose GTID it keeps,
 * and the load goes on. Restores with {@code --until-before-gtid} of the DROP and with
 * {@code --until-before} its second must each give exactly that state, and their
 * {@code strata-replica.json} must hold that position. Also: {@code --print-replica-sql} (exact
 * output), the same without restoring, the replica file of a plain restore, the progress events
 * of {@code --progress json} in stage order, and the refusals (GTID not in the archive, two targets).
 */
class ReplicaReadyIT {

    @Test
    void untilBeforeAGtidAndATimeGiveTheStateBeforeIt() throws Exception {
        Path work = ItSupport.tempDir("replica-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            source.exec("CREATE TABLE app.victim (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB");
            source.exec("INSERT INTO app.victim SELECT seq, CONCAT('row ', seq) FROM app.seq_1_to_500");
            String full;
            Map<String, String> before;
            BinlogPosition atBefore;
            String gtidBefore;
            String drop;
            long time;
            WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).start();
            try {
                Thread.sleep(1000);
                full = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(1000);
                w.stop();
                // every transaction so far is stamped before `time`: the DROP and all later ones at or after it
                long stopped = serverTime(source);
                while (serverTime(source) <= stopped) {
                    Thread.sleep(20);
                }
                time = serverTime(source);
                try (Connection c = source.connection()) {
                    before = TableChecksums.of(c, "app");
                }
                atBefore = source.binlogPosition();
                gtidBefore = source.query("SELECT @@gtid_binlog_pos").get(0).get(0);
                source.exec("DROP TABLE app.victim");
                drop = source.query("SELECT @@gtid_binlog_pos").get(0).get(0);
                w = WriteLoad.on(source, "app").threads(2).rate(200).seed(2).start();
                Thread.sleep(1500);
                w.stop();
            } finally {
                w.close();
            }
            assertEquals(1, drop.split(",").length, "one GTID domain expected: " + drop);
            try (Connection c = source.connection()) {
                assertNotEquals(before, TableChecksums.of(c, "app"), "the oracle cannot tell the state before the DROP from the state after it");
            }
            PitrSupport.archiveOnce(repo, source);
            String host = source.query("SELECT @@hostname").get(0).get(0);
            String port = source.query("SELECT @@port").get(0).get(0);

            // refusals, before anything is written
            String[] g = drop.split("-");
            Path refused = work.resolve("refused");
            PitrSupport.assertRefused(PitrSupport.restore(repo, refused, "--until-before-gtid", "7-" + g[1] + "-1"), 54,
                    "ERROR [pitr-bad-target]: target before GTID 7-" + g[1] + "-1 is not in the binlog archive: it holds no transaction of GTID domain 7;"
                            + " restorable windows: " + PitrSupport.windowsText(PitrSupport.windows(repo)), refused);
            PitrSupport.assertRefused(PitrSupport.restore(repo, refused, "--until-before-gtid", drop, "--until", "@" + time), 2,
                    "ERROR [usage]: name one point in time: --until, --until-gtid, --until-position, --until-before or --until-before-gtid", refused);

            // 1. just before the DROP's GTID, with the replica statements and progress as JSON
            Path t1 = work.resolve("before-gtid");
            StrataCli.Result r = PitrSupport.restore(repo, t1, "--until-before-gtid", drop, "--print-replica-sql", "--progress", "json");
            assertEquals(0, r.exit(), r.toString());
            assertEquals("-- a new replica of " + host + ":" + port + " from backup " + full + " at before GTID " + drop + " (binlog " + atBefore + ")\n"
                    + "SET GLOBAL gtid_slave_pos = '" + gtidBefore + "';\n"
                    + "CHANGE MASTER TO MASTER_HOST = '" + host + "', MASTER_PORT = " + ("0".equals(port) ? "<port>" : port)
                    + ", MASTER_USER = '<replication user>', MASTER_PASSWORD = '<password>', MASTER_USE_GTID = slave_pos;\n", r.out(), r.toString());
            assertReplicaFile(t1, full, "before GTID " + drop, atBefore, gtidBefore, host, port);
            assertProgress(r, List.of("binlog-copy", "files", "recovery", "replay"));
            assertState(t1, before);

            // 2. before the second the DROP was stamped in
            Path t2 = work.resolve("before-time");
            r = PitrSupport.restore(repo, t2, "--until-before", "@" + time);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("binlog position of the restored data: " + atBefore), r.toString());
            assertReplicaFile(t2, full, "before time " + java.time.Instant.ofEpochSecond(time), atBefore, gtidBefore, host, port);
            assertState(t2, before);

            // 3. a plain restore's file holds the backup's position; without --target nothing is restored
            JsonNode m = ItSupport.manifest(repo, full);
            BinlogPosition atBackup = new BinlogPosition(m.get("binlogFile").asText(), m.get("binlogPosition").asLong());
            Path t3 = work.resolve("plain");
            String sql = "-- a new replica of " + host + ":" + port + " from backup " + full + " (binlog " + atBackup + ")\n"
                    + "SET GLOBAL gtid_slave_pos = '" + m.get("gtidBinlogPos").asText() + "';\n"
                    + "CHANGE MASTER TO MASTER_HOST = '" + host + "', MASTER_PORT = " + ("0".equals(port) ? "<port>" : port)
                    + ", MASTER_USER = '<replication user>', MASTER_PASSWORD = '<password>', MASTER_USE_GTID = slave_pos;\n";
            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", t3.toString(), "--no-recover", "--progress", "none", "--print-replica-sql");
            assertEquals(0, r.exit(), r.toString());
            assertEquals(sql, r.out(), r.toString());
            assertTrue(r.err().contains("restored backup " + full + " into " + t3.toAbsolutePath()), "the report goes to stderr: " + r);
            assertReplicaFile(t3, full, null, atBackup, m.get("gtidBinlogPos").asText(), host, port);
            r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", full, "--print-replica-sql");
            assertEquals(0, r.exit(), r.toString());
            assertEquals(sql, r.out(), r.toString());
        }
    }

    private static long serverTime(MariaDbSandbox s) {
        return Long.parseLong(s.query("SELECT UNIX_TIMESTAMP()").get(0).get(0));
    }

    private static void assertReplicaFile(Path dir, String backup, String pit, BinlogPosition at, String gtid, String host, String port) throws Exception {
        JsonNode f = ItSupport.JSON.readTree(dir.resolve("strata-replica.json").toFile());
        assertEquals("strata-replica", f.get("format").asText(), f.toString());
        assertEquals(1, f.get("version").asInt(), f.toString());
        assertEquals(backup, f.get("backup").asText(), f.toString());
        assertEquals(pit, f.get("pointInTime").isNull() ? null : f.get("pointInTime").asText(), f.toString());
        assertEquals(at.file(), f.get("binlogFile").asText(), f.toString());
        assertEquals(at.position(), f.get("binlogPosition").asLong(), f.toString());
        assertEquals(gtid, f.get("gtidBinlogPos").asText(), f.toString());
        assertEquals(host, f.get("sourceHost").asText(), f.toString());
        assertEquals(port, f.get("sourcePort").asText(), f.toString());
    }

    /** The restored directory, started, holds exactly the recorded tables and checksums. */
    private static void assertState(Path dir, Map<String, String> expected) throws Exception {
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(dir).start(); Connection c = restored.connection()) {
            assertEquals(expected, TableChecksums.of(c, "app"));
        }
    }

    /**
     * The JSON events on stderr: each line one object; the stages the messages were said in, first
     * seen, are {@code stages} in that order (steps such as "init" aside), and the last event is
     * "end" with state completed and the result object.
     */
    private static void assertProgress(StrataCli.Result r, List<String> stages) throws Exception {
        List<String> seen = new ArrayList<>();
        JsonNode last = null;
        for (String line : r.err().lines().filter(l -> l.startsWith("{")).toList()) {
            last = ItSupport.JSON.readTree(line);
            String s = last.path("stage").asText();
            if ("message".equals(last.get("event").asText()) && stages.contains(s) && !seen.contains(s)) {
                seen.add(s);
            }
        }
        assertEquals(stages, seen, r.err());
        assertTrue(last != null && "end".equals(last.get("event").asText()) && "completed".equals(last.get("state").asText()), r.err());
        assertTrue(last.get("result").get("ok").asBoolean(), r.err());
        for (JsonNode s : last.get("stages")) {
            if (stages.contains(s.get("stage").asText())) {
                assertEquals("done", s.get("state").asText(), last.toString());
            }
        }
        JsonNode files = last.get("stages").get(0);
        assertEquals("files", files.get("stage").asText());
        assertEquals(files.get("bytesEstimated").asLong(), files.get("bytesDone").asLong(), last.toString());
    }
}
