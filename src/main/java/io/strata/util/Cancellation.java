package io.strata.util;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.function.Consumer;

/**
 * A cancellation by SIGINT or SIGTERM of a command that must undo what it did (a restore, whose
 * target goes back to how it was found; a table import, whose half-made table is dropped).
 *
 * <p>{@link #install} puts {@link Signals} handlers in place for the length of the command. The
 * first signal only records itself and interrupts the command's own thread (so that a wait for a
 * child process or a sleep ends at once); the work sees it at its next {@link #check()} (between
 * files and chunks, while waiting for mariadbd, between SQL statements) and fails with
 * {@link ErrorCode#INTERRUPTED} (exit 130), which runs its ordinary undo before strata exits. A
 * second signal ends the JVM at once (exit 130); what it leaves is for the restore's watcher.
 *
 * <p>One command runs per strata process, so the state is the process's.
 */
public final class Cancellation implements AutoCloseable {
    private static volatile String signal;
    private static volatile String what = "the command";
    private static volatile String outcome = "what it wrote was undone";

    private final Signals signals;

    private Cancellation(Signals signals) {
        this.signals = signals;
    }

    /**
     * Installs the handlers for the command {@code command} (as it is named in the error: "the
     * restore into /srv/x"), whose undo leaves things as {@code undone} says ("what it wrote was
     * undone"); {@code say} announces the first signal.
     */
    public static Cancellation install(String command, String undone, Consumer<String> say) {
        what = command;
        outcome = undone;
        signal = null;
        Thread worker = Thread.currentThread();
        return new Cancellation(Signals.install(name -> {
            signal = name;
            say.accept("received " + name + ": cancelling " + command);
            worker.interrupt();
        }));
    }

    /** Whether a signal asked the command to stop. */
    public static boolean requested() {
        return signal != null;
    }

    /**
     * Throws when a signal asked the command to stop.
     *
     * @throws StrataException INTERRUPTED "... cancelled by SIGTERM"
     */
    public static void check() {
        if (signal != null) {
            throw cancelled();
        }
    }

    /** The error of a cancelled command (INTERRUPTED): what was cancelled and by which signal. */
    public static StrataException cancelled() {
        return cancelled(null);
    }

    private static StrataException cancelled(Throwable cause) {
        return new StrataException(ErrorCode.INTERRUPTED, what + " was cancelled by " + signal + "; " + outcome, null, cause);
    }

    /**
     * {@code e}, or when a signal asked the command to stop, the cancellation error with {@code e}
     * as its cause: a wait or write the signal interrupted fails with its own message (a closed
     * channel, an interrupted wait), which is not what the user did.
     */
    public static StrataException explain(StrataException e) {
        if (signal == null || e.getMessage().equals(cancelled().getMessage())) {
            return e;
        }
        return cancelled(e);
    }

    /** Clears the interrupt the signal set, so that the undo that follows can wait for processes and write files. */
    public static void clearInterrupt() {
        if (signal != null) {
            Thread.interrupted();
        }
    }

    @Override
    public void close() {
        signals.restore();
    }
}
