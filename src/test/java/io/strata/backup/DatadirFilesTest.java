package io.strata.backup;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static io.strata.backup.DatadirFiles.When.BLOCK_COMMIT;
import static io.strata.backup.DatadirFiles.When.BLOCK_DDL;
import static io.strata.backup.DatadirFiles.When.SKIP;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every rule of {@link DatadirFiles}, on the names a MariaDB 10.11 or 11.8 data directory holds. */
class DatadirFilesTest {
    private static final Path DATADIR = Path.of("/var/lib/mysql");
    private final DatadirFiles noBinlog = new DatadirFiles(DATADIR, null);
    private final DatadirFiles binlog = new DatadirFiles(DATADIR, "/var/lib/mysql/mysql-bin");

    private void assertWhen(DatadirFiles.When expected, String... rels) {
        for (String rel : rels) {
            assertEquals(expected, noBinlog.when(rel), rel);
            assertEquals(expected, binlog.when(rel), rel + " (with a binary log)");
        }
    }

    /**
     * The InnoDB directories that are sub-folders of the data directory are skipped whole, whatever
     * their files are called (a sub-folder otherwise looks like a database directory); the data
     * directory itself and directories elsewhere change nothing.
     */
    @Test
    void innodbSubFoldersAreSkippedWhole() {
        DatadirFiles layout = new DatadirFiles(DATADIR, null, java.util.List.of(DATADIR.resolve("ibdata"), DATADIR, Path.of("/srv/undo")));
        assertEquals(SKIP, layout.when("ibdata/ibdata1"));
        assertEquals(SKIP, layout.when("ibdata/x.frm"), "a table-like name in the data home is not a table");
        assertEquals(BLOCK_DDL, noBinlog.when("ibdata/x.frm"), "without the layout it would be copied");
        assertEquals(BLOCK_DDL, layout.when("shop/orders.frm"));
        assertEquals(BLOCK_COMMIT, layout.when("aria_log_control"));
        assertEquals(BLOCK_DDL, layout.when("ibdatax/t.frm"), "a database whose name starts like the folder is still copied");
        assertEquals(SKIP, layout.when("shop/../ibdata/y.frm"), "a spelling only Path.normalize settles");
        assertEquals(BLOCK_DDL, layout.when("ibdata/../shop/orders.frm"));
    }

