package io.strata.util;

import io.strata.error.StrataException;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.Consumer;

/**
 * Tells a run that its heap is exhausted long before the JVM would throw
 * {@link OutOfMemoryError}. The launcher runs strata with the serial collector, which has no
 * GC-overhead limit: a heap too small for the job (a backup of far more tables than it was sized
 * for) is collected in full again and again, each collection freeing a little, and a backup of
 * 100,000 tables in 185 MiB spent 262 s so before an allocation finally failed. This watch
 * samples the collectors' accumulated time ({@link GarbageCollectorMXBean#getCollectionTime},
 * milliseconds) once a second; when over the last {@link #WINDOW_SECONDS} seconds at least
 * {@link #GC_SHARE} of the wall-clock time went to collections, it hands the out-of-memory
 * error ({@link StrataException#outOfMemory}, exit 47) to {@code onExhausted}, once.
 */
public final class HeapWatch implements AutoCloseable {
    /** Seconds of history the share is taken over. */
    public static final int WINDOW_SECONDS = 30;
    /** The share of wall-clock time in collections (0..1) that counts as exhausted. */
    public static final double GC_SHARE = 0.9;

    /** Milliseconds after the start before the first sample. */
    static final long START_AFTER_MILLIS = 5000;

    private final Thread thread;
    private volatile boolean closed;

    private HeapWatch(Runnable body) {
        thread = new Thread(body, "strata-heap-watch");
        thread.setDaemon(true);
    }

    /** Starts watching this JVM's collectors; {@link #close} stops. */
    public static HeapWatch start(Consumer<StrataException> onExhausted) {
        return start(() -> {
            long ms = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                ms += Math.max(0, gc.getCollectionTime());
            }
            return ms;
        }, () -> System.nanoTime() / 1_000_000, START_AFTER_MILLIS, 1000, onExhausted);
    }

    /**
     * Starts watching {@code gcMillis} (the collections' accumulated time, milliseconds) against
     * {@code nowMillis} (a monotonic clock), one sample every {@code periodMillis} from
     * {@code startAfterMillis} on: the form {@link #start(Consumer)} gives the JVM's.
     */
    static HeapWatch start(java.util.function.LongSupplier gcMillis, java.util.function.LongSupplier nowMillis, long startAfterMillis,
                           long periodMillis, Consumer<StrataException> onExhausted) {
        HeapWatch[] self = new HeapWatch[1];
        HeapWatch w = new HeapWatch(() -> self[0].run(gcMillis, nowMillis, startAfterMillis, periodMillis, onExhausted));
        self[0] = w;
        w.thread.start();
        return w;
    }

    private void run(java.util.function.LongSupplier gcMillis, java.util.function.LongSupplier nowMillis, long startAfterMillis, long periodMillis,
                     Consumer<StrataException> onExhausted) {
        try {
            Thread.sleep(startAfterMillis); // a short run never loads the management classes
        } catch (InterruptedException e) {
            return;
        }
        Window window = new Window(WINDOW_SECONDS, GC_SHARE);
        while (!closed) {
            if (window.add(nowMillis.getAsLong(), gcMillis.getAsLong())) {
                long mib = Runtime.getRuntime().maxMemory() >> 20;
                onExhausted.accept(StrataException.outOfMemory(new OutOfMemoryError(
                        "over " + (int) (GC_SHARE * 100) + "% of the last " + WINDOW_SECONDS + " s spent collecting a full heap of " + mib + " MiB")));
                return;
            }
            try {
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }

    /**
     * The samples of the last {@code seconds} seconds: {@link #add} says whether the collections'
     * share of the wall-clock time between the oldest sample kept and the newest reached {@code share}.
     */
    static final class Window {
        private final long spanMillis;
        private final double share;
        private final java.util.ArrayDeque<long[]> samples = new java.util.ArrayDeque<>();

        Window(int seconds, double share) {
            this.spanMillis = seconds * 1000L;
            this.share = share;
        }

        /**
         * @param nowMillis a monotonic clock, milliseconds
         * @param gcMillis  the collections' accumulated time, milliseconds
         * @return true when the samples span at least the window and the collections took at least the share of it
         */
        boolean add(long nowMillis, long gcMillis) {
            samples.addLast(new long[] {nowMillis, gcMillis});
            while (samples.size() > 2) { // drop the oldest while the next one still spans the window
                java.util.Iterator<long[]> it = samples.iterator();
                it.next();
                if (nowMillis - it.next()[0] < spanMillis) {
                    break;
                }
                samples.removeFirst();
            }
            long[] first = samples.peekFirst();
            long wall = nowMillis - first[0];
            return wall >= spanMillis && gcMillis - first[1] >= share * wall;
        }
    }
}
