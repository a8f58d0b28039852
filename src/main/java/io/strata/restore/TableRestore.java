package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import io.strata.server.MariadbProcess;
import io.strata.server.ServerSession;
import io.strata.server.ServerTools;
import io.strata.util.Cancellation;
import io.strata.util.Dirs;
import io.strata.util.FileModes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code restore --table db.t --import}: one or more tables of a backup, or of a point in time,
 * imported into a running server on this host.
 *
 * <p>Order of work, so that the running server is touched only by the final import:
 * <ol>
 * <li>read-only checks on the running server: its {@code @@datadir} is a writable directory on
 *     this host, and each destination table is absent (else table-exists, exit 58, unless
 *     {@code --replace});</li>
 * <li>a private scratch directory (0700, removed afterwards, also on failure) receives the restore
 *     of only the files the tables need ({@link TableScope}): {@link RestoreRun} of the newest
 *     backup, or {@link PitrRun} to the target, replaying only the named tables' changes when that
 *     is safe (the rule below), else the whole backup with every table (the hook {@link Rollforward});</li>
 * <li>a scratch mariadbd (networking off, grant checks off) on it: each table is looked up
 *     (table-not-in-backup, exit 57), its {@code SHOW CREATE TABLE} and {@code CHECKSUM TABLE} read,
 *     then {@code FLUSH TABLES ... FOR EXPORT} and its data files (InnoDB .ibd/.cfg, Aria .MAI/.MAD,
 *     MyISAM .MYI/.MYD, per partition {@code t#P#p...}) are taken as they are: the server is killed
 *     while it still holds the export lock, so nothing after the lock (purge, the flushing of a clean
 *     shutdown) changes them, and they are moved (renamed, no copy) into an export directory of the
 *     scratch;</li>
 * <li>in the running server, per table: {@code CREATE TABLE} under a work name of this run
 *     ({@link TableLeftovers}), without its foreign keys ({@link TableForeignKeys}: added under
 *     names of the work table once the checksum matched, renamed to their final names after the
 *     rename), then for InnoDB {@code DISCARD TABLESPACE}, the files moved into the
 *     database directory (renamed when the scratch is on the same file system and SELinux is not
 *     present, else copied), {@code IMPORT TABLESPACE}; for Aria and MyISAM the table is closed
 *     ({@code FLUSH TABLES}), its files renamed over the empty ones and the table flushed again. The
 *     imported table's {@code CHECKSUM TABLE} must equal the scratch's. Once every table of the run
 *     is imported so, their foreign keys are added (a key to another table of the run references its
 *     work table), and one {@code RENAME TABLE} puts them all at their destinations at once, with
 *     {@code --replace} swapping out the tables there (dropped afterwards): the server sees all of
 *     them restored or none. A parent and the tables whose keys reference it are replaced together
 *     so: the old children's keys follow the old parent, the new ones' the new parent. A failure or
 *     SIGINT/SIGTERM before that RENAME drops every table this run created, and nothing was restored;
 *     what a kill -9 leaves, the next run removes (before it makes anything).</li>
 * </ol>
 *
 * <p>What the scratch receives: the system and undo tablespaces, the redo log, the {@code mysql}
 * schema, and the named tables' files (.frm, .ibd, partitions, .par, .TRG, Aria and MyISAM files),
 * with their databases' db.opt, .TRN and full-text index tablespaces, and the InnoDB files of
 * the tablespaces its stored redo log's file records create, rename or delete ({@link RedoFileOps});
 * no other table's data or definition files. It recovers as a partial backup does ({@link PartialRestore}): InnoDB crash
 * recovery runs with innodb_force_recovery=1, which skips the redo log of the tablespaces left out
 * (and only those: recovery fails when it skipped one of a named table), and the left-out tables'
 * dictionary entries are dropped before the export. Without a point in time, this is always the
 * path; the log says how many files of the backup the scratch received.
 *
 * <p>With a point in time the replay applies only the named tables' changes (the applier's table
 * filter) when all of these hold, else the whole backup is restored and every change replayed, as
 * a plain point-in-time restore does; the log says which path ran and why:
 * <ul>
 * <li>every data change in the replayed binlog range is in row format: a row event names the
 *     table it changes, also when a trigger, stored function or view made the change, whereas a
 *     statement (binlog_format STATEMENT or MIXED) on another table can change a named table
 *     through a trigger, stored function or view, which the filter, seeing only the statement's own
 *     tables, would skip without a word;</li>
 * <li>the range holds only statements known to be harmless (transaction control, DDL of tables,
 *     indexes and views without SELECT, TRUNCATE, GRANT, REVOKE, table maintenance; see
 *     {@link TableScope}), none renaming a table, defining a foreign key or dropping or altering
 *     a database (the other databases are not in the scratch);</li>
 * <li>no named table has a foreign key to a table not named (its ON DELETE/UPDATE actions follow
 *     the parent's row events, which the filter skips; checked on the scratch server).</li>
 * </ul>
 * A statement the filtered replay applies (one naming a named table) that fails, such as one that
 * needs a table the scratch does not hold ({@code CREATE TABLE t LIKE other}), stops the applier;
 * the table restore then logs the error as a WARNING and restores the whole backup, replaying
 * every table: never a silently partial result.
 *
 * <p>Names: {@code --table} names are matched as the source server matches them, by the
 * {@code lower_case_table_names} its backups record ({@link TableNameCase}).
 *
 * <p>Progress by stage ({@link RestoreProgress#forTables}): files, recovery, binlog-copy, replay,
 * export, import. Table names are limited to letters, digits, {@code _} and {@code $}, whose file names equal the
 * table names (MariaDB encodes other characters, {@code @xxxx}).
 *
 * <p>Limits today: a backup holding DATA DIRECTORY tables is refused by the scratch restore (their
 * directories are in use by the running server; exit 18), before the running server is touched.
 * The imported tables of a run sit beside the tables they replace until the one RENAME, so the
 * server's disk needs room for all of them at once.
 */
public final class TableRestore {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_$]{1,64}");
    /** The way around the plain-name rule, for a table whose database or table name has other characters (README, restore --table). */
    static final String PLAIN_NAMES_HINT = "--table and --as take ASCII letters, digits, _ and $ only (no accented or other non-ASCII letters,"
            + " spaces or punctuation); for a table named otherwise, restore the whole backup with --target, start mariadbd on it"
            + " and copy the table with mariadb-dump";
    private static final List<String> DATA_EXTENSIONS = List.of("ibd", "cfg", "MAI", "MAD", "MYI", "MYD");

    /** {@code db.table}; both parts plain identifiers (see the class comment). */
    public record TableName(String db, String table) {
        public static TableName parse(String text, String option) {
            int dot = text.indexOf('.');
            if (dot > 0 && dot == text.lastIndexOf('.')) {
                TableName t = new TableName(text.substring(0, dot), text.substring(dot + 1));
                if (NAME.matcher(t.db).matches() && NAME.matcher(t.table).matches()) {
                    return t;
                }
            }
            throw new StrataException(ErrorCode.USAGE, option + " " + text + " is not DB.TABLE with plain names (letters, digits, _ and $; "
                    + "other characters are not supported yet)", PLAIN_NAMES_HINT);
        }

        String sql() {
            return "`" + db + "`.`" + table + "`";
        }

        @Override
        public String toString() {
            return db + "." + table;
        }
    }

    /**
     * Rolls a scratch directory forward: restores into {@code dir} (new) and returns what was
     * restored. The default replays everything up to the target ({@link PitrRun}); a faster
     * applier filtering the named tables can be put in here.
     */
    public interface Rollforward {
        Restored restore(Repository repo, Path dir, int parallel, ServerTools tools, Consumer<String> log);
    }

    /** What the scratch directory holds: the backup restored and, for a point in time, where the replay stopped. */
    public record Restored(RestoreRun.Result restore, String backupId, String pointInTime, String binlogPosition, String gtid) {}

    /**
     * @param tables   the tables to restore
     * @param as       the destination names, paired with {@code tables} by order; empty: the same names
     * @param replace  replace destination tables that exist
     * @param target   the point in time; null: the newest completed backup
     * @param server   with a target: the server of the repository ({@code --server})
     * @param scratch  directory the scratch directory is made in; null: java.io.tmpdir
     * @param conn     the running server to import into
     * @param debugImportPauseMs test hook: pause this long (ms) before each table's IMPORT TABLESPACE (or the
     *                 placing of an Aria or MyISAM table's files), saying so in the log; 0: none
     */
    public record Options(List<TableName> tables, List<TableName> as, boolean replace, PitrTarget target, String server, Path scratch,
                          int parallel, ServerTools tools, ConnectionOptions conn, long debugImportPauseMs) {}

    /** One imported table: where from, where to, its engine, partitions, files and CHECKSUM TABLE value. */
    public record Imported(TableName from, TableName to, String engine, boolean partitioned, int files, long bytes, String checksum, boolean replaced) {}

    public record Result(String backupId, String pointInTime, String binlogPosition, String gtid, List<Imported> tables) {}

    /**
     * One exported table. {@code createSql} is its definition as exported; {@code fulltext} the
     * FULLTEXT index clauses of its definition in the backup ("FULLTEXT KEY `k` (`c`)"), which the
     * export dropped and the import adds again (see {@link #withoutFulltext}).
     */
    private record Exported(TableName from, TableName to, String engine, boolean partitioned, String createSql, String checksum, List<Path> files,
                            List<String> fulltext) {}

    private TableRestore() {}

    /**
     * Runs the whole table restore (see the class comment).
     *
     * @throws StrataException usage (bad names, duplicate destinations), datadir-unreadable (the server's
     *         data directory is not a writable directory here), table-exists (58), table-not-in-backup (57),
     *         server-error (an import statement failed; what this run created is dropped again), and those of
     *         {@link RestoreRun} and {@link PitrRun}
     */
    public static Result run(Repository repo, Options given, Consumer<String> log) {
        Options o = storedNames(repo, given, log);
        List<TableName> to = o.as().isEmpty() ? o.tables() : o.as();
        if (to.size() != o.tables().size()) {
            throw new StrataException(ErrorCode.USAGE, "--as names " + o.as().size() + " table(s) for " + o.tables().size() + " --table; give one --as per --table, in the same order", null);
        }
        if (Set.copyOf(to).size() != to.size()) {
            throw new StrataException(ErrorCode.USAGE, "two tables would be imported as the same table: " + to, null);
        }
        TableScope only = new TableScope(o.tables().stream().map(TableName::toString).toList());
        Rollforward rf = o.target() == null ? newestBackup(only) : pointInTime(o.target(), o.server(), only);
        if (o.target() == null) {
            checkNewestBackupHolds(repo, o.tables());
        }
        try (ServerSession live = ServerSession.connect(o.conn())) {
            Path datadir = checkDatadir(live);
            TableLeftovers.clean(live, datadir, scratchParent(o.scratch()), log);
            for (int i = 0; i < to.size(); i++) {
                if (exists(live, to.get(i)) && !o.replace()) {
                    throw new StrataException(ErrorCode.TABLE_EXISTS, "table " + to.get(i) + " already exists in the server at " + o.conn().describe()
                            + "; nothing was restored", "name another table with --as " + to.get(i).db() + "." + to.get(i).table() + "_restored, "
                            + "or replace it with --replace");
                }
            }
            checkChildrenReplaced(live, to, o.replace(), !o.as().isEmpty(), o.conn().describe());
            Path scratch = scratchDirectory(o.scratch());
            try {
                log.accept("scratch directory " + scratch + " (removed afterwards)");
                Restored restored;
                try {
                    restored = rf.restore(repo, scratch.resolve("data"), o.parallel(), o.tools(), log);
                } catch (StrataException e) {
                    if (Cancellation.requested()) {
                        throw e; // not a narrowed restore's failure: a signal's (its wait or write interrupted)
                    }
                    if (only.recovering() && e.code() != ErrorCode.INTERRUPTED) {
                        // the stored redo log may create, rename or re-initialise tablespaces of other tables (tables created or
                        // rebuilt between the backup's checkpoint and its end), which the narrowed scratch left out
                        log.accept("WARNING: crash recovery of the scratch directory holding only the files of " + String.join(", ", only.tables())
                                + " failed: " + e.getMessage().replace('\n', ' ') + "; the backup's redo log may change tablespaces of tables left out"
                                + " (created or rebuilt just before the backup); restoring the whole backup" + (o.target() == null ? "" : " and replaying every table")
                                + " instead");
                    } else if (only.filtered() && e.code() == ErrorCode.REPLAY_APPLIER_FAILED) {
                        // the filtered replay failed (a statement naming a named table needs a table the scratch lacks, or a foreign key)
                        log.accept("WARNING: the replay of only " + String.join(", ", only.tables()) + " stopped: " + e.getMessage().replace('\n', ' ')
                                + "; restoring the whole backup and replaying every table instead");
                    } else {
                        throw e;
                    }
                    Dirs.deleteQuietly(scratch.resolve("data"), true);
                    only.runDirectories().forEach(d -> Dirs.deleteQuietly(d, false));
                    Rollforward whole = o.target() == null ? newestBackup(null) : pointInTime(o.target(), o.server(), null);
                    restored = whole.restore(repo, scratch.resolve("data"), o.parallel(), o.tools(), log);
                }
                // from here on the work is SQL statements, which an interrupt would make spin (see Cancellation): a signal is seen between them
                Cancellation.interruptible(false);
                List<Exported> exported = export(restored, scratch, o, to, log);
                checkFilePerTable(live, exported, o.conn().describe());
                RestoreProgress.of(log).stage(RestoreProgress.IMPORT, "importing " + exported.size() + " table(s) into the server at " + o.conn().describe());
                List<Imported> done = importAll(live, datadir, exported, o.replace(), !o.as().isEmpty(), o.conn().describe(), o.debugImportPauseMs(), log);
                RestoreProgress.of(log).done(RestoreProgress.IMPORT);
                return new Result(restored.backupId(), restored.pointInTime(), restored.binlogPosition(), restored.gtid(), done);
            } finally {
                Dirs.deleteQuietly(scratch, false);
            }
        }
    }

    /**
     * {@code o} with its tables named as the source server names them ({@link TableNameCase}), by
     * the {@code lowerCaseTableNames} of the newest completed backup (of {@code --server}, when
     * given): a server's lower_case_table_names is fixed when its data directory is created. With no
     * such backup, {@code o} (RestoreRun or PitrRun says what is missing).
     */
    private static Options storedNames(Repository repo, Options o, Consumer<String> log) {
        repo.requireKey();
        List<String> done = repo.history().completedIds();
        for (int i = done.size() - 1; i >= 0; i--) {
            io.strata.repo.Manifest m = repo.manifest(done.get(i));
            if (o.target() == null || o.server() == null || o.server().equals(m.source().serverKey())) {
                return new Options(TableNameCase.stored(o.tables(), m, log), o.as(), o.replace(), o.target(), o.server(), o.scratch(),
                        o.parallel(), o.tools(), o.conn(), o.debugImportPauseMs());
            }
        }
        return o;
    }

    /**
     * Without a point in time, a table the newest backup does not list (its .frm) is refused before
     * anything is restored; with one, the scratch server decides (the table may be created or
     * dropped by the replay).
     */
    private static void checkNewestBackupHolds(Repository repo, List<TableName> tables) {
        repo.requireKey();
        List<String> done = repo.history().completedIds();
        if (done.isEmpty()) {
            return; // RestoreRun says so
        }
        io.strata.repo.Manifest m = io.strata.repo.Chain.resolve(repo, done.get(done.size() - 1)).target();
        Set<String> paths = new java.util.HashSet<>();
        m.files().forEach(f -> paths.add(f.path()));
        for (TableName t : tables) {
            if (!paths.contains(t.db() + "/" + t.table() + ".frm")) {
                throw notInBackup(t, "backup " + m.id());
            }
        }
    }

    private static StrataException notInBackup(TableName t, String where) {
        return new StrataException(ErrorCode.TABLE_NOT_IN_BACKUP, "table " + t + " does not exist in " + where + "; nothing was imported",
                "check the name; \"strata list\" shows the backups and the restorable windows");
    }

    /** The default roll-forward without a target: the newest completed backup, recovered; only the files of {@code only} (null: all). */
    static Rollforward newestBackup(TableScope only) {
        return (repo, dir, parallel, tools, log) -> {
            RestoreRun.Result r = RestoreRun.run(repo, new RestoreRun.Options(null, dir, true, parallel, tools), log, null, only);
            var m = r.manifest();
            return new Restored(r, m.id(), null, m.binlogFile() == null ? null : m.binlogFile() + ":" + m.binlogPosition(), m.gtidBinlogPos());
        };
    }

    /**
     * The default roll-forward to a point in time: {@link PitrRun}, replaying only the changes of
     * {@code only} when that is safe ({@link TableScope}), else (and with {@code only} null) every
     * transaction up to the target.
     */
    static Rollforward pointInTime(PitrTarget target, String server, TableScope only) {
        return (repo, dir, parallel, tools, log) -> {
            PitrRun.Result r = PitrRun.run(repo, new PitrRun.Options(target, server, dir, parallel, tools), log, only);
            return new Restored(r.restore(), r.backup().id(), target.toString(), r.to() == null ? null : r.to().toString(), r.gtidAtTarget());
        };
    }

    /** The running server's data directory, which strata must be able to write on this host. */
    private static Path checkDatadir(ServerSession live) {
        String host = live.queryString("SELECT @@hostname");
        String here = localHostName();
        if (here != null && !here.equals(host)) {
            // a server elsewhere whose @@datadir path also exists here: its files must not land in this host's directory
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "the server at " + live.options().describe() + " runs on host " + host
                    + ", not on this host (" + here + "); nothing was restored",
                    "run strata on the server's host as a user that may write its data directory (the server's user, or root)");
        }
        return checkDatadir(Path.of(live.queryString("SELECT @@datadir")), live.options().describe());
    }

    /** This host's name as gethostname(2) gives it (what the server reports as @@hostname), or null when unknown. */
    private static String localHostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Refuses a --replace of a table that foreign keys of tables not replaced with it reference: the
     * RENAME that swaps the table out would carry those keys to the old table, which is then dropped.
     * Tables replaced by the same run are swapped out in the same RENAME, their keys with the old
     * table. Checked before the restore and again just before the RENAME (a table may have been
     * created meanwhile).
     *
     * @param to      the destinations of the run
     * @param withAs  the run names its destinations with --as (the hint then gives both options)
     * @throws StrataException table-exists (58), naming those tables
     */
    private static void checkChildrenReplaced(ServerSession live, List<TableName> to, boolean replace, boolean withAs, String server) {
        if (!replace) {
            return;
        }
        for (TableName t : to) {
            if (!exists(live, t)) {
                continue; // nothing is swapped out: the keys that name t will reference the imported table
            }
            List<TableName> children = referencing(live, t).stream().filter(c -> !to.contains(c)).toList();
            if (!children.isEmpty()) {
                String names = String.join(", ", children.stream().map(TableName::toString).toList());
                throw new StrataException(ErrorCode.TABLE_EXISTS, "table " + t + " in the server at " + server + " is referenced by foreign keys of "
                        + names + ", which --replace would leave pointing at the old table; nothing was restored",
                        "replace them in the same restore (" + String.join(" ", children.stream().map(c -> "--table " + c + (withAs ? " --as " + c : "")).toList())
                        + "), or import it with --as " + t.db() + "." + t.table() + "_restored and move the rows over in SQL");
            }
        }
    }

    /** The other tables whose foreign keys name {@code t}, sorted, each once. */
    private static List<TableName> referencing(ServerSession s, TableName t) {
        List<TableName> out = new ArrayList<>();
        for (Map<String, String> r : s.queryRows("SELECT DISTINCT CONSTRAINT_SCHEMA AS d, TABLE_NAME AS t FROM information_schema.REFERENTIAL_CONSTRAINTS"
                + " WHERE REFERENCED_TABLE_NAME = " + ServerSession.literal(t.table()) + " AND UNIQUE_CONSTRAINT_SCHEMA = " + ServerSession.literal(t.db())
                + " AND NOT (CONSTRAINT_SCHEMA = " + ServerSession.literal(t.db()) + " AND TABLE_NAME = " + ServerSession.literal(t.table()) + ") ORDER BY 1, 2")) {
            out.add(new TableName(r.get("d"), r.get("t")));
        }
        return out;
    }

    /**
     * {@code datadir}, the server's {@code @@datadir}, when it is a data directory here (it holds
     * {@code mysql/}) that strata may write; else datadir-unreadable (exit 17), which is also what a
     * server on another host gets (its path is not a data directory here).
     */
    static Path checkDatadir(Path datadir, String server) {
        if (!Files.isDirectory(datadir.resolve("mysql")) || !Files.isWritable(datadir)) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "the data directory of the server at " + server + ", " + datadir
                    + ", is not a " + (Files.isDirectory(datadir) ? "writable " : "") + "data directory on this host; nothing was restored",
                    "run strata on the server's host as a user that may write its data directory (the server's user, or root)");
        }
        return datadir;
    }

    private static boolean exists(ServerSession s, TableName t) {
        return !s.queryRows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + t.db() + "' AND TABLE_NAME = '" + t.table() + "'").isEmpty();
    }

    /** Where the scratch directory is made: {@code --scratch-dir}, else java.io.tmpdir. */
    private static Path scratchParent(Path given) {
        return (given != null ? given : Path.of(System.getProperty("java.io.tmpdir"))).toAbsolutePath();
    }

    private static Path scratchDirectory(Path parent) {
        try {
            Path p = scratchParent(parent);
            Files.createDirectories(p);
            return Files.createTempDirectory(p, TableLeftovers.scratchPrefix(), FileModes.attribute(FileModes.PRIVATE_DIR));
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create a scratch directory in " + parent + ": " + e.getMessage(),
                    "name a directory with room for the restored backup with --scratch-dir", e);
        }
    }

    /**
     * Whether InnoDB keeps table {@code t} (or a partition of it) in the system tablespace (space 0),
     * asked of information_schema.INNODB_SYS_TABLES, whose NAME is "db/table" ("db/table#P#part"
     * for a partition); such a table has no file that FLUSH TABLES ... FOR EXPORT could hand over.
     */
    private static boolean inSystemTablespace(ServerSession s, TableName t, int lowerCaseTableNames) {
        return !s.queryRows(systemTablespaceQuery(t, lowerCaseTableNames)).isEmpty();
    }

    /**
     * The query behind {@link #inSystemTablespace}: rows when {@code t} or a partition of it lies in
     * space 0. information_schema.INNODB_SYS_TABLES.NAME compares ignoring case (utf8mb3_general_ci),
     * so with {@code lower_case_table_names=0}, where {@code db.T} and {@code db.t} are two tables, the
     * comparison is made BINARY; with 1 or 2 the server resolves names ignoring case itself.
     */
    static String systemTablespaceQuery(TableName t, int lowerCaseTableNames) {
        String name = t.db() + "/" + t.table();
        String like = name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "#P#%";
        String exact = lowerCaseTableNames == 0 ? "BINARY " : "";
        return "SELECT SPACE FROM information_schema.INNODB_SYS_TABLES WHERE SPACE = 0 AND (NAME = " + exact + "'" + name
                + "' OR NAME LIKE " + exact + "'" + like + "')";
    }

    /** Runs a scratch server on the restored directory, checks the tables, reads their definitions and checksums, and exports their files. */
    private static List<Exported> export(Restored restored, Path scratch, Options o, List<TableName> to, Consumer<String> log) {
        var m = restored.restore().manifest();
        Path data = scratch.resolve("data");
        ServerTools.Server server = RestoreRun.serverFor(o.tools(), m, log);
        // recovery is done (a narrowed restore's with innodb_force_recovery); the export server runs without it
        List<String> args = new ArrayList<>(PartialRestore.afterRecovery(RestoreRun.recoveryArgs(m, restored.restore().layout())));
        args.addAll(RecoveryKeys.check(m, server.binary(), null, s -> { }).options());
        args.add("--skip-grant-tables");
        List<Exported> out = new ArrayList<>();
        RestoreProgress.of(log).stage(RestoreProgress.EXPORT, "starting " + server.binary() + " on the scratch directory to export " + o.tables());
        try (MariadbProcess p = MariadbProcess.start(server.binary(), data, scratch.resolve("run"), args, Duration.ofMinutes(30));
             ServerSession s = ServerSession.connect(new ConnectionOptions(p.socket().toString(), null, null, "root", null))) {
            List<String> locks = new ArrayList<>();
            for (int i = 0; i < o.tables().size(); i++) {
                TableName t = o.tables().get(i);
                List<Map<String, String>> rows = s.queryRows("SELECT ENGINE, CREATE_OPTIONS FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                        + t.db() + "' AND TABLE_NAME = '" + t.table() + "' AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')");
                if (rows.isEmpty()) {
                    throw notInBackup(t, restored.pointInTime() == null ? "backup " + restored.backupId()
                            : "the restored point in time (" + restored.pointInTime() + ", from backup " + restored.backupId() + ")");
                }
                String engine = rows.get(0).get("engine");
                if (!List.of("InnoDB", "Aria", "MyISAM").contains(engine)) {
                    throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, "table " + t + " uses the engine " + engine + ", which restore --table cannot import"
                            + " (InnoDB, Aria and MyISAM can); nothing was imported", "restore the whole backup with --target and copy the table from there");
                }
                boolean partitioned = String.valueOf(rows.get(0).get("create_options")).contains("partitioned");
                if ("InnoDB".equals(engine) && inSystemTablespace(s, t, TableNameCase.of(m))) {
                    throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, "table " + t + " is stored in the InnoDB system tablespace (it was created"
                            + " with innodb_file_per_table=OFF), from which restore --table cannot export it; nothing was imported",
                            "restore the whole backup with --target and copy the table from there (mariadb-dump); rebuilt with"
                            + " innodb_file_per_table=ON (ALTER TABLE ... FORCE), it gets a file of its own that later backups can restore alone");
                }
                String create = s.queryRows("SHOW CREATE TABLE " + t.sql()).get(0).get("create table");
                List<String> fulltext = "InnoDB".equals(engine) ? withoutFulltext(s, t, create, log) : List.of();
                if (!fulltext.isEmpty()) {
                    create = s.queryRows("SHOW CREATE TABLE " + t.sql()).get(0).get("create table");
                }
                String checksum = s.queryRows("CHECKSUM TABLE " + t.sql()).get(0).get("checksum");
                out.add(new Exported(t, to.get(i), engine, partitioned, create, checksum, new ArrayList<>(), fulltext));
                locks.add(t.sql());
            }
            s.exec("FLUSH TABLES " + String.join(", ", locks) + " FOR EXPORT");
            // Killed while this session holds the export lock, so the files stay as FLUSH ... FOR EXPORT left them: after UNLOCK
            // TABLES the server could purge in these tables, and its clean shutdown would flush that into them. Then they are
            // moved (renamed: one name per file, none left in the scratch's data directory) out of the scratch's data directory,
            // which is thrown away; nothing else of it is used.
            p.kill();
            Path exportDir = FileModes.createPrivateDirectories(scratch.resolve("export"));
            for (int i = 0; i < out.size(); i++) {
                Exported e = out.get(i);
                Path dir = FileModes.createPrivateDirectories(exportDir.resolve(Integer.toString(i)));
                for (Path f : dataFiles(data.resolve(e.from().db()), e.from().table())) {
                    Path moved = dir.resolve(f.getFileName().toString());
                    Files.move(f, moved);
                    e.files().add(moved);
                }
                if (e.files().isEmpty()) {
                    throw new StrataException(ErrorCode.BUG, "FLUSH TABLES " + e.from() + " FOR EXPORT left no data file in " + data.resolve(e.from().db()), null);
                }
                log.accept("exported " + e.from() + " (" + e.engine() + (e.partitioned() ? ", partitioned" : "") + ", " + e.files().size()
                        + " file(s)); CHECKSUM TABLE " + e.checksum());
            }
            RestoreProgress.of(log).done(RestoreProgress.EXPORT);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot copy the exported table files in " + scratch + ": " + e.getMessage(), null, e);
        }
        return out;
    }

    /**
     * An InnoDB table's FULLTEXT indexes cannot travel with IMPORT TABLESPACE: their data lives in
     * tablespaces of their own (FTS_...ibd), which the import does not take, and the imported table
     * answers MATCH ... AGAINST with "The table does not have FULLTEXT index" (error 1764) while its
     * definition still shows them (MariaDB 10.11 logs "Skip adjustment of root pages for index"
     * on the import). So the scratch server drops them, rebuilding the table without the hidden
     * FTS_DOC_ID column (ALGORITHM=COPY: an in-place drop keeps it, and the import would then not
     * match a table created without it), and the import adds them again from the imported rows.
     *
     * @return the FULLTEXT clauses of {@code create} (SHOW CREATE TABLE's lines, "FULLTEXT KEY `k` (`c1`,`c2`)",
     *         parser and comment included), in order; empty when it has none, and then nothing was changed
     */
    private static List<String> withoutFulltext(ServerSession s, TableName t, String create, Consumer<String> log) {
        List<String> clauses = new ArrayList<>();
        for (String line : create.split("\n")) {
            String l = line.strip();
            if (l.startsWith("FULLTEXT KEY ")) {
                clauses.add(l.endsWith(",") ? l.substring(0, l.length() - 1) : l);
            }
        }
        if (clauses.isEmpty()) {
            return clauses;
        }
        List<String> names = new ArrayList<>();
        for (Map<String, String> r : s.queryRows("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                + ServerSession.literal(t.db()) + " AND TABLE_NAME = " + ServerSession.literal(t.table()) + " AND INDEX_TYPE = 'FULLTEXT'")) {
            names.add(r.get("index_name"));
        }
        if (names.size() != clauses.size()) {
            throw new StrataException(ErrorCode.BUG, "SHOW CREATE TABLE " + t + " shows " + clauses.size() + " FULLTEXT index(es), information_schema.STATISTICS "
                    + names.size() + " (" + names + ")", null);
        }
        s.exec("SET SESSION foreign_key_checks = 0"); // the copy keeps the table's foreign keys, whose parents a narrowed scratch may lack
        StringBuilder drop = new StringBuilder("ALTER TABLE " + t.sql());
        for (String n : names) {
            drop.append(" DROP INDEX `").append(n.replace("`", "``")).append("`,");
        }
        s.exec(drop + " ALGORITHM=COPY");
        log.accept("the FULLTEXT index(es) " + names + " of " + t + " are dropped for the export and built again after the import (IMPORT TABLESPACE cannot bring them)");
        return clauses;
    }

    /** The data files of {@code table} in {@code dbDir}: {@code table.EXT} and its partitions' {@code table#P#...EXT}, EXT one of {@link #DATA_EXTENSIONS}. */
    static List<Path> dataFiles(Path dbDir, String table) throws IOException {
        List<Path> files = new ArrayList<>();
        try (var st = Files.list(dbDir)) {
            for (Path f : (Iterable<Path>) st.sorted()::iterator) {
                String n = f.getFileName().toString();
                int dot = n.lastIndexOf('.');
                if (dot < 0 || !DATA_EXTENSIONS.contains(n.substring(dot + 1))) {
                    continue;
                }
                String stem = n.substring(0, dot);
                if (stem.equals(table) || stem.startsWith(table + "#P#") || stem.startsWith(table + "#p#")) {
                    files.add(f);
                }
            }
        }
        return files;
    }

    /**
     * Refuses InnoDB tables when the running server has innodb_file_per_table=OFF: it would create
     * the destination table in its system tablespace, which has no file to exchange (DISCARD
     * TABLESPACE fails), so the import could not even begin.
     *
     * @throws StrataException server-unsupported (13), before anything is done in the server
     */
    private static void checkFilePerTable(ServerSession live, List<Exported> exported, String server) {
        List<String> innodb = exported.stream().filter(e -> e.engine().equals("InnoDB")).map(e -> e.from().toString()).toList();
        if (innodb.isEmpty() || !"0".equals(live.queryRows("SELECT @@GLOBAL.innodb_file_per_table AS v").get(0).get("v"))) {
            return;
        }
        throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the server at " + server + " has innodb_file_per_table=OFF, so it would create " + String.join(", ", innodb)
                + " in its system tablespace, from which no tablespace can be imported; nothing was restored",
                "run SET GLOBAL innodb_file_per_table=ON in that server (it applies to tables created afterwards) and run the restore again");
    }

    /**
     * Imports every exported table under a work name ({@link #stage}), adds their foreign keys, and
     * puts them all at their destinations with one {@code RENAME TABLE} (swapping out the tables
     * there with --replace, dropped afterwards): the running server has all of them or, when
     * anything fails or a signal comes before that statement, none (the work tables are dropped).
     * A foreign key between two tables of the run references the other's work table, which the
     * RENAME moves, so the key follows it to its destination; the keys of a replaced table's
     * children follow the old table, and children replaced in the same run go with it.
     */
    private static List<Imported> importAll(ServerSession live, Path datadir, List<Exported> exported, boolean replace, boolean withAs, String server,
            long pauseMs, Consumer<String> log) {
        // the tables this restore moves: a foreign key between two of them joins their new places
        Map<TableName, TableName> moved = new java.util.HashMap<>();
        for (Exported e : exported) {
            if (!e.from().equals(e.to())) {
                moved.put(e.from(), e.to());
            }
        }
        List<Exported> ordered = parentsFirst(exported);
        Map<TableName, TableName> work = new java.util.LinkedHashMap<>(); // destination -> work table
        for (Exported e : ordered) {
            work.put(e.to(), TableLeftovers.workName(e.to().db(), "new"));
        }
        List<Staged> staged = new ArrayList<>();
        Map<TableName, TableName> swapped = new java.util.LinkedHashMap<>(); // destination -> the old table swapped out
        java.util.Set<String> newDatabases = new java.util.LinkedHashSet<>(); // made by this run for its work tables
        try {
            for (Exported e : ordered) {
                Cancellation.check();
                String db = work.get(e.to()).db();
                if (!newDatabases.contains(db) && live.queryRows("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + ServerSession.literal(db)).isEmpty()) {
                    live.exec("CREATE DATABASE IF NOT EXISTS `" + db + "`");
                    newDatabases.add(db);
                }
                staged.add(stage(live, datadir, e, work.get(e.to()), pauseMs, log));
            }
            // the keys once every work table exists, so that the tables of a cycle of keys reference each other's
            for (Staged st : staged) {
                if (!st.fks().isEmpty()) {
                    Cancellation.check();
                    Exported e = st.e();
                    String alter = "ALTER TABLE " + st.work().sql() + " " + st.fks().retarget(e.from().db(), e.from().table(), e.to().db(), st.work().table(),
                            throughWork(movedFor(e, moved), exported, work)).addTemporary(st.work().table());
                    try {
                        live.exec(alter);
                    } catch (StrataException x) {
                        if (x.code() == ErrorCode.INTERRUPTED) {
                            throw x;
                        }
                        throw new StrataException(ErrorCode.SERVER_ERROR, "the server refused the foreign keys of " + e.to() + " (" + String.join(", ", st.fks().names())
                                + ", as in the backup): " + (x.getCause() == null ? x.getMessage() : x.getCause().getMessage()).replace('\n', ' '),
                                "a parent table they reference may differ from the backup's (its columns or indexes); restore it in the same run, or import "
                                + e.to() + " with --as and add the keys in SQL", x);
                    }
                }
            }
            Cancellation.check();
            checkChildrenReplaced(live, exported.stream().map(Exported::to).toList(), replace, withAs, server);
            List<String> renames = new ArrayList<>();
            for (Staged st : staged) {
                if (replace && exists(live, st.e().to())) {
                    TableName old = TableLeftovers.workName(st.e().to().db(), "old");
                    swapped.put(st.e().to(), old);
                    renames.add(st.e().to().sql() + " TO " + old.sql());
                }
            }
            for (Staged st : staged) {
                renames.add(st.work().sql() + " TO " + st.e().to().sql());
            }
            live.exec("RENAME TABLE " + String.join(", ", renames));
        } catch (RuntimeException x) {
            throw undo(live, staged, newDatabases, x);
        }
        if (!swapped.isEmpty()) {
            try {
                live.exec("DROP TABLE " + String.join(", ", swapped.values().stream().map(TableName::sql).toList()));
            } catch (RuntimeException x) {
                log.accept("WARNING: the tables replaced, " + String.join(", ", swapped.entrySet().stream().map(en -> en.getKey() + " (now " + en.getValue() + ")").toList())
                        + ", could not be dropped: " + x.getMessage().replace('\n', ' ') + "; drop them once you no longer need them");
            }
        }
        List<Imported> done = new ArrayList<>();
        for (Staged st : staged) {
            Exported e = st.e();
            boolean swap = swapped.containsKey(e.to());
            log.accept("imported " + e.from() + " as " + e.to() + (swap ? " (replacing the existing table)" : "") + "; CHECKSUM TABLE " + st.checksum());
            done.add(new Imported(e.from(), e.to(), e.engine(), e.partitioned(), e.files().size(), st.bytes(), st.checksum(), swap));
        }
        // the restore is done: what follows only names keys and warns, and a failure of it says so and ends nothing
        for (Staged st : staged) {
            if (!st.fks().isEmpty()) {
                try {
                    nameForeignKeys(live, st.e(), st.work(), st.fks(), movedFor(st.e(), moved), log);
                } catch (StrataException x) {
                    if (x.code() == ErrorCode.INTERRUPTED) {
                        throw x;
                    }
                    log.accept("WARNING: the foreign keys of " + st.e().to() + " were not given their final names: " + x.getMessage().replace('\n', ' '));
                }
            }
        }
        // once all are in place, so that a parent imported after its child (a cycle of keys) counts
        for (Staged st : staged) {
            if (!st.fks().isEmpty()) {
                warnOrphans(live, st.e(), st.fks(), movedFor(st.e(), moved), log);
            }
        }
        return done;
    }

    /**
     * Undoes a run that failed (or was cancelled) before its RENAME: drops the work tables made so
     * far and the databases made for them (when still empty), and returns {@code x} to throw, saying
     * that nothing was restored and which tables were imported and dropped again.
     */
    private static RuntimeException undo(ServerSession live, List<Staged> staged, java.util.Set<String> newDatabases, RuntimeException x) {
        Cancellation.clearInterrupt();
        if (!staged.isEmpty()) {
            try {
                live.exec("DROP TABLE IF EXISTS " + String.join(", ", staged.stream().map(st -> st.work().sql()).toList()));
            } catch (RuntimeException ignored) {
                x.addSuppressed(ignored); // a kill -9 or the next run drops them (TableLeftovers)
            }
        }
        for (String db : newDatabases) {
            try {
                if (live.queryRows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + ServerSession.literal(db) + " LIMIT 1").isEmpty()) {
                    live.exec("DROP DATABASE IF EXISTS `" + db + "`");
                }
            } catch (RuntimeException ignored) {
                x.addSuppressed(ignored);
            }
        }
        if (staged.isEmpty() || !(x instanceof StrataException se) || se.code() == ErrorCode.INTERRUPTED) {
            return x;
        }
        String said = se.getMessage().endsWith(NOTHING_RESTORED) ? se.getMessage().substring(0, se.getMessage().length() - NOTHING_RESTORED.length()) : se.getMessage();
        return new StrataException(se.code(), said + NOTHING_RESTORED + " (the tables imported for the run were dropped again: "
                + String.join(", ", staged.stream().map(st -> st.e().from().toString()).toList()) + ")", se.hint(), se);
    }

    /** How a refusal or failure that changed nothing in the server ends its message. */
    private static final String NOTHING_RESTORED = "; nothing was restored";

    /** A table imported under its work name, its CHECKSUM TABLE matched, not yet at its destination; {@code fks} not yet added. */
    private record Staged(Exported e, TableName work, TableForeignKeys fks, String checksum, long bytes) {}

    /**
     * The tables the foreign keys of a work table reference: as {@code followed} moves them (see
     * {@link #movedFor}), and a destination of this run (the table there is replaced, or made) as its
     * work table, which the run's RENAME carries to that destination, the key with it.
     */
    private static Map<TableName, TableName> throughWork(Map<TableName, TableName> followed, List<Exported> exported, Map<TableName, TableName> work) {
        Map<TableName, TableName> out = new java.util.HashMap<>();
        for (Exported x : exported) {
            TableName end = followed.getOrDefault(x.from(), x.from());
            if (work.containsKey(end)) {
                out.put(x.from(), work.get(end));
            }
        }
        for (Map.Entry<TableName, TableName> w : work.entrySet()) {
            if (!out.containsKey(w.getKey()) && !followed.containsKey(w.getKey())) {
                out.put(w.getKey(), w.getValue());
            }
        }
        return out;
    }

    /**
     * The moves of this restore that the foreign keys of {@code e} follow: all of them when {@code e}
     * itself is imported under another name; none when it is restored under its own name, which
     * keeps referencing its parents' own names, not copies the same restore makes.
     */
    private static Map<TableName, TableName> movedFor(Exported e, Map<TableName, TableName> moved) {
        return e.from().equals(e.to()) ? Map.of() : moved;
    }

    /**
     * {@code exported} in an order where a table referenced by the foreign keys of another of them
     * comes before it (stable otherwise; the tables of a cycle of keys keep their order): the order
     * the tables are imported in, said in the log and the output.
     */
    private static List<Exported> parentsFirst(List<Exported> exported) {
        Map<TableName, Exported> byName = new java.util.LinkedHashMap<>();
        for (Exported e : exported) {
            byName.put(e.from(), e);
        }
        Map<Exported, java.util.Set<Exported>> parents = new java.util.HashMap<>();
        for (Exported e : exported) {
            java.util.Set<Exported> ps = new java.util.LinkedHashSet<>();
            for (String clause : TableForeignKeys.of(e.createSql()).clauses()) {
                TableForeignKeys.Reference r = TableForeignKeys.reference(clause);
                Exported p = r == null ? null : byName.get(r.in(e.from().db()));
                if (p != null && p != e) {
                    ps.add(p);
                }
            }
            parents.put(e, ps);
        }
        List<Exported> out = new ArrayList<>();
        java.util.Set<Exported> placed = new java.util.HashSet<>();
        while (out.size() < exported.size()) {
            Exported next = null;
            for (Exported e : exported) {
                if (!placed.contains(e) && placed.containsAll(parents.get(e))) {
                    next = e;
                    break;
                }
            }
            if (next == null) { // a cycle: the first one left, in the order given
                next = exported.stream().filter(e -> !placed.contains(e)).findFirst().orElseThrow();
            }
            out.add(next);
            placed.add(next);
        }
        return out;
    }

    /**
     * Imports one exported table (see the class comment) under the work name {@code work}
     * ({@link TableLeftovers}) and checks its CHECKSUM TABLE; its foreign keys and its destination
     * come later ({@link #importAll}). A failure, or a cancellation, drops the work table, and a kill
     * leaves it for the next run to drop.
     */
    private static Staged stage(ServerSession live, Path datadir, Exported e, TableName work, long pauseMs, Consumer<String> log) {
        live.exec("SET SESSION foreign_key_checks = 0");
        String prefix = "CREATE TABLE `" + e.from().table() + "`";
        if (!e.createSql().startsWith(prefix)) {
            throw new StrataException(ErrorCode.BUG, "SHOW CREATE TABLE " + e.from() + " does not start with " + prefix, null);
        }
        TableForeignKeys fks = TableForeignKeys.of(e.createSql());
        live.exec("CREATE TABLE " + work.sql() + fks.createWithout().substring(prefix.length()));
        long bytes = 0;
        try {
            Path dbDir = datadir.resolve(work.db());
            boolean innodb = e.engine().equals("InnoDB");
            for (Path f : e.files()) {
                bytes += Files.size(f);
            }
            if (innodb && e.partitioned()) {
                importPartitions(live, dbDir, e, work, pauseMs, log);
            } else if (innodb) {
                live.exec("ALTER TABLE " + work.sql() + " DISCARD TABLESPACE");
                placeAll(e.files(), e.from().table(), work.table(), dbDir);
                pause(pauseMs, "ALTER TABLE " + work.sql() + " IMPORT TABLESPACE", log);
                live.exec("ALTER TABLE " + work.sql() + " IMPORT TABLESPACE");
                removeCfg(e.files(), e.from().table(), work.table(), dbDir);
                checkpointAfterImport(live, work, log);
            } else {
                // Aria, MyISAM: the new table is closed, its empty files are replaced by renames, and the next open reads the restored ones
                live.exec("FLUSH TABLES " + work.sql());
                pause(pauseMs, "placing the files of " + work, log);
                placeAll(e.files(), e.from().table(), work.table(), dbDir);
                live.exec("FLUSH TABLES " + work.sql());
            }
            String sum = live.queryRows("CHECKSUM TABLE " + work.sql()).get(0).get("checksum");
            if (!String.valueOf(sum).equals(String.valueOf(e.checksum()))) {
                throw new StrataException(ErrorCode.SERVER_ERROR, "the imported table " + work + " has CHECKSUM TABLE " + sum + ", the restored " + e.from()
                        + " had " + e.checksum() + "; the import was undone", "report this as a bug, with the server's error log");
            }
            if (!e.fulltext().isEmpty()) {
                Cancellation.check();
                live.exec("ALTER TABLE " + work.sql() + " ADD " + String.join(", ADD ", e.fulltext()));
                log.accept("built the FULLTEXT index(es) of " + e.to() + " again from the imported rows: " + String.join(", ", e.fulltext()));
            }
            return new Staged(e, work, fks, sum, bytes);
        } catch (IOException | RuntimeException x) {
            Cancellation.clearInterrupt();
            try {
                live.exec("DROP TABLE IF EXISTS " + work.sql());
            } catch (RuntimeException ignored) {
                x.addSuppressed(ignored);
            }
            if (x instanceof IOException io) {
                throw new StrataException(ErrorCode.IO_ERROR, "cannot place the files of " + e.to() + " in " + datadir + ": " + io.getMessage()
                        + "; the import was undone", "strata must be able to write the server's data directory", io);
            }
            throw (RuntimeException) x;
        }
    }

    /**
     * Gives the foreign keys of the table just imported as {@code e.to()} their final names
     * ({@link TableForeignKeys#finalNames}). The table is in place by then, with its constraints
     * under the work names; should this last ALTER fail, it stays so and a WARNING says which
     * names it has (the restore has done what it was asked: rows, indexes and constraints).
     */
    private static void nameForeignKeys(ServerSession live, Exported e, TableName work, TableForeignKeys fks, Map<TableName, TableName> moved, Consumer<String> log) {
        java.util.Set<String> taken = new java.util.HashSet<>();
        for (Map<String, String> r : live.queryRows("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = "
                + ServerSession.literal(e.to().db()))) {
            taken.add(r.get("constraint_name").toLowerCase(java.util.Locale.ROOT));
        }
        String alter = "ALTER TABLE " + e.to().sql() + " " + fks.retarget(e.from().db(), e.from().table(), e.to().db(), e.to().table(), moved)
                .finalNames(work.table(), e.from().table(), taken);
        try {
            live.exec(alter);
        } catch (RuntimeException x) {
            log.accept("WARNING: the foreign keys of " + e.to() + " keep the names " + java.util.stream.IntStream.range(0, fks.names().size())
                    .mapToObj(i -> TableForeignKeys.temporaryName(work.table(), i)).toList() + " (for " + fks.names() + "): " + x.getMessage()
                    .replace('\n', ' ') + "; rename them with ALTER TABLE ... DROP FOREIGN KEY ..., ADD CONSTRAINT ... if the names matter");
            return;
        }
        List<String> now = new ArrayList<>();
        for (Map<String, String> r : live.queryRows("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = "
                + ServerSession.literal(e.to().db()) + " AND TABLE_NAME = " + ServerSession.literal(e.to().table()) + " ORDER BY CONSTRAINT_NAME")) {
            now.add(r.get("constraint_name"));
        }
        log.accept("foreign key(s) of " + e.to() + ": " + String.join(", ", now) + (now.equals(fks.names().stream().sorted().toList()) ? ""
                : " (in the backup: " + String.join(", ", fks.names()) + ")"));
    }

    /**
     * Says in a WARNING which foreign keys of the table imported as {@code e.to()} have rows
     * without a parent: the import runs with {@code foreign_key_checks} off (as a dump's restore
     * does), so the server checks neither the rows brought in against their parent tables as they
     * are now nor that a parent table exists. Per constraint: a parent table that does not exist,
     * or the number of rows whose key columns are all set and match no row of the parent. Runs
     * once every table of the restore is in place; the restore is done by then, so a check the
     * server refuses (privileges, a lock wait) only says so in a WARNING of its own.
     */
    private static void warnOrphans(ServerSession live, Exported e, TableForeignKeys fks, Map<TableName, TableName> moved, Consumer<String> log) {
        TableForeignKeys placed = fks.retarget(e.from().db(), e.from().table(), e.to().db(), e.to().table(), moved);
        for (String clause : placed.clauses()) {
            TableForeignKeys.Reference ref = TableForeignKeys.reference(clause);
            if (ref == null) {
                continue;
            }
            String db = ref.db() != null ? ref.db() : e.to().db();
            String parent = "`" + db.replace("`", "``") + "`.`" + ref.table().replace("`", "``") + "`";
            String key = "(" + String.join(", ", ref.columns().stream().map(c -> "`" + c.replace("`", "``") + "`").toList()) + ")";
            String refKey = "(" + String.join(", ", ref.refColumns().stream().map(c -> "`" + c.replace("`", "``") + "`").toList()) + ")";
            try {
                if (live.queryRows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + ServerSession.literal(db)
                        + " AND TABLE_NAME = " + ServerSession.literal(ref.table())).isEmpty()) {
                    log.accept("WARNING: the foreign key " + key + " of " + e.to() + " references " + parent + ", which does not exist in the server:"
                            + " writes to " + e.to() + " that set " + key + " fail with error 1452 until it does");
                    continue;
                }
                StringBuilder where = new StringBuilder();
                StringBuilder join = new StringBuilder();
                for (int i = 0; i < ref.columns().size(); i++) {
                    String c = "c.`" + ref.columns().get(i).replace("`", "``") + "`";
                    where.append(i == 0 ? "" : " AND ").append(c).append(" IS NOT NULL");
                    join.append(i == 0 ? "" : " AND ").append("p.`").append(ref.refColumns().get(i).replace("`", "``")).append("` = ").append(c);
                }
                String count = live.queryRows("SELECT COUNT(*) AS n FROM " + e.to().sql() + " c WHERE " + where + " AND NOT EXISTS (SELECT 1 FROM " + parent
                        + " p WHERE " + join + ")").get(0).get("n");
                if (!"0".equals(count)) {
                    log.accept("WARNING: " + count + " row(s) of " + e.to() + " have no parent row in " + parent + " " + refKey + " by the foreign key " + key
                            + ": the import does not check rows against their parents (foreign_key_checks off, as a dump's restore); restore the parent"
                            + " table to the same point, or correct or delete those rows");
                }
            } catch (StrataException x) {
                if (x.code() == ErrorCode.INTERRUPTED) {
                    throw x;
                }
                log.accept("WARNING: could not check the rows of " + e.to() + " against " + parent + " " + refKey + " by the foreign key " + key + " (the table"
                        + " is restored): " + x.getMessage().replace('\n', ' ') + "; check them with SELECT ... WHERE NOT EXISTS (SELECT 1 FROM " + parent + " ...)");
            }
        }
    }

    /**
     * InnoDB partitions: MariaDB 10.11 cannot DISCARD or IMPORT the tablespace of a partitioned
     * table, so each partition's file is imported into a non-partitioned twin of the table
     * ({@code CREATE TABLE ... LIKE}, {@code REMOVE PARTITIONING}) and swapped into the partition
     * with {@code ALTER TABLE ... EXCHANGE PARTITION}; the twin, then holding the empty partition,
     * is dropped. Subpartitions ({@code #SP#}) are exchanged by their own name the same way.
     */
    private static void importPartitions(ServerSession live, Path dbDir, Exported e, TableName work, long pauseMs, Consumer<String> log) throws IOException {
        Map<String, List<Path>> byPartition = new java.util.TreeMap<>();
        for (Path f : e.files()) {
            String n = f.getFileName().toString();
            String stem = n.substring(0, n.lastIndexOf('.'));
            int p = Math.max(stem.lastIndexOf("#P#"), stem.lastIndexOf("#p#"));
            int sp = Math.max(stem.lastIndexOf("#SP#"), stem.lastIndexOf("#sp#"));
            if (p < 0) {
                throw new StrataException(ErrorCode.BUG, "file " + n + " of the partitioned table " + e.from() + " names no partition", null);
            }
            String name = sp > p ? stem.substring(sp + 4) : stem.substring(p + 3);
            byPartition.computeIfAbsent(name, k -> new ArrayList<>()).add(f);
        }
        // every partition's file imported into its twin first, then one checkpoint (see checkpointAfterImport), then the exchanges
        Map<String, TableName> twins = new java.util.LinkedHashMap<>();
        try {
            for (Map.Entry<String, List<Path>> part : byPartition.entrySet()) {
                Cancellation.check();
                TableName twin;
                do { // all twins exist at once: their random parts must differ
                    twin = TableLeftovers.workName(work.db(), "part");
                } while (twins.containsValue(twin));
                live.exec("CREATE TABLE " + twin.sql() + " LIKE " + work.sql());
                twins.put(part.getKey(), twin);
                live.exec("ALTER TABLE " + twin.sql() + " REMOVE PARTITIONING");
                live.exec("ALTER TABLE " + twin.sql() + " DISCARD TABLESPACE");
                for (Path f : part.getValue()) {
                    String n = f.getFileName().toString();
                    place(f, dbDir.resolve(twin.table() + n.substring(n.lastIndexOf('.'))), dbDir);
                }
                pause(pauseMs, "ALTER TABLE " + twin.sql() + " IMPORT TABLESPACE", log);
                live.exec("ALTER TABLE " + twin.sql() + " IMPORT TABLESPACE");
                Files.deleteIfExists(dbDir.resolve(twin.table() + ".cfg"));
            }
            checkpointAfterImport(live, work, log);
            for (Map.Entry<String, TableName> t : twins.entrySet()) {
                Cancellation.check();
                live.exec("ALTER TABLE " + work.sql() + " EXCHANGE PARTITION `" + t.getKey() + "` WITH TABLE " + t.getValue().sql());
            }
        } catch (IOException | RuntimeException x) {
            dropTwins(live, twins.values(), x);
            throw x;
        }
        dropTwins(live, twins.values(), null);
    }

    /** Drops each twin, the next even when one fails; a failure is added to {@code failure}, or thrown when there is none. */
    private static void dropTwins(ServerSession live, java.util.Collection<TableName> twins, Exception failure) {
        RuntimeException first = null;
        for (TableName twin : twins) {
            try {
                live.exec("DROP TABLE IF EXISTS " + twin.sql());
            } catch (RuntimeException x) {
                if (failure != null) {
                    failure.addSuppressed(x);
                } else if (first == null) {
                    first = x;
                } else {
                    first.addSuppressed(x);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Test-only knob, read here and nowhere else: {@code STRATA_TEST_NO_CHECKPOINT_NOW=1} makes
     * {@link #checkpointAfterImport} take the path of a server without innodb_log_checkpoint_now,
     * which the servers the suite runs (10.11.19, 11.8) all have.
     */
    static final String NO_CHECKPOINT_NOW_ENV = "STRATA_TEST_NO_CHECKPOINT_NOW";

    /** How long {@link #checkpointAfterImport} waits for a server without innodb_log_checkpoint_now to write its checkpoint (seconds). */
    static final int CHECKPOINT_WAIT_SECONDS = 600;

    /**
     * Test-only knob, read here and nowhere else: {@code STRATA_TEST_CHECKPOINT_WAIT_SECONDS=N} (1 to
     * 600) shortens {@link #CHECKPOINT_WAIT_SECONDS}, so that a test reaches the failures after it.
     */
    static final String CHECKPOINT_WAIT_ENV = "STRATA_TEST_CHECKPOINT_WAIT_SECONDS";

    /** {@link #CHECKPOINT_WAIT_SECONDS}, or the test knob's shorter wait. */
    private static int checkpointWaitSeconds() {
        String v = System.getenv(CHECKPOINT_WAIT_ENV);
        if (v != null && v.matches("[1-9][0-9]{0,2}")) {
            return Math.min(CHECKPOINT_WAIT_SECONDS, Integer.parseInt(v));
        }
        return CHECKPOINT_WAIT_SECONDS;
    }

    /**
     * Has the server write an InnoDB checkpoint at or after its current LSN, right after an IMPORT
     * TABLESPACE and before the imported table is renamed or changed. IMPORT writes the pages of
     * the file it takes in without redo log and with FIL_PAGE_LSN 0, while the redo log still
     * holds the records that created the empty table it replaced, and MariaDB does not move its
     * checkpoint past them: until the checkpoint moves on, crash recovery of the server, or of any
     * backup taken meanwhile (which copies the redo log from that checkpoint), writes those
     * records over the imported pages once the table has been renamed. The imported table then
     * came back empty (found by hand: {@code restore --table --as}, then kill -9 of the server, or
     * a backup and its restore; a table imported by SQL and never renamed was not affected).
     *
     * <p>Where the server has {@code innodb_log_checkpoint_now} (release builds since MDEV-30000,
     * 2025; before that only debug builds), {@code SET GLOBAL innodb_log_checkpoint_now = ON},
     * which returns once the checkpoint is written. Elsewhere: {@code Innodb_lsn_current} is read
     * as the target LSN; under the server lock {@code strata_checkpoint} (GET_LOCK: two restores
     * doing this at once do not take each other's 0 for the setting to put back),
     * {@code innodb_max_dirty_pages_pct} is set to 0 (the page cleaner then writes every dirty
     * page and a checkpoint after them; the server lowers {@code innodb_max_dirty_pages_pct_lwm}
     * to 0 with it), {@code Innodb_lsn_last_checkpoint} is polled every 100 ms until it reaches the
     * target, or until the log holds nothing after the checkpoint but its own record (at most 24
     * bytes: nothing after it is left to replay), at most {@link #CHECKPOINT_WAIT_SECONDS}, and
     * both settings are put back, the percentage first. With no dirty page left and the checkpoint
     * still short, {@code ANALYZE TABLE work} every 2 s gives the page cleaner a page to write (it
     * writes no checkpoint without one). A NOTE names both old values first, so that a restore
     * killed meanwhile says what to set back.
     *
     * @param work the table just imported (the partitioned work table for partitions): the one
     *             ANALYZE TABLE updates the statistics of
     * @throws StrataException access-denied (exit 16) when the user may not set the variables;
     *         server-error when the checkpoint did not come in time (the import is undone by the caller)
     */
    static void checkpointAfterImport(ServerSession live, TableName work, Consumer<String> log) {
        try {
            if (hasCheckpointNow(live)) {
                live.exec("SET GLOBAL innodb_log_checkpoint_now = ON");
            } else {
                waitForCheckpoint(live, work, log);
            }
        } catch (StrataException x) {
            if (x.code() != ErrorCode.ACCESS_DENIED) {
                throw x;
            }
            throw new StrataException(ErrorCode.ACCESS_DENIED, x.getMessage() + "; strata makes the server write a checkpoint after IMPORT TABLESPACE, without which"
                    + " a crash (or a backup taken before the next checkpoint) would bring the imported table back empty; the import was undone",
                    "grant SUPER to that user, or connect as root", x);
        }
    }

    private static boolean hasCheckpointNow(ServerSession live) {
        if ("1".equals(System.getenv(NO_CHECKPOINT_NOW_ENV))) {
            return false;
        }
        return !live.queryRows("SELECT 1 AS v FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'INNODB_LOG_CHECKPOINT_NOW'").isEmpty();
    }

    /** The bytes a checkpoint's own FILE_CHECKPOINT record takes in the log at most (16, 24 with an encrypted log). */
    private static final long CHECKPOINT_RECORD_MAX = 24;

    private static boolean covered(ServerSession.LsnStatus st, long target) {
        return st.lastCheckpoint() >= target || st.current() - st.lastCheckpoint() <= CHECKPOINT_RECORD_MAX;
    }

    private static void waitForCheckpoint(ServerSession live, TableName work, Consumer<String> log) {
        ServerSession.LsnStatus now = live.lsnStatus();
        long target = now.current();
        if (covered(now, target)) {
            return;
        }
        int wait = checkpointWaitSeconds();
        if (!"1".equals(live.queryString("SELECT GET_LOCK('strata_checkpoint', " + wait + ")"))) {
            throw new StrataException(ErrorCode.SERVER_ERROR, "another session held the server lock strata_checkpoint for " + wait
                    + " s (a restore --table waiting for a checkpoint); the import was undone", "run the restore again when that one is done");
        }
        try {
            List<String> old = List.of(live.queryString("SELECT @@GLOBAL.innodb_max_dirty_pages_pct"), live.queryString("SELECT @@GLOBAL.innodb_max_dirty_pages_pct_lwm"));
            String putBack = "SET GLOBAL innodb_max_dirty_pages_pct = " + old.get(0) + ", GLOBAL innodb_max_dirty_pages_pct_lwm = " + old.get(1);
            log.accept("NOTE: this server has no innodb_log_checkpoint_now (release builds have it since MDEV-30000): setting innodb_max_dirty_pages_pct to 0"
                    + " (it is " + old.get(0) + ", innodb_max_dirty_pages_pct_lwm " + old.get(1) + ") until its checkpoint reaches LSN " + target
                    + "; should this restore be killed meanwhile, run " + putBack);
            long deadline = System.nanoTime() + wait * 1_000_000_000L;
            long nudged = System.nanoTime();
            live.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            try {
                ServerSession.LsnStatus st;
                while (!covered(st = live.lsnStatus(), target)) {
                    if (System.nanoTime() > deadline) {
                        throw new StrataException(ErrorCode.SERVER_ERROR, "the server's InnoDB checkpoint stayed at LSN " + st.lastCheckpoint() + " for "
                                + wait + " s after IMPORT TABLESPACE, short of LSN " + target
                                + ", which it must reach before the imported table is renamed; the import was undone",
                                "see the server's error log for why its page cleaner does not write; a release with innodb_log_checkpoint_now"
                                        + " (MDEV-30000) lets strata ask for the checkpoint directly");
                    }
                    if (System.nanoTime() - nudged > 2_000_000_000L && "0".equals(live.queryString("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                            + " WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'"))) {
                        live.queryRows("ANALYZE TABLE " + work.sql());
                        nudged = System.nanoTime();
                    }
                    Cancellation.check();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        Cancellation.check();
                    }
                }
            } finally {
                try {
                    live.exec(putBack);
                } catch (RuntimeException x) {
                    log.accept("WARNING: could not set innodb_max_dirty_pages_pct back: " + x.getMessage() + "; run " + putBack);
                }
            }
        } finally {
            try {
                live.queryString("SELECT RELEASE_LOCK('strata_checkpoint')");
            } catch (RuntimeException ignored) {
                // the lock goes with the session
            }
        }
    }

    /** {@link #place} for each file, renamed from {@code fromTable...} to {@code toTable...}. */
    private static void placeAll(List<Path> files, String fromTable, String toTable, Path dbDir) throws IOException {
        for (Path f : files) {
            place(f, dbDir.resolve(toTable + f.getFileName().toString().substring(fromTable.length())), dbDir);
        }
    }

    /** The .cfg files an import has read are of no further use (the server would remove them itself only after its own export). */
    private static void removeCfg(List<Path> files, String fromTable, String toTable, Path dbDir) throws IOException {
        for (Path f : files) {
            if (f.getFileName().toString().endsWith(".cfg")) {
                Files.deleteIfExists(dbDir.resolve(toTable + f.getFileName().toString().substring(fromTable.length())));
            }
        }
    }

    /**
     * Puts {@code src} (an exported file of the scratch directory, used once) at {@code dest}: moved
     * beside it under a temporary name (a rename when both are on one file system, else a copy and a
     * removal; always a copy where SELinux is present (/sys/fs/selinux), which labels a file by where it was created), given
     * the owner and group of the database directory (when strata runs as root) and mode 0660, then
     * renamed over.
     */
    private static void place(Path src, Path dest, Path dbDir) throws IOException {
        Path tmp = dbDir.resolve(TableLeftovers.tmpFileName());
        try {
            if (Files.isDirectory(Path.of("/sys/fs/selinux"))) {
                Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.move(src, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw----"));
            PosixFileAttributes dirAttrs = Files.readAttributes(dbDir, PosixFileAttributes.class);
            PosixFileAttributes mine = Files.readAttributes(tmp, PosixFileAttributes.class);
            if (!dirAttrs.owner().equals(mine.owner()) || !dirAttrs.group().equals(mine.group())) {
                PosixFileAttributeView v = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
                try {
                    v.setOwner(dirAttrs.owner());
                    v.setGroup(dirAttrs.group());
                } catch (IOException e) {
                    // not root: the file stays ours, which the server can read only when it runs as this user or shares the group
                }
            }
            Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The test hook of {@link Options#debugImportPauseMs}; a signal ends the pause (and the run) at once. */
    private static void pause(long ms, String before, Consumer<String> log) {
        if (ms <= 0) {
            return;
        }
        log.accept("pausing " + ms + " ms before " + before + " (--debug-import-pause-ms)");
        long end = System.nanoTime() + ms * 1_000_000L;
        while (System.nanoTime() < end && !Cancellation.requested()) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Cancellation.check();
    }
}
