package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DATA DIRECTORY tables and partitions (.isl; docs/repository-format.md, "DATA DIRECTORY
 * tablespaces"): a table in one external directory and a partitioned table whose partitions lie in
 * two, written to while a full, an incremental and a differential backup run. The incremental's
 * chain restored with --remap into new directories, and the differential's restored in place (the
 * source stopped and its external directories moved away), each equal the source after binlog
 * replay; a second restore in place onto the files just written is refused (exit 18) before it
 * writes anything.
 */
class DataDirectoryIT {
    private static final String DB = "dd";

    @Test
    void dataDirectoryTablesAndPartitionsRestoreInPlaceAndRemapped() throws Exception {
        Path work = ItSupport.tempDir("isl-");
        Path repo = work.resolve("repo");
        Path ext1 = work.resolve("ext1");
        Path ext2 = work.resolve("ext2");
        Files.createDirectories(ext1);
        Files.createDirectories(ext2);
        Map<String, String> expected;
        String incr;
        String diff;
        MariaDbSandbox source = ItSupport.source();
        try {
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + DB);
                st.execute("USE " + DB);
                st.execute("CREATE TABLE dd.t_dd (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, c VARCHAR(120) NOT NULL, KEY k_idx (k))"
                        + " ENGINE=InnoDB DATA DIRECTORY='" + ext1 + "'");
                st.execute("CREATE TABLE dd.t_pd (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, c VARCHAR(120) NOT NULL) ENGINE=InnoDB"
                        + " PARTITION BY HASH(id) (PARTITION p0 DATA DIRECTORY='" + ext1 + "', PARTITION p1 DATA DIRECTORY='" + ext1 + "',"
                        + " PARTITION p2 DATA DIRECTORY='" + ext2 + "', PARTITION p3)");
                st.execute("CREATE TABLE dd.t_local (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, c VARCHAR(120) NOT NULL) ENGINE=InnoDB");
                for (String t : List.of("t_dd", "t_pd", "t_local")) {
                    st.execute("INSERT INTO dd." + t + " (k, c) SELECT seq % 1000, REPEAT(CHAR(65 + seq % 26), 100) FROM seq_1_to_3000");
                }
            }
            // the dictionary reports the memory-only DATA_DIR bit (27) that page 0 never stores
            int flag = Integer.parseInt(source.query("SELECT FLAG FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = 'dd/t_dd'").get(0).get(0));
            assertEquals(0x15 | 1 << 27, flag, Integer.toHexString(flag));
            assertEquals(ext1.resolve("dd/t_dd.ibd").toString(), Files.readString(source.datadir().resolve("dd/t_dd.isl"), StandardCharsets.UTF_8).strip());

            try (Load load = new Load(source)) {
                String full = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(700);
                incr = ItSupport.backup(repo, source, "--type", "incremental");
                Thread.sleep(700);
                diff = ItSupport.backup(repo, source, "--type", "differential");
                Thread.sleep(300);
                assertTrue(load.committed() > 50, "the load ran during the backups: " + load.committed());
                assertEquals(full, ItSupport.manifest(repo, diff).get("parent").asText());
            }
            try (Connection c = source.connection()) {
                expected = TableChecksums.of(c, DB);
            }
            assertEquals(3, expected.size(), expected.toString());

            JsonNode m = ItSupport.manifest(repo, incr);
            Map<String, JsonNode> files = new TreeMap<>();
            m.get("files").forEach(f -> files.put(f.get("path").asText(), f));
            assertEquals(ext1.resolve("dd/t_dd.ibd").toString(), files.get("dd/t_dd.ibd").get("location").asText());
            assertEquals("delta", files.get("dd/t_dd.ibd").get("storage").asText());
            assertEquals(ext1.resolve("dd/t_pd#P#p1.ibd").toString(), files.get("dd/t_pd#P#p1.ibd").get("location").asText());
            assertEquals(ext2.resolve("dd/t_pd#P#p2.ibd").toString(), files.get("dd/t_pd#P#p2.ibd").get("location").asText());
            assertTrue(files.get("dd/t_pd#P#p3.ibd").get("location").isNull());
            assertEquals("file", files.get("dd/t_pd#P#p2.isl").get("kind").asText());
            assertNull(files.get("dd/t_pd#P#p3.isl"));

