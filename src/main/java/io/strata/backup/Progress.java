package io.strata.backup;

import java.io.PrintStream;

/**
 * Messages of {@link TrackRun} on stderr, one line each after the seconds since this was made.
 * Transitional: what is left of the progress renderer in this package (the renderer is
 * {@code cli.ProgressRenderer}, a backup's counters {@link BackupProgress}) until TrackRun takes a
 * {@code Consumer<String>}; then remove it.
 */
public final class Progress {
    private final PrintStream err;
    private final boolean quiet;
    private final long started = System.nanoTime();

    /** Prints on {@code err}; nothing when {@code quiet}. */
    public Progress(PrintStream err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
    }

    /** One message line. */
    void say(String line) {
        if (!quiet) {
            err.printf("%7.1fs %s%n", (System.nanoTime() - started) / 1e9, line);
        }
    }
}
