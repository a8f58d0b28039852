package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lost and misplaced history records and a lost manifest (issue 15, items 4 and 6): the manifests
 * decide what is a backup; prune keeps what it cannot judge and says so.
 */
class HistoryRecordsIT {

    private static List<String> listed(Path repo) throws Exception {
        List<String> ids = new ArrayList<>();
        for (JsonNode b : ItSupport.list(repo)) {
            ids.add(b.get("id").asText() + " " + b.get("state").asText());
        }
        return ids;
    }

    @Test
    void theManifestsDecideAndPruneKeepsWhatItCannotJudge() throws Exception {
        Path work = ItSupport.tempDir("history-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String full = ItSupport.backup(repo, source, "--type", "full");
            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 500");
            String i1 = ItSupport.backup(repo, source, "--type", "incremental");
            source.exec("UPDATE app.t_legacy SET k = k + 1 WHERE id < 500");
            String i2 = ItSupport.backup(repo, source, "--type", "incremental");

            // 1. the full backup's begin record is lost: still listed, verified, kept by prune, restorable
            Files.delete(repo.resolve("history").resolve(full).resolve("begin"));
            assertEquals(List.of(full + " completed", i1 + " completed", i2 + " completed"), listed(repo));
            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, v.exit(), v.toString());
            assertTrue(v.out().contains("ok     " + full + " (full)"), v.out());
            StrataCli.Result p = StrataCli.run("prune", "--repo", repo.toString(), "--keep-full", "1");
            assertEquals(0, p.exit(), p.toString());
            assertTrue(p.out().contains("keep   " + full + ": one of the newest 1 full backup(s)"), p.out());
            assertTrue(p.out().contains("3 backup(s) kept, 0 removed, leftovers of 0 attempt(s) removed"), p.out());
            assertTrue(Files.exists(repo.resolve("backups").resolve(full).resolve("manifest")));
            JsonNode fm = ItSupport.manifest(repo, full);
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, full, work.resolve("full"), source,
                    fm.get("binlogFile").asText(), fm.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app");
            }

            // 3. another backup's end record in i1's place: each id listed once, verify names the record
            Path i1End = repo.resolve("history").resolve(i1).resolve("end");
            byte[] saved = Files.readAllBytes(i1End);
            Files.copy(repo.resolve("history").resolve(full).resolve("end"), i1End, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertEquals(List.of(full + " completed", i1 + " completed", i2 + " completed"), listed(repo));
            StrataCli.Result bad = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(12, bad.exit(), bad.toString());
            assertTrue(bad.out().contains("FAILED history record history/" + i1 + "/end names backup " + full + ", not " + i1
                    + ": ignored (the manifests decide)"), bad.out());
            assertTrue(bad.out().contains("ok     " + i1 + " (incremental)"), bad.out());
            Files.write(i1End, saved);

            // 2. the middle manifest is lost: prune keeps i1's objects and i2, warns, exit 3
            Files.delete(repo.resolve("backups").resolve(i1).resolve("manifest"));
            StrataCli.Result broken = StrataCli.run("prune", "--repo", repo.toString(), "--keep-full", "1");
            assertEquals(3, broken.exit(), broken.toString());
            assertTrue(broken.err().contains("WARNING: broken chain: incremental backup " + i2 + " rests on backup " + i1
                    + ", whose manifest is missing; it was kept"), broken.err());
            assertTrue(broken.err().contains("WARNING: backup " + i1 + " completed but its manifest is missing"), broken.err());
            assertTrue(broken.out().contains("2 backup(s) kept, 0 removed, leftovers of 0 attempt(s) removed"), broken.out());
            assertTrue(Files.exists(repo.resolve("backups").resolve(i2).resolve("manifest")));
            assertTrue(Files.exists(repo.resolve("backups").resolve(i1).resolve("redo")));
        }
    }
}
