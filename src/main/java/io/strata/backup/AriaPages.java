package io.strata.backup;

/**
 * The page checksums of a crash-safe Aria table (MariaDB's storage/maria: ma_pagecrc.c for the
 * checksum, ma_open.c and ma_backup.c for the header fields), so that a page read while the
 * server writes it (half old, half new) is read again instead of stored torn. Only tables that
 * stay writable during BACKUP STAGE BLOCK_DDL need it: {@code TRANSACTIONAL=1} tables (always in
 * the block-record format; {@link #checked}); writes to other Aria tables wait from BACKUP STAGE
 * FLUSH on, so their files are still while strata reads them. The pages of such a table without
 * page checksums ({@code PAGE_CHECKSUM=0}), or encrypted (the stored checksum is not of the stored
 * bytes), cannot be told whole by their content: those are read until two reads in a row agree
 * ({@link #checksums} false).
 *
 * <p>The index file ({@code .MAI}) starts with the state header (big-endian integers):
 * <pre>
 * offset  size
 *      0     4  magic FE FE 09 03
 *      4     2  table options (bit 11, 0x800: page checksums)
 *     12     2  B: offset of the base information
 *     22     1  data file type (3: block record)
 * base information, from B:
 *   B + 16   8  keystart: bytes of header before the first index page
 *   B + 90   2  extra options (bit 0: encrypted)
 *   B + 100  2  block size (bytes of a page, data and index)
 *   B + 106  1  born transactional
 * </pre>
 * Every page of {@code block size} bytes ends with a 4-byte little-endian checksum: zlib's CRC-32
 * of the page's leading bytes, started from the page number (not 0); a result of 0xFFFFFFFE or
 * more is stored as 0xFFFFFFFD, because 0xFFFFFFFF marks a page without checksum and 0xFFFFFFFE a
 * bitmap page without one. The leading bytes are all but the checksum for a data page; for an
 * index page (from keystart on) the bytes in use, a 2-byte big-endian count at offset 15 of the
 * page (after its LSN, transaction id, key number and flags). A data file's page {@code n} is a
 * bitmap page when {@code n} is a multiple of {@code (block size - 4) / 6 * 16 + 1}. A page of
 * zeros only (checksum included) was never written and is taken as it is.
 */
final class AriaPages {
    private static final int BLOCK_RECORD = 3;
    private static final int PAGE_CHECKSUM_OPTION = 0x800;
    private static final long NO_CRC = 0xFFFFFFFFL;
    private static final long NO_CRC_BITMAP = 0xFFFFFFFEL;
    /** Bytes before an index page's used count of a transactional table: LSN 7, transaction id 6, key number 1, flags 1. */
    private static final int KEYPAGE_USED_AT = 15;
    private static final int[] TABLE = new int[256];

    static {
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
            }
            TABLE[n] = c;
        }
    }

    private final int blockSize;
    private final long keystart;
    private final long bitmapEvery;
    private final boolean checksums;

    private AriaPages(int blockSize, long keystart, boolean checksums) {
        this.blockSize = blockSize;
        this.keystart = keystart;
        this.bitmapEvery = (long) (blockSize - 4) / 6 * 16 + 1;
        this.checksums = checksums;
    }

    /**
     * The page geometry of the crash-safe table whose index file begins with {@code header}, and
     * whether its pages carry checksums strata checks ({@link #checksums}); null for any other
     * table or bytes it does not know (then the files are copied as they are read).
     *
     * @param header the first bytes of the {@code .MAI} file (at least its state header and base information)
     */
    static AriaPages checked(byte[] header) {
        if (header.length < 24 || (header[0] & 0xff) != 0xFE || (header[1] & 0xff) != 0xFE || header[2] != 9 || header[3] != 3) {
            return null;
        }
        int options = be16(header, 4);
        int base = be16(header, 12);
        if (base + 107 > header.length || header[22] != BLOCK_RECORD) {
            return null;
        }
        boolean transactional = header[base + 106] != 0;
        boolean encrypted = (be16(header, base + 90) & 1) != 0;
        int blockSize = be16(header, base + 100);
        long keystart = 0;
        for (int i = 0; i < 8; i++) {
            keystart = keystart << 8 | (header[base + 16 + i] & 0xff);
        }
        if (!transactional || blockSize < 1024 || Integer.bitCount(blockSize) != 1 || keystart < 0 || keystart % blockSize != 0) {
            return null;
        }
        return new AriaPages(blockSize, keystart, !encrypted && (options & PAGE_CHECKSUM_OPTION) != 0);
    }

    /** Bytes of a page. */
    int blockSize() {
        return blockSize;
    }

    /** Bytes of the index file's header (its state and base information) before its first key page. */
    long keystart() {
        return keystart;
    }

    /** Whether {@link #whole} can judge a page by its checksum; if not, a page is whole when two reads in a row agree. */
    boolean checksums() {
        return checksums;
    }

    /**
     * Whether {@code page} (block size bytes from {@code off}), page {@code pageNo} of the index
     * file ({@code index}) or of the data file, is whole: its checksum matches, it carries none of
     * the right kind, or it is all zeros. The index file's header pages have no checksum.
     */
    boolean whole(byte[] b, int off, long pageNo, boolean index) {
        if (index && pageNo * blockSize < keystart) {
            return true;
        }
        long stored = le32(b, off + blockSize - 4);
        boolean bitmap = !index && pageNo % bitmapEvery == 0;
        if (stored >= NO_CRC_BITMAP) {
            return stored == (bitmap ? NO_CRC_BITMAP : NO_CRC);
        }
        int length = blockSize - 4;
        if (index) {
            length = be16(b, off + KEYPAGE_USED_AT);
            if (length > blockSize - 4) {
                return false;
            }
        }
        long crc = crc32((int) pageNo, b, off, length);
        if (crc >= NO_CRC_BITMAP) {
            crc = NO_CRC_BITMAP - 1;
        }
        if (crc == stored) {
            return true;
        }
        return stored == 0 && allZero(b, off, blockSize);
    }

    /** zlib's crc32(start, bytes): the CRC-32 of the bytes as if {@code start} were the CRC of what came before. */
    static long crc32(int start, byte[] b, int off, int len) {
        int c = ~start;
        for (int i = off; i < off + len; i++) {
            c = TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
        }
        return ~c & 0xFFFFFFFFL;
    }

    private static boolean allZero(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static int be16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
    }

    private static long le32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }
}
