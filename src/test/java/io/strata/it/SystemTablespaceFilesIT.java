package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A system tablespace of two files whose second file holds data (innodb_data_file_path
 * ibdata1:12M;ibdata2:12M:autoextend, tables and undo in the system tablespace): InnoDB numbers the
 * pages of the tablespace across its files, so page k of ibdata2 is the tablespace's page 768 + k.
 * A full and an incremental (whose delta of ibdata2 composes onto the full's ibdata2, not ibdata1)
 * restore to the source's tables (CHECKSUM TABLE, CHECK TABLE), and verify checks every stored
 * page of the chain by its number in the tablespace. Before: the full backup failed (exit 21), and
 * with the chain matching files by space id only, 3 of the 5 tables differed after the restore.
 */
class SystemTablespaceFilesIT {
    private static final String DATA_FILES = "ibdata1:12M;ibdata2:12M:autoextend";

    @Test
    void aSecondSystemFileWithDataIsBackedUpAndRestored() throws Exception {
        MariaDbSandbox.requireMariaDb();
        Path work = ItSupport.tempDir("sysfiles-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = MariaDbSandbox.builder().innodbLogFileSize("8M")
                .installArgs("--innodb-data-file-path=" + DATA_FILES, "--innodb-undo-tablespaces=0")
                .extraArgs("--innodb-file-per-table=0").start()) {
            try (Connection c = source.connection(); var st = c.createStatement()) {
                st.execute("CREATE DATABASE app");
                for (int t = 1; t <= 5; t++) {
                    st.execute("CREATE TABLE app.t" + t + " (id INT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=InnoDB");
                    st.execute("INSERT INTO app.t" + t + " SELECT seq, REPEAT(MD5(seq + " + t + "), 25) FROM app.seq_1_to_6000");
                }
            }
            long ibdata2 = Files.size(source.datadir().resolve("ibdata2"));
            assertTrue(ibdata2 > 12 << 20, "ibdata2 holds data: " + ibdata2 + " bytes");
            ItSupport.backup(repo, source);
            // rows of the last tables (in ibdata2) changed and written out before the incremental's checkpoint
            source.exec("UPDATE app.t5 SET pad = REPEAT('z', 700) WHERE id % 7 = 0", "UPDATE app.t1 SET pad = REPEAT('y', 600) WHERE id % 11 = 0");
            source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            ItSupport.waitForCheckpoint(source);
            String incr = ItSupport.backup(repo, source, "--type", "incremental");
            long ibdata2Pages = 0;
            for (var f : ItSupport.manifest(repo, incr).get("files")) {
                ibdata2Pages += f.get("path").asText().equals("ibdata2") ? f.get("deltaPages").asLong() : 0;
            }
            assertTrue(ibdata2Pages > 0, "the incremental stores changed pages of ibdata2 as a delta (composed onto the full's ibdata2)");
            Map<String, String> expected;
            try (Connection c = source.connection()) {
                expected = TableChecksums.of(c, "app");
            }
            assertEquals(5, expected.size(), expected.toString());
            Path target = work.resolve("restored");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", incr, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("--innodb-data-file-path=" + DATA_FILES), r.out());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--innodb-data-file-path=" + DATA_FILES).start();
                 Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, "app"));
                assertTrue(TableChecksums.checkTables(c, "app").isEmpty(), TableChecksums.checkTables(c, "app").toString());
            }
            // every stored page checked against its page number in the tablespace (ibdata2's numbered on from ibdata1's)
            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString(), incr);
            assertEquals(0, v.exit(), v.toString());
        }
    }
}
