package io.strata.innodb;

/**
 * The page checksum algorithms of MariaDB 10.11 (buf0checksum.cc, ut0rnd.inl). {@code off} is the start
 * of the page and {@code ps} its physical size.
 *
 * <pre>
 * algorithm    covers                                   stored at
 * full_crc32   CRC-32C of [0, size-4)                   [size-4, size)      size = ps, or the page_compressed size
 * crc32        CRC-32C [4,26) XOR CRC-32C [38,ps-8)     [0,4) and [ps-8,ps-4)
 * innodb new   low32(fold [4,26) + fold [38,ps-8))      [0,4)
 * innodb old   low32(fold [0,26))                       [ps-8,ps-4)
 * none         0xDEADBEEF (BUF_NO_CHECKSUM_MAGIC)        both fields
 *
 * ROW_FORMAT=COMPRESSED pages (page0zip.cc, page_zip_calc_checksum; ps = KEY_BLOCK_SIZE, no trailer)
 * zip crc32    CRC-32C [4,16) XOR CRC-32C [24,26)        [0,4)
 *              XOR CRC-32C [34,ps)
 * zip adler32  Adler-32 seeded with 0 (not 1) run on     [0,4)               written by older servers under
 *              over [4,16), [24,26), [34,ps) in turn                          innodb_checksum_algorithm=innodb, which 10.11
 *                                                                              no longer offers; still accepted when reading
 * </pre>
 * Both compressed-page variants skip the checksum field [0,4), FIL_PAGE_LSN [16,24) and
 * FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION [26,34), so they cover the compressed frame as stored.
 * "fold" is InnoDB's byte-wise hash over a 64-bit accumulator (ut_fold_binary): starting from 0, each byte
 * b turns f into (((f ^ b ^ 1653893711) &lt;&lt; 8) + f ^ 1463735687) + b, with 64-bit wrap-around.
 */
public final class PageChecksums {
    private PageChecksums() {}

    /** BUF_NO_CHECKSUM_MAGIC, written by innodb_checksum_algorithm=none. */
    public static final int NO_CHECKSUM_MAGIC = 0xDEADBEEF;

    private static final long FOLD_MASK2 = 1653893711L; // UT_HASH_RANDOM_MASK2
    private static final long FOLD_MASK = 1463735687L;  // UT_HASH_RANDOM_MASK
    private static final int FLUSH_LSN = FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION;
    private static final int DATA = FilHeader.FIL_PAGE_DATA;
    private static final int END = FilHeader.FIL_PAGE_DATA_END;

    /** full_crc32 checksum of a page (or page_compressed prefix) of {@code size} bytes. */
    public static int fullCrc32(byte[] b, int off, int size) {
        return Crc32c.compute(b, off, size - 4);
    }

    /** Legacy crc32 checksum (buf_calc_page_crc32). */
    public static int crc32(byte[] b, int off, int ps) {
        return Crc32c.compute(b, off + FilHeader.FIL_PAGE_OFFSET, FLUSH_LSN - FilHeader.FIL_PAGE_OFFSET)
                ^ Crc32c.compute(b, off + DATA, ps - DATA - END);
    }

    /** Legacy "innodb" checksum for field 1 (buf_calc_page_new_checksum). */
    public static int innodbNew(byte[] b, int off, int ps) {
        return (int) (fold(b, off + FilHeader.FIL_PAGE_OFFSET, FLUSH_LSN - FilHeader.FIL_PAGE_OFFSET)
                + fold(b, off + DATA, ps - DATA - END));
    }

    /** Legacy "innodb" checksum for field 2 (buf_calc_page_old_checksum). */
    public static int innodbOld(byte[] b, int off) {
        return (int) fold(b, off, FLUSH_LSN);
    }

    /** Checksum of a ROW_FORMAT=COMPRESSED page of {@code ps} bytes as 10.11 writes it (page_zip_calc_checksum, crc32 variant). */
    public static int zipCrc32(byte[] b, int off, int ps) {
        return Crc32c.compute(b, off + FilHeader.FIL_PAGE_OFFSET, FilHeader.FIL_PAGE_LSN - FilHeader.FIL_PAGE_OFFSET)
                ^ Crc32c.compute(b, off + FilHeader.FIL_PAGE_TYPE, 2)
                ^ Crc32c.compute(b, off + FilHeader.FIL_PAGE_SPACE_ID, ps - FilHeader.FIL_PAGE_SPACE_ID);
    }

    /** The older "innodb" checksum of a ROW_FORMAT=COMPRESSED page (page_zip_calc_checksum, Adler-32 variant). */
    public static int zipAdler32(byte[] b, int off, int ps) {
        int[] ab = {0, 0}; // zlib's adler32() called with 0, not with its usual start value 1
        adler(ab, b, off + FilHeader.FIL_PAGE_OFFSET, FilHeader.FIL_PAGE_LSN - FilHeader.FIL_PAGE_OFFSET);
        adler(ab, b, off + FilHeader.FIL_PAGE_TYPE, 2);
        adler(ab, b, off + FilHeader.FIL_PAGE_SPACE_ID, ps - FilHeader.FIL_PAGE_SPACE_ID);
        return (ab[1] << 16) | ab[0];
    }

    private static final int ADLER_MOD = 65521; // the largest prime below 2^16

    private static void adler(int[] ab, byte[] b, int off, int len) {
        int a = ab[0];
        int s = ab[1];
        for (int i = off; i < off + len; i++) {
            a = (a + (b[i] & 0xFF)) % ADLER_MOD;
            s = (s + a) % ADLER_MOD;
        }
        ab[0] = a;
        ab[1] = s;
    }

    /** InnoDB's fold hash over {@code len} bytes (64-bit, wrapping). */
    static long fold(byte[] b, int off, int len) {
        long f = 0;
        for (int i = off; i < off + len; i++) {
            long v = b[i] & 0xFF;
            f = ((((f ^ v ^ FOLD_MASK2) << 8) + f) ^ FOLD_MASK) + v;
        }
        return f;
    }
}
