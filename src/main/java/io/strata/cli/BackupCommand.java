package io.strata.cli;

import io.strata.backup.BackupOptions;
import io.strata.backup.BackupProgress;
import io.strata.backup.BackupRun;
import io.strata.backup.BackupType;
import io.strata.backup.BaseSpec;
import io.strata.backup.ChangeMethod;
import io.strata.codec.Compression;
import io.strata.codec.Compressors;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.DeltaFormat;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.Scope;
import io.strata.server.ConnectionOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "backup", description = "Take a hot backup of a running server into a repository.")
final class BackupCommand implements Callable<Integer> {
    /**
     * --priority when none is given: as started. Lowering the copy threads now costs three
     * renice/ionice runs per backup (one spawner thread lowers itself and starts them all), but
     * low kept 0.93x of the TPS mariadb-backup kept against normal's 0.83x while taking 1.8x as
     * long under load (bench/results-server-impact.txt, 2026-12-04): no setting reached 1.0, and a
     * gain that one noisy run shows is no reason to slow every backup; low and idle are there for
     * the DBA who wants them.
     */
    static final Priority DEFAULT_PRIORITY = Priority.NORMAL;

    @Mixin
    RepoOptions repo;

    @Option(names = "--type", defaultValue = "auto",
            description = "full, incremental (pages changed since the last backup), differential (since the last full) or auto "
                    + "(a full when there is none yet, else incremental; default).")
    String type;

    @Option(names = "--base", description = "For incremental/differential: last, last-full or a backup id.")
    String base;

    @Option(names = "--start-lsn", description = "For incremental: store pages newer than this LSN of a base outside the repository.")
    Long startLsn;

    @Option(names = "--method", defaultValue = "auto",
            description = "How an incremental or differential finds changed pages: auto (default: the cheapest that can be used), "
                    + "full-scan (read every page), redo (the server's redo log since the parent began), tracked (change sets of "
                    + "\"strata track\"), optimistic (scan only files modified since the parent began).")
    String method;

    @Option(names = "--debug-check-method", hidden = true, description = "Test hook: also read every page and fail if the method missed one.")
    boolean checkMethod;

    @Option(names = "--datadir", description = "The server's data directory (default: @@datadir).")
    Path datadir;

    @Option(names = "--parallel", converter = Ranges.Threads.class,
            description = "Threads copying data files, and as many compressing and encrypting chunks, 1-256 (default: the number of cores, "
                    + "of which the copy runs only as many at once as other processes leave CPUs idle).")
    Integer parallel;

    @Option(names = "--throttle", converter = Ranges.Positive.class,
            description = "Bound the read rate of data files on the server, in MB/s, above 0 (default: unbounded; the redo log copy is never throttled).")
    Double throttle;

    @Option(names = "--priority", paramLabel = "normal|low|idle", converter = Priority.Converter.class,
            description = "CPU and I/O priority of the backup's data-file copy threads (never the redo copy, the backup locks or the server): "
                    + "low (niceness 10 and the lowest best-effort I/O level, so the server's threads come first), idle (niceness 19) "
                    + "or normal (default: as started).")
    Priority priority;

    @Option(names = "--compress", paramLabel = "zstd[:LEVEL]|lz4|none",
            description = "Compress each 1 MiB chunk: zstd (level 1-19, default level " + Compression.ZSTD_DEFAULT_LEVEL + "), lz4, or none. "
                    + "A new repository records it as its default; without it a backup uses the repository's (none for a new one).")
    String compress;

    @Option(names = "--progress", paramLabel = "auto|text|json|none", defaultValue = "auto",
            description = "Progress on stderr: a table redrawn on a terminal, a line every 5 s otherwise (auto, text), one JSON object per line (json), or none.")
    String progressMode;

    @Option(names = "--quiet", description = "No progress on stderr (--progress=none).")
    boolean quiet;

    @Option(names = "--lock-wait-timeout", paramLabel = "S", converter = Ranges.Positive.class,
            description = "Fail the backup (exit 44) when a BACKUP STAGE waits longer than S seconds for another connection's lock, "
                    + "naming that connection; the blocker is left alone (default: wait without end, a line every 2 s names the blocker).")
    Double lockWaitTimeout;

    @Mixin
    KeyMixin key;

