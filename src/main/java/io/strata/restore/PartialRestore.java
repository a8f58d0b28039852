package io.strata.restore;

import io.strata.repo.Manifest;
import io.strata.repo.Scope;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Recovery of a partial backup (manifest {@code scope} set; docs/repository-format.md, "Partial
 * backups"). The restored system tablespace still holds the InnoDB dictionary of the whole
 * source, and the stored redo log still holds records for the tablespaces left out. Two things
 * follow:
 * <ul>
 * <li>MariaDB's crash recovery stops on a tablespace the log names that is not there (10.11:
 *     "Tablespace N was not found at ...", unless innodb_force_recovery is set; log0recv.cc,
 *     recv_init_missing_space). Recovery of a partial backup therefore runs with
 *     {@code --innodb-force-recovery=1}, which makes it skip the log of missing tablespaces and
 *     say so in a warning per tablespace. mariadb-backup's own prepare of a partial backup skips
 *     them the same way.</li>
 * <li>After recovery the dictionary still names the left-out tables. While the recovery server
 *     runs, strata removes them: a database the backup left out whole is created (unless the
 *     restore holds a tablespace of it that the redo log created) and dropped (dropping a database
 *     drops every InnoDB table of its name, and its directory); a left-out table of a database
 *     in scope is dropped by name ({@code DROP TABLE IF EXISTS}; the server drops the InnoDB table
 *     even without its .frm, logging InnoDB errors for the missing file on the way, which the
 *     caller leaves out of its judgement of the recovery log by the clean-up connection's thread id). A left-out partitioned table of a database in scope cannot be
 *     dropped without its .frm and .par: its partitions stay in the dictionary, their tablespace
 *     missing, and are named in a warning line.</li>
 * </ul>
 * The result starts without innodb_force_recovery and holds only the tables in scope.
 */
final class PartialRestore {
    private PartialRestore() {}

    /** The extra mariadbd options recovery of {@code m} needs: none for a backup of the whole server. */
    static List<String> recoveryArgs(Manifest m) {
        if (m.scope() == null) {
            return List.of();
        }
        // --skip-grant-tables: the clean-up connects as root on the private socket, whatever the restored accounts say
        return List.of("--innodb-force-recovery=1", "--skip-grant-tables");
    }

    /**
     * {@code args} without innodb_force_recovery: the options of a server started on a partial
     * restore once its recovery is done (the result "starts without innodb_force_recovery").
     */
    static List<String> afterRecovery(List<String> args) {
        return args.stream().filter(a -> !a.startsWith("--innodb-force-recovery")).toList();
    }

    /**
     * Fails when recovery of a partial backup skipped the redo log of a tablespace the backup's
     * scope keeps: under innodb_force_recovery=1 the server only warns "Tablespace N was not found
     * at ./db/t.ibd ... All redo log for this tablespace will be ignored", which for a kept table
     * would be a silently wrong restore. A left-out table's warning is expected.
     *
     * @param errorLog the recovery server's error log text
     * @throws StrataException recovery-failed naming the tablespace
     */
    static void failOnSkippedKeptTablespaces(Manifest m, String errorLog) {
        if (m.scope() == null) {
            return;
        }
        java.util.regex.Matcher x = java.util.regex.Pattern.compile("Tablespace \\d+ was not found at (\\S+?\\.ibd)").matcher(errorLog);
        while (x.find()) {
            String rel = x.group(1).startsWith("./") ? x.group(1).substring(2) : x.group(1);
            if (m.scope().includesPath(rel)) {
                throw new io.strata.error.StrataException(io.strata.error.ErrorCode.RECOVERY_FAILED, "crash recovery of partial backup " + m.id() + " found no file for tablespace "
                        + x.group(1) + ", which its scope keeps, and ignored its redo log", "verify the backup (strata verify); the file is missing from it");
            }
        }
    }

    /**
     * Removes the dictionary entries of the tables backup {@code m} left out, on the recovery
     * server listening on {@code socket} with data directory {@code target}. Nothing for a backup
     * of the whole server.
     *
     * @return the server's error log lines to leave out when judging recovery: the InnoDB errors
     *         logged by the clean-up's own connection, which opens each left-out table (its file
     *         missing, as expected) to drop it; keeps every line for a backup of the whole server
     */
    static java.util.function.Predicate<String> dropLeftOut(Manifest m, Path socket, Path target, Consumer<String> log) {
        if (m.scope() == null) {
            return line -> true;
        }
        try (ServerSession s = ServerSession.connect(new ConnectionOptions(socket.toString(), null, null, "root", null))) {
            // error log lines name the thread: "<date> <time> <thread id> [ERROR] ..."
            java.util.regex.Pattern ours = java.util.regex.Pattern.compile("^\\s*\\S+ \\S+ +" + s.queryString("SELECT CONNECTION_ID()") + " \\[ERROR\\] InnoDB: ");
            // a kept table's foreign key may name a left-out parent, which could not be dropped with the checks on
            s.exec("SET SESSION foreign_key_checks = 0");
            TreeSet<String> databases = new TreeSet<>();
            TreeSet<String> tables = new TreeSet<>();
            TreeSet<String> kept = new TreeSet<>();
            for (Map<String, String> r : s.queryRows("SELECT NAME FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE '%/%'")) {
                String name = r.get("name");
                int slash = name.indexOf('/');
                String dbFile = name.substring(0, slash);
                String tableFile = name.substring(slash + 1);
                if (dbFile.equals(Scope.ALWAYS) || tableFile.startsWith("FTS_") || tableFile.contains("#sql")) {
                    continue;
                }
                Path dir = target.resolve(dbFile);
                if (!Files.isDirectory(dir) || !m.scope().includesDatabase(Scope.decode(dbFile))) {
                    databases.add(Scope.decode(dbFile));
                    continue;
                }
                int part = tableFile.indexOf("#P#");
                String base = part < 0 ? tableFile : tableFile.substring(0, part);
                if (Files.exists(dir.resolve(base + ".frm"))) {
                    continue;
                }
                String sqlName = quote(Scope.decode(dbFile)) + "." + quote(Scope.decode(base));
                (part < 0 ? tables : kept).add(sqlName);
            }
            for (String db : databases) {
                s.exec("CREATE DATABASE IF NOT EXISTS " + quote(db));
                s.exec("DROP DATABASE " + quote(db));
            }
            for (String t : tables) {
                s.exec("DROP TABLE IF EXISTS " + t);
            }
            removeEmptyDirectories(m, target);
            log.accept("partial backup (" + m.scope().describe() + "): dropped the InnoDB dictionary entries of " + databases.size()
                    + " database(s) and " + tables.size() + " table(s) it left out");
            if (!kept.isEmpty()) {
                log.accept("WARNING: left-out partitioned table(s) " + String.join(", ", new ArrayList<>(kept))
                        + " stay in the InnoDB dictionary with their tablespaces missing (no .frm to drop them by)");
            }
            return line -> !ours.matcher(line).find() && !leftOutFileError(m.scope(), line);
        }
    }

    private static final java.util.regex.Pattern CANNOT_OPEN = java.util.regex.Pattern.compile(
            "\\[ERROR\\] InnoDB: (?:Cannot open datafile for read-only: '\\./([^']+)'|Could not find a valid tablespace file for (\\S+?)\\. )");
    private static final java.util.regex.Pattern NO_SUCH_FILE = java.util.regex.Pattern.compile(
            "\\[ERROR\\] InnoDB: (?:Operating system error number 2 in a file operation\\.|Error number 2 means 'No such file or directory')\\s*$");

    /**
     * Whether error log {@code line} is InnoDB failing to open the file of a tablespace {@code scope}
     * leaves out, which recovery's background rollback of a transaction that wrote a left-out table
     * logs (thread 0, before the clean-up connection exists), or the generic "error number 2" lines
     * logged with it. The line naming the file is judged by its name: one naming a kept file stays an error.
     */
    static boolean leftOutFileError(Scope scope, String line) {
        if (NO_SUCH_FILE.matcher(line).find()) {
            return true;
        }
        java.util.regex.Matcher x = CANNOT_OPEN.matcher(line);
        if (!x.find()) {
            return false;
        }
        String path = x.group(1) != null ? x.group(1) : x.group(2) + ".ibd";
        return !scope.includesPath(path);
    }

    /**
     * A database directory of the target that holds no file after the drops and that the scope
     * leaves out: it held only left-out tablespaces the backup stored because the redo log
     * created them (BackupRun), and would otherwise show as an empty database.
     */
    private static void removeEmptyDirectories(Manifest m, Path target) {
        try (java.util.stream.Stream<Path> dirs = Files.list(target)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                boolean empty;
                try (java.util.stream.Stream<Path> in = Files.list(d)) {
                    empty = in.findAny().isEmpty();
                }
                if (empty && !m.scope().includesDatabase(Scope.decode(d.getFileName().toString()))) {
                    Files.delete(d);
                }
            }
        } catch (java.io.IOException e) {
            throw new io.strata.error.StrataException(io.strata.error.ErrorCode.IO_ERROR, "cannot list " + target + ": " + e.getMessage(), null, e);
        }
    }

    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
