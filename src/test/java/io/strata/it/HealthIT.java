package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.Json;
import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16, part 2, against a real server: backup --metrics-file holds what list --json says; a
 * running binlog archiver writes its heartbeat, check and status call it alive; after kill -9 its
 * heartbeat goes stale: check is critical (exit 2) and status exits 39.
 */
class HealthIT {
    private static JsonNode json(StrataCli.Result r) throws Exception {
        return Json.MAPPER.readTree(r.out());
    }

    @Test
    void metricsAfterABackupThenAKilledArchiverIsCritical() throws Exception {
        Path work = ItSupport.tempDir("health-");
        Path repo = work.resolve("repo");
        Path metrics = work.resolve("strata.prom");
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO app.t VALUES (1),(2),(3)");
            String id = ItSupport.backup(repo, source, "--type", "full", "--metrics-file", metrics.toString());
            JsonNode b = ItSupport.list(repo).get(0);
            assertEquals(id, b.get("id").asText());
            StrataCli.Result first = StrataCli.run("check", "--repo", repo.toString(), "--json");
            assertEquals(0, first.exit(), first.toString());
            String server = json(first).get(0).get("server").asText();
            String text = Files.readString(metrics, StandardCharsets.UTF_8);
            String l = "{server=\"" + server.replace("\\", "\\\\").replace("\"", "\\\"") + "\",type=\"full\"} ";
            assertTrue(text.contains("strata_last_success_timestamp_seconds" + l + Instant.parse(b.get("endTime").asText()).getEpochSecond() + "\n"), text);
            assertTrue(text.contains("strata_backup_stored_bytes" + l + b.get("storedBytes").asLong() + "\n"), text);
            assertTrue(text.contains("strata_backup_raw_bytes" + l + b.get("rawBytes").asLong() + "\n"), text);
            assertTrue(text.contains("# TYPE strata_backup_duration_seconds gauge\n"), text);

            Process archiver = StrataCli.start(work.resolve("arch.out"), work.resolve("arch.err"), "binlog", "archive", "--repo", repo.toString(),
                    "--socket", source.socket().toString(), "--user", "root", "--interval", "1", "--metrics-file", metrics.toString());
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!hasHeartbeat(repo)) {
                    assertTrue(archiver.isAlive() && System.nanoTime() < deadline, "no heartbeat: " + Files.readString(work.resolve("arch.err")));
                    Thread.sleep(100);
                }
                // the archiver's metrics ticker (every 15 s) picks up its heartbeat
                String lag = "strata_archive_lag_seconds{server=\"" + server.replace("\\", "\\\\").replace("\"", "\\\"") + "\"} 0\n";
                while (!Files.readString(metrics, StandardCharsets.UTF_8).contains(lag)) {
                    assertTrue(archiver.isAlive() && System.nanoTime() < deadline, "no " + lag + " in " + Files.readString(metrics, StandardCharsets.UTF_8));
                    Thread.sleep(200);
                }
                assertTrue(Files.readString(metrics, StandardCharsets.UTF_8).contains("strata_backup_stored_bytes" + l + b.get("storedBytes").asLong() + "\n"));
                StrataCli.Result alive = StrataCli.run("check", "--repo", repo.toString(), "--json");
                assertEquals(0, alive.exit(), alive.toString());
                JsonNode archiverCheck = null;
                for (JsonNode c : json(alive).get(0).get("checks")) {
                    if (c.get("name").asText().equals("archiver")) {
                        archiverCheck = c;
                    }
                }
                assertTrue(archiverCheck != null && archiverCheck.get("code").asInt() == 0
                        && archiverCheck.get("message").asText().startsWith("the binlog archiver is alive (last poll "), alive.out());
                StrataCli.Result st = StrataCli.run("status", "--repo", repo.toString());
                assertEquals(0, st.exit(), st.toString());
                assertTrue(st.out().contains("binlog archiver of " + server + " (pid " + archiver.pid() + " on "), st.out());
                assertTrue(st.out().contains("): alive, last poll "), st.out());
            } finally {
                archiver.destroyForcibly(); // SIGKILL: no last words
                assertTrue(archiver.waitFor(30, TimeUnit.SECONDS));
            }
            Thread.sleep(2500);
            StrataCli.Result dead = StrataCli.run("check", "--repo", repo.toString(), "--json", "--stale-after", "1");
            assertEquals(2, dead.exit(), dead.toString());
            JsonNode v = json(dead).get(0);
            assertEquals(2, v.get("status").get("code").asInt());
            assertTrue(v.get("status").get("message").asText().startsWith("the binlog archiver (pid " + archiver.pid() + " on "), v.toString());
            assertTrue(v.get("status").get("message").asText().contains(") is not alive: last heartbeat "), v.toString());
            StrataCli.Result nagios = StrataCli.run("check", "--repo", repo.toString(), "--nagios", "--stale-after", "1");
            assertEquals(2, nagios.exit());
            assertTrue(nagios.out().startsWith("STRATA CRITICAL - " + server + ": the binlog archiver"), nagios.out());
        }
    }

    private static boolean hasHeartbeat(Path repo) throws Exception {
        Path d = repo.resolve("heartbeats");
        if (!Files.isDirectory(d)) {
            return false;
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("archive-"));
        }
    }
}
