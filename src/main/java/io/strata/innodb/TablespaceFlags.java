package io.strata.innodb;

/**
 * FSP_SPACE_FLAGS, the 32-bit tablespace flags stored on page 0 at offset 54 (fsp0types.h, FSP_FLAGS_*;
 * fil0fil.h, {@code fil_space_t::full_crc32()} and friends; MariaDB 10.11). Bit 4 selects one of two layouts.
 *
 * <pre>
 * full_crc32 layout (bit 4 set; default for tablespaces created by 10.5+)
 * bits  field                          note
 * 0..3  FSP_FLAGS_FCRC32_PAGE_SSIZE     page size = 512 &lt;&lt; ssize; 3=4K 4=8K 5=16K 6=32K 7=64K
 * 4     FSP_FLAGS_FCRC32_MASK_MARKER    always 1 in this layout
 * 5..7  compression algorithm           page_compressed: 0 none, 1 zlib, 2 lz4, 3 lzo, 4 lzma, 5 bzip2, 6 snappy
 * 8..31 -                               must be 0
 *
 * legacy layout (bit 4 clear; innodb_checksum_algorithm=crc32/innodb, or files from older servers)
 * bits  field                          note
 * 0     POST_ANTELOPE                  ROW_FORMAT is not REDUNDANT
 * 1..4  ZIP_SSIZE                      0, or ROW_FORMAT=COMPRESSED with physical page size 512 &lt;&lt; ZIP_SSIZE
 * 5     ATOMIC_BLOBS                   ROW_FORMAT=DYNAMIC or COMPRESSED
 * 6..9  PAGE_SSIZE                     0 means 16K; otherwise 512 &lt;&lt; ssize (3, 4, 6, 7; 5 is not allowed)
 * 10    -                              DATA_DIR of MySQL 5.6 / MariaDB 10.0, ignored
 * 11..15 -                             must be 0 (non-zero in the buggy flags of MariaDB 10.1.0..10.1.20)
 * 16    PAGE_COMPRESSION               page_compressed
 * 17..31 -                             must be 0
 * </pre>
 * The value 0 (legacy, 16K, ROW_FORMAT=REDUNDANT/COMPACT) is valid and common for the system tablespace.
 *
 * <p>The server's in-memory copy of the flags ({@code fil_space_t::flags}), which
 * INFORMATION_SCHEMA.INNODB_SYS_TABLESPACES reports in its FLAG column, carries bits 25..31 on top of
 * these (fsp0types.h, FSP_FLAGS_MEM_MASK): bit 25 DATA DIRECTORY, and from bit 26 up the
 * PAGE_COMPRESSION_LEVEL of the table definition (a PAGE_COMPRESSED table at level 6 reports 0x60000035
 * where its page 0 holds 0x35). Page 0 never stores them; {@link #fromDictionary} drops them.
 */
public record TablespaceFlags(int raw) {
    /** Bit 4: the full_crc32 layout marker (FSP_FLAGS_FCRC32_MASK_MARKER). */
    public static final int FCRC32_MARKER = 1 << 4;
    /** Highest known page_compressed algorithm number (PAGE_ALGORITHM_LAST, snappy). */
    public static final int MAX_COMPRESSION_ALGORITHM = 6;
    /** Page size when the legacy PAGE_SSIZE field is 0 (UNIV_PAGE_SIZE_ORIG). */
    public static final int DEFAULT_PAGE_SIZE = 16 << 10;

    private static final int LEGACY_KNOWN_BITS = (1 << 17) - 1; // bits 0..16
    /** Bits 25..31: in fil_space_t::flags only, never in FSP_SPACE_FLAGS (FSP_FLAGS_MEM_MASK). */
    public static final int MEMORY_ONLY_BITS = ~0 << 25;

    /**
     * The flags as page 0 would store them, from the FLAG column of INFORMATION_SCHEMA.INNODB_SYS_TABLESPACES
     * (the server's in-memory flags): the memory-only bits 25..31 ({@link #MEMORY_ONLY_BITS}) are cleared.
     * This is the only place where dictionary flags enter strata.
     *
     * @param dictionaryFlag the column's value (0..2^32-1; it is an unsigned 32-bit number)
     */
    public static TablespaceFlags fromDictionary(long dictionaryFlag) {
        return new TablespaceFlags((int) dictionaryFlag & ~MEMORY_ONLY_BITS);
    }

    public boolean fullCrc32() { return (raw & FCRC32_MARKER) != 0; }

