package io.strata.repo;

import io.strata.error.CorruptDataException;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.BitSet;
import java.util.Locale;

/**
 * Raw content of a "change-set" object (inside the strata-object frame, {@link ObjectFormat}): the
 * pages that the redo log of one server names in the LSN range [from_lsn, to_lsn), written by
 * {@code strata track}. All integers are big-endian.
 *
 * <pre>
 * off size field
 *   0    2 version          1
 *   2    8 from_lsn         first LSN covered; an mtr boundary
 *  10    8 to_lsn           end of the range (exclusive); an mtr boundary, greater than from_lsn
 *  18    8 log_first_lsn    first_lsn of the ib_logfile0 the range was read from (for reports)
 *  26    8 log_file_size    size of that ib_logfile0 (for reports)
 *  34    8 mtr_count        mini-transactions read
 *  42    8 server_started   when the server that wrote the range started (seconds since 1970, UTC);
 *                           a different value at the next range means the server restarted between
 *  50    4 n                number of space entries
 *  54      n space entries, ascending space id:
 *          off size field
 *            0    4 space_id   unsigned
 *            4    1 flags      bit 0 WHOLE: deleted (FILE_DELETE), truncated (TRIM_PAGES) or re-initialised
 *                              in place (INIT_PAGE of page 0, not created in the range); bit 1 RENAMED
 *            5    8 whole_lsn  with WHOLE: end LSN of the last mini-transaction that did so; else 0
 *           13    4 pages      number of changed pages p
 *           17    4 runs       number of runs k
 *           21      k runs of consecutive page numbers, each two unsigned LEB128 varints
 *                   (7 bits per byte, least significant group first, high bit = more follows):
 *                   gap = first page of the run - end of the previous run (0 before the first run),
 *                   len = pages in the run - 1. The run covers [end + gap, end + gap + len + 1),
 *                   and its end is end + gap + len + 1. Runs after the first have gap &gt;= 1.
 * </pre>
 * The page total of the runs must equal {@code pages}; the last page must be below 2^31 - 1.
 * Readers accept versions [{@link #MIN_VERSION}, {@link #VERSION}]; a newer one is refused as
 * written by a newer strata, an older one as damage ({@link FormatVersion}).
 */
public final class ChangeSetFormat {
    private ChangeSetFormat() {}

    public static final String CONTENT = "change-set";
    public static final int VERSION = 1;
    /** The oldest version this build reads. */
    public static final int MIN_VERSION = 1;
    private static final String DAMAGED = "the change set is damaged; delete it and the incremental backups fall back to reading the redo log or every page";

    /** The fixed fields of a change set. */
    public record Header(long fromLsn, long toLsn, long logFirstLsn, long logFileSize, long mtrCount, long serverStarted) {}

    public static void write(OutputStream target, Header h, ChangedPages p) throws IOException {
        DataOutputStream out = new DataOutputStream(target);
        out.writeShort(VERSION);
        out.writeLong(h.fromLsn());
        out.writeLong(h.toLsn());
        out.writeLong(h.logFirstLsn());
        out.writeLong(h.logFileSize());
        out.writeLong(h.mtrCount());
        out.writeLong(h.serverStarted());
        out.writeInt(p.spaces().size());
        byte[] varint = new byte[10];
        for (long space : p.spaces()) {
            out.writeInt((int) space);
            out.writeByte(p.flags(space));
            out.writeLong(p.wholeLsn(space));
            BitSet b = p.bits(space);
            int count = b == null ? 0 : b.cardinality();
            out.writeInt(count);
            int runs = 0;
            if (b != null) {
                for (int i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(b.nextClearBit(i))) {
                    runs++;
                }
            }
            out.writeInt(runs);
            long end = 0;
            if (b != null) {
                for (int i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i)) {
                    int stop = b.nextClearBit(i);
                    int n = leb(varint, 0, i - end);
                    n = leb(varint, n, stop - i - 1L);
                    out.write(varint, 0, n);
                    end = stop;
                    i = stop;
                }
            }
        }
        out.flush();
    }

    private static int leb(byte[] b, int off, long v) {
        while (v >= 0x80) {
            b[off++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        b[off++] = (byte) v;
        return off;
    }

    /**
     * Reads a change set into {@code into} (which it adds to) and returns its header.
     *
     * @param where the object, for messages
     * @throws io.strata.error.StrataException {@link io.strata.error.ErrorCode#FORMAT_TOO_NEW} for a version above {@link #VERSION}
     * @throws CorruptDataException for a version below {@link #MIN_VERSION} or malformed content
     */
    public static Header read(InputStream source, ChangedPages into, String where) throws IOException {
        DataInputStream in = new DataInputStream(source);
        try {
            FormatVersion.check("change set", where, in.readUnsignedShort(), MIN_VERSION, VERSION, DAMAGED);
            Header h = new Header(in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
            if (h.fromLsn() >= h.toLsn()) {
                throw corrupt("change set range [" + h.fromLsn() + ", " + h.toLsn() + ") is empty or reversed", where);
            }
            int n = in.readInt();
            long prevSpace = -1;
            for (int s = 0; s < n; s++) {
                long space = Integer.toUnsignedLong(in.readInt());
                if (space <= prevSpace) {
                    throw corrupt("space " + space + " follows space " + prevSpace + " (space ids must ascend)", where);
                }
                prevSpace = space;
                int flags = in.readUnsignedByte();
                if ((flags & ~(ChangedPages.WHOLE | ChangedPages.RENAMED)) != 0) {
                    throw corrupt(String.format(Locale.ROOT, "space %d has unknown flags 0x%02x", space, flags), where);
                }
                long wholeLsn = in.readLong();
                if (((flags & ChangedPages.WHOLE) != 0) != (wholeLsn != 0)) {
                    throw corrupt("space " + space + " has flags " + flags + " and whole_lsn " + wholeLsn + " (WHOLE goes with a non-zero LSN)", where);
                }
                if (wholeLsn != 0) {
                    into.markWhole(space, wholeLsn);
                }
                if ((flags & ~ChangedPages.WHOLE) != 0) {
                    into.mark(space, flags & ~ChangedPages.WHOLE);
                }
                long pages = Integer.toUnsignedLong(in.readInt());
                long runs = Integer.toUnsignedLong(in.readInt());
                long end = 0;
                long total = 0;
                for (long r = 0; r < runs; r++) {
                    long gap = readLeb(in, where);
                    long len = readLeb(in, where) + 1;
                    if (r > 0 && gap == 0) {
                        throw corrupt("space " + space + " run " + r + " has gap 0 (runs must be maximal)", where);
                    }
                    long first = end + gap;
                    end = first + len;
                    if (end > Integer.MAX_VALUE) {
                        throw corrupt("space " + space + " lists page " + (end - 1) + ", beyond 2^31 - 2", where);
                    }
                    for (long p = first; p < end; p++) {
                        into.add(space, (int) p);
                    }
                    total += len;
                }
                if (total != pages) {
                    throw corrupt("space " + space + " declares " + pages + " pages, its runs hold " + total, where);
                }
            }
            if (in.read() >= 0) {
                throw corrupt("bytes follow the last space entry", where);
            }
            return h;
        } catch (EOFException e) {
            throw corrupt("change set is truncated", where);
        }
    }

    private static long readLeb(DataInputStream in, String where) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw corrupt("varint longer than 5 bytes", where);
    }

    private static CorruptDataException corrupt(String what, String where) {
        return new CorruptDataException(what + " (resource=" + where + ")", DAMAGED);
    }
}
