package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.Compression;
import io.strata.util.WorkerPriority;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How the chunks of objects are encoded and decoded: the compression a writer applies, the
 * repository's cipher (null when it is not encrypted), and the shared pool of threads that
 * encode and decode chunks in parallel with the copy.
 *
 * <p>Memory stays bounded: each writer and reader keeps at most {@link #inFlight()} chunks in
 * the pool (about 2-3 MiB each), so a backup with N copy threads holds at most N × inFlight chunks.
 *
 * @param compression what writers compress with (readers follow each chunk's codec byte)
 * @param cipher      seals every chunk; also makes readers refuse objects that are not sealed
 */
public record ObjectCodec(Compression compression, ChunkCipher cipher) {
    public static final ObjectCodec PLAIN = new ObjectCodec(Compression.NONE, null);

    private static final Object POOL_LOCK = new Object();
    private static volatile int poolThreads = Runtime.getRuntime().availableProcessors();
    private static ExecutorService pool;

    public boolean sealed() { return cipher != null; }

    /** Whether chunks need work beyond a CRC, which is worth handing to the pool. */
    boolean encodes() { return cipher != null || !compression.isNone(); }

    public ObjectCodec withCompression(Compression c) {
        return new ObjectCodec(c, cipher);
    }

    /** Chunks one writer or reader may have in the pool at once. */
    int inFlight() {
        return Math.max(3, poolThreads + 1);
    }

    /** Sets the size of the shared encode/decode pool (--parallel); takes effect before its first use. */
    public static void setThreads(int threads) {
        synchronized (POOL_LOCK) {
            if (pool == null) {
                poolThreads = Math.max(1, threads);
            }
        }
    }

    static ExecutorService pool() {
        synchronized (POOL_LOCK) {
            if (pool == null) {
                AtomicInteger n = new AtomicInteger();
                // grown by copy threads as well as the redo copier: never lowered (backup --priority)
                pool = Executors.newFixedThreadPool(poolThreads, r -> WorkerPriority.asStarted(r, "strata-codec-" + n.incrementAndGet()));
            }
            return pool;
        }
    }
}
