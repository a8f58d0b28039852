package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.FaultyProxy;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code strata track} on an encrypted repository in object storage (S3Proxy on loopback, behind a
 * {@link FaultyProxy}): the key options, the tracker's lease, a store that keeps failing (the run
 * ends with store-failed, its last heartbeat says so and {@code check} reports it; the next run
 * continues with no gap), and a tracked incremental from the stored change sets that restores
 * equal to the source. Every track command runs in an empty working directory that must stay empty:
 * {@code --repo s3://...} once became a local directory {@code ./s3:/...}.
 */
class TrackS3IT {
    private static final String KEY_HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
    private static final Pattern SET_KEY = Pattern.compile("tracking/[0-9a-f]{16}/sets/(\\d{20})-(\\d{20})");

    @Test
    void trackAndATrackedIncrementalOnAnEncryptedS3RepositoryThroughAFailingStore() throws Exception {
        Path work = ItSupport.tempDir("track-s3-");
        Path cwd = Files.createDirectory(work.resolve("cwd"));
        Path key = work.resolve("key");
        Files.writeString(key, KEY_HEX + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        MariaDbSandbox.requireMariaDb();
        // a redo log large enough that nothing written between two tracker runs wraps it: any gap would be a false one
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("64M").start();
             S3Repo s3 = S3Repo.start("strata-track", "enc", true)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 10_000);
            }
            String[] keyArgs = {"--encrypt-key-file", key.toString()};
            String[] server = {"--socket", source.socket().toString(), "--user", "root"};
            String full = s3.backup(source, "--type", "full", "--encrypt-key-file", key.toString());
            JsonNode fullManifest = show(s3, full, keyArgs);
            long fullStart = fullManifest.get("startLsn").asLong();
            String serverKey = fullManifest.get("source").get("serverKey").asText();

            // without the key: key-missing, and the hint names an option track accepts
            StrataCli.Result r = track(s3, cwd, server, "--once");
            assertEquals(40, r.exit(), r.toString());
            assertEquals("ERROR [key-missing]: repository " + s3.uri + " is encrypted and no key was given", r.err().lines().findFirst().orElse(""), r.toString());
            assertTrue(r.err().contains("HINT: it was created with a key file: give it with --encrypt-key-file FILE"), r.err());

            String id;
            List<Long> sets;
            try (WriteLoad load = WriteLoad.on(source, "app").threads(2).rate(200).start()) {
                Thread.sleep(500);
                r = track(s3, cwd, concat(server, keyArgs), "--once");
                assertEquals(0, r.exit(), r.toString());
                assertTrue(r.err().contains("[track] no earlier change sets: following the redo log from LSN " + fullStart), r.toString());
                assertTrue(s3.keys("tracking/").stream().anyMatch(k -> SET_KEY.matcher(k).matches()), s3.keys("tracking/").toString());
                load.stop();
            }
            assertEquals(List.of(), s3.keys("leases/"), "the tracker released its lease");

            // a continuous tracker holds the lease: a second one is refused, naming it
            Path out = work.resolve("t.out");
            Path err = work.resolve("t.err");
            Process tracker = start(s3, cwd, out, err, concat(server, keyArgs), "--flush-interval", "1", "--s3-max-attempts", "2");
            try {
                for (int i = 0; i < 300 && !Files.readString(err).contains("[track] continuing from LSN "); i++) {
                    Thread.sleep(100);
                }
                assertTrue(tracker.isAlive(), StrataCli.readLog(err));
                r = track(s3, cwd, concat(server, keyArgs), "--once");
                assertEquals(11, r.exit(), r.toString());
                assertTrue(r.err().startsWith("ERROR [repo-locked]: a strata tracker already follows server " + serverKey + " into repository " + s3.uri
                        + " (pid " + tracker.pid() + " on "), r.toString());

                // the store now refuses every change set: the tracker ends with store-failed naming the object
                s3.proxy.rule(q -> q.method().equals("PUT") && q.path().contains("/tracking/") && q.path().contains("/sets/")
                        ? FaultyProxy.Fault.HTTP_500 : FaultyProxy.Fault.NONE);
                source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id <= 500", "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS");
                assertTrue(tracker.waitFor(60, TimeUnit.SECONDS), "the tracker did not end: " + StrataCli.readLog(err));
            } finally {
                tracker.destroyForcibly().waitFor();
            }
            String log = StrataCli.readLog(err);
            assertEquals(30, tracker.exitValue(), log);
            String error = log.lines().filter(l -> l.startsWith("ERROR ")).findFirst().orElse("");
            assertTrue(error.matches("ERROR \\[store-failed\\]: the object store failed PUT " + Pattern.quote(s3.uri)
                    + "/tracking/[0-9a-f]{16}/sets/\\d{20}-\\d{20} after 2 attempts: HTTP 500.*"), log);
            assertFalse(log.contains("Exception"), log);
            String failure = error.substring("ERROR [store-failed]: ".length());
            s3.proxy.rule(q -> FaultyProxy.Fault.NONE);
            sets = setEnds(s3);
            long storedEnd = sets.get(sets.size() - 1);
            assertFalse(s3.keys("tracking/").stream().anyMatch(k -> k.contains("/gaps/")), s3.keys("tracking/").toString());
            assertEquals(List.of(), s3.keys("leases/"), "the failed tracker released its lease");

            // its last heartbeat says why it stopped: check and status report it
            r = StrataCli.inProcess(concat(new String[] {"check", "--repo", s3.uri, "--s3-endpoint", s3.endpoint()}, keyArgs));
            assertEquals(2, r.exit(), r.toString());
            assertTrue(r.out().contains(" CRITICAL the tracker (pid " + tracker.pid() + " on "), r.toString());
            assertTrue(r.out().contains(" s ago: " + failure + "\n"), r.toString());
            r = StrataCli.inProcess("status", "--repo", s3.uri, "--s3-endpoint", s3.endpoint());
            assertEquals(39, r.exit(), r.toString());
            assertTrue(r.out().contains("tracker of " + serverKey + " (pid " + tracker.pid() + " on "), r.toString());
            assertTrue(r.out().contains(" on an error: " + failure + "; it had stored up to LSN " + storedEnd + "\n"), r.toString());

            // with the store back the next run continues where the stored change sets end: no gap
            try (WriteLoad load = WriteLoad.on(source, "app").threads(2).rate(200).start()) {
                Thread.sleep(500);
                // a checkpoint after the full began: the incremental's changes before its own checkpoint must come from the change sets
                source.exec("SET GLOBAL innodb_log_checkpoint_now = ON");
                r = track(s3, cwd, concat(server, keyArgs), "--once");
                assertEquals(0, r.exit(), r.toString());
                assertTrue(r.err().contains("[track] continuing from LSN " + storedEnd + "\n"), r.toString());
                assertTrue(r.out().contains(", 0 gaps recorded"), r.toString());
                assertFalse(s3.keys("tracking/").stream().anyMatch(k -> k.contains("/gaps/")), s3.keys("tracking/").toString());

                // a tracked incremental from the change sets in the encrypted bucket, under writes
                id = s3.backup(source, concat(new String[] {"--type", "incremental", "--method", "tracked", "--debug-check-method"}, keyArgs));
                Thread.sleep(300);
                load.stop();
            }
            JsonNode m = show(s3, id, keyArgs);
            assertEquals(full, m.get("parent").asText());
            assertEquals("tracked", m.get("method").asText(), m.toString());
            // the sets of the first run, maybe of the failed one, and of the last: at least two, and the pages they name
            assertTrue(m.get("detection").get("changeSetsRead").asInt() >= 2, m.get("detection").toString());
            assertTrue(m.get("detection").get("pagesNamed").asLong() > 0, m.get("detection").toString());
            assertTrue(m.get("startLsn").asLong() > storedEnd, m.toString());

            r = s3.run("restore", concat(new String[] {"--backup", id, "--target", work.resolve("restored").toString()}, keyArgs));
            assertEquals(0, r.exit(), r.toString());
            try (MariaDbSandbox restored = ItSupport.startAndReplay(work.resolve("restored"), source, m.get("binlogFile").asText(),
                    m.get("binlogPosition").asLong(), false)) {
                ItSupport.assertSameData(source, restored, "app");
            }
            try (var entries = Files.list(cwd)) {
                assertEquals(List.of(), entries.toList(), "track left something in its working directory");
            }
        }
    }

    /** The end LSNs of the stored change sets, ascending. */
    private static List<Long> setEnds(S3Repo s3) throws IOException {
        List<Long> out = new ArrayList<>();
        for (String k : s3.keys("tracking/")) {
            Matcher x = SET_KEY.matcher(k);
            if (x.matches()) {
                out.add(Long.parseLong(x.group(2)));
            }
        }
        out.sort(null);
        assertFalse(out.isEmpty(), "no change set stored");
        return out;
    }

    private static JsonNode show(S3Repo s3, String id, String... extra) throws IOException {
        StrataCli.Result r = StrataCli.inProcess(concat(new String[] {"show", "--repo", s3.uri, "--s3-endpoint", s3.endpoint(), id, "--json"}, extra));
        assertEquals(0, r.exit(), r.toString());
        return ItSupport.JSON.readTree(r.out());
    }

    private static String[] trackArgs(S3Repo s3, String[] common, String... more) {
        return concat(concat(new String[] {"track", "--repo", s3.uri, "--s3-endpoint", s3.endpoint(), "--s3-part-size", "5"}, common), more);
    }

    /** strata track in its own JVM, in working directory {@code cwd}. */
    private static StrataCli.Result track(S3Repo s3, Path cwd, String[] common, String... more) {
        return StrataCli.runIn(cwd, S3Repo.env(), trackArgs(s3, common, more));
    }

    private static Process start(S3Repo s3, Path cwd, Path out, Path err, String[] common, String... more) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(StrataCli.command(List.of(), trackArgs(s3, common, more))).directory(cwd.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(S3Repo.env());
        return pb.start();
    }

    private static String[] concat(String[] a, String... b) {
        return ItSupport.concat(a, b);
    }
}
