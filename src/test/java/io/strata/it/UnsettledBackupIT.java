package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backup of a server whose checkpoint lags behind tables created, rebuilt, truncated, renamed
 * and dropped just before it (design rule 6, issue 18): their file operations lie between the
 * checkpoint C and the start of the copy, so the copied log covers them and crash recovery at
 * restore repeats them. No tablespace is copied twice, and the restore equals the source. A table
 * restore of one of them recovers its narrowed scratch directory without falling back to the whole
 * backup: the scratch also holds the files the stored log's file records name.
 * {@code DdlDuringBackupIT} keeps the other side: DDL during the copy is still copied again.
 */
class UnsettledBackupIT {

    @Test
    void fileOperationsBeforeTheCopyAreLeftToTheCopiedLog() throws Exception {
        MariaDbSandbox.requireMariaDb();
        Path work = ItSupport.tempDir("unsettled-");
        Path repo = work.resolve("repo");
        // a redo log far larger than what the test writes and no flushing below 99% dirty pages: no checkpoint moves
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("512M").bufferPool("256M")
                .extraArgs("--innodb-max-dirty-pages-pct=99", "--innodb-max-dirty-pages-pct-lwm=0", "--innodb-adaptive-flushing=OFF",
                        "--innodb-adaptive-flushing-lwm=70", "--innodb-io-capacity=100").start()) {
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
                st.execute("SET GLOBAL innodb_log_checkpoint_now = ON");
            }
            long beforeDdl = lsn(source, "Innodb_lsn_current");
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE fresh");
                for (int i = 0; i < 6; i++) {
                    st.execute("CREATE TABLE fresh.t" + i + " (id INT PRIMARY KEY, v VARCHAR(100), KEY(v)) ENGINE=InnoDB");
                    st.execute("INSERT INTO fresh.t" + i + " SELECT seq, CONCAT('row ', seq * " + (i + 1) + ") FROM fresh.seq_1_to_20000");
                }
                st.execute("ALTER TABLE fresh.t0 FORCE");
                st.execute("ALTER TABLE fresh.t1 ADD COLUMN w INT DEFAULT 7, ALGORITHM=COPY");
                st.execute("ALTER TABLE fresh.t2 FORCE");
                st.execute("TRUNCATE TABLE fresh.t3");
                st.execute("INSERT INTO fresh.t3 VALUES (1, 'after truncate')");
                st.execute("RENAME TABLE fresh.t4 TO fresh.renamed4");
                st.execute("DROP TABLE fresh.t5");
                st.execute("CREATE TABLE fresh.empty (id INT PRIMARY KEY) ENGINE=InnoDB");
                st.execute("ALTER TABLE app.t_fcrc32 FORCE");
            }
            boolean emptyPage0 = page0IsZero(source.datadir().resolve("fresh/empty.ibd"));
            StrataCli.Result r;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--progress", "text", "--log-level", "debug");
                w.stop();
            }
            String id = ItSupport.completedId(r);
            JsonNode m = ItSupport.manifest(repo, id);
            assertEquals(source.query("SELECT @@lower_case_table_names").get(0).get(0), m.get("lowerCaseTableNames").asText(), "lowerCaseTableNames recorded");
            assertTrue(m.get("startLsn").asLong() <= beforeDdl,
                    "the checkpoint moved past the DDL (start LSN " + m.get("startLsn") + ", DDL from LSN " + beforeDdl + "): the test proves nothing");
            assertFalse(r.err().matches("(?s).*copying \\d+ tablespace\\(s\\) again.*"), () -> "a tablespace was copied twice:\n" + r.err());
            assertTrue(fileEntry(m, "fresh/renamed4.ibd") && fileEntry(m, "fresh/empty.ibd") && !fileEntry(m, "fresh/t4.ibd")
                    && !fileEntry(m, "fresh/t5.ibd"), () -> "stored files: " + m.get("files"));
            System.out.println("[UnsettledBackupIT] " + source.version() + ": page 0 of fresh/empty.ibd all zero before the backup: " + emptyPage0);

            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app", "fresh");
                assertEquals(source.query("SHOW TABLES FROM fresh"), restored.query("SHOW TABLES FROM fresh"));
            }

            // a table restore of a rebuilt table (the load does not touch fresh.*): its narrowed scratch also receives the files of
            // the other tablespaces the copied log creates, renames or deletes (app.t_fcrc32 rebuilt, fresh.t4 renamed, ...), without
            // which recovery fails on the deferred #sql-alter tablespace; no fallback to the whole backup
            String t0 = source.query("CHECKSUM TABLE fresh.t0").get(0).get(1);
            long t0Start = System.nanoTime();
            StrataCli.Result tr = StrataCli.run("restore", "--repo", repo.toString(), "--table", "fresh.t0", "--import", "--as", "fresh.t0_restored",
                    "--socket", source.socket().toString(), "--user", "root");
            assertEquals(0, tr.exit(), tr.toString());
            System.out.println("[UnsettledBackupIT] " + source.version() + ": table restore of fresh.t0 (" + (System.nanoTime() - t0Start) / 1_000_000 + " ms)"
                    + tr.err().lines().filter(l -> l.contains("table restore: ") || l.contains("WARNING")).map(l -> "\n  " + l).reduce("", String::concat));
            assertFalse(tr.err().contains("WARNING: crash recovery of the scratch directory holding only the files of fresh.t0 failed: "), tr::toString);
            assertFalse(tr.err().contains("restoring the whole backup"), tr::toString);
            assertEquals(1, tr.err().lines().filter(l -> l.contains("table restore: the scratch directory receives ")).count(), tr::toString);
            java.util.regex.Matcher counts = java.util.regex.Pattern.compile("table restore: the scratch directory receives (\\d+) of the (\\d+) files ")
                    .matcher(tr.err());
            assertTrue(counts.find(), tr::toString);
            int received = Integer.parseInt(counts.group(1));
            int stored = Integer.parseInt(counts.group(2));
            assertEquals(m.get("files").size(), stored, tr::toString);
            assertTrue(received < stored, () -> received + " of " + stored + " files: nothing was left out");
            String keptForLog = tr.err().lines().filter(l -> l.contains(" file(s) of other tables kept for its recovery: ")).findFirst().orElse("");
            assertTrue(keptForLog.contains(" app/t_fcrc32.ibd") && keptForLog.contains(" fresh/renamed4.ibd") && !keptForLog.contains("fresh/t5.ibd")
                    && !keptForLog.contains("#sql"), () -> "kept for the log: " + keptForLog + "\n" + tr);
            assertEquals(t0, source.query("CHECKSUM TABLE fresh.t0_restored").get(0).get(1));
        }
    }

    private static long lsn(MariaDbSandbox s, String variable) {
        return Long.parseLong(s.query("SHOW GLOBAL STATUS LIKE '" + variable + "'").get(0).get(1));
    }

    private static boolean fileEntry(JsonNode m, String path) {
        for (JsonNode f : m.get("files")) {
            if (path.equals(f.get("path").asText())) {
                return true;
            }
        }
        return false;
    }

    private static boolean page0IsZero(Path ibd) throws IOException {
        try (FileChannel ch = FileChannel.open(ibd)) {
            ByteBuffer b = ByteBuffer.allocate(64);
            ch.read(b, 0);
            for (byte x : b.array()) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
