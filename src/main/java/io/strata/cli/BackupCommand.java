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
import io.strata.server.ConnectionOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "backup", description = "Take a hot backup of a running server into a repository.")
final class BackupCommand implements Callable<Integer> {
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
            description = "Threads copying data files, and as many compressing and encrypting chunks, 1-256 (default: the number of cores).")
    Integer parallel;

    @Option(names = "--throttle", converter = Ranges.Positive.class,
            description = "Bound the read rate of data files on the server, in MB/s, above 0 (default: unbounded; the redo log copy is never throttled).")
    Double throttle;

    @Option(names = "--compress", paramLabel = "zstd[:LEVEL]|lz4|none",
            description = "Compress each 1 MiB chunk: zstd (level 1-19, default level " + Compression.ZSTD_DEFAULT_LEVEL + "), lz4, or none. "
                    + "A new repository records it as its default; without it a backup uses the repository's (none for a new one).")
    String compress;

    @Option(names = "--progress", paramLabel = "auto|text|json|none", defaultValue = "auto",
            description = "Progress on stderr: a table redrawn on a terminal, a line every 5 s otherwise (auto, text), one JSON object per line (json), or none.")
    String progressMode;

    @Option(names = "--quiet", description = "No progress on stderr (--progress=none).")
    boolean quiet;

    @Mixin
    KeyMixin key;

    @Option(names = "--debug-redo-delay-ms", hidden = true, description = "Test hook: stall the redo copier between reads.")
    long redoDelay;

    @Mixin
    ConnectionMixin conn;

    @Override
    public Integer call() {
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
        ProgressRenderer.Mode mode = switch (quiet ? "none" : progressMode) {
            case "auto" -> ProgressRenderer.Mode.AUTO;
            case "text" -> System.console() != null ? ProgressRenderer.Mode.TTY : ProgressRenderer.Mode.LINES;
            case "json" -> ProgressRenderer.Mode.JSON;
            case "none" -> ProgressRenderer.Mode.NONE;
            default -> throw new StrataException(ErrorCode.USAGE, "--progress must be auto, text, json or none, not " + progressMode, null);
        };
        int threads = parallel != null ? parallel : Runtime.getRuntime().availableProcessors();
        ConnectionOptions c = conn.resolve();
        BackupOptions o = new BackupOptions(backupType, BaseSpec.parse(base), startLsn, c, datadir, threads, throttle == null ? 0 : throttle, redoDelay,
                changeMethod, checkMethod);
        Repository r = repo.openOrCreate(key, compression, c, datadir, facts -> { });
        if (compression == null) {
            compression = r.defaultCompression();
            Compressors.load(compression);
        }
        r.setCompression(compression);
        BackupRun.Outcome out = BackupRun.run(r, o, new BackupProgress(ProgressRenderer.forStderr(mode)));
        Manifest m = out.manifest();
        long deltas = m.files().stream().filter(f -> f.isDelta()).count();
        long pages = m.files().stream().mapToLong(f -> f.deltaPages()).sum();
        System.out.printf("backup %s completed: %s%s, %d files%s, %,d bytes stored (%s%s), LSN %d..%d, binlog %s:%s, GTID %s%n",
                m.id(), m.type(), m.parent() == null ? "" : " on " + m.parent(), m.files().size(),
                m.threshold() == null ? "" : " (" + deltas + " as " + pages + " changed pages since LSN " + m.threshold() + ")",
                m.storedBytes(), m.storedBytes() == 0 ? "-" : String.format("compression ratio %.2f", (double) contentBytes(m) / m.storedBytes()),
                m.encryption() == null ? "" : ", encrypted",  m.startLsn(), m.endLsn(), m.binlogFile(), m.binlogPosition(), m.gtidBinlogPos());
        if (m.method() != null && m.detection() != null) {
            var d = m.detection();
            System.out.printf("changes found by %s: read %,d of %,d pages%s%s%n", m.method(), d.pagesRead(), d.pagesInFiles(),
                    d.redoBytesRead() > 0 ? String.format(", %,d bytes of redo log", d.redoBytesRead()) : "",
                    d.changeSetsRead() > 0 ? ", " + d.changeSetsRead() + " change sets" : "");
        }
        if (m.note() != null) {
            System.out.println("note: " + m.note());
        }
        for (String w : out.warnings()) {
            System.err.println("WARNING: " + w);
        }
        return out.warnings().isEmpty() ? 0 : 3;
    }

    /** Bytes the stored objects hold before compression: whole files, delta entries and the redo log. */
    static long contentBytes(Manifest m) {
        long n = m.redoEndLsn() - m.startLsn();
        for (var f : m.files()) {
            n += !f.isDelta() ? f.size() : DeltaFormat.length(f.deltaPages(), new TablespaceFlags(f.flags()).physicalPageSize());
        }
        return n;
    }
}
