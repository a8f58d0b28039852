package io.strata.backup;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.FilHeader;
import io.strata.innodb.FspHeader;
import io.strata.innodb.PageChecker;
import io.strata.innodb.PageVerdict;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.DeltaFormat;
import io.strata.util.WorkerPriority;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Copies one InnoDB file page by page while the server writes it. Every page is checked
 * (checksum, page number, header/trailer LSN); a page that fails is re-read, because a torn
 * read of a page being written is expected in a hot copy, and the redo log repairs whatever was
 * written after C. A page that still fails after {@link #REREADS} reads is real corruption.
 * The file is copied up to the size seen when the copy starts: pages added later are rebuilt
 * by recovery from the log.
 *
 * <p>With a threshold (incremental and differential backups) only pages whose FIL_PAGE_LSN is
 * above it are written, as the entries of a {@link DeltaFormat delta}. The doublewrite area of
 * the system tablespace is always written: its pages belong to other tablespaces and their LSNs
 * say nothing about it.
 *
 * <p>A change-detection method that names the changed pages (redo, tracked) makes the copier read
 * only those pages, in runs of consecutive pages of up to 1 MiB; the checks and the LSN filter
 * are the same.
 */
final class PageCopier {
    static final int REREADS = 10;
    private static final int BATCH_BYTES = 1 << 20;

    private final Throttle throttle;
    private final Runnable healthCheck;
    private final java.util.function.LongConsumer bytesRead;

    /**
     * @param healthCheck run before every batch; throws to stop the copy (redo copier failed, backup cancelled)
     * @param bytesRead   told the size of every batch read, for the progress display
     */
    PageCopier(Throttle throttle, Runnable healthCheck, java.util.function.LongConsumer bytesRead) {
        this.throttle = throttle;
        this.healthCheck = healthCheck;
        this.bytesRead = bytesRead;
    }

    /**
     * @param bytes      size of the file copied (pages × page size)
     * @param pages      pages in the file
     * @param deltaPages pages written in delta mode
     * @param pagesRead  pages read from the source file
     * @param misses     debug check only: pages outside the selection whose FIL_PAGE_LSN lies between
     *                   the threshold and the check's limit, as "page N (LSN L)"
     * @param page0Space the space id (FSP header) of the page 0 read; -1 when page 0 was not read or its
     *                   first 64 bytes were zero (created, not yet flushed)
     */
    record Result(long bytes, long pages, long deltaPages, long rereads, boolean vanished, long pagesRead, List<String> misses, long page0Space) {}

    /** Copies the whole file, or with {@code threshold >= 0} only the pages newer than it. */
    Result copy(Tablespace ts, OutputStream out, long threshold) throws IOException, InterruptedException {
        return copy(ts, out, threshold, null, 0);
    }

    /**
     * Copies a file as {@link #copy(Tablespace, OutputStream, long)} does, but with {@code only}
     * (ascending page numbers, delta mode) reads just those pages, plus the doublewrite area of the
     * system tablespace. Each page read is checked and filtered by LSN as in a scan.
     *
     * @param checkBelow debug check of a change-detection method: when above 0, every other page is
     *                   read too, and one whose FIL_PAGE_LSN is above the threshold and below this LSN
     *                   (changed before the backup's checkpoint, so the method should have named it)
     *                   is reported in {@link Result#misses()}
     */
    Result copy(Tablespace ts, OutputStream out, long threshold, int[] only, long checkBelow) throws IOException, InterruptedException {
        if (only != null && threshold < 0) {
            throw new IllegalArgumentException("a page selection needs a threshold (delta mode)");
        }
        TablespaceFlags flags = new TablespaceFlags(ts.flags());
        int ps = flags.physicalPageSize();
        FileChannel ch;
        try {
            ch = FileChannel.open(ts.file(), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return new Result(0, 0, 0, 0, true, 0, List.of(), -1);
        }
        try (ch) {
            long pages = ch.size() / ps;
            int perBatch = Math.max(1, BATCH_BYTES / ps);
            BitSet selected = null;
            if (only != null) {
                selected = new BitSet();
                for (int p : only) {
                    selected.set(p);
                }
                if (ts.spaceId() == 0) {
                    for (long p = 0; p < Math.min(pages, 3 * FspHeader.extentPages(ps)); p++) {
                        if (PageChecker.isDoublewrite(0, ts.firstPage() + p, ps)) {
                            selected.set((int) p);
                        }
                    }
                }
            }
            boolean readAll = selected == null || checkBelow > 0;
            // a small file gets a buffer of its own size, not a whole batch (most of 5,000 tables are a few pages)
            byte[] buf = readAll ? new byte[(int) Math.max(1, Math.min(perBatch, pages)) * ps] : null;
            long rereads = 0;
            long read = 0;
            List<String> misses = new ArrayList<>();
            DeltaFormat.Writer delta = threshold >= 0 ? new DeltaFormat.Writer(out, ps) : null;
            ReadAhead ahead = readAll ? null : new ReadAhead(ch, new Runs(selected, pages, perBatch), ps, throttle);
            // whole files are read past the page cache, as the server and mariadb-backup read them (DirectReads)
            io.strata.util.DirectReads direct = readAll ? io.strata.util.DirectReads.open(ts.file()) : null;
            long first = 0;
            long page0Space = -1;
            try {
                while (ahead == null ? first < pages : ahead.hasNext()) {
                    healthCheck.run();
                    int n;
                    boolean reread = false;
                    if (ahead == null) {
                        n = (int) Math.min(perBatch, pages - first);
                        throttle.acquire((long) n * ps);
                        int d = direct == null ? 0 : direct.read(buf, 0, n * ps, first * ps);
                        if (d < n * ps) {
                            read(ch, buf, d, n * ps - d, first * ps + d);
                        }
                    } else {
                        ReadAhead.Run run = ahead.next();
                        first = run.first();
                        n = run.pages();
                        buf = run.bytes();
                    }
                    bytesRead.accept((long) n * ps);
                    read += n;
                    if (first == 0 && n > 0 && ts.firstPage() == 0 && !TablespaceScanner.isZero(buf, 64)) {
                        page0Space = Integer.toUnsignedLong(FspHeader.read(buf, 0).spaceId());
                    }
                    for (int i = 0; i < n; i++) {
                        long pageNo = first + i;
                        int off = i * ps;
                        if (selected != null && !selected.get((int) pageNo)) {
                            long lsn = FilHeader.pageLsn(buf, off);
                            if (lsn > threshold && lsn < checkBelow) {
                                misses.add("page " + pageNo + " (LSN " + lsn + ")");
                            }
                            continue;
                        }
                        if (ts.spaceId() == 0 && PageChecker.isDoublewrite(0, ts.firstPage() + pageNo, ps)) {
                            if (delta != null) {
                                delta.write(pageNo, buf, off);
                            }
                            continue;
                        }
                        if (threshold >= 0 && FilHeader.pageLsn(buf, off) <= threshold && !PageChecker.writtenWithoutRedo(buf, off, ps)) {
                            // unchanged since the parent began: restored from the parent's verified
                            // copy. Any page changed after that was flushed before this backup's
                            // checkpoint, so its on-disk copy, even torn, carries an LSN above it.
                            // Pages imported without redo carry LSN 0 and are always kept.
                            continue;
                        }
                        PageVerdict v = PageChecker.verify(buf, off, flags, ts.firstPage() + pageNo);
                        int tries = 0;
                        // an UNVERIFIABLE page (a format strata cannot check, such as a legacy page_compressed
                        // frame of an algorithm it cannot decompress) is copied as read; verify names it
                        while (v.kind() == PageVerdict.Kind.CORRUPT && tries < REREADS) {
                            tries++;
                            rereads++;
                            reread = true;
                            Thread.sleep(100);
                            read(ch, buf, off, ps, pageNo * ps);
                            v = PageChecker.verify(buf, off, flags, ts.firstPage() + pageNo);
                        }
                        if (v.kind() == PageVerdict.Kind.CORRUPT) {
                            throw new CorruptDataException("page " + pageNo + " of " + ts.path() + " (" + ts.tableName() + ") failed verification after "
                                    + (REREADS + 1) + " reads: " + v.reason(),
                                    "the server may hold a damaged page; run CHECK TABLE on " + ts.tableName() + " and check the server's error log");
                        }
                        if (delta != null && (FilHeader.pageLsn(buf, off) > threshold || PageChecker.writtenWithoutRedo(buf, off, ps))) {
                            delta.write(pageNo, buf, off);
                        }
                    }
                    if (delta == null) {
                        // the direct buffer still holds what was read, unless a page was read again into buf
                        java.nio.ByteBuffer held = direct == null || reread ? null : direct.held(n * ps);
                        if (held != null && out instanceof io.strata.repo.ChunkedWriter cw) {
                            cw.write(buf, 0, n * ps, held);
                        } else {
                            out.write(buf, 0, n * ps);
                        }
                    }
                    first += n;
                }
            } finally {
                if (ahead != null) {
                    ahead.close();
                }
                if (direct != null) {
                    direct.close();
                }
            }
            return new Result(pages * ps, pages, delta == null ? 0 : delta.entries(), rereads, false, read, misses, page0Space);
        }
    }

    private static long nextSelected(BitSet selected, long from, long pages) {
        int next = from > Integer.MAX_VALUE ? -1 : selected.nextSetBit((int) from);
        return next < 0 ? pages : Math.min(next, pages);
    }

    /** The selected pages below {@code pages} as runs {first page, count} of at most {@code perBatch} consecutive pages. */
    static List<long[]> runs(BitSet selected, long pages, int perBatch) {
        List<long[]> runs = new ArrayList<>();
        for (Runs r = new Runs(selected, pages, perBatch); r.hasNext(); ) {
            runs.add(r.next());
        }
        return runs;
    }

    /**
     * The runs of {@link #runs}, found one at a time as the read-ahead asks for them: a list of
     * them held 32 bytes per run, up to 100 MB for a 100 GB tablespace whose every other page changed.
     */
    static final class Runs {
        private final BitSet selected;
        private final long pages;
        private final int perBatch;
        private long next; // first page of the next run; pages when there is none

        Runs(BitSet selected, long pages, int perBatch) {
            this.selected = selected;
            this.pages = pages;
            this.perBatch = perBatch;
            this.next = nextSelected(selected, 0, pages);
        }

        boolean hasNext() {
            return next < pages;
        }

        /** The next run, {first page, count of pages}. */
        long[] next() {
            long first = next;
            long stop = Math.min(Math.min(selected.nextClearBit((int) first), pages), first + perBatch);
            next = nextSelected(selected, stop, pages);
            return new long[] {first, stop - first};
        }
    }

    /**
     * Reads the runs of a page selection ahead of their use, many at once. Selected pages lie
     * scattered over the file, and read one after the other each costs a full device round trip
     * (about 0.1 ms on an SSD, several on a disk) while the device could serve dozens at once: a
     * shared pool of {@link #IO_THREADS} threads keeps up to {@link #AHEAD_RUNS} runs (and at
     * most {@link #AHEAD_BYTES}) of each file in flight, and the copier takes them in page order.
     */
    static final class ReadAhead implements AutoCloseable {
        static final int IO_THREADS = 32;
        static final int AHEAD_RUNS = 128;
        static final long AHEAD_BYTES = 8 << 20;

        /** One run as read: {@code pages} pages from page {@code first}. */
        record Run(long first, int pages, byte[] bytes) {}

        /** Created on first use, shared by every file's read-ahead. */
        private static final class Pool {
            static final ExecutorService IO = Executors.newFixedThreadPool(IO_THREADS, r -> WorkerPriority.thread(r, "strata-read"));
        }

        private final FileChannel ch;
        private final Runs runs;
        private final int ps;
        private final Throttle throttle;
        private final ArrayDeque<Future<Run>> inFlight = new ArrayDeque<>();
        private long[] pending; // the next run to issue, found but not yet issued
        private long inFlightBytes;

        /** Reads are counted against {@code throttle} when they are issued, so none runs ahead of --throttle. */
        ReadAhead(FileChannel ch, Runs runs, int ps, Throttle throttle) {
            this.ch = ch;
            this.runs = runs;
            this.ps = ps;
            this.throttle = throttle;
        }

        boolean hasNext() {
            return !inFlight.isEmpty() || pending != null || runs.hasNext();
        }

        /** The next run, read. */
        Run next() throws IOException, InterruptedException {
            while (inFlight.size() < AHEAD_RUNS) {
                if (pending == null && runs.hasNext()) {
                    pending = runs.next();
                }
                if (pending == null || (!inFlight.isEmpty() && inFlightBytes + pending[1] * ps > AHEAD_BYTES)) {
                    break;
                }
                long[] run = pending;
                pending = null;
                int len = (int) (run[1] * ps);
                throttle.acquire(len);
                inFlightBytes += len;
                inFlight.add(Pool.IO.submit(() -> {
                    WorkerPriority.ensureLowered();
                    byte[] b = new byte[len];
                    read(ch, b, 0, len, run[0] * ps);
                    return new Run(run[0], (int) run[1], b);
                }));
            }
            Future<Run> f = inFlight.poll();
            try {
                Run r = f.get();
                inFlightBytes -= r.bytes().length;
                return r;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof StrataException se) {
                    throw se; // a reader that could not lower its priority
                }
                throw new IllegalStateException("reading pages failed", e.getCause());
            }
        }

        /**
         * Waits for the reads still in flight, so none outlives the channel. They are never
         * interrupted: an interrupt during a read would close the channel for every reader.
         */
        @Override
        public void close() {
            io.strata.util.Futures.cancelAndAwait(inFlight);
            inFlight.clear();
        }
    }

    private static void read(FileChannel ch, byte[] buf, int off, int len, long pos) throws IOException {
        int n = io.strata.util.NioSlices.read(ch, buf, off, len, pos);
        if (n < len) {
            // the file shrank under us (undo truncation): the rest reads as zero pages,
            // which are valid, and the log holds the truncation
            java.util.Arrays.fill(buf, off + n, off + len, (byte) 0);
        }
    }

    static StrataException unreadable(Tablespace ts, IOException e) {
        return new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + ts.file() + ": " + e.getMessage(),
                "strata must run on the database host as a user that can read the data directory", e);
    }
}
