package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backup that cannot be correct must end as a failed attempt with its reason, never as a completed one. */
class FailureIT {

    @Test
    void redoCopierFallingBehindFailsTheBackup() throws Exception {
        Path work = ItSupport.tempDir("behind-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            try (WriteLoad w = WriteLoad.on(source, "app").threads(4).start()) {
                Thread.sleep(500);
                // the copier sleeps 3 s between reads of at most 8 MiB while the page copy is
                // throttled: the server wraps its 8 MiB log over what was not copied yet
                StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--throttle", "2", "--debug-redo-delay-ms", "3000", "--quiet");
                assertEquals(20, r.exit(), r.toString());
                assertTrue(r.err().startsWith("ERROR [redo-overwritten]: redo log overwritten before it was copied"), r.err());
                assertTrue(r.err().contains("HINT: the backup is not usable and is recorded as failed; give the server a larger innodb_log_file_size"), r.err());
                assertFalse(r.err().contains("Exception"), r.err());

                JsonNode list = ItSupport.list(repo);
                assertEquals(1, list.size());
                assertEquals("failed", list.get(0).get("state").asText());
                assertTrue(list.get(0).get("error").asText().startsWith("redo log overwritten before it was copied"), list.toString());
                String failedId = list.get(0).get("id").asText();
                assertFalse(Files.exists(repo.resolve("backups").resolve(failedId).resolve("manifest")));

                StrataCli.Result restore = StrataCli.run("restore", "--repo", repo.toString(), "--backup", failedId, "--target", work.resolve("t").toString());
                assertEquals(19, restore.exit(), restore.toString());

                // the next backup, without the stall, succeeds
                String id = ItSupport.backup(repo, source);
                w.stop();
                JsonNode after = ItSupport.list(repo);
                assertEquals(2, after.size());
                assertEquals("failed", after.get(0).get("state").asText());
                assertEquals(id, after.get(1).get("id").asText());
                assertEquals("completed", after.get(1).get("state").asText());
            }
        }
    }

    @Test
    void killedBackupsLeaveNoCompletedBackupAndTheNextOneSucceeds() throws Exception {
        Path work = ItSupport.tempDir("kill-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            // kill at different moments after the attempt is recorded: connecting, copying pages, and late in the copy
            long[] delays = {0, 1800, 3800};
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).start()) {
                int attempt = 0;
                for (long delay : delays) {
                    Process p = StrataCli.start(work.resolve("out-" + delay), work.resolve("err-" + delay), "backup", "--repo", repo.toString(),
                            "--socket", source.socket().toString(), "--user", "root", "--throttle", "4");
                    awaitAttempts(repo, ++attempt, p);
                    Thread.sleep(delay);
                    assertTrue(p.isAlive(), "backup ended before the kill at " + delay + " ms: " + Files.readString(work.resolve("err-" + delay)));
                    p.destroyForcibly();
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                }
                JsonNode list = ItSupport.list(repo);
                assertEquals(delays.length, list.size(), list.toString());
                for (JsonNode e : list) {
                    assertEquals("failed", e.get("state").asText(), list.toString());
                    assertTrue(e.get("error").asText().startsWith("interrupted: the backup process"), list.toString());
                }
                String id = ItSupport.backup(repo, source);
                w.stop();
                JsonNode after = ItSupport.list(repo);
                assertEquals(delays.length + 1, after.size());
                long completed = 0;
                for (JsonNode e : after) {
                    if (e.get("state").asText().equals("completed")) {
                        completed++;
                        assertEquals(id, e.get("id").asText());
                    }
                }
                assertEquals(1, completed);
                // leftovers of the killed attempts were removed by the next backup
                try (var s = Files.list(repo.resolve("backups"))) {
                    assertEquals(1, s.count());
                }
            }
        }
    }

    /** Waits until the history holds {@code n} begun attempts (a loaded machine can take seconds to start a JVM). */
    private static void awaitAttempts(Path repo, int n, Process p) throws Exception {
        Path history = repo.resolve("history");
        for (int i = 0; i < 600; i++) {
            if (Files.isDirectory(history)) {
                try (var s = Files.list(history)) {
                    if (s.filter(d -> Files.exists(d.resolve("begin"))).count() >= n) {
                        return;
                    }
                }
            }
            assertTrue(p.isAlive(), "backup ended before it recorded its attempt");
            Thread.sleep(50);
        }
        throw new AssertionError("backup attempt " + n + " was not recorded within 30 s");
    }
}
