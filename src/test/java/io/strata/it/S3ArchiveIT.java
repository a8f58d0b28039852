package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.FaultyProxy;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code strata binlog archive} into an encrypted repository in S3 (S3Proxy on loopback, strata in
 * subprocesses with the credentials in their environment): point-in-time restores to a time and to
 * a GTID equal the source at that point; an archiver killed (SIGKILL) while a summary and while a
 * multipart part is on its way, and one whose store keeps failing, lose nothing: the next run
 * removes the leftovers and continues where the stored segments end, with no gap recorded.
 */
class S3ArchiveIT {
    private static final String KEY_HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

    @Test
    void archiveAndRestoreToATimeAndAGtidOnAnEncryptedS3Repository() throws Exception {
        Path work = ItSupport.tempDir("s3-pitr-");
        Path key = CompressionEncryptionIT.write(work.resolve("key"), KEY_HEX + "\n");
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-archive", "pitr", false)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            source.exec("CREATE TABLE app.pitr_marks (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB");
            // the archiver creates the encrypted repository on first use
            Process arch = s3.start(work.resolve("arch.out"), work.resolve("arch.err"), "binlog archive", archiveArgs(source, key, "--interval", "1"));
            long time;
            BinlogPosition atTime;
            String marker;
            WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).start();
            try {
                waitFor(() -> s3.keys("binlogs/").stream().anyMatch(k -> k.endsWith(".sum")), 60, "the archiver stored no segment: " + log(work, "arch.err"));
                String full = s3.backup(source, "--type", "full", "--encrypt-key-file", key.toString());
                assertFalse(full.isEmpty());
                Thread.sleep(1000);
                source.exec("FLUSH BINARY LOGS");
                // a point in time: every transaction before it is stamped at or before `time`, every one after it later
                w.stop();
                long stopped = serverTime(source);
                while (serverTime(source) <= stopped) {
                    Thread.sleep(50);
                }
                time = serverTime(source);
                atTime = source.binlogPosition();
                while (serverTime(source) <= time) {
                    Thread.sleep(50);
                }
                w = WriteLoad.on(source, "app").threads(2).rate(200).seed(2).start();
                Thread.sleep(1500);
                marker = markerTransaction(source, 1);
                Thread.sleep(1500);
                w.stop();
            } finally {
                w.close();
            }
            Thread.sleep(1500);
            arch.destroy(); // SIGTERM: a last pass, then exit 0
            assertTrue(arch.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, arch.exitValue(), log(work, "arch.err"));
            assertFalse(s3.keys("").stream().anyMatch(k -> k.contains("binlog-") && !k.startsWith("leases/")), "a lock file outside leases/");
            assertEquals(List.of(), s3.keys("leases/"), "the archiver left its lease");
            // sealed: neither the binlog bytes (a table name the binlog holds) nor the summaries (their fields) are readable in the bucket
            List<String> stored = s3.keys("binlogs/");
            assertTrue(stored.stream().filter(k -> k.endsWith(".sum")).count() >= 2, stored.toString());
            for (String k : stored) {
                String raw = new String(s3.get(k), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertFalse(raw.contains("pitr_marks") || raw.contains("boundaryEnd") || raw.contains("serverKey"), "readable in the bucket: " + k);
            }

            JsonNode win = windows(s3, key);
            assertEquals(1, win.get("windows").size(), win.toString());
            assertEquals(0, win.get("gaps").size(), win.toString());

            Path t1 = work.resolve("to-time");
            StrataCli.Result r1 = s3.run("restore", "--target", t1.toString(), "--until", "@" + time, "--encrypt-key-file", key.toString());
            assertEquals(0, r1.exit(), r1.toString());
            assertSameAfterReplay(source, t1, atTime);

            Path t2 = work.resolve("to-gtid");
            StrataCli.Result r2 = s3.run("restore", "--target", t2.toString(), "--until-gtid", marker, "--encrypt-key-file", key.toString());
            assertEquals(0, r2.exit(), r2.toString());
            BinlogPosition afterMarker = PitrSupport.endOf(source, marker);
            assertTrue(r2.out().contains("binlog position of the restored data: " + afterMarker), r2.toString());
            assertSameAfterReplay(source, t2, afterMarker);
        }
    }