    @Option(names = "--debug-redo-delay-ms", hidden = true, description = "Test hook: stall the redo copier between reads.")
    long redoDelay;

    @Mixin
    ConnectionMixin conn;

    // read by Fleet before this command is parsed; here for --help and the configuration file's keys
    @Option(names = "--all", description = "Back up every server of the configuration file (each section but [global]), each with its section's options.")
    boolean all;

    @Option(names = "--servers", paramLabel = "NAME[,NAME...]", description = "Back up these servers (sections) of the configuration file.")
    String servers;

    @Option(names = "--jobs", paramLabel = "N", description = "With --all or --servers: servers backed up at once, 1-64 (default 1).")
    Integer jobs;

    @Option(names = "--metrics-file", paramLabel = "PATH", description = "After the backup (completed or failed), write the repository's metrics "
            + "in the node_exporter textfile format (as strata check --metrics-file).")
    Path metricsFile;

    @Option(names = "--databases", paramLabel = "'DB[.TABLE] ...'", description = "Partial backup: only these databases and db.table names "
            + "(space-separated, as mariadb-backup's). The mysql schema, the system and undo tablespaces and the redo log are always stored.")
    String databases;

    @Option(names = "--databases-exclude", paramLabel = "'DB[.TABLE] ...'", description = "Partial backup: not these databases and db.table names; an exclusion wins.")
    String databasesExclude;

    @Option(names = "--tables", paramLabel = "REGEX[,REGEX...]", description = "Partial backup: only the tables whose db.table a regular expression matches.")
    String tables;

    @Option(names = "--tables-exclude", paramLabel = "REGEX[,REGEX...]", description = "Partial backup: not the tables whose db.table a regular expression matches; an exclusion wins.")
    String tablesExclude;

    @Mixin
    JsonMixin json = new JsonMixin();

    @Override
    public Integer call() {
        long started = System.nanoTime();
        if (Main.ownsProcess) {
            (priority == null ? DEFAULT_PRIORITY : priority).apply();
        }
        BackupType backupType = BackupType.parse(type);
        ChangeMethod changeMethod = ChangeMethod.parse(method);
        if (backupType == BackupType.FULL && changeMethod != ChangeMethod.AUTO) {
            throw new StrataException(ErrorCode.USAGE, "--method " + method + " goes with an incremental or differential backup, not --type full", null);
        }
        Compression compression = null;
        if (compress != null) {
            try {
                compression = Compression.parse(compress);
            } catch (IllegalArgumentException e) {
                throw new StrataException(ErrorCode.USAGE, "--compress: " + e.getMessage(), null);
            }
            Compressors.load(compression); // a compressor that cannot run fails the backup before anything is written
        }
        ProgressRenderer.Mode mode = ProgressRenderer.parse(quiet ? "none" : progressMode);
        ProgressRenderer renderer = ProgressRenderer.forStderr(mode);
        try {
            return run(compression, backupType, changeMethod, renderer, started);
        } catch (StrataException e) {
            renderer.fail(JsonMixin.errorObject(e));
            throw e;
        } catch (RuntimeException | Error e) {
            renderer.fail(JsonMixin.errorObject(ErrorCode.BUG, "strata failed unexpectedly: " + e, "report this with the stderr output"));
            throw e;
        }
    }

