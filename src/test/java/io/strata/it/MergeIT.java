package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
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

    /** The state of app right now on the source (no writes run meanwhile): the oracle of the backup just taken. */
    private static Map<String, String> oracle(MariaDbSandbox source) throws Exception {
        try (Connection c = source.connection()) {
            return TableChecksums.of(c, "app");
        }
    }

    /** One line of "strata list" (text) for {@code id}. */
    private static String listLine(Path repo, String id) {
        StrataCli.Result r = StrataCli.run("list", "--repo", repo.toString());
        assertEquals(0, r.exit(), r.toString());
        return r.out().lines().filter(l -> l.startsWith(id + " ")).findFirst().orElseThrow(() -> new AssertionError(id + " not listed: " + r.out()));
    }

    /**
     * {@code id} was folded into {@code into}: restore, show, verify and merge each fail with one
     * clear backup-not-found, and --base with wrong-base saying the same; list shows it folded.
     */
    private static void assertFolded(Path repo, String id, String into, Path target, MariaDbSandbox source) {
        String reason = "backup " + id + " was folded into " + into + " by a merge at \\S+; its own state is no longer stored";
        String hint = "HINT: restore " + into + " for the later state it holds, or run \"strata list --repo " + repo + "\" to see what remains";
        for (String[] args : new String[][] {
                {"restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString()},
                {"show", "--repo", repo.toString(), id},
                {"verify", "--repo", repo.toString(), id},
                {"merge", "--repo", repo.toString(), id},
                {"backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--type", "incremental", "--base", id}}) {
            StrataCli.Result r = StrataCli.run(args);
            // --base keeps its own exit code (wrong-base, 27, as for a pruned or unknown base) and says why
            boolean base = args[0].equals("backup");
            assertEquals(base ? 27 : 19, r.exit(), String.join(" ", args) + ": " + r);
            List<String> lines = r.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList();
            assertEquals(2, lines.size(), r.err());
            String prefix = base ? "ERROR [wrong-base]: --base " + id + ": " : "ERROR [backup-not-found]: ";
            assertTrue(lines.get(0).startsWith(prefix) && lines.get(0).substring(prefix.length()).matches(reason), lines.get(0));
            assertEquals(hint, lines.get(1));
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
        assertFalse(Files.exists(target), "a refused restore creates nothing");
        String line = listLine(repo, id);
        assertTrue(line.matches(id + " +\\S+ +folded .*folded into " + into + " by a merge at \\S+; its own state is no longer stored"), line);
        assertFalse(line.contains("restores the same state"), line);
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
            Map<String, String> atFull = oracle(source);
            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 1000", "SET GLOBAL innodb_max_dirty_pages_pct = 0");
            Thread.sleep(1500);
            String i1 = ItSupport.backup(repo, source, "--type", "incremental");
            source.exec("UPDATE app.t_legacy SET k = k + 7 WHERE id > 3000", "TRUNCATE TABLE app.t_part", "INSERT INTO app.t_part (k, c) VALUES (1, 'a')");
            Thread.sleep(1500);
            String i2 = ItSupport.backup(repo, source, "--type", "incremental");
            Map<String, String> before2 = oracle(source);
            source.exec("DELETE FROM app.t_fcrc32 WHERE id % 3 = 0");
            Thread.sleep(1500);
            String i3 = ItSupport.backup(repo, source, "--type", "incremental");
            Map<String, String> before3 = oracle(source);
            // a differential on the full: the full has a child besides the chain that is merged
            source.exec("UPDATE app.t_legacy SET k = k - 1 WHERE id < 200");
            Thread.sleep(1500);
            String d = ItSupport.backup(repo, source, "--type", "differential");
            assertEquals(full, ItSupport.manifest(repo, d).get("parent").asText());
            assertTrue(!atFull.equals(before2) && !before2.equals(before3), "the writes between the backups changed the data");

            // fold i2 into i1: a shorter chain full <- M <- i3; i1's own state is gone
            StrataCli.Result r = StrataCli.run("merge", "--repo", repo.toString(), i2);
            assertEquals(0, r.exit(), r.toString());
            String m1 = r.out().split(" ")[1];
            JsonNode mm = ItSupport.manifest(repo, m1);
            assertEquals("incremental", mm.get("type").asText());
            assertEquals(full, mm.get("parent").asText());
            assertTrue(r.err().contains("backup " + i1 + " was folded into " + m1 + " and removed: its own state is no longer stored"), r.err());
            assertEquals(0, StrataCli.run("verify", "--repo", repo.toString()).exit());
            assertEquals(before2, restoreChecksums(repo, i2, work.resolve("a2")), "restoring the merged id gives the data at that backup");
            assertEquals(before3, restoreChecksums(repo, i3, work.resolve("a3")), "the child of the merged backup still restores the same");
            assertFalse(Files.exists(repo.resolve("backups").resolve(i2)), "merged backup's objects are removed");
            assertFalse(Files.exists(repo.resolve("backups").resolve(i1)), "the parent nothing else needed is removed");
            assertFolded(repo, i1, m1, work.resolve("f1"), source);
            assertTrue(listLine(repo, i2).contains("merged into " + m1 + " (restoring this id restores the same state)"), listLine(repo, i2));

            // fold the result into the full backup: a synthetic full; the differential keeps the full, with its own state
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
            assertEquals(atFull, restoreChecksums(repo, full, work.resolve("sf")), "the full another backup rests on is kept and restores its own state");
            assertTrue(listLine(repo, full).matches(full + " +full +completed .*"), listLine(repo, full));

            // fold the differential into the full: nothing else rests on the full, so its state goes
            r = StrataCli.run("merge", "--repo", repo.toString(), d);
            assertEquals(0, r.exit(), r.toString());
            String synthetic2 = r.out().split(" ")[1];
            assertFolded(repo, full, synthetic2, work.resolve("f0"), source);
            assertEquals(0, StrataCli.run("verify", "--repo", repo.toString()).exit());

            Map<String, JsonNode> byId = new java.util.HashMap<>();
            for (JsonNode e : ItSupport.list(repo)) {
                byId.put(e.get("id").asText(), e);
            }
            for (String[] x : new String[][] {{i1, m1, "true"}, {i2, m1, "false"}, {m1, synthetic, "false"}, {full, synthetic2, "true"}, {d, synthetic2, "false"}}) {
                JsonNode e = byId.get(x[0]);
                assertEquals(x[1], e.get("mergedInto").asText(), e.toString());
                assertEquals(Boolean.parseBoolean(x[2]), e.get("folded").asBoolean(), e.toString());
                assertEquals(Boolean.parseBoolean(x[2]) ? "folded" : "completed", e.get("state").asText(), e.toString());
            }

            // damage to the backup a merged id is held by: verify says that id is damaged (not "removed while verify ran"), and
            // restore names the damaged table's file before the pack member that holds it
            JsonNode hurt = null;
            for (JsonNode f : ItSupport.manifest(repo, synthetic2).get("files")) {
                if (hurt == null && f.get("path").asText().startsWith("app/") && f.get("path").asText().endsWith(".ibd")) {
                    hurt = f;
                }
            }
            ItSupport.StoredAt at = ItSupport.storedAt(repo, synthetic2, hurt.get("object").asText());
            at.flip(40 + 4 + 100, 0x5a);
            StrataCli.Result bad = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(12, bad.exit(), bad.toString());
            assertTrue(bad.out().contains("FAILED " + d + ": "), bad.out());
            assertFalse(bad.out().contains("gone   "), bad.out());
            assertTrue(bad.out().contains(", 0 gone meanwhile;"), bad.out());
            assertTrue(bad.out().contains("  " + hurt.get("path").asText() + " of backup " + synthetic2 + ": "), bad.out());
            StrataCli.Result refused = StrataCli.run("restore", "--repo", repo.toString(), "--backup", d, "--target", work.resolve("hurt").toString());
            assertEquals(12, refused.exit(), refused.toString());
            assertTrue(refused.err().contains("ERROR [corrupt-data]: " + hurt.get("path").asText() + " of backup " + synthetic2 + ": "), refused.err());
            assertTrue(refused.err().contains("(resource=" + at.named() + ")"), refused.err());
            assertFalse(Files.exists(work.resolve("hurt")));
            at.flip(40 + 4 + 100, 0x5a); // repaired: the same bytes as before
            assertEquals(0, StrataCli.run("verify", "--repo", repo.toString()).exit());

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
