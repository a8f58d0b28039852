package io.strata.error;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** An OutOfMemoryError, thrown here or in a worker thread, becomes one out-of-memory error (exit 47). */
class OutOfMemoryTest {
    @Test
    void aWorkersOutOfMemoryErrorIsOneErrorNamingTheHeap() {
        long mib = Runtime.getRuntime().maxMemory() >> 20;
        RuntimeException wrapped = new RuntimeException(new ExecutionException(new OutOfMemoryError("Java heap space")));
        StrataException e = StrataException.outOfMemory(wrapped);
        assertEquals(ErrorCode.OUT_OF_MEMORY, e.code());
        assertEquals(47, e.code().exitCode());
        assertEquals("strata ran out of its Java heap of " + mib + " MiB (Java heap space)", e.getMessage());
        assertEquals("run again with a lower --parallel, or give it more heap with STRATA_JAVA_OPTS=\"-Xmx" + Math.max(256, 2 * mib) + "m\"", e.hint());
        assertEquals("ERROR [out-of-memory]: strata ran out of its Java heap of " + mib + " MiB (Java heap space)", e.render().lines().findFirst().orElseThrow());
    }

    @Test
    void aWorkersOutOfMemoryErrorReportedAsABugBecomesOutOfMemory() {
        // as FileCopier.runParallel, RestoreRun.writeFiles, DeltaRestore and FileSyncer wrap a worker's failure
        OutOfMemoryError cause = new OutOfMemoryError("Java heap space");
        StrataException bug = new StrataException(ErrorCode.BUG, "copy failed: " + cause, null, cause);
        StrataException e = StrataException.orOutOfMemory(bug);
        assertEquals(ErrorCode.OUT_OF_MEMORY, e.code());
        assertEquals("strata ran out of its Java heap of " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB (Java heap space)", e.getMessage());
        StrataException other = new StrataException(ErrorCode.BUG, "copy failed: x", null, new IllegalStateException("x"));
        assertEquals(other, StrataException.orOutOfMemory(other));
        StrataException notABug = new StrataException(ErrorCode.STORE_FAILED, "store", null, cause);
        assertEquals(notABug, StrataException.orOutOfMemory(notABug));
    }

    @Test
    void otherFailuresAreNotOutOfMemory() {
        assertNull(StrataException.outOfMemory(new IllegalStateException(new RuntimeException("x"))));
        assertNull(StrataException.outOfMemory(null));
    }
}