    /** Page size shift field as stored (0 means 16K in the legacy layout). */
    public int pageSsize() { return fullCrc32() ? raw & 0xF : (raw >>> 6) & 0xF; }

    /** Legacy ZIP_SSIZE; always 0 in the full_crc32 layout. */
    public int zipSsize() { return fullCrc32() ? 0 : (raw >>> 1) & 0xF; }

    /** page_compressed algorithm for full_crc32 (0 = none); 0 for the legacy layout, which does not store it. */
    public int compressionAlgorithm() { return fullCrc32() ? (raw >>> 5) & 0x7 : 0; }

    /** Logical page size (innodb_page_size the tablespace was created with). */
    public int logicalPageSize() {
        int ssize = pageSsize();
        if (!fullCrc32() && ssize == 0) return DEFAULT_PAGE_SIZE;
        if (ssize < 3 || ssize > 7 || (!fullCrc32() && ssize == 5)) {
            throw new IllegalStateException("tablespace flags " + Be.hex32(raw) + " have an invalid page size field " + ssize);
        }
        return 512 << ssize;
    }

    /** Size of a page in the file: the ROW_FORMAT=COMPRESSED page size, else the logical page size. */
    public int physicalPageSize() {
        int z = zipSsize();
        return z != 0 ? 512 << z : logicalPageSize();
    }

    /** Whether pages may be page_compressed (full_crc32 algorithm bits, or legacy PAGE_COMPRESSION bit 16). */
    public boolean pageCompressed() {
        return fullCrc32() ? compressionAlgorithm() != 0 : (raw & (1 << 16)) != 0;
    }

    /** Whether this is a ROW_FORMAT=COMPRESSED tablespace (legacy ZIP_SSIZE != 0). */
    public boolean rowFormatCompressed() { return zipSsize() != 0; }

    /** Whether the flags are self-consistent, by the rules of {@code fil_space_t::is_valid_flags()}. */
    public boolean isValid() { return isValid(raw); }

    public static boolean isValid(int raw) {
        if ((raw & FCRC32_MARKER) != 0) {
            if ((raw & ~0xFF) != 0) return false;
            int ssize = raw & 0xF;
            return ssize >= 3 && ssize <= 7 && ((raw >>> 5) & 7) <= MAX_COMPRESSION_ALGORITHM;
        }
        if (raw == 0) return true;
        if ((raw & ~LEGACY_KNOWN_BITS) != 0) return false;
        boolean postAntelope = (raw & 1) != 0;
        boolean atomicBlobs = (raw & (1 << 5)) != 0;
        if (atomicBlobs && !postAntelope) return false;
        // only bit 10 (the old DATA_DIR flag) may be set among the reserved bits 10..15
        if (((raw >>> 10) & 0x3F & ~1) != 0) return false;
        int ssize = (raw >>> 6) & 0xF;
        if (ssize == 1 || ssize == 2 || ssize == 5 || ssize > 7) return false;
        int zssize = (raw >>> 1) & 0xF;
        if (zssize != 0) {
            // KEY_BLOCK_SIZE may not exceed the page size, and COMPRESSED implies both row-format bits
            if (zssize > (ssize == 0 ? 5 : ssize)) return false;
            if (!postAntelope || !atomicBlobs) return false;
        }
        return true;
    }

    /** A short human-readable summary, e.g. {@code 0x15 (full_crc32, 16K)}. */
    public String describe() {
        String hex = "0x" + Integer.toHexString(raw);
        if (!isValid()) return hex + " (invalid)";
        StringBuilder s = new StringBuilder(hex).append(" (");
        if (fullCrc32()) {
            s.append("full_crc32, ").append(logicalPageSize() >> 10).append('K');
            if (pageCompressed()) s.append(", page_compressed algorithm ").append(compressionAlgorithm());
        } else {
            s.append("legacy, ").append(logicalPageSize() >> 10).append('K');
            boolean atomicBlobs = (raw & (1 << 5)) != 0;
            if ((raw & 1) == 0) {
                s.append(", REDUNDANT");
            } else if (rowFormatCompressed()) {
                s.append(", COMPRESSED KEY_BLOCK_SIZE=").append(physicalPageSize() >> 10);
            } else {
                s.append(atomicBlobs ? ", DYNAMIC" : ", COMPACT");
            }
            if (pageCompressed()) s.append(", page_compressed");
        }
        return s.append(')').toString();
    }
}
