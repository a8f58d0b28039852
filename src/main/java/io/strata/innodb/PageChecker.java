package io.strata.innodb;

import java.util.Objects;

/**
 * Verifies a data page as the server does when it reads one ({@code buf_page_is_corrupted()},
 * buf0buf.cc; MariaDB 10.11, non-strict checksum mode), plus the page-number check of mariabackup.
 *
 * <pre>
 * full_crc32 tablespaces
 *   1. FIL_PAGE_TYPE bit 15 set: page_compressed, checked size = (type &amp; 0x7FFF) * 256, must be &lt; page size
 *   2. CRC-32C stored 0 and the whole page zero: ZERO
 *   3. CRC-32C of [0, size-4) must equal BE32 at size-4 (covers the key version, so encrypted pages verify)
 *   4. not compressed and key version [0,4) == 0: LSN low 32 bits [20,24) must equal [size-8, size-4)
 * legacy tablespaces, ROW_FORMAT=COMPRESSED (ps = KEY_BLOCK_SIZE; page_zip_verify_checksum(), page0zip.cc)
 *   1. the whole page zero: ZERO
 *   2. BE32 [0,4) == zip crc32, zip adler32 or 0xDEADBEEF ({@link PageChecksums#zipCrc32}): VALID
 *   3. key version [26,30) != 0 on a page other than 0: encrypted, [30,34) == zip crc32, zip adler32
 *      or 0xDEADBEEF of the encrypted page (fil_space_verify_crypt_checksum()): VALID
 *   a compressed page has no trailer: no LSN fragment is compared, the checksum alone finds a torn read
 * legacy tablespaces, other row formats
 *   1. page_compressed flag with type 37401 (encrypted): UNVERIFIABLE
 *      page_compressed flag with type 34354: the frame is checked and decompressed
 *      ({@link LegacyPageCompression}); the page it holds is checked by steps 2..7, and must be
 *      VALID (lzo, lzma, bzip2 and snappy frames: UNVERIFIABLE, strata cannot decompress them)
 *   2. [20,24) must equal [ps-4, ps) (low 32 bits of FIL_PAGE_LSN in header and trailer)
 *   3. both checksum fields 0 and the page zero except [26,34): ZERO
 *   4. both fields 0xDEADBEEF: VALID
 *   5. both fields == crc32: VALID
 *   6. innodb fold: field 2 in {old, BE32 at 16, 0xDEADBEEF} and field 1 in {new, 0, 0xDEADBEEF}: VALID
 *   7. key version [26,30) != 0 on a page other than 0: encrypted, [30,34) == crc32 or innodb new
 *      of the encrypted page (fil_space_verify_crypt_checksum()): VALID
 * then, for VALID pages, FIL_PAGE_OFFSET must equal the position the page was read from.
 * </pre>
 * Pages of the doublewrite buffer in the system tablespace hold copies of other pages; the caller skips
 * verification for them ({@link #isDoublewrite}).
 */
public final class PageChecker {
    private PageChecker() {}

    private static final int LSN_LOW = FilHeader.FIL_PAGE_LSN + 4;
    private static final int KEY_VERSION = FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION;

    /**
     * Verifies the page at {@code buf[off, off + flags.physicalPageSize())}.
     *
     * @param expectedPageNo the page's position in its file; negative to skip the page-number check
     * @throws IllegalArgumentException if the flags are not valid
     */
    public static PageVerdict verify(byte[] buf, int off, TablespaceFlags flags, long expectedPageNo) {
        if (!flags.isValid()) {
            throw new IllegalArgumentException("cannot verify pages with invalid tablespace flags " + flags.describe());
        }
        int ps = flags.physicalPageSize();
        Objects.checkFromIndexSize(off, ps, buf.length);
        PageVerdict v = flags.fullCrc32() ? verifyFullCrc32(buf, off, ps) : verifyLegacy(buf, off, ps, flags);
        if (v.kind() != PageVerdict.Kind.VALID || expectedPageNo < 0) return v;
        long stored = Integer.toUnsignedLong(FilHeader.pageNo(buf, off));
        if (stored != expectedPageNo) {
            return PageVerdict.corrupt("page number " + stored + " at position " + expectedPageNo);
        }
        return v;
    }

