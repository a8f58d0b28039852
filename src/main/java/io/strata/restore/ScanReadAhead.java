package io.strata.restore;

import io.strata.repo.ChunkScan;
import io.strata.repo.ObjectFormat;
import io.strata.util.NioSlices;

import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Read-ahead for a delta restore's walk of one whole stored copy in page mode ({@link ChunkScan}
 * with named pages, {@link DeltaBasis#suspects}): the walk reads every chunk header (13 bytes per
 * MiB: the footer's digest covers them) and, in a chunk holding named pages, each of them from the
 * object and from the target, one read after the other, each a random read of a cold file (about
 * 0.1-0.2 ms). This issues the same reads ahead of the walk from a shared pool of
 * {@link #IO_THREADS} threads, so that the device serves dozens at once and the walk finds them in
 * the page cache; what they read is dropped. Measured: issue 19's bench, 4 GB, ~2,000 named pages
 * in 8 files.
 *
 * <p>Where the chunks lie is predicted from the first one: an object of chunks stored as they are
 * (no compressor, in the clear) of {@link ObjectFormat#CHUNK_SIZE} raw bytes has chunk {@code k}'s
 * stored bytes at {@code first + k × (13 + CHUNK_SIZE)}. The walk reports where each chunk really
 * is ({@link #at}); the first that is not where predicted (a compressed chunk) stops the read-ahead.
 * A wrong prediction only costs reads: nothing read ahead is used but through the page cache.
 *
 * <p>Reads ahead at most {@link #AHEAD_CHUNKS} chunks past the walk, with at most as many tasks
 * queued; a task whose chunk the walk reached first reads nothing. {@link #close} waits for the
 * reads in flight (none outlives the channels; none is interrupted, which would close a channel).
 */
final class ScanReadAhead implements AutoCloseable {
    static final int IO_THREADS = 32;
    static final int AHEAD_CHUNKS = 64;
    private static final long STRIDE = ObjectFormat.CHUNK_HEADER + (long) ObjectFormat.CHUNK_SIZE;

    /** Created on first use, shared by every file's read-ahead. */
    private static final class Pool {
        static final ExecutorService IO = pool();

        /** {@link #IO_THREADS} daemon threads that end after 30 s without work. */
        private static ExecutorService pool() {
            java.util.concurrent.ThreadPoolExecutor p = new java.util.concurrent.ThreadPoolExecutor(IO_THREADS, IO_THREADS, 30, java.util.concurrent.TimeUnit.SECONDS,
                    new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, "strata-delta-read-ahead");
                        t.setDaemon(true);
                        return t;
                    });
            p.allowCoreThreadTimeOut(true);
            return p;
        }
    }

    private final ChunkScan scan;
    private final FileChannel target;
    private final BitSet suspects;
    private final int ps;
    private final long chunks;
    private final ArrayDeque<Future<?>> inFlight = new ArrayDeque<>();
    /** File offset of chunk 0's stored bytes; -1 until the walk reached it. */
    private long first = -1;
    /** Chunks whose reads were issued are [1, submitted): chunk 0 is the walk's first read. */
    private long submitted = 1;
    /** The chunk the walk is on: a task for it or an earlier one reads nothing (the walk read it itself). */
    private volatile long walkAt;
    private boolean stopped;

    /**
     * @param scan     the walk's scan of the stored copy (positional reads are shared with it)
     * @param target   the target file, open for reading
     * @param suspects the named pages ({@code ps}-byte pages) whose bytes the walk reads on both sides
     * @param rawSize  raw bytes of the stored copy (its chunk count follows)
     */
    ScanReadAhead(ChunkScan scan, FileChannel target, BitSet suspects, int ps, long rawSize) {
        this.scan = scan;
        this.target = target;
        this.suspects = suspects;
        this.ps = ps;
        this.chunks = (rawSize + ObjectFormat.CHUNK_SIZE - 1) / ObjectFormat.CHUNK_SIZE;
    }

    /** A read-ahead for a walk in page mode, or null when there are no named pages (the walk then decodes what it reads). */
    static ScanReadAhead of(ChunkScan scan, FileChannel target, BitSet suspects, int ps, long rawSize) {
        return suspects == null || scan == null ? null : new ScanReadAhead(scan, target, suspects, ps, rawSize);
    }

    /**
     * The walk stopped on chunk {@code index} (after {@link ChunkScan#next()}): checks the
     * prediction and issues the reads of the chunks up to {@link #AHEAD_CHUNKS} past it.
     */
    void at(long index) {
        if (stopped) {
            return;
        }
        long pos = scan.storedPosition();
        if (index == 0) {
            if (!scan.storedAsIs() || scan.rawLength() != ObjectFormat.CHUNK_SIZE) {
                stopped = true;
                return;
            }
            first = pos;
        } else if (pos != first + index * STRIDE) {
            stopped = true; // chunks of other stored lengths: the rest of the prediction is wrong
            return;
        }
        walkAt = index;
        inFlight.removeIf(Future::isDone);
        while (submitted < chunks && submitted <= index + AHEAD_CHUNKS && inFlight.size() < AHEAD_CHUNKS) {
            long k = submitted++;
            inFlight.add(Pool.IO.submit(() -> readChunk(k)));
        }
    }

    /** The reads the walk makes for chunk {@code k} (see {@link #reads}), made and dropped. */
    private void readChunk(long k) {
        if (k <= walkAt) {
            return; // the pool was busy with other files' read-ahead: too late to help
        }
        for (long[] r : reads(k)) {
            if (r[0] == OBJECT) {
                scan.touch(r[1], (int) r[2]);
            } else {
                NioSlices.touch(target, r[1], (int) r[2]);
            }
        }
    }

    static final long OBJECT = 0;
    static final long TARGET = 1;

    /**
     * The reads the walk makes for chunk {@code k} once chunk 0 was seen: {which file
     * ({@link #OBJECT} or {@link #TARGET}), file offset, bytes}: the chunk's 13-byte header and,
     * for each named page in it, the stored page and the target's.
     */
    java.util.List<long[]> reads(long k) {
        java.util.List<long[]> out = new java.util.ArrayList<>();
        long stored = first + k * STRIDE;
        out.add(new long[] {OBJECT, stored - ObjectFormat.CHUNK_HEADER, ObjectFormat.CHUNK_HEADER});
        long from = k * ObjectFormat.CHUNK_SIZE;
        long to = from + ObjectFormat.CHUNK_SIZE;
        if (from / ps > Integer.MAX_VALUE) {
            return out;
        }
        for (int p = suspects.nextSetBit((int) (from / ps)); p >= 0 && (long) p * ps < to; p = suspects.nextSetBit(p + 1)) {
            long at = (long) p * ps;
            out.add(new long[] {OBJECT, stored + (at - from), ps});
            out.add(new long[] {TARGET, at, ps});
        }
        return out;
    }

    /** Chunks whose reads were issued so far (for tests). */
    long issued() {
        return submitted - 1;
    }

    /** Whether a chunk was not where predicted (or chunk 0 not stored as it is): nothing more is read ahead. */
    boolean stopped() {
        return stopped;
    }

    /** Drops the reads not started and waits for those running. */
    @Override
    public void close() {
        io.strata.util.Futures.cancelAndAwait(inFlight);
        inFlight.clear();
    }
}
