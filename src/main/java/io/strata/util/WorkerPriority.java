package io.strata.util;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The CPU and I/O priority of a backup's bulk-copy worker threads (backup {@code --priority}),
 * and the code by which each such thread lowers itself.
 * <p>
 * The cli sets the niceness once, before the backup starts, and only when strata owns its JVM;
 * unset (the default, and for every command but backup), workers run as started. A worker made by
 * {@link #thread} lowers itself when it starts: it finds its own thread id as the last component
 * of the {@code /proc/thread-self} link ({@code PID/task/TID}), runs util-linux's {@code renice}
 * and {@code ionice} on that id alone (a JVM has no call for {@code setpriority} or
 * {@code ioprio_set}), and reads its niceness back from {@code /proc/thread-self/stat} (field 19),
 * so a tool that did nothing is an error. The tools are started from one launcher thread
 * ({@code strata-priority}) that is never lowered. Only these workers change: the thread that
 * created them, the redo copier, the launcher, the JDK's process reapers, GC and JIT threads keep
 * the priority strata was started with.
 * <p>
 * Nothing is ever raised: a thread already at a higher niceness keeps it, and one already in the
 * I/O idle class or at best-effort level 7 is not moved.
 * <p>
 * A failure is recorded for the thread and thrown by its tasks' {@link #ensureLowered()} call as a
 * {@link StrataException} with {@link ErrorCode#PRIORITY_UNAVAILABLE}.
 */
public final class WorkerPriority {

    /** The I/O priority given: best-effort (class 2) at its lowest level, 7. */
    public static final int IO_CLASS = 2;
    public static final int IO_LEVEL = 7;

    private static volatile int nice = -1;

    /** Per worker thread: null until it tried, then OK or the failure it met. */
    private static final ThreadLocal<Object> OUTCOME = new ThreadLocal<>();
    private static final Object OK = new Object();

    private WorkerPriority() {
    }

    /**
     * Sets the niceness later bulk-copy workers lower themselves to (0 to 19), or -1: leave them
     * as started.
     */
    public static void set(int niceness) {
        if (niceness < -1 || niceness > 19) {
            throw new IllegalArgumentException("niceness " + niceness);
        }
        nice = niceness;
    }

    /** The niceness set, or -1 when workers run as started. */
    public static int niceness() {
        return nice;
    }

    /**
     * A daemon thread named {@code name} that runs {@code r} lowered (when a niceness is set). It is
     * started by the spawner, a thread that lowered itself once (renice and ionice, three tool runs
     * in all): Linux gives a new thread its creator's niceness and I/O priority, so the worker is
     * born lowered and its {@link #ensureLowered()} only reads its niceness back from
     * {@code /proc/thread-self/stat}. Before, every worker ran the tools for itself, about three
     * processes per thread: 0.3 s of a 1 s incremental. A failure does not stop the thread: its
     * tasks' {@link #ensureLowered()} throws it.
     */
    public static Thread thread(Runnable r, String name) {
        Worker t = new Worker(() -> {
            try {
                ensureLowered();
            } catch (StrataException e) {
                // recorded: thrown by the first task's ensureLowered
            }
            r.run();
        }, name);
        t.setDaemon(true);
        return t;
    }

    /** A bulk-copy worker; {@code bornLowered} once the lowered spawner started it. */
    private static final class Worker extends Thread {
        private volatile boolean bornLowered;
        private volatile StrataException spawnerFailed;

        Worker(Runnable r, String name) {
            super(r, name);
        }

        @Override
        public void start() { // not synchronized: the spawner takes the lock in super.start()
            int n = nice;
            if (n < 0) {
                super.start();
                return;
            }
            startOn(spawner(n), () -> {
                Object o = OUTCOME.get();
                if (o == OK) {
                    bornLowered = true;
                } else if (o instanceof StrataException e) {
                    spawnerFailed = e;
                }
                super.start();
            }, getName());
        }
    }

    /**
     * Runs {@code start} (a thread's start) on {@code starter}'s thread and waits for it. Interrupted
     * before the start ran, it cancels it and throws INTERRUPTED (the thread never runs); once the
     * start runs it is waited for and the interrupt kept for the caller (a pool that shuts down
     * must not lose track of a thread that does start).
     */
    private static void startOn(ExecutorService starter, Runnable start, String name) {
        java.util.concurrent.Future<?> f = starter.submit(start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return;
                } catch (InterruptedException e) {
                    if (f.cancel(false)) {
                        interrupted = true;
                        throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while starting thread " + name, null);
                    }
                    interrupted = true; // already starting: wait for it
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The threads that start the {@link Worker}s, one per niceness asked (a process asks one; tests
     * running commands in one JVM may ask several): each lowers itself before its first.
     */
    private static final java.util.Map<Integer, ExecutorService> SPAWNERS = new java.util.HashMap<>();

    private static synchronized ExecutorService spawner(int niceness) {
        return SPAWNERS.computeIfAbsent(niceness, n -> Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(() -> {
                Object o; // once, with the tools; the outcome is handed to each worker it starts
                try {
                    lowerSelf(n);
                    o = OK;
                } catch (StrataException e) {
                    o = e;
                } catch (RuntimeException e) { // the pool's loop must run whatever happened: starts wait for it
                    o = unavailable("lowering the copy threads' starter failed: " + e);
                }
                OUTCOME.set(o);
                r.run();
            }, "strata-spawner");
            t.setDaemon(true);
            return t;
        }));
    }

    /**
     * A daemon thread named {@code name} that keeps the priority strata was started with even when
     * a lowered worker starts it. A new thread takes its starter's niceness and I/O priority, and
     * taking back a niceness needs privileges: so when the calling thread has been lowered, the
     * thread is started from the launcher thread instead. For pools that a lowered worker may grow
     * but that also serve the redo copy (compression and encryption, S3 uploads).
     */
    public static Thread asStarted(Runnable r, String name) {
        Thread t = new Thread(r, name) {
            @Override
            public void start() { // not synchronized: the launcher takes the lock in super.start()
                if (OUTCOME.get() == null) {
                    super.start();
                    return;
                }
                startOn(LAUNCHER, super::start, name);
            }
        };
        t.setDaemon(true);
        return t;
    }

    /**
     * Lowers the calling thread once (later calls only repeat the outcome); nothing when no
     * niceness is set. Called at the start of each bulk-copy task.
     *
     * @throws StrataException PRIORITY_UNAVAILABLE when renice or ionice is missing or fails, or
     *                         the thread is not at the asked niceness afterwards
     */
    public static void ensureLowered() {
        Object o = OUTCOME.get();
        if (o == null) {
            int n = nice;
            if (n < 0) {
                return;
            }
            try {
                if (Thread.currentThread() instanceof Worker w && w.spawnerFailed != null) {
                    throw w.spawnerFailed;
                }
                if (Thread.currentThread() instanceof Worker w && w.bornLowered) {
                    checkBornLowered(n);
                } else {
                    lowerSelf(n);
                }
                o = OK;
            } catch (StrataException e) {
                o = e;
            }
            OUTCOME.set(o);
        }
        if (o instanceof StrataException e) {
            throw new StrataException(e.code(), e.getMessage(), e.hint());
        }
    }

    /**
     * A worker the lowered spawner started: its niceness, read back, is at least {@code asked}
     * (its I/O priority came with it; reading that back would take an ionice run per thread).
     */
    private static void checkBornLowered(int asked) {
        Path stat = Path.of("/proc/thread-self/stat");
        int now = niceOf(stat);
        if (now < asked) {
            throw unavailable("copy thread " + Thread.currentThread().getName() + " of strata runs at niceness " + now
                    + " though the thread that started it was lowered to " + asked);
        }
    }

    private static void lowerSelf(int asked) {
        String tid;
        try {
            tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
        } catch (IOException | UnsupportedOperationException e) {
            throw unavailable("cannot find this thread's id in /proc/thread-self: " + e.getMessage());
        }
        Path stat = Path.of("/proc/thread-self/stat");
        int started = niceOf(stat);
        int target = Math.max(asked, started);
        if (started < target) {
            run(List.of(tool("renice"), "-n", Integer.toString(target), "-p", tid));
        }
        if (!alreadyLowIo(run(List.of(tool("ionice"), "-p", tid)))) {
            run(List.of(tool("ionice"), "-c" + IO_CLASS, "-n" + IO_LEVEL, "-p", tid));
        }
        int now = niceOf(stat);
        if (now < target) {
            throw unavailable("thread " + tid + " of strata still runs at niceness " + now + " after renice to " + target);
        }
    }

    /**
     * Whether {@code ionice -p}'s output shows an I/O priority at or below the one given: the idle
     * class, or best-effort at level 7 or above. "none" (derived from the niceness), realtime and
     * best-effort at 0 to 6 are higher; anything unrecognised is taken as higher, so it is set.
     */
    public static boolean alreadyLowIo(String ioniceOutput) {
        String s = ioniceOutput.strip();
        if (s.equals("idle")) {
            return true;
        }
        String prefix = "best-effort: prio ";
        if (s.startsWith(prefix)) {
            try {
                return Integer.parseInt(s.substring(prefix.length()).strip()) >= IO_LEVEL;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return false;
    }

    /**
     * The tool's absolute path under /usr/bin (util-linux's place), else the first PATH directory
     * holding it.
     *
     * @throws StrataException PRIORITY_UNAVAILABLE when neither has it
     */
    public static String tool(String name) {
        Path usr = Path.of("/usr/bin", name);
        if (Files.isExecutable(usr)) {
            return usr.toString();
        }
        String path = Environment.get("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name).toString();
                }
            }
        }
        throw unavailable(name + " is not in /usr/bin nor on PATH");
    }

    /** The niceness in a {@code /proc/.../stat} file (see {@link #niceOfStat}). */
    public static int niceOf(Path stat) {
        try {
            return niceOfStat(Files.readString(stat, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw unavailable("cannot read " + stat + ": " + e.getMessage());
        }
    }

    /**
     * Field 19 of a stat line, counted after the command name's closing parenthesis (the name may
     * hold spaces and parentheses).
     */
    public static int niceOfStat(String line) {
        String[] f = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
        return Integer.parseInt(f[19 - 3]);
    }

    /**
     * Runs a tool on the launcher thread and returns its output. Not on the worker itself: the JDK
     * waits for a child on a "process reaper" thread made by the thread that starts it, and a
     * thread takes its creator's priority; a reaper made by a worker while (or after) it is lowered
     * would stay lowered and serve later children of unlowered threads too. The launcher is made by
     * the first worker before it changes anything, so it and its reapers keep the priority strata
     * was started with.
     */
    private static String run(List<String> cmd) {
        try {
            return LAUNCHER.submit(() -> runHere(cmd)).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StrataException se) {
                throw se;
            }
            throw unavailable(cmd.get(0) + " failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while lowering a copy thread's priority", null);
        }
    }

    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "strata-priority");
        t.setDaemon(true);
        return t;
    });

    /** Tools run so far by this JVM (renice, ionice): the tests' measure of what lowering costs. */
    static int toolRuns() {
        return TOOL_RUNS.get();
    }

    private static final java.util.concurrent.atomic.AtomicInteger TOOL_RUNS = new java.util.concurrent.atomic.AtomicInteger();

    /** Runs a tool; returns its output (at most 16 KiB, stripped). */
    private static String runHere(List<String> cmd) {
        TOOL_RUNS.incrementAndGet();
        Process p;
        try {
            p = ChildProcesses.withoutSecrets(new ProcessBuilder(cmd)).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw unavailable("cannot run " + cmd.get(0) + ": " + e.getMessage());
        }
        try {
            p.getOutputStream().close();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(16 * 1024), StandardCharsets.UTF_8).strip();
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw unavailable(cmd.get(0) + " did not finish in 30 s");
            }
            if (p.exitValue() != 0) {
                throw unavailable(cmd.get(0) + " failed (exit " + p.exitValue() + "): " + out.lines().findFirst().orElse(""));
            }
            return out;
        } catch (IOException e) {
            throw unavailable(cmd.get(0) + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while lowering a copy thread's priority", null);
        }
    }

    /** The PRIORITY_UNAVAILABLE error for {@code what}. */
    public static StrataException unavailable(String what) {
        return new StrataException(ErrorCode.PRIORITY_UNAVAILABLE, "cannot lower the priority of strata's copy threads: " + what,
                "install util-linux (renice, ionice), or run with --priority normal (or priority = normal in the configuration file)");
    }
}
