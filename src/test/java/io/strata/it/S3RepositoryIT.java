package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backups into an S3 repository (S3Proxy on loopback) restore to the source's state, and prune
 * keeps every chain it promises whole: the full-backup and chain tests with the repository in S3.
 */
class S3RepositoryIT {

    @Test
    void fullBackupUnderLoadIntoS3RestoresToTheSource() throws Exception {
        Path work = ItSupport.tempDir("s3-full-");
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-it", "db1/full", false)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 30_000);
            }
            String id;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(4).rate(1000).start()) {
                Thread.sleep(1000);
                long before = w.committed();
                long t0 = System.nanoTime();
                id = s3.backup(source, "--throttle", "5");
                double tps = (w.committed() - before) / ((System.nanoTime() - t0) / 1e9);
                assertTrue(tps >= 300, "write load during the backup was only " + tps + " tx/s");
                Thread.sleep(500);
                w.stop();
            }
            JsonNode m = s3.manifest(id);
            assertEquals("full", m.get("type").asText());
            // the redo log and ibdata1 are larger than one 5 MiB part: multipart uploads were used and completed
            assertTrue(m.get("files").size() > 10, m.toString());
            List<String> keys = s3.keys("backups/" + id + "/");
            assertTrue(keys.contains("backups/" + id + "/manifest"), keys.toString());
            // every object a file entry names (a pack member by its pack), the redo log and the manifest; nothing else
            java.util.Set<String> named = new java.util.TreeSet<>();
            m.get("files").forEach(f -> named.add("backups/" + id + "/" + f.get("object").asText().replaceFirst("^(pack/\\d+)@\\d+\\+\\d+$", "$1")));
            named.add("backups/" + id + "/redo");
            named.add("backups/" + id + "/manifest");
            assertEquals(named, new java.util.TreeSet<>(keys), "objects: every file's, the redo log and the manifest");
            assertTrue(named.stream().filter(k -> k.contains("/pack/")).count() >= 1 && named.size() < m.get("files").size(), "small files in packs: " + named);
            assertEquals(0, s3.unfinishedUploads());
            StrataCli.Result v = s3.run("verify", id);
            assertEquals(0, v.exit(), v.toString());
            try (MariaDbSandbox restored = s3.restoreAndReplay(id, work.resolve("restored"), source)) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }

    @Test
    void chainInS3RestoresAndPruneKeepsWhatItPromises() throws Exception {
        Path work = ItSupport.tempDir("s3-chain-");
        try (MariaDbSandbox source = ItSupport.source(); S3Repo s3 = S3Repo.start("strata-it", "db1/chain", false)) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 10_000);
            }
            String[] types = {"full", "incremental", "differential", "full", "incremental", "incremental"};
            List<String> ids = new ArrayList<>();
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(500).start()) {
                for (int i = 0; i < types.length; i++) {
                    Thread.sleep(700);
                    ids.add(s3.backup(source, "--type", types[i]));
                    if (i == 1) {
                        source.exec("CREATE TABLE app.extra (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", "INSERT INTO app.extra VALUES (1, 1), (2, 2)");
                    }
                }
                Thread.sleep(500);
                w.stop();
            }
            JsonNode list = s3.list();
            assertEquals(types.length, list.size());
            assertEquals(ids.get(0), list.get(2).get("parent").asText(), "the differential rests on the first full");
            assertEquals(ids.get(4), list.get(5).get("parent").asText());

            // the differential restores before anything is pruned
            try (MariaDbSandbox restored = s3.restoreAndReplay(ids.get(2), work.resolve("r-diff"), source)) {
                ItSupport.assertSameData(source, restored, "app");
            }

            // dry run: says what would go and why, removes nothing
            List<String> before = s3.keys("");
            StrataCli.Result dry = s3.run("prune", "--keep-full", "1", "--dry-run");
            assertEquals(0, dry.exit(), dry.toString());
            for (int i = 0; i < 3; i++) {
                assertTrue(dry.out().contains("would remove " + ids.get(i) + ": "), dry.out());
            }
            assertTrue(dry.out().contains("keep   " + ids.get(3) + ": one of the newest 1 full backup(s)"), dry.out());
            assertTrue(dry.out().contains("keep   " + ids.get(5) + ": rests on kept full backup " + ids.get(3)), dry.out());
            assertEquals(before, s3.keys(""));

            StrataCli.Result pr = s3.run("prune", "--keep-full", "1");
            assertEquals(0, pr.exit(), pr.toString());
            assertTrue(pr.out().contains("3 backup(s) kept, 3 removed"), pr.out());
            JsonNode after = s3.list();
            for (int i = 0; i < types.length; i++) {
                String state = after.get(i).get("state").asText();
                assertEquals(i < 3 ? "pruned" : "completed", state, after.toString());
                assertEquals(i >= 3, !s3.keys("backups/" + ids.get(i) + "/").isEmpty(), "objects of " + ids.get(i));
            }
            StrataCli.Result gone = s3.run("restore", "--backup", ids.get(1), "--target", work.resolve("r-gone").toString());
            assertEquals(19, gone.exit(), gone.toString());
            assertTrue(gone.err().startsWith("ERROR [backup-not-found]: backup " + ids.get(1) + " was removed by strata prune at "), gone.err());
            assertFalse(s3.keys("history/" + ids.get(1) + "/").isEmpty(), "prune keeps the history");

            // what prune kept restores: the newest incremental, through its chain
            try (MariaDbSandbox restored = s3.restoreAndReplay(ids.get(5), work.resolve("r-last"), source)) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
