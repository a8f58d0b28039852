package io.strata.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.strata.testing.MariaDbSandbox.BinlogPosition;

/**
 * Applies a source sandbox's binary log to another server:
 * {@code mariadb-binlog --start-position=P FILE LATER... | mariadb -S target}. This is how a
 * restored backup is brought up to the source's state: restore, start, replay from the binlog
 * position recorded in the backup, then compare {@link TableChecksums}.
 *
 * <p>The source must run with {@code logBin(true)}. If it is running, its binary log is flushed
 * (FLUSH BINARY LOGS) first, so every file to be read is closed and complete.
 */
public final class BinlogReplay {

    private static final long TIMEOUT_SECONDS = 600;

    private BinlogReplay() {}

    /** Replays from {@code binlogFile} at {@code position} through the end of the source's last binlog. */
    public static void replay(MariaDbSandbox source, String binlogFile, long position, Path targetSocket) {
        replay(source, new BinlogPosition(binlogFile, position), null, targetSocket);
    }

    /**
     * Replays from {@code from} up to {@code until} (exclusive; null = to the end of the last
     * binlog). Both positions must be event-group boundaries, such as SHOW MASTER STATUS gives.
     */
    public static void replay(MariaDbSandbox source, BinlogPosition from, BinlogPosition until, Path targetSocket) {
        replay(source, from, until, targetSocket, false);
    }

    /**
     * As {@link #replay(MariaDbSandbox, BinlogPosition, BinlogPosition, Path)}; with {@code force},
     * the client goes on past statements that fail ({@code mariadb --force}): a restored partial
     * backup lacks the left-out tables, whose events then fail and are skipped. The caller's
     * checksums still catch any event of a restored table that failed.
     */
    public static void replay(MariaDbSandbox source, BinlogPosition from, BinlogPosition until, Path targetSocket, boolean force) {
        if (source.isRunning()) {
            source.exec("FLUSH BINARY LOGS");
        }
        List<String> files = binlogFiles(source);
        int first = files.indexOf(from.file());
        if (first < 0) {
            throw new IllegalArgumentException("binlog " + from.file() + " is not in " + indexFile(source) + ": " + files);
        }
        int last = files.size() - 1;
        if (until != null) {
            last = files.indexOf(until.file());
            if (last < first) {
                throw new IllegalArgumentException("stop position " + until + " is not at or after " + from
                        + " in " + files);
            }
        }
        Path dir = source.binlogBasename().getParent();
        List<String> dump = new ArrayList<>(List.of(MariaDbSandbox.binary("mariadb-binlog"), "--no-defaults",
                "--start-position=" + from.position()));
        if (until != null) {
            // applies to the last file named on the command line
            dump.add("--stop-position=" + until.position());
        }
        for (String f : files.subList(first, last + 1)) {
            dump.add(dir.resolve(f).toString());
        }
        List<String> apply = new ArrayList<>(List.of(MariaDbSandbox.binary("mariadb"), "--no-defaults", "-S", targetSocket.toString(),
                "-uroot", "--binary-mode", "--max-allowed-packet=1G"));
        if (force) {
            apply.add("--force");
        }
        pipe(dump, apply, source.baseDir(), force);
    }

    /** The source's binlog file names, in index order (oldest first), read from its .index file. */
    public static List<String> binlogFiles(MariaDbSandbox source) {
        Path index = indexFile(source);
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(index, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(Path.of(line.trim()).getFileName().toString());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read binlog index " + index, e);
        }
    }

    private static Path indexFile(MariaDbSandbox source) {
        Path base = source.binlogBasename();
        return base.resolveSibling(base.getFileName() + ".index");
    }

    private static void pipe(List<String> producer, List<String> consumer, Path workDir, boolean force) {
        Path err1;
        Path err2;
        Path out2;
        try {
            err1 = Files.createTempFile(workDir, "replay-dump-", ".err");
            err2 = Files.createTempFile(workDir, "replay-apply-", ".err");
            out2 = Files.createTempFile(workDir, "replay-apply-", ".out");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create temp files in " + workDir, e);
        }
        List<Process> ps = List.of();
        try {
            ps = ProcessBuilder.startPipeline(List.of(
                    new ProcessBuilder(producer).redirectError(err1.toFile()),
                    new ProcessBuilder(consumer).redirectError(err2.toFile()).redirectOutput(out2.toFile())));
            boolean done = true;
            for (Process p : ps) {
                done &= p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            if (!done) {
                throw new IllegalStateException("binlog replay did not finish within " + TIMEOUT_SECONDS + " s: "
                        + String.join(" ", producer) + " | " + String.join(" ", consumer));
            }
            int rc1 = ps.get(0).exitValue();
            int rc2 = ps.get(1).exitValue();
            if (rc1 != 0 || (rc2 != 0 && !force)) {
                throw new IllegalStateException("binlog replay failed: mariadb-binlog exit " + rc1 + ", mariadb exit " + rc2
                        + "\n  " + String.join(" ", producer) + "\n  | " + String.join(" ", consumer)
                        + "\n--- mariadb-binlog stderr ---\n" + read(err1)
                        + "\n--- mariadb stderr ---\n" + read(err2));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + producer + " | " + consumer, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during binlog replay", e);
        } finally {
            ps.forEach(Process::destroyForcibly);
            for (Path p : List.of(err1, err2, out2)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the sandbox directory goes away with the sandbox
                }
            }
        }
    }

    private static String read(Path p) {
        try {
            String s = Files.readString(p, StandardCharsets.UTF_8);
            return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(cannot read " + p + ": " + e + ")";
        }
    }
}
