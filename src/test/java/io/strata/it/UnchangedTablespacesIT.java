package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An incremental where most tables are unchanged (issue 18, docs/repository-format.md "Changes"
 * NN): the tablespaces the redo method names no page of store no object of their own (their
 * entries all name the backup's one shared empty delta, with 0 pages); a table changed by a
 * plain UPDATE before the backup's checkpoint, and one that grew, are stored with their pages;
 * the next incremental takes page 0 facts of the files unchanged since its parent from the
 * parent's manifest. The chain restores equal to the source (CHECKSUM TABLE of every table), and
 * so does it after verify and a merge of the last incremental. 25 s on two cores shared with other
 * helpers, 90 s beside a running bench.
 */
class UnchangedTablespacesIT {
    private static final int TABLES = 150;
    private static final Pattern FROM_PARENT = Pattern.compile("(\\d+) page 0 read\\(s\\) taken from the parent's manifest");

    @Test
    void unchangedTablespacesShareOneEmptyDeltaAndTheChainRestoresEqual() throws Exception {
        Path work = ItSupport.tempDir("unchanged-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = MariaDbSandbox.builder().innodbLogFileSize("64M").extraArgs("--innodb-flush-log-at-trx-commit=2").start()) {
            source.exec("CREATE DATABASE u");
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                for (int i = 0; i < TABLES; i++) {
                    st.addBatch("CREATE TABLE u.t" + i + " (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(40) NOT NULL) ENGINE=InnoDB");
                    st.addBatch("INSERT INTO u.t" + i + " SELECT seq, seq * 3, REPEAT(CHAR(97 + seq % 26), 40) FROM mysql.seq_1_to_20");
                }
                st.executeBatch();
            }
            // ~10 MB of rows, all changed before I3 and copied there at 2 MB/s (with ibdata1, which holds their undo log)
            source.exec("CREATE TABLE u.big (id INT PRIMARY KEY, c CHAR(200) NOT NULL) ENGINE=InnoDB",
                    "INSERT INTO u.big SELECT seq, REPEAT('s', 200) FROM mysql.seq_1_to_40000");
            // unchanged tables above FileCopier's small-file size, so their entries are made beside u.big's copy
            for (int i = 1; i <= 4; i++) {
                source.exec("CREATE TABLE u.v" + i + " (id INT PRIMARY KEY, c CHAR(200) NOT NULL) ENGINE=InnoDB",
                        "INSERT INTO u.v" + i + " SELECT seq, REPEAT('v', 200) FROM mysql.seq_1_to_8000");
            }
            source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            ItSupport.waitForCheckpoint(source);
            String[] server = {"--socket", source.socket().toString(), "--user", "root"};
            String full = ItSupport.backup(repo, source, "--type", "full");
            // the files' change times must be older than the parent's look by the 2 s margin for page 0 to be skipped
            Thread.sleep(2500);

            // I1: two tables changed by UPDATEs that the checkpoint passed before the backup began
            source.exec("UPDATE u.t3 SET k = k + 1 WHERE id = 4", "UPDATE u.t77 SET c = 'changed' WHERE id <= 3");
            ItSupport.waitForCheckpoint(source);
            StrataCli.Result r1 = StrataCli.run(ItSupport.concat(new String[] {"backup", "--repo", repo.toString(), "--type", "incremental",
                    "--log-level", "debug"}, server));
            String inc1 = ItSupport.completedId(r1);
            JsonNode m1 = ItSupport.manifest(repo, inc1);
            assertEquals("redo", m1.get("method").asText(), m1.get("note").toString());
            Map<String, JsonNode> e1 = tables(m1);
            String shared = sharedEmpty(e1, Set.of("t3", "t77"));
            for (String t : new String[] {"t3", "t77"}) {
                assertNotEquals(shared, e1.get(t).get("object").asText(), t + " has an object of its own");
                assertTrue(e1.get(t).get("deltaPages").asLong() > 0, t + ": " + e1.get(t));
            }
            assertEquals(full, m1.get("parent").asText());
            Thread.sleep(2500);

            // I2: one table changed by an UPDATE, one grown by many rows, both before the checkpoint;
            // one more UPDATE right before the backup (in the backup's own redo log only)
            source.exec("UPDATE u.t5 SET k = -k WHERE id = 7",
                    "INSERT INTO u.t11 SELECT 100 + seq, seq, REPEAT('g', 40) FROM mysql.seq_1_to_3000");
            ItSupport.waitForCheckpoint(source);
            source.exec("UPDATE u.t120 SET k = 999 WHERE id = 1");
            StrataCli.Result r2 = StrataCli.run(ItSupport.concat(new String[] {"backup", "--repo", repo.toString(), "--type", "incremental",
                    "--log-level", "debug"}, server));
            String inc2 = ItSupport.completedId(r2);
            JsonNode m2 = ItSupport.manifest(repo, inc2);
            Map<String, JsonNode> e2 = tables(m2);
            String shared2 = sharedEmpty(e2, Set.of("t5", "t11", "t120"));
            for (String t : new String[] {"t5", "t11"}) {
                assertNotEquals(shared2, e2.get(t).get("object").asText(), t + " has an object of its own");
                assertTrue(e2.get(t).get("deltaPages").asLong() > 0, t + ": " + e2.get(t));
            }
            assertTrue(e2.get("t11").get("size").asLong() > e1.get("t11").get("size").asLong(), "t11 grew: " + e2.get("t11"));
            Matcher fromParent = FROM_PARENT.matcher(r2.err());
            assertTrue(fromParent.find(), r2.err());
            assertTrue(Integer.parseInt(fromParent.group(1)) >= TABLES - 10, "page 0 facts from I1's manifest: " + fromParent.group());

            Map<String, String> expected;
            try (Connection a = source.connection()) {
                expected = TableChecksums.of(a, "u");
            }
            assertEquals(TABLES + 5, expected.size());
            restoreAndCompare(repo, inc2, work.resolve("restored"), expected);

            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, v.exit(), v.toString());
            StrataCli.Result merge = StrataCli.run("merge", "--repo", repo.toString(), inc2);
            assertEquals(0, merge.exit(), merge.toString());
            // inc2's id now restores the merged backup, which holds every table's pages of its own
            restoreAndCompare(repo, inc2, work.resolve("merged"), expected);

            // I3: DDL on unchanged tables after their entries named the shared empty delta and before
            // BLOCK_DDL (while two of four copy threads copy u.big and ibdata1's changed pages at 2 MB/s): dropped,
            // renamed and truncated (copied again) entries must not take the shared object with them
            source.exec("UPDATE u.big SET c = REPEAT('b', 200)");
            ItSupport.waitForCheckpoint(source);
            Path out = work.resolve("i3.out");
            Path err = work.resolve("i3.err");
            Process p = StrataCli.start(out, err, ItSupport.concat(new String[] {"backup", "--repo", repo.toString(), "--type", "incremental",
                    "--throttle", "2", "--parallel", "4", "--log-level", "debug"}, server));
            long deadline = System.currentTimeMillis() + 120_000;
            while (!java.nio.file.Files.readString(err).contains("[page-copy]")) {
                assertTrue(p.isAlive(), () -> "the backup ended before its page copy: " + StrataCli.readLog(err));
                assertTrue(System.currentTimeMillis() < deadline, "no page copy stage");
                Thread.sleep(20);
            }
            Thread.sleep(500); // the unchanged tables' entries are made in milliseconds, u.big takes seconds
            source.exec("DROP TABLE u.v1, u.v2", "RENAME TABLE u.v3 TO u.r3", "TRUNCATE TABLE u.v4", "TRUNCATE TABLE u.t130");
            assertEquals(0, p.waitFor(), () -> StrataCli.readLog(err));
            String log3 = StrataCli.readLog(err);
            assertTrue(log3.contains("[ddl] DDL during the copy: copying 3 tablespace(s) again, dropping 3"), log3);
            String inc3 = java.nio.file.Files.readString(out).lines().filter(l -> l.startsWith("backup ")).findFirst().orElseThrow().split(" ")[1];
            JsonNode m3 = ItSupport.manifest(repo, inc3);
            Set<String> objects3 = new HashSet<>();
            long sharedNames = 0;
            for (JsonNode f : m3.get("files")) {
                if (f.get("path").asText().matches("u/t\\d+\\.ibd") && "delta".equals(f.get("storage").asText()) && f.get("deltaPages").asLong() == 0) {
                    objects3.add(f.get("object").asText());
                    sharedNames++;
                }
            }
            assertEquals(1, objects3.size(), "I3's unchanged tables share one object: " + objects3);
            assertTrue(sharedNames >= TABLES - 10, "I3's unchanged tables: " + sharedNames);
            StrataCli.Result v3 = StrataCli.run("verify", "--repo", repo.toString(), inc3);
            assertEquals(0, v3.exit(), v3.toString());
            Map<String, String> expected3;
            try (Connection a = source.connection()) {
                expected3 = TableChecksums.of(a, "u");
            }
            assertEquals(TABLES + 5 - 2, expected3.size());
            restoreAndCompare(repo, inc3, work.resolve("restored3"), expected3);
        }
    }

    /** The manifest's entries of the tables of database u, by table name ("t3"). */
    private static Map<String, JsonNode> tables(JsonNode m) {
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode f : m.get("files")) {
            String p = f.get("path").asText();
            if (p.matches("u/t\\d+\\.ibd")) {
                out.put(p.substring(2, p.length() - 4), f);
            }
        }
        assertEquals(TABLES, out.size());
        return out;
    }

    /**
     * Asserts that every table but {@code changed} names one and the same object, an empty delta
     * (0 pages, digest of nothing) of the backup's, and returns its name.
     */
    private static String sharedEmpty(Map<String, JsonNode> entries, Set<String> changed) {
        Set<String> objects = new HashSet<>();
        entries.forEach((t, f) -> {
            if (!changed.contains(t)) {
                objects.add(f.get("object").asText());
                assertEquals("delta", f.get("storage").asText(), t + ": " + f);
                assertEquals(0, f.get("deltaPages").asLong(), t + ": " + f);
                assertEquals("00000000", f.get("crc32c").asText(), t + ": " + f);
                assertTrue(f.get("ref").isNull(), t + ": " + f);
            }
        });
        assertEquals(1, objects.size(), "unchanged tables name one shared object: " + objects);
        return objects.iterator().next();
    }

    private static void restoreAndCompare(Path repo, String id, Path target, Map<String, String> expected) throws Exception {
        StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
        assertEquals(0, r.exit(), r.toString());
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start(); Connection b = restored.connection()) {
            TableChecksums.assertSame(expected, TableChecksums.of(b, "u"));
        }
    }
}
