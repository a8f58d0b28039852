package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import io.strata.util.RunOwner;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code restore --table --import} stopped in the middle of its import into the running server:
 * <ul>
 * <li>kill -9 after DISCARD TABLESPACE, before IMPORT TABLESPACE: the half-made table has strata's
 *     work name (never the destination's), and the next table restore drops it with the file the
 *     server would keep of a discarded table, and removes the scratch directory; then restores the
 *     table with the CHECKSUM it had at the backup. Leftovers of a live process, and the swapped-out
 *     table of a killed --replace, are kept (the latter named in a warning);</li>
 * <li>SIGTERM during a partitioned table's import: exit 130, one ERROR line, and nothing of the run
 *     left in the server or the scratch parent when strata has exited.</li>
 * <li>SIGTERM during the import of the second of two tables replaced together: the first one's work
 *     table is dropped again and both tables in the server keep their rows (exit 130).</li>
 * <li>a table whose foreign key references the table being replaced, created during the run: refused
 *     just before the RENAME (58), the imported table dropped, the key still on the table there.</li>
 * </ul>
 */
class TableRestoreKillIT {

    @Test
    void killedImportLeavesNothingTheNextRunKeeps() throws Exception {
        Path work = ItSupport.tempDir("table-kill-");
        Path repo = work.resolve("repo");
        Path scratch = work.resolve("scratch");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            source.exec("CREATE DATABASE shop",
                    "CREATE TABLE shop.orders (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB",
                    "CREATE TABLE shop.parts (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB PARTITION BY HASH(id) PARTITIONS 3",
                    "INSERT INTO shop.orders SELECT seq, CONCAT('o', seq) FROM shop.seq_1_to_3000",
                    "INSERT INTO shop.parts SELECT seq, CONCAT('p', seq) FROM shop.seq_1_to_3000");
            String orders = checksum(source, "shop.orders");
            String parts = checksum(source, "shop.parts");
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).start()) {
                ItSupport.backup(repo, source, "--type", "full");
            }
            String[] conn = {"--socket", source.socket().toString(), "--user", "root"};

            // kill -9 between DISCARD and IMPORT TABLESPACE
            Process p = startPaused(work, "kill", conn, repo, "--table", "shop.orders", "--as", "shop.orders_back", "--scratch-dir", scratch.toString());
            waitFor(p, work.resolve("kill.err"), "pausing 600000 ms before ALTER TABLE `shop`.`strata_new_");
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(p.pid())).start().waitFor());
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            List<String> left = workTables(source);
            assertEquals(1, left.size(), left.toString());
            assertTrue(left.get(0).startsWith("strata_new_" + Long.toString(p.pid(), 36) + "_"), left.toString());
            assertTrue(Files.exists(source.datadir().resolve("shop").resolve(left.get(0) + ".ibd")), "the placed file of the discarded tablespace");
            assertEquals(List.of(), source.query("SHOW TABLES IN shop LIKE 'orders\\_back'"));
            assertEquals(1, list(scratch).size(), "the killed run's scratch directory");
            String killedScratch = list(scratch).get(0);

            // leftovers another run must keep: a live process's (this JVM's) half-made table, a dead process's swapped-out table
            String live = workName("new", RunOwner.self().tag(), "abcd");
            String old = workName("old", "zzzz_1", "abcd"); // pid 1,679,615, start 1: no such process
            // a user's table that only looks like a work table of a dead run (its check digits are not strata's)
            String lookalike = "strata_new_feature_flags_cafe0123";
            source.exec("CREATE TABLE shop." + live + " (id INT) ENGINE=InnoDB", "CREATE TABLE shop." + old + " (id INT) ENGINE=InnoDB",
                    "CREATE TABLE shop." + lookalike + " (id INT) ENGINE=InnoDB");

            StrataCli.Result again = StrataCli.run(ItSupport.concat(new String[] {"restore", "--repo", repo.toString(), "--table", "shop.orders",
                    "--as", "shop.orders_back", "--import", "--scratch-dir", scratch.toString()}, conn));
            assertEquals(0, again.exit(), again.toString());
            String e = again.err();
            assertTrue(e.contains("NOTE: dropped table shop." + left.get(0) + ", left half-imported by a restore --table that was killed (process " + p.pid() + ")"), e);
            assertTrue(e.contains("NOTE: removed the scratch directory " + killedScratch + ", left by a restore --table that was killed (process " + p.pid() + ")"), e);
            assertTrue(e.contains("WARNING: table shop." + old + " is the table a killed restore --table --replace (process 1679615) swapped out;"), e);
            assertEquals(List.of(live, old, lookalike).stream().sorted().toList(), workTables(source));
            assertEquals(orders, checksum(source, "shop.orders_back"));
            assertEquals(List.of(), strataFiles(source, left.get(0)));
            assertEquals(List.of(), list(scratch), "the scratch directories are gone");

            // SIGTERM while a partition is imported: undone before strata exits
            Path err2 = work.resolve("term.err");
            Process q = startPaused(work, "term", conn, repo, "--table", "shop.parts", "--as", "shop.parts_back", "--scratch-dir", scratch.toString());
            waitFor(q, err2, "pausing 600000 ms before ALTER TABLE `shop`.`strata_part_");
            assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(q.pid())).start().waitFor());
            assertTrue(q.waitFor(60, TimeUnit.SECONDS));
            String log = StrataCli.readLog(err2);
            assertEquals(130, q.exitValue(), log);
            assertEquals(List.of("ERROR [interrupted]: the table restore was cancelled by SIGTERM; what it wrote was undone"),
                    log.lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT") || l.contains("Exception")).toList(), log);
            assertEquals(List.of(live, old, lookalike).stream().sorted().toList(), workTables(source));
            assertEquals(List.of(), source.query("SHOW TABLES IN shop LIKE 'parts\\_back'"));
            assertEquals(List.of(), list(scratch));
            String tag = Long.toString(q.pid(), 36) + "_";
            assertEquals(List.of(), Files.list(source.datadir().resolve("shop")).map(f -> f.getFileName().toString())
                    .filter(n -> n.contains(tag)).toList());
            assertEquals(parts, checksum(source, "shop.parts"), "the source table is untouched");

            // SIGTERM while the second of two tables replaced together is imported: the first, imported and checked, is dropped
            // again and neither table in the server changes (the RENAME that puts both in place never ran)
            source.exec("DELETE FROM shop.orders WHERE id <= 100", "DELETE FROM shop.parts WHERE id <= 100");
            String ordersNow = checksum(source, "shop.orders");
            String partsNow = checksum(source, "shop.parts");
            Path err3 = work.resolve("pair.err");
            String[] pair = ItSupport.concat(new String[] {"restore", "--repo", repo.toString(), "--import", "--debug-import-pause-ms", "3000", "--table", "shop.orders",
                    "--table", "shop.parts", "--replace", "--scratch-dir", scratch.toString()}, conn);
            Process both = StrataCli.start(work.resolve("pair.out"), err3, pair);
            waitFor(both, err3, "pausing 3000 ms before ALTER TABLE `shop`.`strata_part_");
            assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(both.pid())).start().waitFor());
            assertTrue(both.waitFor(60, TimeUnit.SECONDS));
            String log3 = StrataCli.readLog(err3);
            assertEquals(130, both.exitValue(), log3);
            assertTrue(log3.contains("pausing 3000 ms before ALTER TABLE `shop`.`strata_new_"), "shop.orders was imported first: " + log3);
            assertEquals(List.of("ERROR [interrupted]: the table restore was cancelled by SIGTERM; what it wrote was undone"),
                    log3.lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT") || l.contains("Exception")).toList(), log3);
            assertEquals(List.of(live, old, lookalike).stream().sorted().toList(), workTables(source));
            assertEquals(ordersNow, checksum(source, "shop.orders"));
            assertEquals(partsNow, checksum(source, "shop.parts"));
            assertNotEquals(orders, ordersNow);
            assertEquals(List.of(), list(scratch));
            String tag3 = Long.toString(both.pid(), 36) + "_";
            assertEquals(List.of(), Files.list(source.datadir().resolve("shop")).map(f -> f.getFileName().toString())
                    .filter(n -> n.contains(tag3)).toList());

            // a table whose key references shop.orders, created while a --replace of shop.orders runs: refused just before the
            // RENAME (which would carry the key to the swapped-out table, then dropped), the imported table dropped again
            Path err4 = work.resolve("late.err");
            Process late = StrataCli.start(work.resolve("late.out"), err4, ItSupport.concat(new String[] {"restore", "--repo", repo.toString(), "--import",
                    "--debug-import-pause-ms", "3000", "--table", "shop.orders", "--replace", "--scratch-dir", scratch.toString()}, conn));
            waitFor(late, err4, "pausing 3000 ms before ALTER TABLE `shop`.`strata_new_");
            source.exec("CREATE TABLE shop.late (id INT PRIMARY KEY, o INT, FOREIGN KEY (o) REFERENCES shop.orders (id)) ENGINE=InnoDB",
                    "INSERT INTO shop.late VALUES (1, 500)");
            assertTrue(late.waitFor(120, TimeUnit.SECONDS));
            String log4 = StrataCli.readLog(err4);
            assertEquals(58, late.exitValue(), log4);
            assertEquals(List.of("ERROR [table-exists]: table shop.orders in the server at socket " + source.socket() + " is referenced by foreign keys of shop.late,"
                    + " which --replace would leave pointing at the old table; nothing was restored (the tables imported for the run were dropped again: shop.orders)",
                    "HINT: replace them in the same restore (--table shop.late), or import it with --as shop.orders_restored and move the rows over in SQL"),
                    log4.lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList(), log4);
            assertEquals(List.of(live, old, lookalike).stream().sorted().toList(), workTables(source));
            assertEquals(ordersNow, checksum(source, "shop.orders"));
            assertEquals(List.of(List.of("orders")), source.query("SELECT REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS"
                    + " WHERE CONSTRAINT_SCHEMA = 'shop' AND TABLE_NAME = 'late'"));
            source.exec("DROP TABLE shop.late");

            // a server that would put a new InnoDB table into its system tablespace: refused before anything is made in it
            source.exec("SET GLOBAL innodb_file_per_table = OFF");
            StrataCli.Result off = StrataCli.run(ItSupport.concat(new String[] {"restore", "--repo", repo.toString(), "--table", "shop.orders",
                    "--as", "shop.orders_b2", "--import", "--scratch-dir", scratch.toString()}, conn));
            assertEquals(13, off.exit(), off.toString());
            assertEquals(List.of("ERROR [server-unsupported]: the server at socket " + source.socket() + " has innodb_file_per_table=OFF, so it would create shop.orders"
                    + " in its system tablespace, from which no tablespace can be imported; nothing was restored",
                    "HINT: run SET GLOBAL innodb_file_per_table=ON in that server (it applies to tables created afterwards) and run the restore again"),
                    off.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList(), off.toString());
            assertEquals(List.of(), source.query("SHOW TABLES IN shop LIKE 'orders\\_b2'"));
            assertEquals(List.of(live, old, lookalike).stream().sorted().toList(), workTables(source));
            assertEquals(List.of(), list(scratch));
        }
    }

    /** A work table name as strata makes them: 4 random hex digits, then the first 4 of CRC-32C("strata_KIND_TAG_RANDOM"). */
    private static String workName(String kind, String tag, String random) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(("strata_" + kind + "_" + tag + "_" + random).getBytes(StandardCharsets.US_ASCII));
        return "strata_" + kind + "_" + tag + "_" + random + String.format("%08x", c.getValue()).substring(0, 4);
    }

    /** Starts {@code restore --import} with {@code args}, pausing 600 s before each IMPORT TABLESPACE; its output in {@code work/<name>.out|.err}. */
    private static Process startPaused(Path work, String name, String[] conn, Path repo, String... args) throws Exception {
        String[] cmd = ItSupport.concat(new String[] {"restore", "--repo", repo.toString(), "--import", "--debug-import-pause-ms", "600000"}, args);
        return StrataCli.start(work.resolve(name + ".out"), work.resolve(name + ".err"), ItSupport.concat(cmd, conn));
    }

    private static void waitFor(Process p, Path err, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (Files.exists(err) && Files.readString(err, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no \"" + text + "\" from strata (" + (p.isAlive() ? "running" : "exit " + p.exitValue()) + "):\n"
                + (Files.exists(err) ? Files.readString(err, StandardCharsets.UTF_8) : ""));
    }

    private static String checksum(MariaDbSandbox s, String table) {
        return s.query("CHECKSUM TABLE " + table).get(0).get(1);
    }

    /** The tables of database shop named as strata's work tables, sorted. */
    private static List<String> workTables(MariaDbSandbox s) {
        return s.query("SHOW TABLES IN shop LIKE 'strata\\_%'").stream().map(r -> r.get(0)).sorted().toList();
    }

    /** Files in shop's directory of the dropped table {@code table} or temporary files of strata. */
    private static List<String> strataFiles(MariaDbSandbox s, String table) throws Exception {
        try (var l = Files.list(s.datadir().resolve("shop"))) {
            return l.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(table) || n.startsWith(".strata-")).toList();
        }
    }

    private static List<String> list(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var l = Files.list(dir)) {
            return l.map(Path::toString).sorted().toList();
        }
    }
}