    @Test
    void killedAndFailingArchiversLoseNothingAndRecordNoGap() throws Exception {
        Path work = ItSupport.tempDir("s3-arch-kill-");
        Path key = CompressionEncryptionIT.write(work.resolve("key"), KEY_HEX + "\n");
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-archive", "kill", true)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            source.exec("CREATE TABLE app.pitr_marks (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB",
                    "CREATE TABLE app.big (id INT PRIMARY KEY, pad LONGTEXT) ENGINE=InnoDB");
            String marker;
            WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(100).start();
            try {
                Process a1 = s3.start(work.resolve("a1.out"), work.resolve("a1.err"), "binlog archive", archiveArgs(source, key, "--interval", "1"));
                waitFor(() -> s3.keys("binlogs/").stream().anyMatch(k -> k.endsWith(".sum")), 60, "no segment stored: " + log(work, "a1.err"));
                s3.backup(source, "--type", "full", "--encrypt-key-file", key.toString());

                // 1. killed between a segment's data and its summary: the data object stays, without a summary
                s3.proxy.rule(r -> r.method().equals("PUT") && r.path().contains("/binlogs/") && r.path().contains(".sum") ? FaultyProxy.Fault.STALL : FaultyProxy.Fault.NONE);
                waitFor(() -> s3.proxy.stalled() >= 1, 30, "no summary upload was held: " + log(work, "a1.err"));
                a1.destroyForcibly().waitFor();
                List<String> orphans = orphanData(s3);
                assertEquals(1, orphans.size(), "the killed archiver's data object without a summary: " + s3.keys("binlogs/"));

                // 2. killed while a part of a large segment (a transaction of 8 MiB; parts of 5 MiB) is on its way
                s3.proxy.rule(r -> r.method().equals("PUT") && r.path().contains("/binlogs/") && r.path().contains("partNumber=") ? FaultyProxy.Fault.STALL
                        : FaultyProxy.Fault.NONE);
                source.exec("INSERT INTO app.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 1 << 20) FROM app.seq_1_to_8");
                int held = s3.proxy.stalled();
                Process a2 = s3.start(work.resolve("a2.out"), work.resolve("a2.err"), "binlog archive", archiveArgs(source, key, "--interval", "1"));
                waitFor(() -> s3.proxy.stalled() > held, 60, "no part upload was held: " + log(work, "a2.err"));
                a2.destroyForcibly().waitFor();
                assertTrue(log(work, "a2.err").contains("resuming after "), log(work, "a2.err"));
                assertEquals(List.of(), orphanData(s3), "the leftover of the first kill is gone");
                assertTrue(s3.unfinishedUploads() >= 1, "the killed upload is unfinished in the bucket");

                // 3. the store fails every write of the archive: the archiver ends with store-failed, naming the object, and says so in its heartbeat
                s3.proxy.rule(r -> (r.method().equals("PUT") || r.method().equals("POST")) && r.path().contains("/binlogs/") ? FaultyProxy.Fault.HTTP_500
                        : FaultyProxy.Fault.NONE);
                Process a3 = s3.start(work.resolve("a3.out"), work.resolve("a3.err"), "binlog archive", archiveArgs(source, key, "--interval", "1", "--s3-max-attempts", "2"));
                assertTrue(a3.waitFor(120, TimeUnit.SECONDS), log(work, "a3.err"));
                String err3 = log(work, "a3.err");
                assertEquals(30, a3.exitValue(), err3);
                String first = err3.lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
                assertTrue(first.matches("ERROR \\[store-failed\\]: the object store failed (PUT|create multipart upload of) s3://strata-archive/kill/binlogs/"
                        + "[^/]+/t0001/[^/]+/\\d{12}-\\d{12}\\.binlog after 2 attempts: HTTP 500.*"), err3);
                assertTrue(err3.contains("HINT: the archive holds everything stored before this error; start \"strata binlog archive\" again once the object store "
                        + "works (check the network, the service and the credentials): it continues where the archive ends"), err3);
                assertFalse(err3.contains("\tat "), err3);
                assertEquals(0, s3.unfinishedUploads(), "the third archiver discarded the killed upload");
                StrataCli.Result check = s3.run("check", "--json", "--encrypt-key-file", key.toString());
                JsonNode archiver = null;
                for (JsonNode c : ItSupport.JSON.readTree(check.out()).get(0).get("checks")) {
                    if (c.get("name").asText().equals("archiver")) {
                        archiver = c;
                    }
                }
                assertTrue(archiver != null && archiver.get("message").asText().contains(first.substring("ERROR [store-failed]: ".length())), check.toString());
                assertTrue(archiver.get("message").asText().contains("stopped"), check.toString());
                assertEquals(List.of(), s3.keys("leases/"), "the failed archiver released its lease");

                // 4. the store works again: the next run continues, and records no gap
                s3.proxy.rule(r -> FaultyProxy.Fault.NONE);
                Thread.sleep(500);
                marker = markerTransaction(source, 2);
                Thread.sleep(500);
                w.stop();
            } finally {
                w.close();
            }
            StrataCli.Result last = s3.run("binlog archive", archiveArgs(source, key, "--once"));
            assertEquals(0, last.exit(), last.toString());
            assertFalse(last.err().contains("GAP"), last.toString());
            assertEquals(List.of(), orphanData(s3));
            assertEquals(0, s3.unfinishedUploads());
            assertTrue(s3.keys("binlogs/").stream().noneMatch(k -> k.contains("/gaps/")), s3.keys("binlogs/").toString());
            JsonNode win = windows(s3, key);
            assertEquals(1, win.get("windows").size(), win.toString());
            assertEquals(0, win.get("gaps").size(), win.toString());
            StrataCli.Result v = s3.run("verify", "--encrypt-key-file", key.toString());
            assertEquals(0, v.exit(), v.toString());

            // the point after all of it (the large transaction included) restores equal to the source
            Path target = work.resolve("to-gtid");
            StrataCli.Result r = s3.run("restore", "--target", target.toString(), "--until-gtid", marker, "--encrypt-key-file", key.toString());
            assertEquals(0, r.exit(), r.toString());
            assertSameAfterReplay(source, target, PitrSupport.endOf(source, marker));
        }
    }

    private static String[] archiveArgs(MariaDbSandbox source, Path key, String... extra) {
        return ItSupport.concat(new String[] {"--socket", source.socket().toString(), "--user", "root", "--encrypt-key-file", key.toString()}, extra);
    }

    /** Data objects of the archive without their summary. */
    private static List<String> orphanData(S3Repo s3) throws Exception {
        List<String> keys = s3.keys("binlogs/");
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (k.endsWith(".binlog") && !keys.contains(k.substring(0, k.length() - ".binlog".length()) + ".sum")) {
                out.add(k);
            }
        }
        return out;
    }

    private static JsonNode windows(S3Repo s3, Path key) throws Exception {
        StrataCli.Result r = s3.run("list", "--windows", "--json", "--encrypt-key-file", key.toString());
        assertEquals(0, r.exit(), r.toString());
        JsonNode all = ItSupport.JSON.readTree(r.out());
        assertEquals(1, all.size(), r.out());
        return all.get(0);
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitFor(Condition c, int seconds, String message) throws Exception {
        long until = System.currentTimeMillis() + seconds * 1000L;
        while (!c.holds()) {
            if (System.currentTimeMillis() > until) {
                throw new AssertionError(message);
            }
            Thread.sleep(100);
        }
    }

    private static String log(Path work, String name) {
        Path p = work.resolve(name);
        return Files.exists(p) ? StrataCli.readLog(p) : "";
    }

    private static long serverTime(MariaDbSandbox s) {
        return Long.parseLong(s.query("SELECT UNIX_TIMESTAMP()").get(0).get(0));
    }

    /** Commits one row into app.pitr_marks and returns its GTID. */
    private static String markerTransaction(MariaDbSandbox s, int id) throws Exception {
        try (Connection c = s.connection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO app.pitr_marks VALUES (" + id + ", 'the target')");
            try (ResultSet rs = st.executeQuery("SELECT @@last_gtid")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static void assertSameAfterReplay(MariaDbSandbox source, Path restoredDir, BinlogPosition from) throws Exception {
        try (MariaDbSandbox restored = ItSupport.startAndReplay(restoredDir, source, from.file(), from.position(), false)) {
            ItSupport.assertSameData(source, restored, "app");
        }
    }
}