    private static PageVerdict verifyFullCrc32(byte[] b, int off, int ps) {
        int type = FilHeader.pageType(b, off);
        int size = ps;
        boolean compressed = (type & PageType.FCRC32_COMPRESSED_MARKER) != 0;
        if (compressed) {
            size = (type & 0x7FFF) << 8;
            if (size == 0 || size >= ps) {
                return PageVerdict.corrupt(String.format(
                        "page_compressed size %d from FIL_PAGE_TYPE 0x%04x is not in [256, %d) (full_crc32)",
                        size, type, ps));
            }
        }
        int stored = Be.i32(b, off + size - 4);
        if (stored == 0 && !compressed && Be.allZero(b, off, off + ps)) return PageVerdict.zero();
        int computed = PageChecksums.fullCrc32(b, off, size);
        if (stored != computed) {
            return PageVerdict.corrupt("crc32c stored=" + Be.hex32(stored) + " computed=" + Be.hex32(computed)
                    + (compressed ? " (full_crc32, page_compressed size " + size + ")" : " (full_crc32)"));
        }
        if (!compressed && Be.i32(b, off) == 0) {
            int header = Be.i32(b, off + LSN_LOW);
            int trailer = Be.i32(b, off + size - 8);
            if (header != trailer) return tornLsn(header, trailer);
        }
        return PageVerdict.valid();
    }

    private static PageVerdict verifyLegacy(byte[] b, int off, int ps, TablespaceFlags flags) {
        if (flags.rowFormatCompressed()) return verifyCompressed(b, off, ps);
        int type = FilHeader.pageType(b, off);
        if (flags.pageCompressed() && type == PageType.PAGE_COMPRESSED_ENCRYPTED) {
            return PageVerdict.unverifiable("legacy page_compressed and encrypted page (FIL_PAGE_TYPE " + type + ")");
        }
        if (flags.pageCompressed() && type == PageType.PAGE_COMPRESSED) {
            return verifyLegacyPageCompressed(b, off, ps, flags);
        }
        int header = Be.i32(b, off + LSN_LOW);
        int trailer = Be.i32(b, off + ps - 4);
        if (header != trailer) return tornLsn(header, trailer);

        int f1 = Be.i32(b, off);
        int f2 = Be.i32(b, off + ps - 8);
        if (f1 == 0 && f2 == 0 && Be.allZero(b, off, off + KEY_VERSION) && Be.allZero(b, off + KEY_VERSION + 8, off + ps)) {
            // bytes 26..33 are ignored: old servers wrote a flush LSN there on page 0 of ibdata files
            return PageVerdict.zero();
        }
        int magic = PageChecksums.NO_CHECKSUM_MAGIC;
        if (f1 == magic && f2 == magic) return PageVerdict.valid();
        int crc = PageChecksums.crc32(b, off, ps);
        if (f1 == crc && f2 == crc) return PageVerdict.valid();
        int fresh = PageChecksums.innodbNew(b, off, ps);
        int old = PageChecksums.innodbOld(b, off);
        // very old files kept the high half of the 8-byte LSN in field 2
        boolean field2Ok = f2 == old || f2 == Be.i32(b, off + FilHeader.FIL_PAGE_LSN) || f2 == magic;
        boolean field1Ok = f1 == fresh || f1 == 0 || f1 == magic;
        if (field1Ok && field2Ok) return PageVerdict.valid();
        if (Be.i32(b, off + KEY_VERSION) != 0 && FilHeader.pageNo(b, off) != 0) {
            int post = Be.i32(b, off + KEY_VERSION + 4);
            if (post == crc || post == fresh || post == magic) return PageVerdict.valid();
        }
        return PageVerdict.corrupt("checksum field1=" + Be.hex32(f1) + " field2=" + Be.hex32(f2)
                + " computed crc32=" + Be.hex32(crc) + " innodb new=" + Be.hex32(fresh)
                + " old=" + Be.hex32(old) + " (legacy)");
    }

