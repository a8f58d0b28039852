package io.strata.backup;

/**
 * Holds a pool of copy threads to the CPUs other processes leave idle, for a backup whose
 * {@code --parallel} was not given (its default: as many threads as cores, fewer while the host is
 * busy).
 * <p>
 * A pool of {@code threads} workers, sized for {@code cores} CPUs, may run
 * {@link #permits(int, int, int, double) permits} of them at once: the share of {@code cores} that
 * the others' load ({@link HostCpu}) leaves free, times the pool's size, rounded, and at least
 * one. On an idle host that is the whole pool; on a 2-CPU host whose server and clients keep both
 * CPUs busy, one. A worker takes a permit at its first read and gives it back when its task (a
 * file) ends, or at a later read when the permits fell below the workers holding one; a worker
 * without a permit waits before its next read (checking again at least every 0.1 s). So a file
 * copy pauses between reads, never holding anything the server waits on, and a pool never stalls:
 * one worker always runs.
 * <p>
 * Why: on a busy server every CPU a backup's copy threads take is one the server's threads wait
 * for. mariadb-backup copies with one thread by default; strata copies with all cores, which on an
 * idle host is faster, and on a busy one cut the transactions the server ran during the backup
 * (bench/server-impact.sh: a 2-CPU host under sysbench kept 0.75x of the throughput mariadb-backup
 * let it keep, 1.12x with --parallel 1).
 * <p>
 * Workers enter with {@link #enter()} and leave with {@link #leave()} around each task; reads
 * call {@link #pass()} ({@link Throttle#acquire}), which does nothing on any other thread.
 */
final class CopyGate {

    private static final ThreadLocal<Holder> CURRENT = new ThreadLocal<>();

    private final int cpus;
    private final java.util.function.DoubleSupplier othersBusy;
    private final int threads;
    private final int cores;
    private int running;

    /** A worker's place at its gate: whether it holds a permit. */
    private static final class Holder {
        final CopyGate gate;
        boolean holds;

        Holder(CopyGate gate) {
            this.gate = gate;
        }
    }

    /** A gate following the host's load as {@code cpu} samples it. */
    CopyGate(HostCpu cpu, int threads, int cores) {
        this(cpu.cpus(), cpu::othersBusy, threads, cores);
    }

    /**
     * @param cpus       the host's CPUs
     * @param othersBusy the CPUs' worth other processes keep busy now (0 to cpus); asked at each read
     * @param threads    the pool's workers, 1 or more
     * @param cores      the CPUs the default --parallel is sized for
     */
    CopyGate(int cpus, java.util.function.DoubleSupplier othersBusy, int threads, int cores) {
        this.cpus = cpus;
        this.othersBusy = othersBusy;
        this.threads = threads;
        this.cores = Math.max(1, cores);
    }

    /**
     * The workers of a pool of {@code threads} (sized for {@code cores} CPUs) that may run at once
     * while other processes keep {@code othersBusy} of the host's {@code cpus} busy: 1 to threads.
     */
    static int permits(int threads, int cores, int cpus, double othersBusy) {
        double free = Math.max(0, Math.min(cores, cpus - othersBusy));
        long p = (long) Math.floor(threads * free / cores + 0.5);
        return (int) Math.max(1, Math.min(threads, p));
    }

    /** The current thread runs a task of this gate's pool from now on. */
    void enter() {
        CURRENT.set(new Holder(this));
    }

    /** The current thread's task ended: its permit, if it held one, is given back. */
    void leave() {
        Holder h = CURRENT.get();
        CURRENT.remove();
        if (h != null && h.holds) {
            synchronized (this) {
                running--;
                notifyAll();
            }
        }
    }

    /**
     * Called before each read of a copy: on a gated worker, waits until it may run; elsewhere
     * returns at once.
     *
     * @throws InterruptedException when the worker is interrupted while waiting (the copy was cancelled)
     */
    static void pass() throws InterruptedException {
        Holder h = CURRENT.get();
        if (h != null) {
            h.gate.pass(h);
        }
    }

    private synchronized void pass(Holder h) throws InterruptedException {
        int p = permits();
        if (h.holds) {
            if (running <= p) {
                return;
            }
            running--;
            h.holds = false;
            notifyAll();
        }
        while (running >= permits()) {
            wait(100);
        }
        running++;
        h.holds = true;
    }

    private int permits() {
        return permits(threads, cores, cpus, othersBusy.getAsDouble());
    }
}
