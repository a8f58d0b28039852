package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
 * The same servers then show the two layouts a backup refuses before copying anything: a later
 * file outside innodb_data_home_dir (the restored server, ibdata2 moved beside its data directory)
 * and a missing first file (the source, ibdata1 renamed away for a moment).
 */
class SystemTablespaceFilesIT {
    private static final String DATA_FILES = "ibdata1:12M;ibdata2:12M:autoextend";
    /** {@link #DATA_FILES} with ibdata2 in a directory beside the data directory. */
    private static final String OUTSIDE_FILES = "ibdata1:12M;../elsewhere/ibdata2:12M:autoextend";

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
                // two tables whose names differ only in case (lower_case_table_names=0): cs.sx in the system tablespace, cs.Sx in a file
                st.execute("CREATE DATABASE cs");
                st.execute("CREATE TABLE cs.sx (id INT PRIMARY KEY) ENGINE=InnoDB");
                st.execute("SET GLOBAL innodb_file_per_table = 1");
                st.execute("CREATE TABLE cs.Sx (id INT PRIMARY KEY, v INT) ENGINE=InnoDB");
                st.execute("SET GLOBAL innodb_file_per_table = 0");
                st.execute("INSERT INTO cs.Sx SELECT seq, seq * 3 FROM app.seq_1_to_300");
            }
            long ibdata2 = Files.size(source.datadir().resolve("ibdata2"));
            assertTrue(ibdata2 > 12 << 20, "ibdata2 holds data: " + ibdata2 + " bytes");
            String full = ItSupport.backup(repo, source);
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
            tableInSystemTablespaceIsRefused(repo, source);
            Path target = work.resolve("restored");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", incr, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("--innodb-data-file-path=" + DATA_FILES), r.out());
            // the restored server runs with ibdata2 moved out of its innodb_data_home_dir (the data directory), which the
            // operator may do; it then serves as the source of a backup strata refuses (outsideDataHomeIsRefused)
            Path outside = work.resolve("elsewhere").resolve("ibdata2");
            Files.createDirectories(outside.getParent());
            Files.move(target.resolve("ibdata2"), outside);
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--innodb-data-file-path=" + OUTSIDE_FILES).start();
                 Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, "app"));
                assertTrue(TableChecksums.checkTables(c, "app").isEmpty(), TableChecksums.checkTables(c, "app").toString());
                outsideDataHomeIsRefused(work.resolve("repo-outside"), restored, outside);
            }
            // every stored page checked against its page number in the tablespace (ibdata2's numbered on from ibdata1's)
            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString(), incr);
            assertEquals(0, v.exit(), v.toString());
            missingFirstFileIsOneClearError(repo, source, List.of(full, incr));
        }
    }

    /**
     * A later file of innodb_data_file_path outside innodb_data_home_dir: refused by name before
     * anything is copied (restore could not put it back where the server looks for it). Before:
     * the backup completed (exit 0) and its restore was refused.
     */
    /**
     * restore --table of a table kept in the system tablespace: one clear refusal (exit 21), nothing
     * imported into the server, and the refusal names that table, not one of its own whose name
     * differs from it only in case.
     */
    private static void tableInSystemTablespaceIsRefused(Path repo, MariaDbSandbox source) throws Exception {
        StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--table", "app.t1", "--import", "--as", "app.t1_back",
                "--socket", source.socket().toString(), "--user", "root");
        assertEquals(21, r.exit(), r.toString());
        assertEquals("ERROR [unsupported-table]: table app.t1 is stored in the InnoDB system tablespace (it was created with"
                + " innodb_file_per_table=OFF), from which restore --table cannot export it; nothing was imported",
                r.err().lines().map(l -> StrataCli.LOG_TIME.matcher(l).replaceFirst("")).filter(l -> l.startsWith("ERROR")).findFirst().orElse(r.err()));
        assertEquals(List.of(List.of("0")), source.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 't1_back'"));
        // cs.Sx has a file of its own and is not refused for cs.sx, which is in the system tablespace (both are in the scratch
        // only when both are named; before, cs.Sx was refused, the first named)
        StrataCli.Result both = StrataCli.run("restore", "--repo", repo.toString(), "--table", "cs.Sx", "--table", "cs.sx", "--import",
                "--as", "cs.Sx_back", "--as", "cs.sx_back", "--socket", source.socket().toString(), "--user", "root");
        assertEquals(21, both.exit(), both.toString());
        assertEquals("ERROR [unsupported-table]: table cs.sx is stored in the InnoDB system tablespace (it was created with"
                + " innodb_file_per_table=OFF), from which restore --table cannot export it; nothing was imported",
                both.err().lines().map(l -> StrataCli.LOG_TIME.matcher(l).replaceFirst("")).filter(l -> l.startsWith("ERROR")).findFirst().orElse(both.err()));
    }

    private static void outsideDataHomeIsRefused(Path repo, MariaDbSandbox server, Path outside) throws Exception {
        StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", server.socket().toString(), "--user", "root");
        assertRefused(repo, r, 21, "ERROR [unsupported-table]: system tablespace file " + outside + " lies outside innodb_data_home_dir "
                + server.datadir() + " (innodb_data_file_path " + OUTSIDE_FILES + " names it by a path of its own)", List.of());
    }

    /**
     * The first file of the system tablespace missing from the data directory (renamed away while
     * the server keeps it open): one error naming it, not an internal error of the later files'
     * numbering.
     */
    private static void missingFirstFileIsOneClearError(Path repo, MariaDbSandbox source, List<String> completed) throws Exception {
        Path ibdata1 = source.datadir().resolve("ibdata1");
        Path moved = source.datadir().resolve("ibdata1.away");
        StrataCli.Result r;
        Files.move(ibdata1, moved);
        try {
            r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--type", "full");
        } finally {
            Files.move(moved, ibdata1);
        }
        assertRefused(repo, r, 17, "ERROR [datadir-unreadable]: the first file of the system tablespace, " + ibdata1 + ", is missing", completed);
    }

    /**
     * {@code r} failed with {@code exit} and {@code error} as its first error line; the repository
     * still holds exactly the {@code completed} backups, records the attempt as failed with that
     * message, and keeps none of its objects.
     */
    private static void assertRefused(Path repo, StrataCli.Result r, int exit, String error, List<String> completed) throws Exception {
        assertEquals(exit, r.exit(), r.toString());
        assertEquals(error, r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(""), r.toString());
        List<String> done = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (JsonNode e : ItSupport.list(repo)) {
            if (e.get("state").asText().equals("completed")) {
                done.add(e.get("id").asText());
            } else {
                failed.add(e.get("state").asText() + ": " + e.get("error").asText());
            }
        }
        assertEquals(completed, done);
        assertEquals(List.of("failed: " + error.substring(error.indexOf("]: ") + 3)), failed);
        try (Stream<Path> s = Files.exists(repo.resolve("backups")) ? Files.list(repo.resolve("backups")) : Stream.empty()) {
            assertEquals(Set.copyOf(completed), s.map(p -> p.getFileName().toString()).collect(Collectors.toSet()), "objects of the failed attempt left");
        }
    }
}