    /**
     * Under BLOCK_COMMIT the copier lists only the data directory's own files and mysql/'s
     * ({@link FileCopier#candidates}); the files of that stage it finds there are all of them that a
     * walk of every database directory finds.
     */
    @Test
    void theCommitStageListingFindsEveryCommitStageFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        for (String rel : List.of("aria_log_control", "aria_log.00000001", "ibdata1", "mysql/table_stats.MAD", "mysql/table_stats.MAI",
                "mysql/table_stats.frm", "mysql/general_log.CSV", "mysql/user.MAD", "shop/orders.frm", "shop/notes.MAD", "shop/table_stats.MAD",
                "shop/aria_log_control", "mysqlx/table_stats.MAD")) {
            java.nio.file.Files.createDirectories(dir.resolve(rel).getParent());
            java.nio.file.Files.writeString(dir.resolve(rel), "x");
        }
        DatadirFiles rules = new DatadirFiles(dir, null);
        java.util.function.Function<List<Path>, List<String>> commitStage = files -> files.stream()
                .map(f -> dir.relativize(f).toString()).filter(rel -> rules.when(rel) == BLOCK_COMMIT).sorted().toList();
        List<String> all = commitStage.apply(io.strata.util.Dirs.liveRegularFiles(dir, 2));
        assertEquals(List.of("aria_log.00000001", "aria_log_control", "mysql/general_log.CSV", "mysql/table_stats.MAD", "mysql/table_stats.MAI"), all);
        assertEquals(all, commitStage.apply(FileCopier.candidates(dir, BLOCK_COMMIT)));
        assertEquals(io.strata.util.Dirs.liveRegularFiles(dir, 2), FileCopier.candidates(dir, BLOCK_DDL));
    }

    @Test
    void innodbFilesAreNotPlainFiles() {
        assertWhen(SKIP, "ibdata1", "ibtmp1", "undo001", "ib_logfile0", "shop/orders.ibd", "mysql/innodb_table_stats.ibd", "ddl_recovery.log");
    }

    @Test
    void tableFilesInADatabaseDirectoryAreCopiedUnderBlockDdl() {
        assertWhen(BLOCK_DDL, "shop/db.opt", "shop/orders.frm", "shop/orders.par", "shop/orders.TRG", "shop/orders_ai.TRN",
                "shop/legacy.MYD", "shop/legacy.MYI", "shop/merged.MRG", "shop/aria.MAD", "shop/aria.MAI", "shop/csv.CSV", "shop/csv.CSM",
                "shop/old.ARZ", "shop/old.ARM", "shop/remote.isl", "shop/part#P#p0.isl", "mysql/user.MAI", "mysql/user.MAD", "mysql/user.frm", "mysql/db.opt");
    }

    @Test
    void extensionsAreMatchedInAnyCase() {
        assertWhen(BLOCK_DDL, "shop/legacy.myd", "shop/orders.FRM", "shop/aria.Mai");
    }

    @Test
    void filesOfNoKnownKindAreSkipped() {
        assertWhen(SKIP, "shop/notes.txt", "shop/orders", "shop/#sql-alter-1a2b-3.frm.bak", "shop/multi-master.info");
    }

    @Test
    void statisticsAndLogTablesAreCopiedUnderBlockCommitExceptTheirFrm() {
        assertWhen(BLOCK_COMMIT, "mysql/table_stats.MAI", "mysql/table_stats.MAD", "mysql/column_stats.MAI", "mysql/column_stats.MAD",
                "mysql/index_stats.MAI", "mysql/index_stats.MAD", "mysql/general_log.CSV", "mysql/general_log.CSM", "mysql/slow_log.CSV",
                "mysql/slow_log.CSM");
        assertWhen(BLOCK_DDL, "mysql/table_stats.frm", "mysql/column_stats.frm", "mysql/index_stats.frm", "mysql/general_log.frm",
                "mysql/slow_log.frm", "shop/table_stats.MAI");
    }

    @Test
    void theAriaLogAtTheTopIsCopiedUnderBlockCommit() {
        assertWhen(BLOCK_COMMIT, "aria_log.00000001", "aria_log.00000012", "aria_log_control");
        assertWhen(SKIP, "aria_log.0000001", "aria_log.000000001", "shop/aria_log_control", "shop/aria_log.00000001");
    }

    @Test
    void fewOtherFilesAtTheTopAreCopiedUnderBlockDdl() {
        assertWhen(BLOCK_DDL, "mysql_upgrade_info", "mariadb_upgrade_info", "multi-master.info");
        assertWhen(SKIP, "db.opt", "orders.frm", "legacy.MYD", "random-file", "host.pid", "host.err", "ib_buffer_pool", "auto.cnf",
                "master.info", "relay-log.info", "mysqld-relay-bin.000001");
    }

    @Test
    void theBinlogSideFilesOfMariadb11AreSkipped() {
        // GTID indexes (binlog_gtid_index=ON, 11.4+) begin with the basename, like the binlogs
        assertEquals(SKIP, binlog.when("mysql-bin.000001.idx"));
        assertEquals(SKIP, new DatadirFiles(DATADIR, "/var/lib/mysql/binlogs/mysql").when("binlogs/mysql.000042.idx"));
        // the cache directory beside binlogs in the data directory is no database directory,
        // even for a name a table file could have, and even when the binlog is now elsewhere or off
        assertWhen(SKIP, "#binlog_cache_files/ML_94625318537216", "#binlog_cache_files/t.frm", "#binlog_cache_files/db.opt",
                "#binlog_cache_files/x.MYD");
        assertEquals(BLOCK_DDL, binlog.when("binlog_cache_files/t.frm"), "only the server's own directory name");
    }

    @Test
    void theBinaryLogIsSkippedByItsBasename() {
        assertEquals(SKIP, binlog.when("mysql-bin.000001"));
        assertEquals(SKIP, binlog.when("mysql-bin.index"));
        DatadirFiles inSubdir = new DatadirFiles(DATADIR, "/var/lib/mysql/binlogs/mysql");
        assertEquals(SKIP, inSubdir.when("binlogs/mysql.000001"));
        // the basename is a prefix of paths, so it wins over every other rule
        assertEquals(BLOCK_DDL, noBinlog.when("mysql/user.frm"));
        assertEquals(SKIP, new DatadirFiles(DATADIR, "/var/lib/mysql/mysql/user").when("mysql/user.frm"));
        assertEquals(BLOCK_DDL, new DatadirFiles(DATADIR, "/var/log/mysql/mysql-bin").when("mysql_upgrade_info"), "a binlog elsewhere");
    }
}
