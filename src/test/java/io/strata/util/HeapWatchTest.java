package io.strata.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeapWatchTest {
    /** One sample a second, {@code gcPerSecond} milliseconds of collections in each; the second at which the window first says exhausted, or -1. */
    private static int firstExhausted(int seconds, int gcPerSecond) {
        HeapWatch.Window w = new HeapWatch.Window(30, 0.9);
        long gc = 0;
        for (int t = 0; t <= seconds; t++) {
            if (w.add(1_000_000L + t * 1000L, gc)) {
                return t;
            }
            gc += gcPerSecond;
        }
        return -1;
    }

    @Test
    void backToBackCollectionsAreExhaustionOnceTheyFillTheWindow() {
        assertTrue(firstExhausted(120, 950) == 30, "950 ms of every second in collections: exhausted as soon as 30 s are seen");
        assertTrue(firstExhausted(120, 900) == 30, "exactly the share counts");
    }

    @Test
    void aBusyButWorkingHeapIsNot() {
        assertTrue(firstExhausted(600, 890) < 0, "just under the share, for ten minutes");
        assertTrue(firstExhausted(600, 400) < 0, "the incremental at 100,000 tables spent about 40% of its time collecting and completed");
    }

    @Test
    void onlyTheLastWindowCounts() {
        HeapWatch.Window w = new HeapWatch.Window(30, 0.9);
        long gc = 0;
        long t = 0;
        for (int i = 0; i < 100; i++) { // 100 s of a calm run
            assertFalse(w.add(t, gc));
            t += 1000;
            gc += 100;
        }
        int seconds = 0;
        boolean exhausted = false;
        while (!exhausted && seconds < 100) { // then collections back to back: the calm past does not dilute them
            t += 1000;
            gc += 1000;
            seconds++;
            exhausted = w.add(t, gc);
        }
        // 27 s of them and 3 calm seconds are 27.3 s of 30 in collections: 91%
        assertTrue(exhausted && seconds == 27, "exhausted after " + seconds + " s of back-to-back collections");
    }

    /** The watch's thread on a clock of its own: one second and 950 ms of collections per sample. */
    @Test
    void anExhaustedHeapIsReportedOnceAsOutOfMemory() throws Exception {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong gc = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.BlockingQueue<io.strata.error.StrataException> told = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.atomic.AtomicInteger samples = new java.util.concurrent.atomic.AtomicInteger();
        try (HeapWatch w = HeapWatch.start(() -> gc.getAndAdd(950), () -> {
            samples.incrementAndGet();
            return now.getAndAdd(1000);
        }, 0, 1, told::add)) {
            io.strata.error.StrataException e = told.poll(30, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(e != null, "reported");
            assertTrue(e.code() == io.strata.error.ErrorCode.OUT_OF_MEMORY, e.code().toString());
            assertTrue(e.getMessage().startsWith("strata ran out of its Java heap of ")
                    && e.getMessage().endsWith("(over 90% of the last 30 s spent collecting a full heap of " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB)"),
                    e.getMessage());
            assertTrue(e.hint().startsWith("run again with a lower --parallel, or give it more heap with STRATA_JAVA_OPTS="), e.hint());
            Thread.sleep(50);
            assertTrue(samples.get() == 31 && told.isEmpty(), "once, after 31 samples (30 s): " + samples.get());
        }
    }

    @Test
    void aLongGapBetweenSamplesIsMeasuredAsItsWallTime() {
        HeapWatch.Window w = new HeapWatch.Window(30, 0.9);
        assertFalse(w.add(0, 0));
        assertTrue(w.add(40_000, 39_000), "one 39 s stretch of collections in 40 s (the sampler itself stopped by them)");
        HeapWatch.Window calm = new HeapWatch.Window(30, 0.9);
        assertFalse(calm.add(0, 0));
        assertFalse(calm.add(40_000, 1_000));
    }
}
