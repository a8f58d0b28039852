package io.strata.util;

import java.util.Collection;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Helpers for tasks whose results are not needed any more. */
public final class Futures {
    private Futures() {}

    /**
     * Cancels the tasks not started ({@code cancel(false)}: a running one is never interrupted,
     * which would close a FileChannel it reads) and waits for those running, ignoring their
     * outcome. An interrupt while waiting is kept for the caller (the flag set again at the end).
     */
    /**
     * The result of {@code f}, waiting through interrupts (the flag is set again before returning).
     *
     * @throws ExecutionException the task failed
     */
    public static <T> T getUninterruptibly(Future<T> f) throws ExecutionException {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public static void cancelAndAwait(Collection<? extends Future<?>> tasks) {
        for (Future<?> f : tasks) {
            f.cancel(false);
        }
        boolean interrupted = false;
        for (Future<?> f : tasks) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (CancellationException | ExecutionException e) {
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
