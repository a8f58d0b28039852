package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A throttled backup under write load, watched from another process with "strata status" and
 * through --progress=json, is cancelled half-way with SIGINT: it exits 130, is recorded as failed
 * (cancelled), leaves no data, and the next backup completes and verifies.
 */
class CancelIT {

    @Test
    void sigintHalfWayCancelsCleanly() throws Exception {
        Path work = ItSupport.tempDir("cancel-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            StrataCli.Result idle = StrataCli.run("status", "--repo", repo.toString());
            assertEquals(10, idle.exit(), "no repository yet: " + idle);

            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                Path out = work.resolve("backup.out");
                Path err = work.resolve("backup.err");
                Process p = StrataCli.start(out, err, "backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--compress", "zstd", "--throttle", "2", "--progress", "json");
                JsonNode running = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline) {
                    Thread.sleep(300);
                    assertTrue(p.isAlive(), "the backup ended before it was cancelled: " + Files.readString(err, StandardCharsets.UTF_8));
                    StrataCli.Result s = StrataCli.run("status", "--repo", repo.toString(), "--json");
                    if (s.exit() != 0) {
                        continue; // the repository is being created
                    }
                    JsonNode st = ItSupport.JSON.readTree(s.out());
                    if (st.get("running").asBoolean() && "page-copy".equals(st.path("stage").asText()) && pageCopy(st).get("bytesDone").asLong() > (3 << 20)) {
                        running = st;
                        break;
                    }
                }
                assertNotNull(running, "status never showed the page copy under way");
                JsonNode pc = pageCopy(running);
                long est = pc.get("bytesEstimated").asLong();
                assertTrue(pc.get("bytesDone").asLong() < est, "not half-way: " + running);
                // --throttle 2 bounds the read rate to 2 MiB/s, after a first 1 MiB batch per copy thread
                assertTrue(pc.get("bytesDone").asLong() <= (2 * pc.get("seconds").asDouble() + 2 + 0.5) * (1 << 20), "throttle not respected: " + running);
                StrataCli.Result text = StrataCli.run("status", "--repo", repo.toString());
                assertTrue(text.out().startsWith("backup " + running.get("id").asText() + " is running (pid " + p.pid() + "), stage page-copy"), text.out());

                new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the backup did not stop after SIGINT");
                String errText = StrataCli.readLog(err);
                assertEquals(130, p.exitValue(), errText);
                String id = running.get("id").asText();
                assertTrue(errText.contains("\nERROR [interrupted]: backup " + id + " cancelled by SIGINT\n"), errText);
                assertFalse(errText.contains("\tat "), errText);
                assertEquals("", Files.readString(out, StandardCharsets.UTF_8), "no completion line");

                // every progress line is a JSON object; the last says how it ended
                List<String> json = errText.lines().filter(l -> l.startsWith("{")).toList();
                assertTrue(json.size() >= 3, errText);
                JsonNode end = ItSupport.JSON.readTree(json.get(json.size() - 1));
                assertEquals("end", end.get("event").asText());
                assertEquals("cancelled", end.get("state").asText());
                assertTrue(json.stream().anyMatch(l -> l.contains("\"event\":\"progress\"")), errText);

                JsonNode list = ItSupport.list(repo);
                assertEquals(1, list.size());
                assertEquals("failed", list.get(0).get("state").asText());
                assertEquals("backup " + id + " cancelled by SIGINT", list.get(0).get("error").asText());
                assertFalse(Files.exists(repo.resolve("backups").resolve(id)) && Files.list(repo.resolve("backups").resolve(id)).findAny().isPresent(),
                        "a cancelled backup keeps no data");
                StrataCli.Result after = StrataCli.run("status", "--repo", repo.toString());
                assertEquals(33, after.exit(), "a cancelled backup is no success: " + after);
                assertTrue(after.out().startsWith("no backup is running; the last one, " + id + ", ended cancelled "), after.out());

                StrataCli.Result restore = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", work.resolve("t").toString());
                assertEquals(19, restore.exit(), restore.toString());

                String next = ItSupport.backup(repo, source, "--compress", "zstd");
                w.stop();
                JsonNode again = ItSupport.list(repo);
                assertEquals("completed", again.get(1).get("state").asText());
                assertEquals("full", again.get(1).get("type").asText(), "the cancelled attempt is never a base");
                StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString(), next);
                assertEquals(0, v.exit(), v.toString());
            }
        }
    }

    @Test
    void statusTellsWhenTheBackupProcessDied() throws Exception {
        Path work = ItSupport.tempDir("died-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            Process p = StrataCli.start(work.resolve("out"), work.resolve("err"), "backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--throttle", "1", "--quiet");
            String id = null;
            for (int i = 0; i < 200 && id == null; i++) {
                Thread.sleep(300);
                StrataCli.Result s = StrataCli.run("status", "--repo", repo.toString(), "--json");
                if (s.exit() == 0 && ItSupport.JSON.readTree(s.out()).get("running").asBoolean()) {
                    id = ItSupport.JSON.readTree(s.out()).get("id").asText();
                }
            }
            assertNotNull(id, "status never showed the backup running");
            p.destroyForcibly().waitFor(); // SIGKILL: no handler runs, the progress object stays "running"
            StrataCli.Result s = StrataCli.run("status", "--repo", repo.toString(), "--json");
            assertEquals(33, s.exit(), "a backup that died is no success: " + s);
            JsonNode st = ItSupport.JSON.readTree(s.out());
            assertFalse(st.get("running").asBoolean());
            assertEquals("died", st.get("state").asText());
            assertTrue(st.get("note").asText().startsWith("no backup is running: backup " + id + " (pid " + p.pid() + ") stopped during stage "), st.toString());
            assertEquals("failed", ItSupport.list(repo).get(0).get("state").asText());

            // the killed run left its objects (the redo copy at least, some unfinished); the next
            // writer removes them all, and only them
            Path left = repo.resolve("backups").resolve(id);
            try (var files = Files.list(left)) {
                assertTrue(files.findAny().isPresent(), "the killed backup left objects behind");
            }
            String next = ItSupport.backup(repo, source);
            assertFalse(Files.exists(left), "the next backup removed the killed one's objects");
            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString(), next);
            assertEquals(0, v.exit(), v.toString());
        }
    }

    private static JsonNode pageCopy(JsonNode status) {
        for (JsonNode s : status.get("stages")) {
            if (s.get("stage").asText().equals("page-copy")) {
                return s;
            }
        }
        throw new AssertionError("no page-copy stage: " + status);
    }
}
