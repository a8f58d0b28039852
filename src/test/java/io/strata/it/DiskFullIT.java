package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A repository on a small tmpfs: the first backup fits, the second fills the disk. The second
 * must fail with DISK_FULL and a failure record, and the first must still restore.
 */
class DiskFullIT {

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    @Test
    void fullDiskFailsTheBackupAndKeepsTheOldOne() throws Exception {
        Path work = ItSupport.tempDir("diskfull-");
        Path mount = work.resolve("small-disk");
        Files.createDirectories(mount);
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 1_000);
            }
            // a first backup elsewhere tells how much one needs; the disk gets room for one and a half
            Path probe = work.resolve("probe-repo");
            ItSupport.backup(probe, source);
            long stored = ItSupport.list(probe).get(0).get("storedBytes").asLong();
            long size = stored * 3 / 2;
            run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mount.toString());
            try {
                Path repo = mount.resolve("repo");
                String first = ItSupport.backup(repo, source);
                StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--type", "full", "--socket", source.socket().toString(), "--user", "root", "--quiet");
                assertEquals(23, r.exit(), r.toString());
                assertTrue(r.err().startsWith("ERROR [disk-full]: no space left on the repository's device while writing "), r.toString());
                assertTrue(r.err().contains("HINT: free space or use another repository"), r.toString());
                assertFalse(r.err().contains("\tat "), r.toString());

                JsonNode list = ItSupport.list(repo);
                assertEquals(2, list.size(), list.toString());
                assertEquals("completed", list.get(0).get("state").asText());
                assertEquals("failed", list.get(1).get("state").asText());
                assertTrue(list.get(1).get("error").asText().startsWith("no space left on the repository's device"), list.toString());

                // a restore onto the full disk: disk-full naming the file, the target left as it was (absent)
                Path cramped = mount.resolve("restored");
                StrataCli.Result rr = StrataCli.run("restore", "--repo", repo.toString(), "--backup", first, "--target", cramped.toString());
                assertEquals(23, rr.exit(), rr.toString());
                String error = rr.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(rr.err());
                assertTrue(error.startsWith("ERROR [disk-full]: no space left on the device of the restore target while writing " + cramped + "/"), rr.toString());
                assertTrue(rr.err().contains("HINT: free space there, or restore to a file system with room for the whole restored data directory;"
                        + " the target is left as it was before the restore"), rr.toString());
                assertFalse(rr.err().contains("\tat "), rr.toString());
                assertFalse(Files.exists(cramped) && Files.list(cramped).findAny().isPresent(), "the target holds files after the failed restore");

                JsonNode m = ItSupport.manifest(repo, first);
                try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, first, work.resolve("restored"), source,
                        m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                    ItSupport.assertSameData(source, restored, "app");
                }
            } finally {
                run("umount", mount.toString());
            }
        }
    }
}
