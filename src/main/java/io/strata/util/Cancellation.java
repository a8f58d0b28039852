package io.strata.util;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.function.Consumer;

/**
 * A cancellation by SIGINT or SIGTERM of a command that must undo what it did (a restore, whose
 * target goes back to how it was found; a table import, whose half-made table is dropped).
 *
 * <p>{@link #install} puts {@link Signals} handlers in place for the length of the command. The
 * first signal records itself and, while the command is {@link #interruptible}, interrupts the
 * command's own thread (so that a wait for a child process or a sleep ends at once); the work sees
 * it at its next {@link #check()} (between files and chunks, while waiting for mariadbd, between
 * SQL statements) and fails with {@link ErrorCode#INTERRUPTED} (exit 130), which runs its ordinary
 * undo before strata exits. A second signal ends the JVM at once (exit 130); what it leaves is for
 * the restore's watcher.
 *
 * <p>A command stops being interruptible where an interrupt would do harm: a JDBC statement on a
 * unix socket (the driver's channel select returns at once for an interrupted thread, so the
 * statement would spin a core until it ends). There the signal waits for the next check.
 *
 * <p>One command runs per strata process, so the state is the process's.
 */
public final class Cancellation implements AutoCloseable {
    private static volatile String signal;
    private static volatile String what = "the command";
    private static volatile String outcome = "what it wrote was undone";
    private static volatile Thread worker;
    private static volatile boolean interruptible = true;

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
        interruptible = true;
        worker = Thread.currentThread();
        return new Cancellation(Signals.install(name -> {
            signal = name;
            say.accept("received " + name + ": cancelling " + command);
            synchronized (Cancellation.class) {
                if (interruptible) {
                    worker.interrupt();
                }
            }
        }));
    }

    /**
     * Whether a signal may interrupt the command's thread from now on (see the class comment); when
     * it may not, an interrupt a signal has already set is cleared (the signal itself stays recorded
     * for {@link #check()}).
     */
    public static void interruptible(boolean on) {
        synchronized (Cancellation.class) {
            interruptible = on;
            if (!on && signal != null && Thread.currentThread() == worker) {
                Thread.interrupted();
            }
        }
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

    /** As {@link #cancelled()}, with {@code cause}: the error the stop made the work fail with. */
    public static StrataException cancelled(Throwable cause) {
        return new StrataException(ErrorCode.INTERRUPTED, what + " was cancelled by " + signal + "; " + outcome, null, cause);
    }

    /**
     * {@code e}, or when a signal asked the command to stop and {@code e} is what the stop caused
     * (INTERRUPTED, or an error whose cause is an interrupt: a closed channel, an interrupted wait or
     * I/O, an aborted request), the cancellation error with {@code e} as its cause. An error of its
     * own (a damaged backup, a full disk) keeps its message and hint; one that already says it was
     * cancelled keeps its message, without a hint.
     */
    public static StrataException explain(StrataException e) {
        if (signal == null) {
            return e;
        }
        if (e.getMessage().startsWith(what + " was cancelled by ")) {
            // its message stands (it may name what was kept); a hint a wrapper added on the way out ("rerun once the cause is fixed") does not apply
            return e.hint() == null ? e : new StrataException(ErrorCode.INTERRUPTED, e.getMessage(), null, e);
        }
        if (e.code() != ErrorCode.INTERRUPTED && !causedByInterrupt(e)) {
            return e;
        }
        return cancelled(e);
    }

    /** Whether an interrupt is in {@code t}'s cause chain (the JDK's and the AWS SDK's kinds, by name for the latter). */
    public static boolean causedByInterrupt(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof InterruptedException || c instanceof java.nio.channels.ClosedByInterruptException
                    || c instanceof java.io.InterruptedIOException || c.getClass().getSimpleName().equals("AbortedException")) {
                return true;
            }
        }
        return false;
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
