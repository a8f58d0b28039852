package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.Cancellation;
import io.strata.util.Dirs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A mariadbd started by strata on a data directory: for crash recovery after a restore and for
 * the demo's throwaway servers. It listens only on a private unix socket (no networking), reads
 * no option files, and is stopped with SIGTERM, which is a clean shutdown for mariadbd.
 *
 * <p>The server never outlives strata. A JVM killed with SIGKILL runs no shutdown hook, so the
 * server is started through util-linux's {@code setpriv --pdeathsig KILL} (Essential in Debian,
 * so always in /usr/bin), which asks the kernel (PR_SET_PDEATHSIG) to kill the server when its
 * parent goes away and then execs mariadbd in place (the signal setting survives exec). The
 * kernel ties that signal to the parent <em>thread</em>, not the process: a server forked by a
 * short-lived worker thread would be killed when that thread ends. So every server is forked by
 * one daemon thread that lives as long as the JVM ({@link #LAUNCHER}).
 */
public final class MariadbProcess implements AutoCloseable {
    /** The one thread that forks servers; see the class comment for why it must outlive them. */
    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "strata-mariadbd-launcher");
        t.setDaemon(true);
        return t;
    });

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    /** A unix socket path is at most 107 bytes (sun_path is 108 with its NUL, sys/un.h); mariadbd refuses longer ones. */
    static final int MAX_SOCKET_PATH = 107;

    private final Process process;
    private final Path socket;
    private final Path errorLog;
    private final Path datadir;
    /** The private directory made for the socket when the run directory's path is too long for one; else null. */
    private final Path socketDir;

    private MariadbProcess(Process process, Path socket, Path socketDir, Path errorLog, Path datadir) {
        this.process = process;
        this.socket = socket;
        this.socketDir = socketDir;
        this.errorLog = errorLog;
        this.datadir = datadir;
    }

    /** Starts {@code mariadbd} (see {@link ServerTools}) and waits until it accepts connections or exits. */
    public static MariadbProcess start(Path mariadbd, Path datadir, Path runDir, List<String> extraArgs, Duration timeout) {
        return start(mariadbd, datadir, runDir, null, extraArgs, timeout);
    }

    /**
     * As {@link #start(Path, Path, Path, List, Duration)}, reading the option file {@code defaultsFile}
     * ({@code --defaults-file}: that file only) instead of none; the options strata passes still
     * win over it. Null: {@code --no-defaults}.
     */
    public static MariadbProcess start(Path mariadbd, Path datadir, Path runDir, Path defaultsFile, List<String> extraArgs, Duration timeout) {
        MariadbProcess started = null;
        try {
            Files.createDirectories(runDir);
            Path socket = socketPath(runDir);
            Path errorLog = runDir.resolve("mysqld.err");
            Files.deleteIfExists(errorLog);
            List<String> cmd = new ArrayList<>(parentDeathPrefix());
            cmd.add(mariadbd.toString());
            cmd.add(defaultsFile == null ? "--no-defaults" : "--defaults-file=" + defaultsFile.toAbsolutePath());
            if ("root".equals(System.getProperty("user.name"))) {
                cmd.add("--user=root");
            }
            cmd.add("--datadir=" + datadir.toAbsolutePath());
            cmd.add("--socket=" + socket);
            cmd.add("--skip-networking");
            cmd.add("--pid-file=" + runDir.resolve("mysqld.pid"));
            cmd.add("--log-error=" + errorLog);
            cmd.addAll(extraArgs);
            ProcessBuilder pb = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(io.strata.util.ChildProcesses.inOwnSession(cmd))).redirectErrorStream(true).redirectOutput(runDir.resolve("mysqld.out").toFile());
            Process p = fork(pb);
            MariadbProcess mp = new MariadbProcess(p, socket, socket.getParent().equals(runDir.toAbsolutePath()) ? null : socket.getParent(), errorLog, datadir);
            started = mp;
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                String log = mp.errorLogText();
                if (log.contains("ready for connections")) {
                    return mp;
                }
                if (!p.isAlive()) {
                    mp.close();
                    throw new StrataException(ErrorCode.RECOVERY_FAILED, mariadbd + " exited with code " + p.exitValue() + " while starting on " + datadir
                            + ":\n" + mp.errorTail(15), "see the server log " + errorLog);
                }
                if (Cancellation.requested()) {
                    mp.killAndWait();
                    throw Cancellation.cancelled();
                }
                Thread.sleep(20); // a recovery that finds little to do is ready within a few hundred ms: every 100 ms lost counts
            }
            p.destroyForcibly();
            mp.close();
            throw new StrataException(ErrorCode.RECOVERY_FAILED, mariadbd + " did not become ready within " + timeout.toSeconds() + " s on " + datadir
                    + ":\n" + mp.errorTail(15), "see the server log " + errorLog);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot start " + mariadbd + " on " + datadir + ": " + e.getMessage(), null, e);
        } catch (InterruptedException e) {
            if (started != null) {
                started.killAndWait(); // nothing may write to its data directory once strata gives up on it
            }
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while starting mariadbd", null, e);
        }
    }

    /** SIGKILL, and waits for the process to end even when this thread is interrupted (keeping the interrupt). */
    private void killAndWait() {
        boolean interrupted = Thread.interrupted();
        process.destroyForcibly();
        for (int i = 0; i < 600 && process.isAlive(); i++) {
            try {
                process.waitFor(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@code runDir/mysqld.sock} when that path fits in a unix socket address, else the socket in a
     * new 0700 directory under /tmp (Files.createTempDirectory's POSIX default), removed at {@link #close}.
     * The run directory may lie under a long target path or a long java.io.tmpdir.
     */
    static Path socketPath(Path runDir) throws IOException {
        Path s = runDir.toAbsolutePath().resolve("mysqld.sock");
        if (s.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH) {
            return s;
        }
        return Files.createTempDirectory(Path.of("/tmp"), "strata-sock-").resolve("mysqld.sock");
    }

    /** The prefix that makes the kernel kill the server when strata dies; empty where setpriv is missing. */
    static List<String> parentDeathPrefix() {
        return Files.isExecutable(SETPRIV) ? List.of(SETPRIV.toString(), "--pdeathsig", "KILL") : List.of();
    }

    /**
     * Starts {@code pb} from the {@link #LAUNCHER} thread. Interrupted while the launcher starts it,
     * waits for the start all the same and kills what it started: a server nobody stops would go on
     * writing into a directory its caller is about to put back.
     */
    private static Process fork(ProcessBuilder pb) throws IOException, InterruptedException {
        Cancellation.check();
        java.util.concurrent.Future<Process> started = LAUNCHER.submit(pb::start);
        try {
            return started.get();
        } catch (InterruptedException e) {
            try {
                Process orphan = io.strata.util.Futures.getUninterruptibly(started);
                orphan.destroyForcibly();
                Thread.interrupted(); // kept in e
                orphan.waitFor(60, TimeUnit.SECONDS);
            } catch (ExecutionException | RuntimeException | InterruptedException ignored) {
                // it did not start, or a second signal: the kernel's parent-death signal still ends it with strata
            }
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("cannot start " + pb.command(), e.getCause());
        }
    }

    public Path socket() { return socket; }

    public Path errorLog() { return errorLog; }

    public Path datadir() { return datadir; }

    public String errorLogText() {
        try {
            return Files.exists(errorLog) ? Files.readString(errorLog, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The lines of the server's log that it marked {@code [ERROR]}, in order. */
    public List<String> errorLines() {
        return errorLines(errorLogText());
    }

    /** The lines of a mariadbd log marked {@code [ERROR]} (after the timestamp and thread id), in order. */
    public static List<String> errorLines(String log) {
        return log.lines().filter(l -> l.contains(" [ERROR] ") || l.startsWith("[ERROR] ")).toList();
    }

    public String errorTail(int lines) {
        String[] all = errorLogText().split("\n");
        StringBuilder sb = new StringBuilder();
        for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
            sb.append("  ").append(all[i]).append('\n');
        }
        return sb.toString().stripTrailing();
    }

    /** Clean shutdown (SIGTERM); fails if the server does not stop cleanly within the timeout. */
    public void shutdown(Duration timeout) {
        try {
            process.destroy();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new StrataException(ErrorCode.RECOVERY_FAILED, "mariadbd did not shut down within " + timeout.toSeconds() + " s on " + datadir,
                        "see the server log " + errorLog);
            }
            if (process.exitValue() != 0 && !errorLogText().contains("Shutdown complete")) {
                throw new StrataException(ErrorCode.RECOVERY_FAILED, "mariadbd exited with code " + process.exitValue() + " at shutdown on " + datadir
                        + ":\n" + errorTail(15), "see the server log " + errorLog);
            }
        } catch (InterruptedException e) {
            killAndWait();
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while stopping mariadbd", null, e);
        }
    }

    /**
     * Stops the server at once (SIGKILL) and waits for it to end: it writes nothing more, not
     * even what a clean shutdown would (purge, flushing). For a scratch server whose files are
     * taken as they are at this moment and then thrown away.
     *
     * @throws StrataException INTERRUPTED when interrupted while waiting (the kill was sent);
     *                         RECOVERY_FAILED when it has not ended 60 s after the kill
     */
    public void kill() {
        try {
            if (!process.destroyForcibly().waitFor(60, TimeUnit.SECONDS)) {
                throw new StrataException(ErrorCode.RECOVERY_FAILED, "mariadbd (pid " + process.pid() + ") on " + datadir
                        + " did not end within 60 s of SIGKILL (stuck in I/O?)", "see the server log " + errorLog + " and the kernel log");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while stopping mariadbd", null, e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                killAndWait();
                Thread.currentThread().interrupt();
            }
        }
        if (socketDir != null && !process.isAlive()) {
            Dirs.deleteQuietly(socketDir, false);
        }
    }
}
