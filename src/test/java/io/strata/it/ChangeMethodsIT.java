package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Incrementals made with every change-detection method (redo, tracked, optimistic, auto) restore
 * to the source's state, with DDL of every kind between the backups, bulk loads and index builds
 * (which MariaDB 10.6+ builds page by page), a tablespace replaced by IMPORT TABLESPACE (written
 * without redo), and truncated undo tablespaces. The redo, tracked and auto backups run with the
 * debug check that reads every page and fails on any page changed before the backup's checkpoint
 * that the method did not name.
 */
class ChangeMethodsIT {

    /** A source with two undo tablespaces that purge truncates when they pass 10 MiB. */
    static MariaDbSandbox undoSource() {
        MariaDbSandbox.requireMariaDb();
        MariaDbSandbox s = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("128M")
                .extraArgs("--innodb-log-buffer-size=1M", "--innodb-undo-tablespaces=2", "--innodb-undo-log-truncate=ON",
                        "--innodb-max-undo-log-size=10M")
                .start();
        // the template was not shut down slowly, so the undo tablespaces appear on the second start
        s.exec("SET GLOBAL innodb_fast_shutdown=0");
        s.stop();
        s.startServer();
        assertEquals("2", s.query("SELECT @@innodb_undo_tablespaces").get(0).get(0));
        assertTrue(Files.exists(s.datadir().resolve("undo001")) && Files.exists(s.datadir().resolve("undo002")));
        return s;
    }

    private static int truncations(MariaDbSandbox s) {
        return (int) s.errorLog().lines().filter(l -> l.contains("InnoDB: Truncated .//undo00")).count();
    }

    /** Makes more than 10 MiB of undo log and waits until purge has truncated an undo tablespace. */
    private static void truncateUndo(MariaDbSandbox s, String pad) throws InterruptedException {
        int before = truncations(s);
        s.exec("UPDATE shop.big SET pad = REPEAT('" + pad + "', 200)");
        for (int i = 0; i < 600 && truncations(s) == before; i++) {
            Thread.sleep(100);
        }
        assertTrue(truncations(s) > before, "purge did not truncate an undo tablespace within 60 s:\n" + s.errorLog());
    }

    /**
     * Replaces shop.dst's file with a copy of shop.src (same rows, other page layout) by DISCARD and
     * IMPORT TABLESPACE, which writes the imported pages without redo. Not binlogged: the rows do not
     * change, so replaying the binlog on any restore still gives the source's data.
     */
    private static void importTablespace(MariaDbSandbox s) throws Exception {
        try (Connection c = s.connection(); Statement st = c.createStatement()) {
            st.execute("SET SESSION sql_log_bin = 0");
            st.execute("ALTER TABLE shop.dst DISCARD TABLESPACE");
            st.execute("FLUSH TABLES shop.src FOR EXPORT");
            Path db = s.datadir().resolve("shop");
            Files.copy(db.resolve("src.ibd"), db.resolve("dst.ibd"));
            Files.copy(db.resolve("src.cfg"), db.resolve("dst.cfg"));
            st.execute("UNLOCK TABLES");
            st.execute("ALTER TABLE shop.dst IMPORT TABLESPACE");
            Files.deleteIfExists(db.resolve("dst.cfg"));
        }
    }

    private static JsonNode fileEntry(Path repo, String id, String path) throws Exception {
        for (JsonNode f : ItSupport.manifest(repo, id).get("files")) {
            if (f.get("path").asText().equals(path)) {
                return f;
            }
        }
        throw new AssertionError(path + " is not in backup " + id);
    }

