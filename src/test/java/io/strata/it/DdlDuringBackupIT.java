package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DDL while pages are copied (design rule 6): tables created, dropped, renamed, truncated and
 * rebuilt during the copy must come out of the restore exactly as the source had them at the
 * backup point.
 */
class DdlDuringBackupIT {

    @Test
    void ddlDuringThePageCopyIsFollowed() throws Exception {
        Path work = ItSupport.tempDir("ddl-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE DATABASE ddl");
                    for (int i = 0; i < 6; i++) {
                        st.execute("CREATE TABLE ddl.keep" + i + " (id INT PRIMARY KEY, v VARCHAR(100), KEY(v)) ENGINE=InnoDB");
                        st.execute("INSERT INTO ddl.keep" + i + " SELECT seq, CONCAT('row ', seq) FROM ddl.seq_1_to_3000");
                    }
                }
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger rounds = new AtomicInteger();
            AtomicReference<Throwable> ddlError = new AtomicReference<>();
            Thread ddl = new Thread(() -> {
                try (Connection c = source.connection(); Statement st = c.createStatement()) {
                    int n = 0;
                    while (!stop.get()) {
                        n++;
                        st.execute("CREATE TABLE ddl.new" + n + " (id INT PRIMARY KEY, v INT) ENGINE=InnoDB");
                        st.execute("INSERT INTO ddl.new" + n + " SELECT seq, seq * " + n + " FROM ddl.seq_1_to_500");
                        if (n > 1) {
                            st.execute("DROP TABLE ddl.new" + (n - 1));
                        }
                        int k = n % 6;
                        switch (n % 5) {
                            case 0 -> st.execute("TRUNCATE TABLE ddl.keep" + k);
                            case 1 -> st.execute("ALTER TABLE ddl.keep" + k + " FORCE");
                            case 2 -> st.execute("RENAME TABLE ddl.keep" + k + " TO ddl.tmp_keep, ddl.tmp_keep TO ddl.keep" + k);
                            case 3 -> st.execute("ALTER TABLE ddl.keep" + k + " ADD COLUMN c" + n + " INT DEFAULT " + n + ", ALGORITHM=COPY");
                            default -> st.execute("CREATE DATABASE IF NOT EXISTS ddl_db" + n);
                        }
                        st.execute("INSERT INTO ddl.keep" + k + " (id, v) VALUES (" + (100_000 + n) + ", 'after ddl " + n + "')");
                        rounds.incrementAndGet();
                        Thread.sleep(100);
                    }
                } catch (SQLException | InterruptedException e) {
                    ddlError.set(e);
                }
            }, "ddl-load");
            String id;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(600).start()) {
                ddl.start();
                Thread.sleep(1000);
                id = ItSupport.backup(repo, source, "--throttle", "4");
                stop.set(true);
                ddl.join();
                w.stop();
            }
            assertNull(ddlError.get(), () -> "DDL thread failed: " + ddlError.get());
            assertTrue(rounds.get() >= 10, "only " + rounds.get() + " DDL rounds ran");

            JsonNode m = ItSupport.manifest(repo, id);
            // every object the backup left is one its manifest names: the first copies of files changed or dropped
            // between the page copy and BLOCK_DDL (ALTER, DROP, RENAME above) were deleted, not left behind
            // (a pack member is named by its pack, which holds the bytes of dropped copies too: only objects of their own can be left behind)
            java.util.Set<String> named = new java.util.TreeSet<>();
            m.get("files").forEach(f -> {
                if (!f.has("ref") || f.get("ref").isNull()) {
                    named.add(f.get("object").asText().replaceFirst("^(pack/\\d+)@\\d+\\+\\d+$", "$1"));
                }
            });
            named.add(m.get("redoObject").asText());
            Path dir = repo.resolve("backups").resolve(id);
            java.util.Set<String> stored = new java.util.TreeSet<>();
            try (var walk = java.nio.file.Files.walk(dir)) {
                walk.filter(java.nio.file.Files::isRegularFile).map(f -> dir.relativize(f).toString())
                        .filter(k -> !k.equals("manifest")).forEach(stored::add);
            }
            assertTrue(stored.containsAll(named), "objects of backup " + id + " against its manifest: " + named + " stored: " + stored);
            java.util.Set<String> unnamed = new java.util.TreeSet<>(stored);
            unnamed.removeAll(named);
            // a pack whose every member was dropped again is named by no entry; no other object may be
            assertTrue(unnamed.stream().allMatch(k -> k.matches("pack/\\d{6}")), "objects no entry names: " + unnamed);
            assertTrue(stored.stream().anyMatch(k -> k.matches("data/\\d\\d/\\d{6}|pack/\\d{6}")), () -> "no data/NN/NNNNNN or pack/NNNNNN object: " + stored);
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app", "ddl");
            }
        }
    }
    /**
     * DISCARD and IMPORT TABLESPACE of a table whose copy had begun: the imported file keeps the
     * table's space id and path, and its pages are not in the redo log, so only the file operation
     * tells (DISCARD deletes the file: FILE_DELETE). The table is the largest (copied first), the
     * copy throttled, and the import made while it is copied; the restore
     * must hold the imported rows. A session with lock_wait_timeout 5 makes the import fail loudly
     * should it ever meet the backup's BLOCK_DDL (the copy would have ended too soon).
     */
    @Test
    void aTableImportedAfterItsCopyBeganIsCopiedAgain() throws Exception {
        Path work = ItSupport.tempDir("import-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            Path export = java.nio.file.Files.createDirectories(work.resolve("export"));
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE imp");
                st.execute("CREATE TABLE imp.target (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB");
                st.execute("CREATE TABLE imp.donor (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB");
                st.execute("INSERT INTO imp.target SELECT seq, REPEAT(CHAR(97 + seq % 26), 200) FROM imp.seq_1_to_250000");
                st.execute("INSERT INTO imp.donor SELECT seq, CONCAT('donor row ', seq) FROM imp.seq_1_to_5000");
                st.execute("FLUSH TABLES imp.donor FOR EXPORT");
                for (String ext : new String[] {".ibd", ".cfg"}) {
                    java.nio.file.Files.copy(source.datadir().resolve("imp").resolve("donor" + ext), export.resolve("target" + ext));
                }
                st.execute("UNLOCK TABLES");
            }
            AtomicReference<StrataCli.Result> backup = new AtomicReference<>();
            Thread b = new Thread(() -> backup.set(StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--throttle", "8")), "backup");
            b.start();
            Thread.sleep(4000); // imp.target (about 70 MB, the largest file: copied first) is being copied, at 8 MB/s shared
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                st.execute("SET SESSION lock_wait_timeout = 5");
                st.execute("ALTER TABLE imp.target DISCARD TABLESPACE");
                for (String ext : new String[] {".ibd", ".cfg"}) {
                    java.nio.file.Files.copy(export.resolve("target" + ext), source.datadir().resolve("imp").resolve("target" + ext));
                }
                st.execute("ALTER TABLE imp.target IMPORT TABLESPACE");
            }
            assertTrue(b.isAlive(), "the backup ended before the import: the test proves nothing");
            b.join();
            String id = ItSupport.completedId(backup.get());
            Map<String, String> expected;
            try (Connection c = source.connection()) {
                expected = TableChecksums.of(c, "imp");
            }
            assertTrue(backup.get().err().contains("DDL during the copy: copying 1 tablespace(s) again"), backup.get().err());
            Path target = work.resolve("restored");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
            org.junit.jupiter.api.Assertions.assertEquals(0, r.exit(), r.toString());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start(); Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, "imp"));
            }
        }
    }
}
