package io.strata.innodb;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A page_compressed page in the legacy (not full_crc32) layout, as MariaDB 10.11 writes it for a
 * PAGE_COMPRESSED=1 tablespace created under innodb_checksum_algorithm=crc32 or innodb
 * (fil0pagecompress.cc, {@code fil_page_compress_for_non_full_crc32()} and
 * {@code fil_page_decompress_for_non_full_crc32()}; fil0fil.h FIL_PAGE_COMP_*). The server checks
 * such a page only after decompressing it: {@code buf_page_is_corrupted()} skips pages of type
 * 34354 and 37401, and the decompressed page carries the ordinary crc32/innodb checksums.
 *
 * <pre>
 * off      size field                      note
 *   0         4 checksum field              always 0xDEADBEEF (BUF_NO_CHECKSUM_MAGIC): the frame has no checksum
 *   4        20 page number .. FIL_PAGE_LSN copied from the uncompressed page
 *  24         2 FIL_PAGE_TYPE               34354 (FIL_PAGE_PAGE_COMPRESSED)
 *  26         8 algorithm                   BE64; 1 zlib, 2 lz4, 3 lzo, 4 lzma, 5 bzip2, 6 snappy (high 6 bytes 0)
 *  34         4 FIL_PAGE_SPACE_ID           copied from the uncompressed page
 *  38         2 payload length n            1 .. page size - 40
 *  40         n payload                     the whole uncompressed page (checksums included), compressed
 * 40+n          -                           zeros, or a hole the server punched
 * </pre>
 * Type 37401 (FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED) is the same page encrypted after compression, with
 * the algorithm repeated at 40 and the payload from 42; it cannot be read without the key.
 * Pages the server does not compress (page 0, extent descriptors, freshly allocated pages) and pages
 * whose compressed form would not fit are written uncompressed, with the ordinary layout.
 */
public final class LegacyPageCompression {
    private LegacyPageCompression() {}

    /** Offset of the BE16 payload length (FIL_PAGE_DATA + FIL_PAGE_COMP_SIZE). */
    public static final int SIZE_OFFSET = FilHeader.FIL_PAGE_DATA;
    /** Offset of the payload of an unencrypted page (FIL_PAGE_DATA + FIL_PAGE_COMP_METADATA_LEN). */
    public static final int PAYLOAD_OFFSET = FilHeader.FIL_PAGE_DATA + 2;

    /** Algorithm numbers (PAGE_*_ALGORITHM, fsp0types.h / fil0pagecompress.h). */
    public static final int ZLIB = 1;
    public static final int LZ4 = 2;

    private static final String[] NAMES = {"none", "zlib", "lz4", "lzo", "lzma", "bzip2", "snappy"};

    /** Name of algorithm number {@code a}, or "algorithm a" for an unknown number. */
    public static String algorithmName(long a) {
        return a >= 0 && a < NAMES.length ? NAMES[(int) a] : "algorithm " + a;
    }

    /** The outcome of {@link #decompress}: the uncompressed page, or (page null) why there is none. */
    record Decompressed(byte[] page, PageVerdict problem) {
        static Decompressed of(PageVerdict problem) { return new Decompressed(null, problem); }
    }

    /**
     * Checks the page_compressed page (type 34354) at {@code b[off, off + ps)} and decompresses it.
     * Returns the uncompressed page for the caller to verify like any legacy page, or a verdict:
     * CORRUPT when the frame is inconsistent or the payload does not decompress to exactly
     * {@code ps} bytes whose header agrees with the frame's; UNVERIFIABLE for an algorithm strata
     * cannot decompress (lzo, lzma, bzip2, snappy: the JDK and our libraries have only zlib and lz4).
     */
    static Decompressed decompress(byte[] b, int off, int ps) {
        int magic = Be.i32(b, off);
        if (magic != PageChecksums.NO_CHECKSUM_MAGIC) {
            return Decompressed.of(PageVerdict.corrupt("page_compressed checksum field " + Be.hex32(magic) + ", expected "
                    + Be.hex32(PageChecksums.NO_CHECKSUM_MAGIC) + " (legacy)"));
        }
        long algorithm = Be.i64(b, off + FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION);
        int n = Be.u16(b, off + SIZE_OFFSET);
        if (n == 0 || n > ps - PAYLOAD_OFFSET) {
            return Decompressed.of(PageVerdict.corrupt("page_compressed payload length " + n + " is not in [1, " + (ps - PAYLOAD_OFFSET) + "] (legacy)"));
        }
        byte[] inner = new byte[ps];
        int got;
        if (algorithm == ZLIB) {
            got = inflate(b, off + PAYLOAD_OFFSET, n, inner);
        } else if (algorithm == LZ4) {
            got = lz4(b, off + PAYLOAD_OFFSET, n, inner);
        } else if (algorithm > ZLIB && algorithm < NAMES.length) {
            return Decompressed.of(PageVerdict.unverifiable("legacy page_compressed page compressed with " + algorithmName(algorithm)
                    + ", which strata cannot decompress to check"));
        } else {
            return Decompressed.of(PageVerdict.corrupt("page_compressed algorithm field 0x" + Long.toHexString(algorithm) + " is no known algorithm (legacy)"));
        }
        if (got != ps) {
            return Decompressed.of(PageVerdict.corrupt("page_compressed payload of " + n + " bytes does not " + algorithmName(algorithm) + "-decompress to a "
                    + ps + "-byte page" + (got < 0 ? "" : " (got " + got + " bytes)") + " (legacy)"));
        }
        // the frame copies the page number, siblings, LSN and space id of the page it holds
        for (int[] r : new int[][] {{FilHeader.FIL_PAGE_OFFSET, FilHeader.FIL_PAGE_TYPE}, {FilHeader.FIL_PAGE_SPACE_ID, FilHeader.FIL_PAGE_DATA}}) {
            for (int i = r[0]; i < r[1]; i++) {
                if (b[off + i] != inner[i]) {
                    return Decompressed.of(PageVerdict.corrupt("page_compressed frame and the page it holds differ at header byte " + i + " (legacy)"));
                }
            }
        }
        return new Decompressed(inner, null);
    }

    /** zlib-decompresses {@code len} bytes into {@code out}; the decompressed length, or -1 when the stream is bad or longer. */
    private static int inflate(byte[] b, int off, int len, byte[] out) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(b, off, len);
            int got = inf.inflate(out);
            if (!inf.finished()) {
                return -1;
            }
            return got;
        } catch (DataFormatException e) {
            return -1;
        } finally {
            inf.end();
        }
    }

    /** LZ4-block-decompresses {@code len} bytes into {@code out} (pure Java, no native library); the length, or -1. */
    private static int lz4(byte[] b, int off, int len, byte[] out) {
        try {
            return net.jpountz.lz4.LZ4Factory.safeInstance().safeDecompressor().decompress(b, off, len, out, 0, out.length);
        } catch (net.jpountz.lz4.LZ4Exception e) {
            return -1;
        }
    }
}
