package io.strata.cli;

import io.strata.codec.KeyParams;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.Cancellation;
import io.strata.restore.DeltaRestore;
import io.strata.restore.PitrRun;
import io.strata.restore.PitrTarget;
import io.strata.restore.ReplayOptions;
import io.strata.restore.ReplicaInfo;
import io.strata.restore.RestoreProgress;
import io.strata.restore.RestoreRun;
import io.strata.restore.RestoredLayout;
import io.strata.restore.TargetOwner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "restore", description = "Restore a backup, or a point in time, into an empty directory and run crash recovery on it.")
final class RestoreCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Option(names = "--backup", description = "Backup id (default: the newest completed backup).")
    String backup;

    @Option(names = "--target", description = "New or empty directory for the restored data directory (required, except with --table or --print-replica-sql).")
    Path target;

    @Option(names = "--table", paramLabel = "DB.TABLE", description = "With --import: restore this table (repeatable) in a scratch directory and import it "
            + "into the running server named by the connection options (-S/--socket, -h/--host, -u/--user ...). InnoDB, Aria and MyISAM, partitioned and "
            + "system-versioned too. Plain ASCII names only (letters, digits, _ and $).")
    List<String> tables = new java.util.ArrayList<>();

    @Option(names = "--import", description = "With --table: import the restored tables into the running server (the only way --table restores today).")
    boolean importTables;

    @Option(names = "--as", paramLabel = "DB.TABLE", description = "With --table: import under this name (repeatable, one per --table in the same order; "
            + "default: the table's own name).")
    List<String> as = new java.util.ArrayList<>();

    @Option(names = "--replace", description = "With --table: replace a destination table that exists (a RENAME TABLE swap after the import, then the old one is dropped).")
    boolean replace;

    @Option(names = "--scratch-dir", paramLabel = "DIR", description = "With --table: make the scratch directory (the tables' files, the system tablespaces and the mysql schema "
            + "are restored there, or the whole backup when the replay must apply every table; removed afterwards) in DIR (default: the temporary directory, java.io.tmpdir).")
    Path scratchDir;

    @Mixin
    ConnectionMixin conn;

    @Option(names = "--no-recover", description = "Leave crash recovery to the first start of the server.")
    boolean noRecover;

    @Option(names = "--parallel", converter = Ranges.Threads.class, description = "Threads writing files, and as many decoding chunks, 1-256 (default: number of cores).")
    Integer parallel;

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Mixin
    ServerToolsMixin serverTools;

    @Option(names = "--mariadbd-defaults-file", paramLabel = "FILE", description = "Option file (my.cnf) that crash recovery's mariadbd reads "
            + "(as --defaults-file, only this file) instead of the key management the backup recorded: for an encrypted backup whose key file moved.")
    Path mariadbdDefaultsFile;

    @Option(names = "--until", description = "Point in time: restore every transaction committed at or before TIME "
            + "(\"YYYY-MM-DD HH:MM:SS\" in UTC as strata list prints it, or followed by a zone, ISO-8601 with Z or an offset, or @SECONDS).")
    String until;

    @Option(names = "--until-gtid", description = "Point in time: restore up to and including the transaction with this GTID (D-S-N).")
    String untilGtid;

    @Option(names = "--until-position", description = "Point in time: restore everything before FILE:POS, a transaction boundary of the source's binlog.")
    String untilPosition;

    @Option(names = "--until-before", paramLabel = "TIME", description = "Point in time, exclusive: restore every transaction committed strictly "
            + "before TIME (the forms of --until).")
    String untilBefore;

    @Option(names = "--until-before-gtid", paramLabel = "D-S-N", description = "Point in time, exclusive: restore every transaction before the one "
            + "with this GTID, which is left out (e.g. an accidental DROP).")
    String untilBeforeGtid;

    @Option(names = "--print-replica-sql", description = "Print on stdout only the statements that make a server started on the result a new replica "
            + "of the backup's source (SET GLOBAL gtid_slave_pos, CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos; user and password are placeholders); "
            + "the restore's report goes to stderr. Without --target: restore nothing, print them for the backup (--backup ID or the newest).")
    boolean printReplicaSql;

    @Option(names = "--progress", paramLabel = "auto|text|json|none", defaultValue = "auto",
            description = "Progress by stage on stderr: a table redrawn on a terminal, a line every 5 s otherwise (auto, text), one JSON object per line (json), or none.")
    String progressMode;

    @Option(names = "--replay", paramLabel = "pipe|applier|auto", description = "How a point-in-time restore replays the archived binlogs: "
            + "applier (the restored server's own replication applier, parallel workers), pipe (mariadb-binlog | mariadb), auto (default: the applier "
            + "below MariaDB 11.4, else the pipe).")
    String replay;

    @Option(names = "--owner", paramLabel = "USER[:GROUP]", description = "Give the restored directory to this user (and group; default: the user's "
            + "namesake group), as root. Without it the files belong to the user strata runs as. Directories are 0700, files 0640.")
    String owner;

    @Option(names = "--remap", paramLabel = "OLD=NEW", description = "Write the DATA DIRECTORY tables and partitions whose directory is OLD "
            + "(or below it) under NEW instead, and their .isl pointing there; repeatable, the first match wins. Without it they go back "
            + "to their own directories. Existing files or non-empty directories there are refused (exit 18).")
    List<String> remap = new java.util.ArrayList<>();

    @Option(names = "--server", description = "With --until*: the server (as \"strata list\" names it) when the repository holds several.")
    String server;

    @Option(names = "--innodb-data-home-dir", paramLabel = "DIR", description = "Put the system tablespace files (innodb_data_file_path) here "
            + "instead of where the source's layout says (default: as on the source when that was the data directory or a sub-folder of it, "
            + "else the target). Must be new or empty; the restored server must be started with the same option.")
    Path innodbDataHomeDir;

    @Option(names = "--innodb-log-group-home-dir", paramLabel = "DIR", description = "Write ib_logfile0 here (default: the source's "
            + "innodb_log_group_home_dir placed by the rule of --innodb-data-home-dir).")
    Path innodbLogGroupHomeDir;

    @Option(names = "--innodb-undo-directory", paramLabel = "DIR", description = "Put the undo tablespaces here (default: the source's "
            + "innodb_undo_directory placed by the rule of --innodb-data-home-dir).")
    Path innodbUndoDirectory;

    @Option(names = "--delta", description = "Rewrite the existing data directory --target of a stopped server into the backup's restore, "
            + "writing only the pages and files that differ and removing the files the backup does not hold; then crash recovery. "
            + "After a restore of the same backup into DIR, only what changed since is read (strata-restored.json, the redo logs).")
    boolean delta;

    @Option(names = "--full-compare", description = "With --delta: compare every file and page of the target with the backup's, even those "
            + "the record of the last restore into it (strata-restored.json) and its redo log show unchanged since. Use it after InnoDB files "
            + "or ib_logfile0 were changed by a program other than the server (dd, cp over them, innochecksum --write, an old log put back).")
    boolean fullCompare;

    @Option(names = "--debug-import-pause-ms", hidden = true, description = "Test hook: with --table, pause before each table's IMPORT TABLESPACE.")
    long debugImportPauseMs;

    @Mixin
    JsonMixin json = new JsonMixin();

    private final long started = System.nanoTime();

    @Override
    public Integer call() {
        ProgressRenderer renderer = ProgressRenderer.forStderr(ProgressRenderer.parse(progressMode));
        RestoreProgress progress = !tables.isEmpty() || importTables ? RestoreProgress.forTables(renderer)
                : delta ? RestoreProgress.forDelta(renderer) : new RestoreProgress(renderer);
        progress.start();
        String what = target == null ? "the table restore" : (delta ? "the delta restore into " : "the restore into ") + target.toAbsolutePath();
        String undone = delta && target != null ? "a target it had begun to rewrite is left marked unfinished (strata-restore-unfinished): run the delta restore again to finish it"
                : "what it wrote was undone";
        try (Cancellation cancel = Cancellation.install(what, undone, progress)) {
            int rc = restore(progress);
            progress.finish("completed", null);
            renderer.complete(lastResult);
            return rc;
        } catch (StrataException thrown) {
            StrataException e = Cancellation.explain(thrown);
            progress.finish("failed", e.getMessage());
            renderer.fail(JsonMixin.errorObject(e));
            throw e;
        } catch (RuntimeException | Error e) {
            if (Cancellation.requested() && Cancellation.causedByInterrupt(e)) {
                StrataException c = Cancellation.cancelled(e);
                progress.finish("failed", c.getMessage());
                renderer.fail(JsonMixin.errorObject(c));
                throw c;
            }
            progress.finish("failed", e.toString());
            renderer.fail(JsonMixin.errorObject(ErrorCode.BUG, "strata failed unexpectedly: " + e, "report this with the stderr output"));
            throw e;
        }
    }

    /** The result object of the restore (as --json prints it), for the end event of --progress=json. */
    private Map<String, Object> lastResult;

    private int restore(RestoreProgress progress) {
        if (printReplicaSql && json.json) {
            throw new StrataException(ErrorCode.USAGE, "--print-replica-sql prints SQL on stdout and --json a JSON document: choose one "
                    + "(the --json result holds the same position as binlogPosition and gtidBinlogPos)", null);
        }
        int threads = parallel != null ? parallel : Runtime.getRuntime().availableProcessors();
        int targets = (until != null ? 1 : 0) + (untilGtid != null ? 1 : 0) + (untilPosition != null ? 1 : 0)
                + (untilBefore != null ? 1 : 0) + (untilBeforeGtid != null ? 1 : 0);
        if (!tables.isEmpty() || importTables) {
            return RestoreTables.run(this, targets, threads, progress);
        }
        if (target == null) {
            if (printReplicaSql) {
                return replicaSqlOnly();
            }
            throw new StrataException(ErrorCode.USAGE, "restore needs --target DIR (a new or empty directory), or --table DB.TABLE --import", null);
        }
        TargetOwner to = owner == null ? null : TargetOwner.parse(owner);
        if (fullCompare && !delta) {
            throw new StrataException(ErrorCode.USAGE, "--full-compare is an option of --delta", "add --delta, or leave --full-compare out");
        }
        if (delta) {
            return delta(targets, threads, to, progress);
        }
        if (targets > 0) {
            if (innodbDataHomeDir != null || innodbLogGroupHomeDir != null || innodbUndoDirectory != null) {
                throw new StrataException(ErrorCode.USAGE, "--innodb-data-home-dir, --innodb-log-group-home-dir and --innodb-undo-directory "
                        + "cannot be combined with --until*: a point-in-time restore recreates the source's layout under --target", null);
            }
            if (mariadbdDefaultsFile != null) {
                throw new StrataException(ErrorCode.USAGE, "--mariadbd-defaults-file cannot be combined with --until*: a point-in-time restore"
                        + " runs its servers with the key management the backup recorded; restore without --until* to recover with that file,"
                        + " or put the key file where the backup's manifest says", null);
            }
            return pointInTime(targets, threads, to, progress);
        }
        if (replay != null) {
            throw new StrataException(ErrorCode.USAGE, "--replay needs --until, --until-gtid, --until-position, --until-before or --until-before-gtid: only a point-in-time restore replays binlogs", null);
        }
        if (noRecover && mariadbdDefaultsFile != null) {
            throw new StrataException(ErrorCode.USAGE, "--no-recover runs no MariaDB program: drop --mariadbd-defaults-file, "
                    + "or drop --no-recover to run crash recovery with it", null);
        }
        if (noRecover && (serverTools.mariadbd != null || serverTools.toolsDir != null)) {
            throw new StrataException(ErrorCode.USAGE, "--no-recover runs no MariaDB program: drop --mariadbd and --mariadb-tools, "
                    + "or drop --no-recover to run crash recovery with them", null);
        }
        var repository = repo.open(key);
        if (printReplicaSql) {
            ReplicaInfo.require(repository.manifest(RestoreRun.backupOrNewest(repository, backup))); // before anything is written
        }
        RestoreRun.Result r = RestoreRun.run(repository, new RestoreRun.Options(backup, target, !noRecover, threads,
                noRecover ? null : serverTools.tools(), mariadbdDefaultsFile,
                new RestoredLayout.Dirs(innodbDataHomeDir, innodbLogGroupHomeDir, innodbUndoDirectory), List.copyOf(remap)), progress);
        var m = r.manifest();
        PrintStream out = text();
        out.printf("restored backup %s into %s (%d files, %,d bytes)%s%n", m.id(), target.toAbsolutePath(), r.files(), r.bytes(),
                r.recovered() ? ", crash recovery done" : ", recovery left to the first start");
        if (m.binlogFile() != null) {
            out.printf("binlog position of this backup: %s:%d (gtid_binlog_pos %s); replay later changes from there%n",
                    m.binlogFile(), m.binlogPosition(), m.gtidBinlogPos());
        }
        RestoredLayout layout = r.layout();
        List<Path> outside = new java.util.ArrayList<>(r.outside());
        if (layout != null && layout.needsOptions(m)) {
            out.printf("start the restored server with these options: %s (also in %s)%n",
                    String.join(" ", layout.startArgs(m)), layout.target().resolve(RestoredLayout.OPTION_FILE));
            for (Path d : List.of(layout.dataHome(), layout.logHome(), layout.undoHome())) {
                if (!d.startsWith(layout.target()) && !outside.contains(d)) {
                    outside.add(d);
                }
            }
        }
        giveAway(to, outside);
        writeRecord(r.record());
        reportKeyDerivations();
        lastResult = result(m.id(), null, r, r.recovered(), m.binlogFile() == null ? null : m.binlogFile() + ":" + m.binlogPosition(), m.gtidBinlogPos());
        if (json.json) {
            JsonMixin.print(lastResult);
        }
        if (printReplicaSql) {
            printSql(ReplicaInfo.require(m));
        }
        return 0;
    }

    /**
     * The result object of {@code restore --json}: ok, backup, target (absolute), pointInTime (the
     * --until* target, or null), binlogPosition ("FILE:POS") and gtidBinlogPos of the restored
     * data, files, bytesWritten, recovered (crash recovery ran: always for a point in time, whose
     * replay runs the server), owner, durationSeconds, warnings (none yet), startOptions (the
     * mariadbd options the restored server must be started with: --datadir, the InnoDB directories
     * that are not the target and the source's InnoDB file settings; see RestoredLayout#startArgs).
     */
    private Map<String, Object> result(String backupId, Map<String, Object> pit, RestoreRun.Result r, boolean recovered, String binlogPosition,
            String gtid) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backup", backupId);
        m.put("target", target.toAbsolutePath().toString());
        m.put("pointInTime", pit);
        m.put("binlogPosition", binlogPosition);
        m.put("gtidBinlogPos", gtid);
        m.put("files", r == null ? null : r.files());
        m.put("bytesWritten", r == null ? null : r.bytes());
        m.put("recovered", recovered);
        m.put("owner", owner);
        m.put("durationSeconds", Math.round((System.nanoTime() - started) / 1e6) / 1000.0);
        m.put("warnings", List.of());
        m.put("startOptions", r == null || r.layout() == null ? null : r.layout().startArgs(r.manifest()));
        return JsonMixin.ok(m);
    }

    /** The point in time the --until* option given names (exactly one was given). */
    PitrTarget pitrTarget() {
        return until != null ? PitrTarget.time(until) : untilGtid != null ? PitrTarget.gtid(untilGtid)
                : untilBefore != null ? PitrTarget.beforeTime(untilBefore) : untilBeforeGtid != null ? PitrTarget.beforeGtid(untilBeforeGtid)
                : PitrTarget.position(untilPosition);
    }

    /** --replay as {@link ReplayOptions}: default workers, every table. */
    private ReplayOptions replayOptions() {
        return replay == null ? ReplayOptions.DEFAULT
                : new ReplayOptions(ReplayOptions.Mode.parse(replay), List.of(), ReplayOptions.DEFAULT.threads());
    }

    private int pointInTime(int targets, int threads, TargetOwner to, RestoreProgress progress) {
        if (targets > 1) {
            throw new StrataException(ErrorCode.USAGE, "name one point in time: --until, --until-gtid, --until-position, --until-before or --until-before-gtid", null);
        }
        if (backup != null || noRecover) {
            throw new StrataException(ErrorCode.USAGE, (backup != null ? "--backup" : "--no-recover")
                    + " cannot be combined with --until*: a point-in-time restore chooses the backup itself and must run the server to replay binlogs", null);
        }
        PitrTarget t = pitrTarget();
        PitrRun.Result r = PitrRun.run(repo.open(key), new PitrRun.Options(t, server, target, threads, serverTools.tools(), List.copyOf(remap), replayOptions()), progress);
        PrintStream out = text();
        out.printf("restored %s into %s: backup %s (%s) and %d transaction(s) from the archived binlogs %s to %s%n", t, target.toAbsolutePath(),
                r.backup().id(), r.backup().manifest().type(), r.transactions(), r.from(), r.to());
        out.printf("binlog position of the restored data: %s (gtid_binlog_pos of the source at that point: %s)%n", r.to(), r.gtidAtTarget());
        giveAway(to, r.restore() == null ? List.of() : r.restore().outside());
        reportKeyDerivations();
        Map<String, Object> pit = new LinkedHashMap<>();
        pit.put("target", t.toString());
        pit.put("transactions", r.transactions());
        pit.put("from", r.from() == null ? null : r.from().toString());
        lastResult = result(r.backup().id(), pit, r.restore(), true, r.to() == null ? null : r.to().toString(), r.gtidAtTarget());
        if (json.json) {
            JsonMixin.print(lastResult);
        }
        if (printReplicaSql) {
            printSql(ReplicaInfo.read(target));
        }
        return 0;
    }

    /** Where the human text goes: stderr with --json or --print-replica-sql (stdout carries their output), else stdout. */
    private PrintStream text() {
        return printReplicaSql ? System.err : json.text();
    }

    /** --print-replica-sql without --target: the statements for the backup itself, nothing restored. */
    private int replicaSqlOnly() {
        if (until != null || untilGtid != null || untilPosition != null || untilBefore != null || untilBeforeGtid != null) {
            throw new StrataException(ErrorCode.USAGE, "--print-replica-sql without --target prints the position of a backup: "
                    + "a point in time (--until*) is known only once it is restored; add --target", null);
        }
        var r = repo.open(key);
        printSql(ReplicaInfo.require(r.manifest(RestoreRun.backupOrNewest(r, backup))));
        return 0;
    }

    private static void printSql(ReplicaInfo info) {
        info.replicaSql().forEach(System.out::println);
        System.out.flush();
    }

    /** {@code restore --delta}: see {@link DeltaRestore}; the options it does not take yet are refused before anything is read. */
    private int delta(int targets, int threads, TargetOwner to, RestoreProgress progress) {
        if (targets > 0 || !remap.isEmpty() || innodbDataHomeDir != null || innodbLogGroupHomeDir != null || innodbUndoDirectory != null
                || mariadbdDefaultsFile != null || replay != null) {
            throw new StrataException(ErrorCode.USAGE, "--delta cannot be combined with --until*, --replay, --remap, --innodb-* directories or "
                    + "--mariadbd-defaults-file yet: it rewrites the target in the backup's own layout", null);
        }
        if (printReplicaSql) {
            throw new StrataException(ErrorCode.USAGE, "--delta cannot be combined with --print-replica-sql yet",
                    "the delta restore writes strata-replica.json into the target; print the statements with \"strata restore --print-replica-sql --backup ID\"");
        }
        DeltaRestore.Result r = DeltaRestore.run(repo.open(key), new DeltaRestore.Options(backup, target, !noRecover, threads,
                noRecover ? null : serverTools.tools(), fullCompare), progress);
        var m = r.manifest();
        PrintStream out = json.text();
        double pct = r.resultBytes() == 0 ? 0 : 100.0 * r.bytesWritten() / r.resultBytes();
        out.printf(Locale.ROOT, "delta-restored backup %s onto %s: wrote %,d of %,d bytes (%.2f%%), %d of %d files changed, %d removed%s%n",
                m.id(), target.toAbsolutePath(), r.bytesWritten(), r.resultBytes(), pct, r.filesWritten(), r.files(), r.filesRemoved(),
                r.recovered() ? ", crash recovery done" : ", recovery left to the first start");
        if (m.binlogFile() != null) {
            out.printf("binlog position of this backup: %s:%d (gtid_binlog_pos %s); replay later changes from there%n",
                    m.binlogFile(), m.binlogPosition(), m.gtidBinlogPos());
        }
        RestoredLayout layout = RestoredLayout.of(m, target.toAbsolutePath().normalize(), RestoredLayout.Dirs.NONE);
        if (layout.needsOptions(m)) { // as a plain restore says it (the option file is in the target either way)
            out.printf("start the restored server with these options: %s (also in %s)%n",
                    String.join(" ", layout.startArgs(m)), layout.target().resolve(RestoredLayout.OPTION_FILE));
        }
        giveAway(to, List.of());
        writeRecord(r.record());
        reportKeyDerivations();
        if (json.json) {
            RestoreRun.Result rr = new RestoreRun.Result(m, r.files(), r.bytesWritten(), r.recovered(), layout, List.of());
            Map<String, Object> res = result(m.id(), null, rr, r.recovered(), m.binlogFile() == null ? null : m.binlogFile() + ":" + m.binlogPosition(),
                    m.gtidBinlogPos());
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("bytesWritten", r.bytesWritten());
            d.put("resultBytes", r.resultBytes());
            d.put("ratio", r.resultBytes() == 0 ? 0.0 : (double) r.bytesWritten() / r.resultBytes());
            d.put("filesWritten", r.filesWritten());
            d.put("filesRemoved", r.filesRemoved());
            d.put("bytesDecoded", r.bytesDecoded());
            d.put("filesUnread", r.filesUnread());
            d.put("bytesRead", r.bytesRead());
            res.put("delta", d);
            JsonMixin.print(res);
        }
        return 0;
    }

    /** Writes the restore record once --owner is applied (a later restore --delta compares the files' attributes with it); a failure is a warning. */
    private static void writeRecord(io.strata.restore.RestoredState.Pending record) {
        String problem = record == null ? null : record.complete();
        if (problem != null) {
            System.err.println("WARNING: " + problem);
        }
    }

    /**
     * Applies --owner to the restored directory and to the directories written outside it (DATA
     * DIRECTORY files), or says whose it is and how to give it to the server's user.
     */
    private void giveAway(TargetOwner to, List<Path> outside) {
        if (to != null) {
            to.apply(target);
            outside.forEach(to::apply);
            text().println("the restored directory belongs to " + to.describe()
                    + (outside.isEmpty() ? "" : ", and so do " + outside.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", "))));
        } else {
            text().println("the restored directory belongs to " + System.getProperty("user.name") + "; before starting it with your own configuration, "
                    + "give it to the server's user: restore with --owner mysql, or chown -R mysql:mysql " + target.toAbsolutePath()
                    + outside.stream().map(p -> " " + p).collect(java.util.stream.Collectors.joining()));
        }
    }

    /**
     * The repository is opened once per command and its key derived then: a passphrase costs one
     * PBKDF2 run (about half a second), however many backups and binlogs the restore reads.
     */
    private static void reportKeyDerivations() {
        KeyParams.Derivations d = KeyParams.derivations();
        if (d.count() > 0) {
            System.err.printf(Locale.ROOT, "repository key derived from the passphrase %s (PBKDF2-HMAC-SHA256, %.2f s)%n",
                    d.count() == 1 ? "once" : d.count() + " times", d.seconds());
        }
    }
}
