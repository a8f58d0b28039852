package io.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.Heartbeat;
import io.strata.repo.Json;
import io.strata.repo.Manifest;
import io.strata.repo.TinyRepo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code strata check} end to end in process on a small local repository: exit codes, JSON, the Nagios line, the metrics file. */
class CheckCommandTest {
    @TempDir
    Path dir;

    record Out(int exit, String out, String err) {}

    private static Out run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        InProcess.Run r;
        try {
            r = InProcess.run(args);
        } finally {
            System.setOut(saved);
        }
        return new Out(r.exit(), out.toString(StandardCharsets.UTF_8), r.err());
    }

    private TinyRepo repo() throws Exception {
        TinyRepo t = new TinyRepo(dir.resolve("repo"));
        Files.setPosixFilePermissions(dir.resolve("repo"), PosixFilePermissions.fromString("rwx------"));
        return t;
    }

    @Test
    void okThenStaleArchiverIsCriticalInJsonAndNagios() throws Exception {
        TinyRepo t = repo();
        Instant now = Instant.now();
        t.backup("full", null, now.minus(Duration.ofHours(2)), Duration.ofMinutes(10), 1);
        t.archive();
        t.heartbeat(Heartbeat.ARCHIVE, now.minusSeconds(2), 0, null, 10);
        String repo = dir.resolve("repo").toString();
        Out ok = run("check", "--repo", repo, "--json");
        assertEquals(0, ok.exit(), ok.err());
        JsonNode j = Json.MAPPER.readTree(ok.out());
        assertEquals(TinyRepo.SERVER, j.get(0).get("server").asText());
        assertEquals(0, j.get(0).get("status").get("code").asInt());
        assertEquals("all checks passed", j.get(0).get("status").get("message").asText());

        t.heartbeat(Heartbeat.ARCHIVE, now.minusSeconds(30), 0, null, 10);
        Out stale = run("check", "--repo", repo, "--json", "--stale-after", "10s");
        assertEquals(2, stale.exit(), stale.err());
        JsonNode s = Json.MAPPER.readTree(stale.out()).get(0);
        assertEquals(2, s.get("status").get("code").asInt());
        assertTrue(s.get("status").get("message").asText().startsWith("the binlog archiver (pid 4242 on db1) is not alive: last heartbeat "),
                s.toString());
        JsonNode archiver = s.get("checks").get(3);
        assertEquals("archiver", archiver.get("name").asText());
        assertEquals("CRITICAL", archiver.get("status").asText());

        Out nagios = run("check", "--repo", repo, "--nagios", "--stale-after", "10s");
        assertEquals(2, nagios.exit());
        assertTrue(nagios.out().startsWith("STRATA CRITICAL - " + TinyRepo.SERVER + ": the binlog archiver (pid 4242 on db1) is not alive"), nagios.out());
        assertTrue(nagios.out().trim().endsWith("| '" + TinyRepo.SERVER + "'=2;1;2;0;2"), nagios.out());

        // status sees the same process as stale by its own limit only once 60 s passed
        t.heartbeat(Heartbeat.ARCHIVE, now.minusSeconds(120), 0, null, 10);
        Out status = run("status", "--repo", repo);
        assertEquals(39, status.exit(), status.err());
        assertTrue(status.out().contains("binlog archiver of " + TinyRepo.SERVER + " (pid 4242 on db1): STALE, last heartbeat 2 min ago"), status.out());
        assertTrue(status.err().contains("ERROR [daemon-stale]: the binlog archiver of " + TinyRepo.SERVER + " has not written its heartbeat for 12"), status.err());
    }

    @Test
    void metricsFileHoldsTheNewestBackupOfEachType() throws Exception {
        TinyRepo t = repo();
        Instant now = Instant.now();
        Instant fb = now.minus(Duration.ofHours(30));
        String f = t.backup("full", null, fb, Duration.ofSeconds(600), 1);
        Instant ib = now.minus(Duration.ofHours(1));
        t.backup("incremental", f, ib, Duration.ofMillis(61500), 2);
        t.heartbeat(Heartbeat.TRACK, now.minusSeconds(1), 0, null, 10);
        Path metrics = dir.resolve("strata.prom");
        Out r = run("check", "--repo", dir.resolve("repo").toString(), "--metrics-file", metrics.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        String text = Files.readString(metrics);
        String srv = "server=\"" + TinyRepo.SERVER + "\"";
        for (String line : new String[] {
                "# TYPE strata_check_status gauge",
                "strata_check_status{" + srv + "} 0",
                "# HELP strata_last_success_timestamp_seconds End time of the newest completed backup of this type (Unix seconds).",
                "strata_last_success_timestamp_seconds{" + srv + ",type=\"full\"} " + fb.plusSeconds(600).getEpochSecond(),
                "strata_last_success_timestamp_seconds{" + srv + ",type=\"incremental\"} " + ib.plusMillis(61500).getEpochSecond(),
                "strata_backup_duration_seconds{" + srv + ",type=\"full\"} 600",
                "strata_backup_duration_seconds{" + srv + ",type=\"incremental\"} 61.500",
                "strata_backup_stored_bytes{" + srv + ",type=\"full\"} 3",
                "strata_backup_raw_bytes{" + srv + ",type=\"incremental\"} 5",
                "strata_archive_gaps{" + srv + "} 0",
                "strata_tracker_coverage_lsn{" + srv + "} 987654"}) {
            assertTrue(text.contains(line + "\n"), line + " missing from:\n" + text);
        }
        assertTrue(!Files.exists(dir.resolve(".strata.prom.tmp")));
        // bytes by kind: what the files under each top-level folder of the repository hold
        for (String kind : new String[] {"backups", "history", "heartbeats"}) {
            long onDisk;
            try (var files = Files.walk(dir.resolve("repo").resolve(kind))) {
                onDisk = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
            assertTrue(onDisk > 0, kind);
            assertTrue(text.contains("strata_repository_bytes{kind=\"" + kind + "\"} " + onDisk + "\n"), kind + " " + onDisk + " missing from:\n" + text);
        }
        assertTrue(text.contains("strata_repository_bytes{kind=\"marker\"} " + Files.size(dir.resolve("repo").resolve("strata.repo")) + "\n"), text);
    }

    @Test
    void wrongKeyIsCritical() throws Exception {
        Path repo = dir.resolve("sealed");
        byte[] right = new byte[32];
        right[0] = 1;
        io.strata.repo.Repository.openOrCreate(io.strata.store.StoreLocation.local(repo), new io.strata.codec.Secret.Key(right));
        Path wrong = dir.resolve("wrong.key");
        Files.writeString(wrong, "ff".repeat(32) + "\n");
        Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rw-------"));
        Out r = run("check", "--repo", repo.toString(), "--encrypt-key-file", wrong.toString(), "--json");
        assertEquals(2, r.exit(), r.err());
        JsonNode v = Json.MAPPER.readTree(r.out()).get(0);
        assertEquals("(repository)", v.get("server").asText());
        assertEquals("key", v.get("checks").get(0).get("name").asText());
        assertTrue(v.get("status").get("message").asText().startsWith("wrong key for repository " + repo), v.toString());
    }

    @Test
    void anEmptyRepositoryIsCritical() throws Exception {
        new TinyRepo(dir.resolve("empty"));
        Out r = run("check", "--repo", dir.resolve("empty").toString(), "--nagios");
        assertEquals(2, r.exit(), r.err());
        assertEquals("STRATA CRITICAL - (repository): the repository " + dir.resolve("empty") + " holds no backup, binlog archive or heartbeat: "
                + "nothing is backed up | '(repository)'=2;1;2;0;2\n", r.out());
    }

    @Test
    void badSpanIsAUsageError() {
        Out r = run("check", "--repo", dir.toString(), "--max-full-age", "8 weeks");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("'8 weeks' is not a span of time (a number of seconds, or with s, m, h or d: 600, 90m, 26h, 8d)"), r.err());
    }
}
