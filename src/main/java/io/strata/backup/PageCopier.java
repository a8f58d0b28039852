package io.strata.backup;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.FilHeader;
import io.strata.innodb.FspHeader;
import io.strata.innodb.PageChecker;
import io.strata.innodb.PageVerdict;
import io.strata.innodb.TablespaceFlags;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Copies one InnoDB file page by page while the server writes it. Every page is checked
 * (checksum, page number, header/trailer LSN); a page that fails is re-read, because a torn
 * read of a page being written is expected in a hot copy, and the redo log repairs whatever was
 * written after C. A page that still fails after {@link #REREADS} reads is real corruption.
 * The file is copied up to the size seen when the copy starts: pages added later are rebuilt
 * by recovery from the log.
 *
 * <p>With a threshold (incremental and differential backups) only pages whose FIL_PAGE_LSN is
 * above it are written, each as (page number u32, page bytes), in ascending page order; this is
 * the raw content of an "innodb-delta" object. The doublewrite area of the system tablespace is
 * always written: its pages belong to other tablespaces and their LSNs say nothing about it.
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
     */
    record Result(long bytes, long pages, long deltaPages, long rereads, boolean vanished, long pagesRead, List<String> misses) {}

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
            return new Result(0, 0, 0, 0, true, 0, List.of());
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
                        if (PageChecker.isDoublewrite(0, p, ps)) {
                            selected.set((int) p);
                        }
                    }
                }
            }
            boolean readAll = selected == null || checkBelow > 0;
            byte[] buf = new byte[perBatch * ps];
            long rereads = 0;
            long written = 0;
            long read = 0;
            List<String> misses = new ArrayList<>();
            byte[] pageNoBytes = new byte[4];
            long first = readAll ? 0 : nextSelected(selected, 0, pages);
            while (first < pages) {
                healthCheck.run();
                int n;
                if (readAll) {
                    n = (int) Math.min(perBatch, pages - first);
                } else {
                    long stop = Math.min(Math.min(selected.nextClearBit((int) first), pages), first + perBatch);
                    n = (int) (stop - first);
                }
                throttle.acquire((long) n * ps);
                read(ch, buf, 0, n * ps, first * ps);
                bytesRead.accept((long) n * ps);
                read += n;
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
                    if (ts.spaceId() == 0 && PageChecker.isDoublewrite(0, pageNo, ps)) {
                        if (threshold >= 0) {
                            writeDeltaPage(out, pageNoBytes, pageNo, buf, off, ps);
                            written++;
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
                    PageVerdict v = PageChecker.verify(buf, off, flags, pageNo);
                    int tries = 0;
                    while (!v.ok() && tries < REREADS) {
                        tries++;
                        rereads++;
                        Thread.sleep(100);
                        read(ch, buf, off, ps, pageNo * ps);
                        v = PageChecker.verify(buf, off, flags, pageNo);
                    }
                    if (!v.ok()) {
                        throw new CorruptDataException("page " + pageNo + " of " + ts.path() + " (" + ts.tableName() + ") failed verification after "
                                + (REREADS + 1) + " reads: " + v.reason(),
                                "the server may hold a damaged page; run CHECK TABLE on " + ts.tableName() + " and check the server's error log");
                    }
                    if (threshold >= 0 && (FilHeader.pageLsn(buf, off) > threshold || PageChecker.writtenWithoutRedo(buf, off, ps))) {
                        writeDeltaPage(out, pageNoBytes, pageNo, buf, off, ps);
                        written++;
                    }
                }
                if (threshold < 0) {
                    out.write(buf, 0, n * ps);
                }
                first = readAll ? first + n : nextSelected(selected, first + n, pages);
            }
            return new Result(pages * ps, pages, written, rereads, false, read, misses);
        }
    }

    private static long nextSelected(BitSet selected, long from, long pages) {
        int next = from > Integer.MAX_VALUE ? -1 : selected.nextSetBit((int) from);
        return next < 0 ? pages : Math.min(next, pages);
    }

    private static void writeDeltaPage(OutputStream out, byte[] no, long pageNo, byte[] buf, int off, int ps) throws IOException {
        no[0] = (byte) (pageNo >>> 24);
        no[1] = (byte) (pageNo >>> 16);
        no[2] = (byte) (pageNo >>> 8);
        no[3] = (byte) pageNo;
        out.write(no, 0, 4);
        out.write(buf, off, ps);
    }

    private static void read(FileChannel ch, byte[] buf, int off, int len, long pos) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buf, off, len);
        while (bb.hasRemaining()) {
            int r = ch.read(bb, pos + (bb.position() - off));
            if (r < 0) {
                // the file shrank under us (undo truncation): the rest reads as zero pages,
                // which are valid, and the log holds the truncation
                java.util.Arrays.fill(buf, bb.position(), off + len, (byte) 0);
                return;
            }
        }
    }

    static StrataException unreadable(Tablespace ts, IOException e) {
        return new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + ts.file() + ": " + e.getMessage(),
                "strata must run on the database host as a user that can read the data directory", e);
    }
}
