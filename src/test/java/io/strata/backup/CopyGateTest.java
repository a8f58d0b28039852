package io.strata.backup;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The busy-host gate of the default --parallel ({@link CopyGate}) and the /proc figures it runs on ({@link HostCpu}). */
class CopyGateTest {

    @Test
    void permitsFollowTheCpusOthersLeaveIdle() {
        // a 2-CPU host, pool of 2 sized for 2 cores
        assertEquals(2, CopyGate.permits(2, 2, 2, 0.0));
        assertEquals(2, CopyGate.permits(2, 2, 2, 0.5)); // 1.5 of 2 free: rounds to 2
        assertEquals(1, CopyGate.permits(2, 2, 2, 0.6));
        assertEquals(1, CopyGate.permits(2, 2, 2, 2.0)); // never below one
        // the small-file pool of 8 on the same host
        assertEquals(8, CopyGate.permits(8, 2, 2, 0.0));
        assertEquals(4, CopyGate.permits(8, 2, 2, 1.0));
        assertEquals(1, CopyGate.permits(8, 2, 2, 2.0));
        // --parallel sized for 4 of 16 CPUs: others' load up to 12 CPUs takes nothing from it
        assertEquals(4, CopyGate.permits(4, 4, 16, 12.0));
        assertEquals(2, CopyGate.permits(4, 4, 16, 14.0));
    }

    @Test
    void othersAreTheHostsBusyTicksLessStratasOwn() {
        // 2 CPUs over 1 s: 200 ticks, 180 busy, 60 of them strata's: others kept 1.2 CPUs busy
        assertEquals(1.2, HostCpu.othersOver(200, 180, 60, 2), 1e-9);
        assertEquals(0.0, HostCpu.othersOver(200, 50, 60, 2), 1e-9); // tick rounding never goes below 0
        assertEquals(0.0, HostCpu.othersOver(0, 0, 0, 2), 1e-9);
        assertEquals(2.0, HostCpu.othersOver(100, 150, 0, 2), 1e-9); // nor above the CPUs
    }

    @Test
    void parsesProcStatAndProcSelfStat() {
        String stat = "cpu  100 5 40 800 50 3 2 0 7 0\ncpu0 50 2 20 400 25 1 1 0 3 0\ncpu1 50 3 20 400 25 2 1 0 4 0\nintr 1 2\n";
        long[] t = HostCpu.hostTicks(stat);
        assertEquals(1000, t[0]); // user..steal; guest is inside user
        assertEquals(150, t[1]); // less idle 800 and iowait 50
        // a command name with spaces and a ')' of its own
        String self = "4242 (java (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 37 11 0 0 20 0 30 0 123 456 789";
        assertEquals(48, HostCpu.selfTicks(self));
        assertThrows(IllegalArgumentException.class, () -> HostCpu.hostTicks("intr 1 2\n"));
    }

    @Test
    void theRealProcGivesFiguresWithinTheHostsCpus() throws Exception {
        HostCpu cpu = HostCpu.open();
        assertTrue(cpu != null && cpu.cpus() >= 1, "no /proc/stat");
        Thread.sleep(HostCpu.PERIOD_NANOS / 1_000_000 + 50);
        double o = cpu.othersBusy();
        assertTrue(o >= 0 && o <= cpu.cpus(), "others " + o);
    }

    /** Workers between two reads at once, the most seen, for a gate whose others' load is {@code others}. */
    private static int mostAtOnce(double others, int workers, int reads) throws Exception {
        CopyGate gate = new CopyGate(2, () -> others, workers, 2);
        AtomicInteger now = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                done.add(pool.submit(() -> {
                    go.await();
                    gate.enter();
                    try {
                        for (int i = 0; i < reads; i++) {
                            CopyGate.pass();
                            most.accumulateAndGet(now.incrementAndGet(), Math::max);
                            Thread.sleep(2);
                            now.decrementAndGet();
                        }
                    } finally {
                        gate.leave();
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS); // every worker finishes: a waiting one gets the permit a finished one gave back
            }
        } finally {
            pool.shutdownNow();
        }
        return most.get();
    }

    @Test
    void aBusyHostRunsOneWorkerAtATimeAndEveryTaskEnds() throws Exception {
        assertEquals(1, mostAtOnce(2.0, 2, 50));
        assertEquals(1, mostAtOnce(1.9, 8, 20));
    }

    @Test
    void anIdleHostRunsThemAll() throws Exception {
        assertEquals(2, mostAtOnce(0.0, 2, 100));
    }
}
