package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code strata copy} (issue 17): a full and an incremental taken under a write load, with the
 * binlogs archived, go local → S3 (encrypted, S3Proxy on loopback) → local again (plain); the
 * twice-copied incremental verifies and restores equal to the source (the oracle: its binlog
 * replayed from the manifest's position, CHECKSUM TABLE of every table). A second run copies
 * nothing. A copy killed with SIGKILL half way leaves no backup that a reader takes for complete,
 * and the next run completes it.
 */
class CopyIT {
    private static final String KEY_HEX = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988";

    @Test
    void chainGoesLocalToEncryptedS3ToLocalAndAKilledCopyCompletes() throws Exception {
        Path work = ItSupport.tempDir("copy-");
        Path a = work.resolve("a");
        Path c = work.resolve("c");
        Path d = work.resolve("d");
        Path key = Files.writeString(work.resolve("key"), KEY_HEX, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-it", "offsite/db1", false)) {
            try (Connection conn = source.connection()) {
                SampleSchema.create(conn, "app");
                SampleSchema.loadRows(conn, "app", 20_000);
            }
            String full;
            String incr;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(500).start()) {
                Thread.sleep(500);
                full = ItSupport.backup(a, source, "--quiet");
                Thread.sleep(700);
                incr = ItSupport.backup(a, source, "--type", "incremental", "--quiet");
                Thread.sleep(300);
                w.stop();
            }
            assertEquals(0, PitrSupport.archiveOnce(a, source).exit());
            Map<String, String> env = S3Repo.env();
            String[] toS3 = {"copy", "--from", a.toString(), "--to", s3.uri, "--to-s3-endpoint", s3.endpoint(), "--to-s3-part-size", "5",
                    "--to-encrypt-key-file", key.toString(), "--all", "--binlogs", "--json"};
            StrataCli.Result r1 = StrataCli.runWithEnv(env, toS3);
            assertEquals(0, r1.exit(), r1.toString());
            JsonNode j1 = ItSupport.JSON.readTree(r1.out());
            assertEquals(List.of(full, incr), ids(j1.get("copied")));
            assertTrue(j1.get("binlogObjects").asLong() >= 3, j1.toString());
            assertTrue(r1.err().contains("copying backup " + full + " (full, "), r1.err());
            assertTrue(r1.err().contains("backup " + incr + " copied: "), r1.err());
            // sealed in S3: the stored manifest is not readable without the key
            StrataCli.Result noKey = s3.run("show", incr);
            assertEquals(40, noKey.exit(), noKey.toString());

            String[] fromS3 = {"copy", "--from", s3.uri, "--from-s3-endpoint", s3.endpoint(), "--from-encrypt-key-file", key.toString(),
                    "--to", c.toString(), "--all", "--binlogs", "--json"};
            StrataCli.Result r2 = StrataCli.runWithEnv(env, fromS3);
            assertEquals(0, r2.exit(), r2.toString());
            assertEquals(List.of(full, incr), ids(ItSupport.JSON.readTree(r2.out()).get("copied")));

            // idempotent: nothing left to copy
            StrataCli.Result r3 = StrataCli.runWithEnv(env, fromS3);
            assertEquals(0, r3.exit(), r3.toString());
            JsonNode j3 = ItSupport.JSON.readTree(r3.out());
            assertEquals(List.of(), ids(j3.get("copied")));
            assertEquals(List.of(full, incr), ids(j3.get("present")));
            assertEquals(0, j3.get("binlogObjects").asLong());

            JsonNode original = ItSupport.manifest(a, incr);
            JsonNode twice = ItSupport.manifest(c, incr);
            assertEquals(original.get("files").size(), twice.get("files").size());
            for (int i = 0; i < original.get("files").size(); i++) {
                assertEquals(original.get("files").get(i).get("crc32c"), twice.get("files").get(i).get("crc32c"));
            }
            assertEquals(original.get("redoCrc32c"), twice.get("redoCrc32c"));
            assertEquals(full, twice.get("parent").asText());
            StrataCli.Result v = StrataCli.inProcess("verify", "--repo", c.toString());
            assertEquals(0, v.exit(), v.toString());
            assertTrue(v.out().contains("summary: 2 backup(s) ok, 0 damaged, 0 not usable (resting on a damaged one), 0 gone meanwhile; binlogs: 1 archive(s)"), v.out());
            assertTrue(r2.err().contains("WARNING: " + s3.uri + " is encrypted and " + c + " is not: the copies are stored in plain text there"), r2.err());
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(c, incr, work.resolve("restored"), source, twice.get("binlogFile").asText(),
                    twice.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app");
            }

            // kill -9 half way through the full backup's objects (S3, encrypted → local, slowed down by the test hook)
            List<String> slow = new ArrayList<>(List.of(fromS3));
            slow.set(slow.indexOf("--to") + 1, d.toString());
            slow.add("--debug-copy-delay-ms");
            slow.add("200");
            Process p = StrataCli.startWithEnv(env, work.resolve("kill.out"), work.resolve("kill.err"), slow.toArray(new String[0]));
            // half way: the copy's progress line (every 2 s) counts at least 5 of the full's objects copied and more to come
            // (small files go into packs, committed only at the end, so the files in the target do not show it)
            java.util.regex.Pattern progress = java.util.regex.Pattern.compile("copying " + full + ": (\\d+) of (\\d+) objects");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean halfWay = false;
            while (!halfWay && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(20);
                java.util.regex.Matcher m = progress.matcher(Files.readString(work.resolve("kill.err")));
                while (m.find()) {
                    halfWay = Integer.parseInt(m.group(1)) >= 5 && Integer.parseInt(m.group(1)) < Integer.parseInt(m.group(2));
                }
            }
            assertTrue(p.isAlive() && halfWay, "the copy never got half way: " + Files.readString(work.resolve("kill.err")));
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(p.pid())).start().waitFor());
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertFalse(Files.exists(d.resolve("backups").resolve(full).resolve("manifest")));
            for (JsonNode e : ItSupport.list(d)) {
                assertFalse("completed".equals(e.get("state").asText()), "a killed copy left a completed backup: " + e);
            }
            List<String> resume = new ArrayList<>(List.of(fromS3));
            resume.set(resume.indexOf("--to") + 1, d.toString());
            StrataCli.Result again = StrataCli.runWithEnv(env, resume.toArray(new String[0]));
            assertEquals(0, again.exit(), again.toString());
            assertEquals(List.of(full, incr), ids(ItSupport.JSON.readTree(again.out()).get("copied")));
            StrataCli.Result vd = StrataCli.inProcess("verify", "--repo", d.toString());
            assertEquals(0, vd.exit(), vd.toString());
            assertTrue(vd.out().contains("summary: 2 backup(s) ok"), vd.out());
        }
    }

    private static List<String> ids(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
