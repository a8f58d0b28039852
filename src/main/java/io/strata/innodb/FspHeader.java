package io.strata.innodb;

/**
 * FSP header on page 0 of every tablespace (fsp0fsp.h, FSP_*; MariaDB 10.11). It starts at
 * FSP_HEADER_OFFSET = FIL_PAGE_DATA = 38; offsets below are from the start of the page.
 *
 * <pre>
 * off size field            note
 *  38    4 FSP_SPACE_ID     tablespace id (same as FIL_PAGE_SPACE_ID)
 *  42    4 FSP_NOT_USED
 *  46    4 FSP_SIZE         current size in pages
 *  50    4 FSP_FREE_LIMIT   pages below this are initialised
 *  54    4 FSP_SPACE_FLAGS  see {@link TablespaceFlags}
 *  58    4 FSP_FRAG_N_USED
 *  62      free/fragment lists, segment id, inode lists; the header is 112 bytes (32 + 5 * 16)
 * 150      XDES array (XDES_ARR_OFFSET = 38 + 112), one XDES_SIZE entry per extent of the first
 *          page-size-many pages
 *
 * crypt data ("encryption metadata") follows the XDES array, at
 *   FIL_PAGE_DATA + XDES_ARR_OFFSET + XDES_SIZE * (physical page size / extent size in pages)
 *   (fsp_header_get_encryption_offset() plus FIL_PAGE_DATA, fil0crypt.cc); 10428 for 16K pages:
 * +0   6 CRYPT_MAGIC      73 0E 0C 52 45 74
 * +6   1 scheme           0 = unencrypted, 1 = encrypted
 * +7   1 IV length        16
 * ...    IV, min_key_version (4), key_id (4), encryption mode (1)
 * </pre>
 * XDES_SIZE = 24 + ceil(2 bits * extent size / 8): 40 bytes when an extent has 64 pages.
 * A freshly created .ibd may have an all-zero page 0 until its first flush; callers must cope.
 */
public record FspHeader(int spaceId, int size, int freeLimit, TablespaceFlags flags) {
    public static final int FSP_HEADER_OFFSET = FilHeader.FIL_PAGE_DATA;
    public static final int FSP_SPACE_ID = FSP_HEADER_OFFSET;
    public static final int FSP_SIZE = FSP_HEADER_OFFSET + 8;
    public static final int FSP_FREE_LIMIT = FSP_HEADER_OFFSET + 12;
    public static final int FSP_SPACE_FLAGS = FSP_HEADER_OFFSET + 16;
    /** FSP_HEADER_SIZE = 32 + 5 list bases of 16 bytes. */
    public static final int FSP_HEADER_SIZE = 32 + 5 * 16;
    /** XDES_ARR_OFFSET: where the extent descriptors start on page 0 (and every XDES page). */
    public static final int XDES_ARR_OFFSET = FSP_HEADER_OFFSET + FSP_HEADER_SIZE;
    /** Bytes of an extent descriptor before its page-state bitmap: list node (12) + segment id (8) + state (4). */
    static final int XDES_BITMAP = 12 + 8 + 4;
    /** CRYPT_MAGIC that starts the crypt data. */
    private static final byte[] CRYPT_MAGIC = {0x73, 0x0E, 0x0C, 0x52, 0x45, 0x74};
    /** Scheme byte value of an encrypted tablespace (CRYPT_SCHEME_1). */
    public static final int CRYPT_SCHEME_1 = 1;

    /** Reads the FSP header of page 0 starting at {@code page0[off]}. */
    public static FspHeader read(byte[] page0, int off) {
        return new FspHeader(
                Be.i32(page0, off + FSP_SPACE_ID),
                Be.i32(page0, off + FSP_SIZE),
                Be.i32(page0, off + FSP_FREE_LIMIT),
                new TablespaceFlags(Be.i32(page0, off + FSP_SPACE_FLAGS)));
    }

    /**
     * Pages per extent (FSP_EXTENT_SIZE) for a logical page size: 1 MiB worth of pages up to 16K
     * (256, 128, 64), and 64 pages for 32K and 64K (2 MiB and 4 MiB extents).
     */
    public static int extentPages(int logicalPageSize) {
        if (logicalPageSize <= 16384) return (1 << 20) / logicalPageSize;
        if (logicalPageSize <= 32768) return (2 << 20) / logicalPageSize;
        return (4 << 20) / logicalPageSize;
    }

    /** XDES_SIZE for a logical page size: the fixed part plus 2 bits per page of an extent. */
    public static int xdesSize(int logicalPageSize) {
        return XDES_BITMAP + (extentPages(logicalPageSize) * 2 + 7) / 8;
    }

    /**
     * Offset of the crypt data on page 0. The extent size follows the logical page size, the count of
     * descriptors the physical one (they differ only for ROW_FORMAT=COMPRESSED).
     */
    public static int cryptDataOffset(int physicalPageSize, int logicalPageSize) {
        return FilHeader.FIL_PAGE_DATA + XDES_ARR_OFFSET
                + xdesSize(logicalPageSize) * (physicalPageSize / extentPages(logicalPageSize));
    }

    /** Offset of the crypt data on page 0 when the physical and logical page sizes are equal. */
    public static int cryptDataOffset(int physicalPageSize) {
        return cryptDataOffset(physicalPageSize, physicalPageSize);
    }

    /** Whether page 0 carries crypt data (CRYPT_MAGIC at {@link #cryptDataOffset(int)}). */
    public static boolean hasCryptData(byte[] page0, int off, int physicalPageSize) {
        int at = off + cryptDataOffset(physicalPageSize);
        for (int i = 0; i < CRYPT_MAGIC.length; i++) {
            if (page0[at + i] != CRYPT_MAGIC[i]) return false;
        }
        return true;
    }

    /**
     * Whether page 0 carries crypt data with scheme 1, its offset taken from both page sizes of
     * {@code flags}: for ROW_FORMAT=COMPRESSED page 0 is KEY_BLOCK_SIZE bytes while the extent
     * still has the logical page size's count of pages (64 with 16K pages).
     */
    public static boolean cryptDataEncrypted(byte[] page0, int off, TablespaceFlags flags) {
        int at = off + cryptDataOffset(flags.physicalPageSize(), flags.logicalPageSize());
        for (int i = 0; i < CRYPT_MAGIC.length; i++) {
            if (page0[at + i] != CRYPT_MAGIC[i]) return false;
        }
        return Be.u8(page0, at + CRYPT_MAGIC.length) == CRYPT_SCHEME_1;
    }

    /** Whether page 0 carries crypt data with scheme 1 (the tablespace is encrypted). */
    public static boolean cryptDataEncrypted(byte[] page0, int off, int physicalPageSize) {
        return hasCryptData(page0, off, physicalPageSize)
                && Be.u8(page0, off + cryptDataOffset(physicalPageSize) + CRYPT_MAGIC.length) == CRYPT_SCHEME_1;
    }
}
