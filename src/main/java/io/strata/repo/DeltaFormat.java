package io.strata.repo;

import io.strata.error.CorruptDataException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Raw content of an "innodb-delta" object (inside the strata-object frame, {@link ObjectFormat}):
 * the pages of one InnoDB tablespace that a backup stores because they changed since its parent
 * began. The only class that knows this layout: the page copier writes it, restore, merge and
 * verify read it through {@link Reader}, and the backup's summary sizes it with {@link #length}.
 *
 * <pre>
 * entry, repeated to the end of the raw content
 *   off size field    note
 *     0    4 page_no  page number in the tablespace (unsigned); greater than the entry before's
 *     4   ps page     the page as read from the data file, verbatim (its own checksum included)
 * </pre>
 * All integers are big-endian. {@code ps} is the tablespace's physical page size, which the
 * manifest entry's FSP_SPACE_FLAGS give (the caller decodes them with the innodb package's TablespaceFlags;
 * the same for every entry). There is no header and no
 * count: the raw content ends after the last entry, so a delta of n pages is exactly
 * {@code n * (4 + ps)} bytes, and the manifest entry's {@code deltaPages} is n. An empty delta
 * (no page changed) is zero bytes.
 *
 * <p>Readers refuse, as {@link CorruptDataException} naming the delta: a page number not above
 * the one before it (so no page appears twice), and content that ends inside an entry. Whether
 * the length and digest match the manifest entry is checked against the object's frame by the
 * caller, with {@link #length}.
 */
public final class DeltaFormat {
    private DeltaFormat() {}

    /** Content name of a delta object in the strata-object frame. */
    public static final String CONTENT = "innodb-delta";
    /** Bytes of an entry's page number. */
    public static final int PAGE_NO_BYTES = 4;
    /** {@link Reader#pageNo()} after the last entry: above every page number. */
    public static final long END = Long.MAX_VALUE;
    private static final long MAX_PAGE_NO = 0xFFFF_FFFFL;
    private static final String DAMAGED = "the backup is damaged; restore another backup";

    /** Raw length of a delta of {@code entries} pages of {@code pageSize} bytes: {@code entries * (4 + pageSize)}. */
    public static long length(long entries, int pageSize) {
        return entries * (PAGE_NO_BYTES + (long) pageSize);
    }

    /**
     * Writes entries to a stream, in strictly ascending page order. Does not buffer, flush or
     * close the stream.
     */
    public static final class Writer {
        private final OutputStream out;
        private final int pageSize;
        private final byte[] pageNoBytes = new byte[PAGE_NO_BYTES];
        private long last = -1;
        private long entries;

        /** @param pageSize the tablespace's physical page size: every entry's page has this many bytes */
        public Writer(OutputStream out, int pageSize) {
            this.out = out;
            this.pageSize = pageSize;
        }

        /**
         * Writes one entry: {@code pageNo}, then {@code pageSize} bytes of {@code buf} from {@code off}.
         *
         * @throws IllegalArgumentException if pageNo is not above the previous entry's or not below 2^32 (a bug of the caller)
         */
        public void write(long pageNo, byte[] buf, int off) throws IOException {
            if (pageNo <= last || pageNo > MAX_PAGE_NO) {
                throw new IllegalArgumentException("delta entry for page " + pageNo + " after page " + last + " (pages must ascend, below 2^32)");
            }
            ObjectFormat.putInt(pageNoBytes, 0, (int) pageNo);
            out.write(pageNoBytes, 0, PAGE_NO_BYTES);
            out.write(buf, off, pageSize);
            last = pageNo;
            entries++;
        }

        /** Entries written so far. */
        public long entries() { return entries; }
    }

    /**
     * Reads entries one at a time from a stream positioned at the start of the raw content. The
     * page buffer is reused: {@link #page()} holds the current entry's page until the next
     * {@link #next()}. Does not close the stream.
     */
    public static final class Reader {
        private final InputStream in;
        private final String resource;
        private final byte[] pageNoBytes = new byte[PAGE_NO_BYTES];
        private final byte[] page;
        private long pageNo = -1;
        private long entries;

        /**
         * @param pageSize the tablespace's physical page size
         * @param resource names the delta in messages, e.g. "delta of ./shop/t.ibd in backup ID"
         */
        public Reader(InputStream in, int pageSize, String resource) {
            this.in = in;
            this.page = new byte[pageSize];
            this.resource = resource;
        }

        /**
         * Moves to the next entry.
         *
         * @return false at the end of the content ({@link #pageNo()} is then {@link #END})
         * @throws CorruptDataException if the page number does not ascend or the content ends inside an entry
         */
        public boolean next() throws IOException {
            if (pageNo == END) {
                return false;
            }
            int got = readAtMost(pageNoBytes);
            if (got == 0) {
                pageNo = END;
                return false;
            }
            long prev = pageNo;
            if (got < PAGE_NO_BYTES) {
                throw truncated(prev < 0 ? "its first entry" : "the entry after page " + prev, got);
            }
            pageNo = Integer.toUnsignedLong(ObjectFormat.getInt(pageNoBytes, 0));
            got = readAtMost(page);
            if (got < page.length) {
                throw truncated("the entry of page " + pageNo, PAGE_NO_BYTES + got);
            }
            entries++;
            if (pageNo <= prev) {
                throw new CorruptDataException(resource + " lists page " + pageNo + " after page " + prev + " (pages must ascend)", DAMAGED);
            }
            return true;
        }

        /** Page number of the current entry; -1 before the first {@link #next()}, {@link #END} after the last. */
        public long pageNo() { return pageNo; }

        /** The current entry's page (physical page size bytes); overwritten by the next {@link #next()}. */
        public byte[] page() { return page; }

        /** Entries read so far. */
        public long entries() { return entries; }

        /** Reads this many bytes unless the stream ends first; returns how many it read. */
        private int readAtMost(byte[] b) throws IOException {
            int off = 0;
            while (off < b.length) {
                int n = in.read(b, off, b.length - off);
                if (n < 0) {
                    break;
                }
                off += n;
            }
            return off;
        }

        private CorruptDataException truncated(String entry, int got) {
            return new CorruptDataException(resource + " ends inside " + entry + ": " + got + " of " + (PAGE_NO_BYTES + page.length) + " bytes", DAMAGED);
        }
    }
}