    @Test
    void everyMethodRestoresAcrossDdlBulkLoadsImportAndUndoTruncation() throws Exception {
        Path work = ItSupport.tempDir("methods-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = undoSource()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 10_000);
            }
            source.exec("CREATE DATABASE shop",
                    "CREATE TABLE shop.big (id INT PRIMARY KEY, pad VARCHAR(255)) ENGINE=InnoDB",
                    "INSERT INTO shop.big SELECT seq, REPEAT('a', 200) FROM shop.seq_1_to_60000",
                    "CREATE TABLE shop.dst (id INT PRIMARY KEY, v VARCHAR(100), KEY by_v (v)) ENGINE=InnoDB",
                    "CREATE TABLE shop.src LIKE shop.dst",
                    "INSERT INTO shop.dst SELECT seq, CONCAT('row ', seq) FROM shop.seq_1_to_20000",
                    "INSERT INTO shop.src SELECT 20001 - seq, CONCAT('row ', 20001 - seq) FROM shop.seq_1_to_20000");
            List<String> ids = new ArrayList<>();
            ids.add(ItSupport.backup(repo, source, "--type", "full"));

            Path trackOut = work.resolve("track.out");
            Path trackErr = work.resolve("track.err");
            boolean trackerStopped;
            Process tracker = StrataCli.start(trackOut, trackErr, "track", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--flush-interval", "1");
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                // 1: a bulk insert into an empty table (MDEV-24621 builds its pages one at a time), an index
                //    build, and an undo truncation; then the redo method
                try (Connection c = source.connection(); Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(50), KEY by_name (name)) ENGINE=InnoDB");
                    st.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0");
                    st.execute("INSERT INTO shop.items SELECT seq, CONCAT('item ', seq) FROM shop.seq_1_to_30000");
                }
                source.exec("ALTER TABLE app.t_fcrc32 ADD INDEX by_c (c)");
                truncateUndo(source, "b");
                source.exec("SET GLOBAL innodb_log_checkpoint_now = ON");
                ids.add(ItSupport.backup(repo, source, "--type", "incremental", "--method", "redo", "--debug-check-method"));

                // 2: IMPORT TABLESPACE, RENAME, TRUNCATE, CREATE; then the tracked method
                importTablespace(source);
                source.exec("RENAME TABLE shop.items TO shop.products", "TRUNCATE TABLE app.t_legacy",
                        "INSERT INTO app.t_legacy (id, k, c) SELECT 5000000 + seq, seq, 'x' FROM app.seq_1_to_50",
                        "CREATE TABLE shop.gone (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO shop.gone VALUES (1), (2)",
                        "SET GLOBAL innodb_log_checkpoint_now = ON");
                Thread.sleep(2500); // the tracker stores a change set every second
                ids.add(ItSupport.backup(repo, source, "--type", "incremental", "--method", "tracked", "--debug-check-method"));

                // 3: DROP, rebuilds, another undo truncation; then a differential by the optimistic method
                source.exec("DROP TABLE shop.gone", "ALTER TABLE app.t_part FORCE", "OPTIMIZE TABLE app.t_fcrc32");
                truncateUndo(source, "c");
                ids.add(ItSupport.backup(repo, source, "--type", "differential", "--method", "optimistic"));

                // 4: more changes; auto picks redo or tracked
                source.exec("CREATE TABLE shop.late (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", "INSERT INTO shop.late VALUES (1, 1)",
                        "UPDATE shop.big SET pad = 'd' WHERE id % 97 = 0");
                ids.add(ItSupport.backup(repo, source, "--type", "incremental", "--debug-check-method"));

                // optimistic cannot build on a parent whose pages came from the redo log
                StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--quiet", "--type", "incremental", "--method", "optimistic");
                JsonNode m4 = ItSupport.manifest(repo, ids.get(4));
                assertEquals(28, r.exit(), r.toString());
                assertEquals("ERROR [method-unavailable]: --method optimistic cannot be used for this backup: the parent " + ids.get(4)
                        + " found its pages with the " + m4.get("method").asText() + " method, so its copies of pages the server wrote ahead of"
                        + " its checkpoint may be older than the files; optimistic needs a parent that read the files (a full backup, or"
                        + " --method full-scan or optimistic)", r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(""), r.toString());
                Thread.sleep(500);
                w.stop();
            } finally {
                tracker.destroy(); // SIGTERM
                trackerStopped = tracker.waitFor(60, TimeUnit.SECONDS);
            }
            assertTrue(trackerStopped, "the tracker did not stop on SIGTERM");
            String trackLog = StrataCli.readLog(trackErr);
            assertEquals(143, tracker.exitValue(), trackLog);
            assertTrue(trackLog.contains("[track] stopped by a signal: change sets cover the redo log up to LSN "), trackLog);
            assertFalse(trackLog.contains("GAP"), trackLog);

            String[] methods = {null, "redo", "tracked", "optimistic", null};
            for (int i = 1; i < ids.size(); i++) {
                JsonNode m = ItSupport.manifest(repo, ids.get(i));
                if (methods[i] != null) {
                    assertEquals(methods[i], m.get("method").asText(), ids.get(i));
                } else {
                    assertTrue(List.of("redo", "tracked").contains(m.get("method").asText()), "auto chose " + m.get("method") + ": " + m.get("note"));
                    assertTrue(m.get("note").asText().startsWith("auto: "), m.get("note").asText());
                }
                JsonNode d = m.get("detection");
                assertTrue(d.get("pagesInFiles").asLong() > 0, m.toString());
                if (i == 2) {
                    assertTrue(d.get("changeSetsRead").asInt() > 0, "the tracked method read no change set: " + m.get("note"));
                }
            }
            // IMPORT TABLESPACE writes every page with FIL_PAGE_LSN 0: the redo method stores the file
            // whole (FILE_DELETE of its space), a scan keeps every page with data and LSN 0
            assertEquals("whole", fileEntry(repo, ids.get(2), "shop/dst.ibd").get("storage").asText());
            JsonNode scanned = fileEntry(repo, ids.get(3), "shop/dst.ibd");
            assertEquals("delta", scanned.get("storage").asText());
            assertTrue(scanned.get("deltaPages").asLong() > 50,
                    "the differential kept " + scanned.get("deltaPages") + " of " + scanned.get("pages") + " pages of the imported file");

            for (int i = 0; i < ids.size(); i++) {
                JsonNode m = ItSupport.manifest(repo, ids.get(i));
                try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, ids.get(i), work.resolve("restored-" + i), source,
                        m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                    ItSupport.assertSameData(source, restored, "app", "shop");
                }
            }
        }
    }
}