    private int run(Compression compression, BackupType backupType, ChangeMethod changeMethod, ProgressRenderer renderer, long started) {
        int threads = parallel != null ? parallel : 0; // 0: the cores, fewer while the host is busy (CopyGate)
        ConnectionOptions c = conn.resolve();
        BackupOptions o = new BackupOptions(backupType, BaseSpec.parse(base), startLsn, c, datadir, threads, throttle == null ? 0 : throttle, redoDelay,
                changeMethod, checkMethod, lockWaitTimeout == null ? 0 : (int) Math.ceil(lockWaitTimeout),
                Scope.parse(databases, databasesExclude, tables, tablesExclude));
        Repository r = repo.openOrCreate(key, compression, c, datadir,
                // PROCESS, which the tablespace scan needs: without it a first backup would fail after creating the repository
                (s, facts) -> s.queryRows("SELECT SPACE FROM information_schema.INNODB_SYS_TABLESPACES WHERE SPACE = 0"));
        if (compression == null) {
            compression = r.defaultCompression();
            Compressors.load(compression);
        }
        r.setCompression(compression);
        BackupRun.Outcome out;
        try {
            out = BackupRun.run(r, o, new BackupProgress(renderer));
        } catch (RuntimeException e) {
            Metrics.afterRun(r, metricsFile, e);
            throw e;
        }
        Metrics.afterRun(r, metricsFile, null);
        Manifest m = out.manifest();
        Map<String, Object> result = result(m, out.warnings(), (System.nanoTime() - started) / 1e9);
        renderer.complete(result);
        PrintStream text = json.text();
        long deltas = m.files().stream().filter(f -> f.isDelta()).count();
        long pages = m.files().stream().mapToLong(f -> f.deltaPages()).sum();
        long refs = m.files().stream().filter(f -> f.isReference()).count();
        text.printf("backup %s completed: %s%s, %d files%s, %,d bytes stored (%s%s), LSN %d..%d, %s%n",
                m.id(), m.type(), m.parent() == null ? "" : " on " + m.parent(), m.files().size(),
                (m.threshold() == null ? "" : " (" + deltas + " as " + pages + " changed pages since LSN " + m.threshold() + ")")
                        + (refs == 0 ? "" : " (" + refs + " unchanged, referring to earlier backups)"),
                m.storedBytes(), m.storedBytes() == 0 ? "-" : String.format("compression ratio %.2f", (double) contentBytes(m) / m.storedBytes()),
                m.encryption() == null ? "" : ", encrypted",  m.startLsn(), m.endLsn(),
                m.binlogFile() == null ? "binary log off (no binlog position)" : "binlog " + m.binlogFile() + ":" + m.binlogPosition() + ", GTID "
                        + (m.gtidBinlogPos() == null || m.gtidBinlogPos().isEmpty() ? "(none yet)" : m.gtidBinlogPos()));
        if (m.method() != null && m.detection() != null) {
            var d = m.detection();
            text.printf("changes found by %s: read %,d of %,d pages%s%s%n", m.method(), d.pagesRead(), d.pagesInFiles(),
                    d.redoBytesRead() > 0 ? String.format(", %,d bytes of redo log", d.redoBytesRead()) : "",
                    d.changeSetsRead() > 0 ? ", " + d.changeSetsRead() + " change sets" : "");
        }
        if (m.note() != null) {
            text.println("note: " + m.note());
        }
        for (String w : out.warnings()) {
            System.err.println("WARNING: " + w);
        }
        if (json.json) {
            JsonMixin.print(result);
        }
        return out.warnings().isEmpty() ? 0 : 3;
    }

    /**
     * The result object of a completed backup, as {@code backup --json} prints it and the end event
     * of {@code --progress=json} carries it: ok, id, type, parent, serverKey, LSNs, binlog position,
     * GTIDs, rawBytes, storedBytes (bytes), durationSeconds and the warnings (each also a WARNING line).
     */
    static Map<String, Object> result(Manifest m, List<String> warnings, double seconds) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("id", m.id());
        r.put("type", m.type());
        r.put("parent", m.parent());
        r.put("serverKey", m.source() == null ? null : m.source().serverKey());
        r.put("startLsn", m.startLsn());
        r.put("endLsn", m.endLsn());
        r.put("binlogFile", m.binlogFile());
        r.put("binlogPosition", m.binlogPosition());
        r.put("gtidBinlogPos", m.gtidBinlogPos());
        r.put("gtidCurrentPos", m.gtidCurrentPos());
        r.put("method", m.method());
        r.put("rawBytes", m.rawBytes());
        r.put("storedBytes", m.storedBytes());
        r.put("durationSeconds", Math.round(seconds * 1000) / 1000.0);
        r.put("warnings", List.copyOf(warnings));
        return JsonMixin.ok(r);
    }

    /** Bytes the stored objects hold before compression: whole files, delta entries and the redo log. */
    static long contentBytes(Manifest m) {
        long n = m.redoEndLsn() - m.startLsn();
        for (var f : m.files()) {
            if (f.isReference()) {
                continue; // another backup's object: nothing stored here
            }
            n += !f.isDelta() ? f.size() : DeltaFormat.length(f.deltaPages(), new TablespaceFlags(f.flags()).physicalPageSize());
        }
        return n;
    }
}
