package io.strata.backup;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/** Stage-by-stage progress on stderr, like GreatSQL's clone_progress, with a periodic byte count. */
public final class Progress {
    private final PrintStream err;
    private final boolean quiet;
    final AtomicLong bytesDone = new AtomicLong();
    volatile long bytesEstimated;
    private volatile String stage = "init";
    private final long started = System.nanoTime();

    public Progress(PrintStream err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
    }

    void stage(String name, String detail) {
        stage = name;
        say("[" + name + "] " + detail);
    }

    void say(String line) {
        if (!quiet) {
            err.printf("%7.1fs %s%n", (System.nanoTime() - started) / 1e9, line);
        }
    }

    void tick(long redoLsn, long redoStart) {
        long done = bytesDone.get();
        long est = bytesEstimated;
        double secs = (System.nanoTime() - started) / 1e9;
        say(String.format("[%s] %,d of %,d MiB (%.0f%%), %.1f MiB/s; redo copied %,d MiB",
                stage, done >> 20, est >> 20, est == 0 ? 100.0 : 100.0 * done / est, secs == 0 ? 0 : (done / secs) / (1 << 20), (redoLsn - redoStart) >> 20));
    }
}
