package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** verify finds a damaged stored object and names it; restore refuses it; other backups are unharmed. */
class VerifyIT {

    @Test
    void corruptedDeltaIsFoundNamedAndRefused() throws Exception {
        Path work = ItSupport.tempDir("verify-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            String full = ItSupport.backup(repo, source, "--type", "full");
            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 2000", "UPDATE app.t_legacy SET k = k + 1 WHERE id < 2000");
            source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            Thread.sleep(2000);
            String incr = ItSupport.backup(repo, source, "--type", "incremental");

            StrataCli.Result ok = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, ok.exit(), ok.toString());
            assertTrue(ok.out().contains("ok     " + full + " (full)"), ok.out());
            assertTrue(ok.out().contains("ok     " + incr + " (incremental)"), ok.out());

            // damage one page inside the delta of t_fcrc32 (the chunk CRC catches it)
            JsonNode m = ItSupport.manifest(repo, incr);
            JsonNode delta = null;
            for (JsonNode f : m.get("files")) {
                if (f.get("path").asText().equals("app/t_fcrc32.ibd")) {
                    delta = f;
                }
            }
            assertEquals("delta", delta.get("storage").asText());
            assertTrue(delta.get("deltaPages").asLong() > 0, delta.toString());
            ItSupport.StoredAt stored = ItSupport.storedAt(repo, incr, delta.get("object").asText());
            stored.flip(40 + 4 + 100, 0x5a);
            String object = stored.named();

            StrataCli.Result bad = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(12, bad.exit(), bad.toString());
            assertTrue(bad.out().contains("ok     " + full + " (full)"), bad.out());
            assertTrue(bad.out().contains("FAILED " + incr + ": 1 problem(s)"), bad.out());
            assertTrue(bad.out().contains("chunk 0 (raw offset 0) checksum mismatch"), bad.out());
            // the line names the table's file, and the object (a pack member: its pack and range) as the resource
            assertTrue(bad.out().contains("  app/t_fcrc32.ibd of backup " + incr + ": chunk 0 (raw offset 0) checksum mismatch"), bad.out());
            assertTrue(bad.err().startsWith("ERROR [corrupt-data]: 1 problem(s) found; the first: app/t_fcrc32.ibd of backup " + incr
                    + ": chunk 0 (raw offset 0) checksum mismatch: stored crc32c=0x"), bad.err());
            assertTrue(bad.err().contains("(resource=" + object + ")"), bad.err());

            Path target = work.resolve("refused");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", incr, "--target", target.toString());
            assertEquals(12, r.exit(), r.toString());
            assertTrue(r.err().contains("\nERROR [corrupt-data]: app/t_fcrc32.ibd of backup " + incr + ": chunk 0 (raw offset 0) checksum mismatch"), r.err());
            assertTrue(r.err().contains("(resource=" + object + ")"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
            assertFalse(Files.exists(target), "a refused restore leaves the target as it found it: absent");

            // the full backup is unharmed and restores
            JsonNode fm = ItSupport.manifest(repo, full);
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, full, work.resolve("full"), source,
                    fm.get("binlogFile").asText(), fm.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
