package io.strata.util;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Orders a command's last words before the JVM's exit when a signal (SIGINT, SIGTERM) stops a
 * long-running command that stops cleanly (strata track): the JVM exits with the signal's status
 * (130, 143) once its shutdown hooks have run, and a hook that waits in {@link #awaitReport} keeps
 * that exit back until the main thread has printed its outcome and closed what it holds (metrics
 * file, repository). The main thread then calls {@link #beforeExit} instead of racing the hook
 * with an exit status of its own: without that, either status could win (a tracker stopped by
 * SIGTERM exited 38, tracking-gap, once in a CI run, and 143 in others).
 */
public final class SignalExit {
    private static final CountDownLatch REPORTED = new CountDownLatch(1);
    private static volatile boolean signalled;

    private SignalExit() {}

    /**
     * Called first thing by a shutdown hook that a signal started, before it lets the main thread
     * go on: from then on {@link #beforeExit} waits for the JVM's exit.
     */
    public static void begin() {
        signalled = true;
    }

    /**
     * Called by that hook after {@link #begin}: returns once the main thread reached
     * {@link #beforeExit}, or after {@code seconds} (a main thread that hangs does not keep the
     * process alive).
     */
    public static void awaitReport(long seconds) {
        try {
            REPORTED.await(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Called by the main thread just before {@code System.exit}: when a hook waits in
     * {@link #awaitReport}, releases it and never returns, so that the JVM exits with the signal's
     * status; otherwise returns at once.
     */
    public static void beforeExit() {
        REPORTED.countDown(); // first: a hook that begins later must not wait for a report already made
        if (!signalled) {
            return;
        }
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE); // the JVM halts once the hooks have run
            } catch (InterruptedException ignored) {
                // keep waiting for the halt
            }
        }
    }
}
