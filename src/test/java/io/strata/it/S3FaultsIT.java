package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.FaultyProxy;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An S3 server that fails requests: intermittent faults are retried into a correct backup;
 * a persistent failure, a killed writer and a second writer end in a failed attempt with a
 * clear message, never in a completed bad backup, and the next run cleans up.
 */
class S3FaultsIT {

    @Test
    void intermittentFaultsAreRetriedIntoACorrectBackup() throws Exception {
        Path work = ItSupport.tempDir("s3-flaky-");
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-faults", "flaky", true)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 10_000);
            }
            // every 4th request: 503 SlowDown; every 9th: connection dropped; every 7th GET: response cut off
            // one request (method and path) is faulted at most 3 times running, so each succeeds within strata's 8 attempts:
            // the pattern alone, with concurrent writers, once failed one PUT 8 times running (CI run of 2026-12-04)
            java.util.Map<String, Integer> streak = new java.util.concurrent.ConcurrentHashMap<>();
            s3.proxy.rule(r -> {
                FaultyProxy.Fault f = r.seq() % 4 == 0 ? FaultyProxy.Fault.HTTP_503 : r.seq() % 9 == 0 ? FaultyProxy.Fault.DROP
                        : r.method().equals("GET") && r.seq() % 7 == 1 ? FaultyProxy.Fault.CUT_RESPONSE : FaultyProxy.Fault.NONE;
                String key = r.method() + " " + r.path();
                if (f == FaultyProxy.Fault.NONE || streak.merge(key, 1, Integer::sum) > 3) {
                    streak.remove(key);
                    return FaultyProxy.Fault.NONE;
                }
                return f;
            });
            String id;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(500).start()) {
                Thread.sleep(700);
                id = s3.backup(source);
                Thread.sleep(300);
                w.stop();
            }
            assertTrue(s3.proxy.faults() >= 10, "only " + s3.proxy.faults() + " faults in " + s3.proxy.requests() + " requests");
            JsonNode list = s3.list();
            assertEquals("completed", list.get(0).get("state").asText());
            StrataCli.Result v = s3.run("verify", id);
            assertEquals(0, v.exit(), v.toString());
            // the restore reads through the same faults
            try (MariaDbSandbox restored = s3.restoreAndReplay(id, work.resolve("restored"), source)) {
                ItSupport.assertSameData(source, restored, "app");
            }
            assertEquals(0, s3.unfinishedUploads());
        }
    }

    @Test
    void persistentFailureFailsTheBackupAndTheNextRunCleansUp() throws Exception {
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-faults", "down", true)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            // the store accepts the repository and history, then fails every data upload
            s3.proxy.rule(r -> (r.method().equals("PUT") || r.method().equals("POST")) && r.path().contains("/backups/") && r.path().contains("/data/")
                    ? FaultyProxy.Fault.HTTP_500 : FaultyProxy.Fault.NONE);
            StrataCli.Result r = s3.run("backup", "--socket", source.socket().toString(), "--user", "root", "--quiet", "--s3-max-attempts", "3");
            assertEquals(30, r.exit(), r.toString());
            String first = r.err().lines().findFirst().orElse("");
            assertTrue(first.matches("ERROR \\[store-failed\\]: the object store failed (PUT|PUT part \\d+ of|create multipart upload of) "
                    + "s3://strata-faults/down/backups/[0-9TZa-f-]+/data/\\d{2}/\\d{6} after 3 attempts: HTTP 500.*"), r.toString());
            assertTrue(r.err().contains("HINT: check the object store; a backup that meets this is recorded as failed, and nothing stored before is lost"), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            JsonNode list = s3.list();
            assertEquals(1, list.size());
            String failed = list.get(0).get("id").asText();
            assertEquals("failed", list.get(0).get("state").asText());
            assertTrue(list.get(0).get("error").asText().startsWith("the object store failed "), list.toString());
            assertFalse(s3.keys("backups/" + failed + "/").contains("backups/" + failed + "/manifest"));

            s3.proxy.rule(q -> FaultyProxy.Fault.NONE);
            String id = s3.backup(source);
            assertEquals("completed", s3.list().get(1).get("state").asText());
            assertEquals(id, s3.list().get(1).get("id").asText());
            assertEquals(java.util.List.of(), s3.keys("backups/" + failed + "/"), "the failed attempt's objects are gone");
            assertEquals(0, s3.unfinishedUploads());
        }
    }

    @Test
    void secondWriterIsLockedOutAndAKilledWritersLockAndLeftoversGo() throws Exception {
        Path work = ItSupport.tempDir("s3-lock-");
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-faults", "lock", false)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            Path out = work.resolve("first.out");
            Path err = work.resolve("first.err");
            Process first = s3.start(out, err, "backup", "--socket", source.socket().toString(), "--user", "root", "--throttle", "1");
            try {
                for (int i = 0; i < 300 && !Files.readString(err).contains("[page-copy]"); i++) {
                    Thread.sleep(100);
                }
                for (int i = 0; i < 600 && s3.keys("backups/").isEmpty(); i++) {
                    Thread.sleep(100); // until some data objects are stored
                }
                assertTrue(first.isAlive(), Files.readString(err));
                StrataCli.Result r = s3.run("backup", "--socket", source.socket().toString(), "--user", "root", "--quiet");
                assertEquals(11, r.exit(), r.toString());
                assertTrue(r.err().startsWith("ERROR [repo-locked]: repository s3://strata-faults/lock is locked by another strata process (pid "
                        + first.pid() + " on "), r.toString());
            } finally {
                first.destroyForcibly().waitFor();
            }
            JsonNode killed = s3.list().get(0);
            assertEquals("failed", killed.get("state").asText());
            String killedId = killed.get("id").asText();
            assertFalse(s3.keys("backups/" + killedId + "/").isEmpty(), "the killed backup left objects");
            assertEquals(1, s3.keys("locks/").size(), "the killed backup left its lock object");

            // same host, dead pid: the lock is stale at once; the next backup takes over and cleans up
            String id = s3.backup(source);
            assertEquals(id, s3.list().get(1).get("id").asText());
            assertEquals(java.util.List.of(), s3.keys("backups/" + killedId + "/"));
            assertEquals(java.util.List.of(), s3.keys("locks/"));
            assertEquals(0, s3.unfinishedUploads());
            assertTrue(s3.list().get(0).get("error").asText().startsWith("interrupted: the backup process (pid " + first.pid() + ")"));
        }
    }
}