            // 1. the incremental's chain, remapped while the source still runs on its own files
            Path new1 = work.resolve("new1");
            Path new2 = work.resolve("new2");
            Path remapped = work.resolve("remapped");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", incr, "--target", remapped.toString(),
                    "--remap", ext1 + "=" + new1, "--remap", ext2 + "=" + new2);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("DATA DIRECTORY file dd/t_pd#P#p2.ibd -> " + new2.resolve("dd/t_pd#P#p2.ibd") + " (remapped from "
                    + ext2.resolve("dd/t_pd#P#p2.ibd") + ")"), r.err());
            // the source's log names its files by their absolute paths: recovery must not open them (the source still runs on them)
            assertTrue(java.util.regex.Pattern.compile("ib_logfile0: [1-9]\\d* absolute tablespace name\\(s\\) in redo file records made relative")
                    .matcher(r.err()).find(), r.err());
            assertEquals(new1.resolve("dd/t_dd.ibd").toString(), Files.readString(remapped.resolve("dd/t_dd.isl"), StandardCharsets.UTF_8).strip());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(new1.resolve("dd"))));
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(new2.resolve("dd/t_pd#P#p2.ibd"))));
            assertFalse(Files.exists(remapped.resolve("dd/t_dd.ibd")));
            assertTrue(r.out().contains("chown -R mysql:mysql " + remapped + " " + new1 + " " + new2 + "\n"), r.out());
            JsonNode im = ItSupport.manifest(repo, incr);
            try (MariaDbSandbox restored = ItSupport.startAndReplay(remapped, source, im.get("binlogFile").asText(), im.get("binlogPosition").asLong(), false);
                 Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, DB));
                assertEquals(List.of(), TableChecksums.checkTables(c, DB));
                assertEquals(List.of(List.of(new2.resolve("dd/t_pd#P#p2.ibd").toString())),
                        restored.query("SELECT FILENAME FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = 'dd/t_pd#P#p2'"));
            }

            // a restore that fails after writing the files (here: a damaged redo object) removes them outside the target too
            Path bad = work.resolve("repo-bad");
            copyTree(repo, bad);
            Path redo = bad.resolve("backups").resolve(incr).resolve("redo");
            byte[] b = Files.readAllBytes(redo);
            b[b.length / 2] ^= 0x5a;
            Files.write(redo, b);
            Path bad1 = work.resolve("bad1");
            Path bad2 = work.resolve("bad2");
            Files.createDirectories(bad2); // exists and is empty: left as found, not removed
            r = StrataCli.run("restore", "--repo", bad.toString(), "--backup", incr, "--target", work.resolve("bad-target").toString(), "--no-recover",
                    "--remap", ext1 + "=" + bad1, "--remap", ext2 + "=" + bad2);
            assertEquals(12, r.exit(), r.toString());
            assertTrue(r.err().contains("DATA DIRECTORY file dd/t_dd.ibd -> " + bad1.resolve("dd/t_dd.ibd")), r.err());
            assertFalse(Files.exists(work.resolve("bad-target")));
            assertFalse(Files.exists(bad1), "created by the failed restore: removed");
            try (Stream<Path> s = Files.list(bad2)) {
                assertEquals(List.of(), s.toList(), "found empty: left empty");
            }

            // 2. the differential in place: the source is gone and its external directories moved away
            source.stop();
            Files.move(ext1, work.resolve("ext1.moved"));
            Files.move(ext2, work.resolve("ext2.moved"));
            JsonNode dm = ItSupport.manifest(repo, diff);
            Path inPlace = work.resolve("in-place");
            r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", diff, "--target", inPlace.toString());
            assertEquals(0, r.exit(), r.toString());
            assertEquals(ext2.resolve("dd/t_pd#P#p2.ibd").toString(), Files.readString(inPlace.resolve("dd/t_pd#P#p2.isl"), StandardCharsets.UTF_8));
            try (MariaDbSandbox restored = ItSupport.startAndReplay(inPlace, source, dm.get("binlogFile").asText(), dm.get("binlogPosition").asLong(), false);
                 Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, DB));
                assertEquals(List.of(), TableChecksums.checkTables(c, DB));
            }

            // 3. in place again, onto the files just restored: refused before anything is written
            Map<String, String> before = digests(ext1, ext2);
            Path again = work.resolve("again");
            r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", diff, "--target", again.toString());
            assertEquals(18, r.exit(), r.toString());
            List<String> lines = r.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList();
            assertEquals(List.of("ERROR [target-not-empty]: the DATA DIRECTORY file dd/t_dd.ibd would be restored to " + ext1.resolve("dd/t_dd.ibd")
                            + ", but " + ext1.resolve("dd") + " is not empty (it holds t_dd.ibd)",
                    "HINT: strata never overwrites files: move them away, or restore the file elsewhere with --remap " + ext1 + "=NEWDIR"), lines);
            assertFalse(Files.exists(again), "a refused restore creates nothing");
            assertEquals(before, digests(ext1, ext2), "the files in the DATA DIRECTORY are untouched");

            // merge keeps the locations; everything stored verifies
            r = StrataCli.run("merge", "--repo", repo.toString(), diff);
            assertEquals(0, r.exit(), r.toString());
            JsonNode merged = ItSupport.manifest(repo, diff);
            JsonNode entry = null;
            for (JsonNode f : merged.get("files")) {
                entry = f.get("path").asText().equals("dd/t_pd#P#p2.ibd") ? f : entry;
            }
            assertNotEquals(diff, merged.get("id").asText(), "the id resolves to the merge's result");
            assertEquals(ext2.resolve("dd/t_pd#P#p2.ibd").toString(), entry.get("location").asText());
            r = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, r.exit(), r.toString());

            // a --remap that matches nothing is refused too, naming where the files lie
            r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", diff, "--target", again.toString(), "--remap", work.resolve("nope") + "=" + new1);
            assertEquals(37, r.exit(), r.toString());
            assertTrue(r.err().contains("ERROR [remap-unmatched]: --remap " + work.resolve("nope") + "=" + new1 + " matches no DATA DIRECTORY file of backup "
                    + merged.get("id").asText() + " (its files lie in " + ext1.resolve("dd") + ", " + ext2.resolve("dd") + ")"), r.err());
            assertFalse(Files.exists(again));
        } finally {
            source.close();
        }
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }

    /** SHA-256 of every file below the directories, by path. */
    private static Map<String, String> digests(Path... dirs) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (Path d : dirs) {
            try (Stream<Path> s = Files.walk(d)) {
                for (Path f : s.filter(Files::isRegularFile).toList()) {
                    byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f));
                    out.put(f.toString(), java.util.HexFormat.of().formatHex(h) + " " + Files.getLastModifiedTime(f));
                }
            }
        }
        assertFalse(out.isEmpty());
        return out;
    }

    /** Inserts, updates and deletes in the three tables on two connections until closed. */
    private static final class Load implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong committed = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();
        private final List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

        Load(MariaDbSandbox source) throws SQLException {
            for (int i = 0; i < 2; i++) {
                Connection c = source.connection();
                Thread t = new Thread(() -> run(c), "isl-load-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void run(Connection c) {
            try (c; Statement st = c.createStatement()) {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (running.get()) {
                    String t = List.of("t_dd", "t_pd", "t_local").get(rnd.nextInt(3));
                    int id = rnd.nextInt(1, 3000);
                    try {
                        switch (rnd.nextInt(3)) {
                            case 0 -> st.execute("INSERT INTO dd." + t + " (k, c) VALUES (" + rnd.nextInt(1000) + ", REPEAT('x', " + rnd.nextInt(1, 120) + "))");
                            case 1 -> st.execute("UPDATE dd." + t + " SET k = k + 1, c = CONCAT(LEFT(c, 100), 'u') WHERE id BETWEEN " + id + " AND " + (id + 20));
                            default -> st.execute("DELETE FROM dd." + t + " WHERE id = " + id);
                        }
                        committed.incrementAndGet();
                    } catch (SQLException e) {
                        if (e.getErrorCode() != 1213 && e.getErrorCode() != 1205) { // deadlock, lock wait timeout: the two writers collided
                            throw e;
                        }
                    }
                }
            } catch (Throwable e) {
                errors.add(e);
            }
        }

        long committed() {
            return committed.get();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
            assertTrue(errors.isEmpty(), "load failed: " + errors);
        }
    }
}
