package io.strata.util;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A copy thread lowers itself and nothing else: the ionice output that counts as already low, the
 * niceness field of a /proc stat line, a real worker thread of this JVM at the asked niceness while
 * the thread that made it keeps its own, and a shared-pool thread the worker starts kept as started.
 */
class WorkerPriorityTest {

    @AfterEach
    void unset() {
        WorkerPriority.set(-1);
    }

    @Test
    void ioniceOutputAtOrBelowBestEffort7IsLeftAlone() {
        assertTrue(WorkerPriority.alreadyLowIo("idle"));
        assertTrue(WorkerPriority.alreadyLowIo("idle\n"));
        assertTrue(WorkerPriority.alreadyLowIo("best-effort: prio 7"));
        assertFalse(WorkerPriority.alreadyLowIo("best-effort: prio 6"));
        assertFalse(WorkerPriority.alreadyLowIo("best-effort: prio 0"));
        // "none": the level follows the niceness; never taken as already low
        assertFalse(WorkerPriority.alreadyLowIo("none: prio 4"));
        assertFalse(WorkerPriority.alreadyLowIo("none: prio 7"));
        assertFalse(WorkerPriority.alreadyLowIo("realtime: prio 7"));
        assertFalse(WorkerPriority.alreadyLowIo("best-effort: prio x"));
        assertFalse(WorkerPriority.alreadyLowIo("ionice: ioprio_get failed: No such process"));
        assertFalse(WorkerPriority.alreadyLowIo(""));
    }

    @Test
    void niceIsField19AfterTheName() {
        // a command name with spaces and parentheses: the fields count from the last ')'
        String stat = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 30 10 23 0 123 456 789";
        assertEquals(10, WorkerPriority.niceOfStat(stat));
        assertEquals(-5, WorkerPriority.niceOfStat(stat.replace(" 30 10 23 ", " 25 -5 23 ")));
    }

    @Test
    void aWorkerLowersItselfOnly() throws Exception {
        Path self = Path.of("/proc/thread-self/stat");
        int before = WorkerPriority.niceOf(self);
        int asked = Math.max(before, 3) + 1; // above what this JVM runs at: a renice that did nothing fails
        WorkerPriority.set(asked);
        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = WorkerPriority.thread(() -> {
            try {
                WorkerPriority.ensureLowered();
                WorkerPriority.ensureLowered(); // once per thread: the second call does nothing
                String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
                seen.set(WorkerPriority.niceOf(self) + " " + ionice(tid));
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "strata-test-copy");
        assertTrue(t.isDaemon());
        t.start();
        t.join(30_000);
        assertEquals(null, failed.get());
        String io = seen.get().substring(seen.get().indexOf(' ') + 1);
        assertEquals(asked, Integer.parseInt(seen.get().substring(0, seen.get().indexOf(' '))));
        assertTrue(io.equals("best-effort: prio 7") || io.equals("idle"), io);
        assertEquals(before, WorkerPriority.niceOf(self), "the creating thread was lowered too");

        // unset: a new worker runs as started
        WorkerPriority.set(-1);
        AtomicReference<Integer> plain = new AtomicReference<>();
        Thread u = WorkerPriority.thread(() -> {
            WorkerPriority.ensureLowered();
            plain.set(WorkerPriority.niceOf(self));
        }, "strata-test-copy");
        u.start();
        u.join(30_000);
        assertEquals(before, plain.get());
    }

    @Test
    void aThreadStartedByALoweredWorkerAsStartedIsNotLowered() throws Exception {
        Path self = Path.of("/proc/thread-self/stat");
        int before = WorkerPriority.niceOf(self);
        int asked = Math.max(before, 3) + 1;
        WorkerPriority.set(asked);
        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread w = WorkerPriority.thread(() -> {
            try {
                WorkerPriority.ensureLowered();
                AtomicReference<Integer> child = new AtomicReference<>();
                AtomicReference<Integer> plainChild = new AtomicReference<>();
                Thread c = WorkerPriority.asStarted(() -> child.set(WorkerPriority.niceOf(self)), "strata-test-codec");
                c.start();
                c.join(30_000);
                // the contrast: a plain thread started by the worker takes its niceness
                Thread p = new Thread(() -> plainChild.set(WorkerPriority.niceOf(self)));
                p.start();
                p.join(30_000);
                seen.set(WorkerPriority.niceOf(self) + " " + child.get() + " " + plainChild.get() + " " + c.isDaemon());
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "strata-test-copy");
        w.start();
        w.join(30_000);
        assertEquals(null, failed.get());
        assertEquals(asked + " " + before + " " + asked + " true", seen.get());
    }

    @Test
    void workersAreBornLoweredByOneSpawnerThatRanTheToolsOnce() throws Exception {
        Path self = Path.of("/proc/thread-self/stat");
        int before = WorkerPriority.niceOf(self);
        int asked = Math.max(before, 5) + 2; // a niceness no other test asks: a spawner of its own
        WorkerPriority.set(asked);
        int runs = WorkerPriority.toolRuns();
        List<String> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        List<Thread> workers = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = WorkerPriority.thread(() -> {
                try {
                    WorkerPriority.ensureLowered();
                    String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
                    seen.add(WorkerPriority.niceOf(self) + " " + ionice(tid));
                } catch (Throwable e) {
                    seen.add(e.toString());
                }
            }, "strata-test-copy");
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) {
            t.join(30_000);
        }
        int used = WorkerPriority.toolRuns() - runs;
        assertEquals(java.util.Collections.nCopies(8, asked + " best-effort: prio 7"), seen);
        // renice, "ionice -p" and "ionice -c2 -n7" on the spawner: the same three for 8 workers as for one
        assertEquals(3, used);
        assertEquals(before, WorkerPriority.niceOf(self), "the creating thread was lowered too");
        WorkerPriority.set(-1);
    }

    @Test
    void theNicenessIsBounded() {
        assertThrows(IllegalArgumentException.class, () -> WorkerPriority.set(20));
        assertThrows(IllegalArgumentException.class, () -> WorkerPriority.set(-2));
    }

    @Test
    void aMissingToolIsPriorityUnavailable() {
        StrataException e = assertThrows(StrataException.class, () -> WorkerPriority.tool("strata-no-such-tool"));
        assertEquals(ErrorCode.PRIORITY_UNAVAILABLE, e.code());
        assertEquals("cannot lower the priority of strata's copy threads: strata-no-such-tool is not in /usr/bin nor on PATH", e.getMessage());
    }

    private static String ionice(String tid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(WorkerPriority.tool("ionice"), "-p", tid).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return out;
    }
}
