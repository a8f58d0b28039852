package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * merge folds a backup into its parent; restores before and after are identical, ids keep
 * resolving, and a merge killed at any moment leaves every restorable backup restorable.
 */
class MergeIT {

    private static Map<String, String> restoreChecksums(Path repo, String id, Path target) throws Exception {
        StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
        assertEquals(0, r.exit(), r.toString());
        try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(target).start(); Connection c = s.connection()) {
            return TableChecksums.of(c, "app");
        }
    }

    @Test
    void mergedChainRestoresIdentically() throws Exception {
        Path work = ItSupport.tempDir("merge-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            String full = ItSupport.backup(repo, source, "--type", "full");
            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 1000", "SET GLOBAL innodb_max_dirty_pages_pct = 0");
            Thread.sleep(1500);
            String i1 = ItSupport.backup(repo, source, "--type", "incremental");
            source.exec("UPDATE app.t_legacy SET k = k + 7 WHERE id > 3000", "TRUNCATE TABLE app.t_part", "INSERT INTO app.t_part (k, c) VALUES (1, 'a')");
            Thread.sleep(1500);
            String i2 = ItSupport.backup(repo, source, "--type", "incremental");
            source.exec("DELETE FROM app.t_fcrc32 WHERE id % 3 = 0");
            Thread.sleep(1500);
            String i3 = ItSupport.backup(repo, source, "--type", "incremental");

            Map<String, String> before2 = restoreChecksums(repo, i2, work.resolve("b2"));
            Map<String, String> before3 = restoreChecksums(repo, i3, work.resolve("b3"));

            // fold i2 into i1: a shorter chain full <- M <- i3
            StrataCli.Result r = StrataCli.run("merge", "--repo", repo.toString(), i2);
            assertEquals(0, r.exit(), r.toString());
            String m1 = r.out().split(" ")[1];
            JsonNode mm = ItSupport.manifest(repo, m1);
            assertEquals("incremental", mm.get("type").asText());
            assertEquals(full, mm.get("parent").asText());
            assertEquals(0, StrataCli.run("verify", "--repo", repo.toString()).exit());
            assertEquals(before2, restoreChecksums(repo, i2, work.resolve("a2")), "restoring the merged id gives the same data");
            assertEquals(before3, restoreChecksums(repo, i3, work.resolve("a3")), "the child of the merged backup still restores the same");
            assertFalse(Files.exists(repo.resolve("backups").resolve(i2)), "merged backup's objects are removed");
            assertFalse(Files.exists(repo.resolve("backups").resolve(i1)), "the parent nothing else needed is removed");

            // fold the result into the full backup: a synthetic full
            r = StrataCli.run("merge", "--repo", repo.toString(), m1);
            assertEquals(0, r.exit(), r.toString());
            String synthetic = r.out().split(" ")[1];
            JsonNode sm = ItSupport.manifest(repo, synthetic);
            assertEquals("full", sm.get("type").asText());
            assertTrue(sm.get("parent").isNull());
            for (JsonNode f : sm.get("files")) {
                assertEquals("whole", f.get("storage").asText(), f.toString());
            }
            assertEquals(before2, restoreChecksums(repo, synthetic, work.resolve("s2")));
            assertEquals(before3, restoreChecksums(repo, i3, work.resolve("s3")));

            JsonNode list = ItSupport.list(repo);
            int merged = 0;
            for (JsonNode e : list) {
                if (!e.get("mergedInto").isNull()) {
                    merged++;
                }
            }
            assertEquals(4, merged, list.toString());

            // a merge killed at different moments: everything that restored before still does
            for (long delay : new long[] {400, 900, 1500}) {
                Process p = StrataCli.start(work.resolve("m-out-" + delay), work.resolve("m-err-" + delay), "merge", "--repo", repo.toString(), i3);
                Thread.sleep(delay);
                p.destroyForcibly();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, StrataCli.run("verify", "--repo", repo.toString()).exit(), "repository inconsistent after a merge killed at " + delay + " ms");
                assertEquals(before3, restoreChecksums(repo, i3, work.resolve("k" + delay)));
            }
        }
    }
}
