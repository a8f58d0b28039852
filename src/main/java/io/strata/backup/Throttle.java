package io.strata.backup;

/**
 * Bounds the read rate on the server shared by all copier threads (--throttle MB/s), and holds a
 * gated copy thread before its read while the host is busy ({@link CopyGate#pass()}).
 */
final class Throttle {
    private final double bytesPerNano;
    private long nextFree = System.nanoTime();

    Throttle(double mbPerSecond) {
        this.bytesPerNano = mbPerSecond <= 0 ? 0 : mbPerSecond * 1024 * 1024 / 1e9;
    }

    void acquire(long bytes) throws InterruptedException {
        CopyGate.pass();
        if (bytesPerNano == 0) {
            return;
        }
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            long start = Math.max(now, nextFree);
            nextFree = start + (long) (bytes / bytesPerNano);
            wait = start - now;
        }
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