    /** A legacy page_compressed frame: its own checks, then the page it holds (never a page_compressed one itself). */
    private static PageVerdict verifyLegacyPageCompressed(byte[] b, int off, int ps, TablespaceFlags flags) {
        LegacyPageCompression.Decompressed d = LegacyPageCompression.decompress(b, off, ps);
        if (d.page() == null) return d.problem();
        byte[] inner = d.page();
        if (FilHeader.pageType(inner, 0) == PageType.PAGE_COMPRESSED) {
            return PageVerdict.corrupt("page_compressed frame holds another page_compressed frame (legacy)");
        }
        PageVerdict v = verifyLegacy(inner, 0, ps, flags);
        if (v.kind() == PageVerdict.Kind.VALID) return v;
        return PageVerdict.corrupt("page held by the page_compressed frame: " + (v.reason() == null ? v.kind().name().toLowerCase(java.util.Locale.ROOT) : v.reason()));
    }

    /**
     * A ROW_FORMAT=COMPRESSED page as the server checks it on read with innodb_checksum_algorithm other than
     * strict_crc32 / strict_full_crc32 (buf_page_is_corrupted() hands it to page_zip_verify_checksum()).
     * The server writes the crc32 variant; the Adler-32 one and the magic come from older servers.
     */
    private static PageVerdict verifyCompressed(byte[] b, int off, int ps) {
        if (Be.allZero(b, off, off + ps)) return PageVerdict.zero();
        int magic = PageChecksums.NO_CHECKSUM_MAGIC;
        int stored = Be.i32(b, off);
        int crc = PageChecksums.zipCrc32(b, off, ps);
        if (stored == crc || stored == magic) return PageVerdict.valid();
        int adler = PageChecksums.zipAdler32(b, off, ps);
        if (stored == adler) return PageVerdict.valid();
        if (Be.i32(b, off + KEY_VERSION) != 0 && FilHeader.pageNo(b, off) != 0) {
            int post = Be.i32(b, off + KEY_VERSION + 4);
            if (post == crc || post == adler || post == magic) return PageVerdict.valid();
        }
        return PageVerdict.corrupt("compressed page checksum stored=" + Be.hex32(stored) + " computed crc32=" + Be.hex32(crc)
                + " adler32=" + Be.hex32(adler) + " (ROW_FORMAT=COMPRESSED, KEY_BLOCK_SIZE=" + (ps >> 10) + "K)");
    }

    /**
     * The key version of a page the server stored encrypted, else 0: FIL_PAGE_SPACE_OR_CHKSUM [0,4)
     * in full_crc32 tablespaces, FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION [26,30) in the older layout
     * (page 0 is never encrypted; in the older layout its [26,30) may hold a flush LSN). Such a
     * page is checked as stored by {@link #verify}; its decrypted contents cannot be checked without the key.
     */
    public static int keyVersion(byte[] b, int off, TablespaceFlags flags) {
        if (FilHeader.pageNo(b, off) == 0) return 0;
        return flags.fullCrc32() ? Be.i32(b, off) : Be.i32(b, off + KEY_VERSION);
    }

    private static PageVerdict tornLsn(int header, int trailer) {
        return PageVerdict.corrupt("LSN low 32 bits header " + Be.hex32(header) + " trailer " + Be.hex32(trailer));
    }

    /**
     * Whether the page is in the doublewrite buffer of the system tablespace: two extents starting at
     * the second extent (pages 64..191 with 16K pages), which hold copies of other tablespaces' pages.
     */
    /**
     * Whether a page carries data but FIL_PAGE_LSN 0: a page written without redo, as ALTER TABLE
     * ... IMPORT TABLESPACE writes every page of the imported file (row0import.cc resets the LSN;
     * verified on 10.11.19). Its LSN says nothing about when it changed. A page the server never
     * wrote is all zero.
     */
    public static boolean writtenWithoutRedo(byte[] b, int off, int pageSize) {
        return FilHeader.pageLsn(b, off) == 0 && !Be.allZero(b, off, off + pageSize);
    }

    public static boolean isDoublewrite(long spaceId, long pageNo, int pageSize) {
        if (spaceId != 0) return false;
        long extent = FspHeader.extentPages(pageSize);
        return pageNo >= extent && pageNo < 3 * extent;
    }
}
