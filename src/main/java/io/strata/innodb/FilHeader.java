package io.strata.innodb;

/**
 * FIL header: the first 38 bytes of every InnoDB page (fil0fil.h, FIL_PAGE_*; MariaDB 10.11).
 *
 * <pre>
 * off size field                                  note
 *   0    4 FIL_PAGE_SPACE_OR_CHKSUM               legacy: checksum field 1; full_crc32: key version (0 = not encrypted)
 *   4    4 FIL_PAGE_OFFSET                        page number; must equal the position the page was read from
 *   8    4 FIL_PAGE_PREV                          left sibling in a B-tree level, 0xFFFFFFFF (FIL_NULL) if none
 *  12    4 FIL_PAGE_NEXT                          right sibling, or FIL_NULL
 *  16    8 FIL_PAGE_LSN                           end LSN of the last mini-transaction that changed the page
 *  24    2 FIL_PAGE_TYPE                          see {@link PageType}; bit 15 = full_crc32 page_compressed
 *  26    8 FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION ibdata1 page 0: flush LSN; legacy pages: key version (4) and
 *                                                 post-encryption checksum (4)
 *  34    4 FIL_PAGE_SPACE_ID                      tablespace id
 *  38      FIL_PAGE_DATA                          page body starts here
 *
 * trailer (last 8 bytes, FIL_PAGE_DATA_END):
 *   legacy:     [ps-8, ps-4) checksum field 2, [ps-4, ps) low 32 bits of FIL_PAGE_LSN
 *   full_crc32: [ps-8, ps-4) low 32 bits of FIL_PAGE_LSN, [ps-4, ps) CRC-32C of [0, ps-4)
 * </pre>
 * All integers are big-endian. 32-bit fields are returned as Java {@code int} and are unsigned
 * (use {@link Integer#toUnsignedLong}). Unknown page types are kept, not rejected.
 */
public record FilHeader(int spaceOrChecksum, int pageNo, int prev, int next, long pageLsn, int pageType,
                        long flushLsnOrKeyVersion, int spaceId) {
    public static final int FIL_PAGE_SPACE_OR_CHKSUM = 0;
    public static final int FIL_PAGE_OFFSET = 4;
    public static final int FIL_PAGE_PREV = 8;
    public static final int FIL_PAGE_NEXT = 12;
    public static final int FIL_PAGE_LSN = 16;
    public static final int FIL_PAGE_TYPE = 24;
    public static final int FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION = 26;
    public static final int FIL_PAGE_SPACE_ID = 34;
    public static final int FIL_PAGE_DATA = 38;
    /** Size of the page trailer (FIL_PAGE_DATA_END). */
    public static final int FIL_PAGE_DATA_END = 8;
    /** FIL_NULL: "no page" in sibling pointers. */
    public static final int FIL_NULL = 0xFFFFFFFF;

    /** Reads the header of the page starting at {@code page[off]}. */
    public static FilHeader read(byte[] page, int off) {
        return new FilHeader(
                Be.i32(page, off + FIL_PAGE_SPACE_OR_CHKSUM),
                Be.i32(page, off + FIL_PAGE_OFFSET),
                Be.i32(page, off + FIL_PAGE_PREV),
                Be.i32(page, off + FIL_PAGE_NEXT),
                Be.i64(page, off + FIL_PAGE_LSN),
                Be.u16(page, off + FIL_PAGE_TYPE),
                Be.i64(page, off + FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION),
                Be.i32(page, off + FIL_PAGE_SPACE_ID));
    }

    /** FIL_PAGE_LSN of the page at {@code b[off]}, without building a record. */
    public static long pageLsn(byte[] b, int off) { return Be.i64(b, off + FIL_PAGE_LSN); }

    /** FIL_PAGE_OFFSET (unsigned) of the page at {@code b[off]}. */
    public static int pageNo(byte[] b, int off) { return Be.i32(b, off + FIL_PAGE_OFFSET); }

    /** FIL_PAGE_SPACE_ID (unsigned) of the page at {@code b[off]}. */
    public static int spaceId(byte[] b, int off) { return Be.i32(b, off + FIL_PAGE_SPACE_ID); }

    /** FIL_PAGE_TYPE (0..0xFFFF) of the page at {@code b[off]}. */
    public static int pageType(byte[] b, int off) { return Be.u16(b, off + FIL_PAGE_TYPE); }
}
