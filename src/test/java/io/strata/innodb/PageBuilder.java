package io.strata.innodb;

import java.util.Random;

/** Builds pages with correct checksums for tests. Fields default to a plausible INDEX page. */
public final class PageBuilder {
    public enum Algo { FULL_CRC32, CRC32, INNODB, NONE }

    private final int size;
    private final Algo algo;
    private int pageNo = 3;
    private int spaceId = 5;
    private long lsn = 0x1234_5678_9AL;
    private int type = PageType.INDEX;
    private int keyVersion;
    private int compressedSize;
    private long seed = 42;

    private PageBuilder(int size, Algo algo) {
        this.size = size;
        this.algo = algo;
    }

    public static PageBuilder fullCrc32(int size) { return new PageBuilder(size, Algo.FULL_CRC32); }

    public static PageBuilder legacy(int size, Algo algo) { return new PageBuilder(size, algo); }

    public PageBuilder pageNo(int n) { pageNo = n; return this; }

    public PageBuilder spaceId(int n) { spaceId = n; return this; }

    public PageBuilder lsn(long l) { lsn = l; return this; }

    public PageBuilder type(int t) { type = t; return this; }

    public PageBuilder keyVersion(int k) { keyVersion = k; return this; }

    public PageBuilder seed(long s) { seed = s; return this; }

    /** full_crc32 page_compressed: only the first {@code n} bytes (a multiple of 256) are meaningful. */
    public PageBuilder compressedSize(int n) { compressedSize = n; return this; }

    public byte[] build() {
        byte[] p = new byte[size];
        Random r = new Random(seed);
        int bodyEnd = compressedSize > 0 ? compressedSize - 8 : size - 8;
        for (int i = 38; i < bodyEnd; i++) p[i] = (byte) r.nextInt(256);
        Be.put32(p, 4, pageNo);
        Be.put32(p, 8, pageNo - 1);
        Be.put32(p, 12, pageNo + 1);
        Be.put64(p, 16, lsn);
        Be.put32(p, 34, spaceId);
        switch (algo) {
            case FULL_CRC32 -> {
                Be.put32(p, 0, keyVersion);
                int end = size;
                if (compressedSize > 0) {
                    p[24] = (byte) (0x80 | (compressedSize >> 8) >> 8);
                    p[25] = (byte) (compressedSize >> 8);
                    end = compressedSize;
                } else {
                    p[24] = (byte) (type >> 8);
                    p[25] = (byte) type;
                    Be.put32(p, end - 8, (int) lsn);
                }
                Be.put32(p, end - 4, PageChecksums.fullCrc32(p, 0, end));
            }
            case CRC32, INNODB, NONE -> {
                p[24] = (byte) (type >> 8);
                p[25] = (byte) type;
                Be.put32(p, 26, keyVersion);
                Be.put32(p, size - 4, (int) lsn);
                int f1, f2;
                if (algo == Algo.CRC32) {
                    f1 = f2 = PageChecksums.crc32(p, 0, size);
                } else if (algo == Algo.INNODB) {
                    // field 1 first: the old checksum covers bytes 0..25, field 1 included
                    f1 = PageChecksums.innodbNew(p, 0, size);
                    Be.put32(p, 0, f1);
                    f2 = PageChecksums.innodbOld(p, 0);
                } else {
                    f1 = f2 = PageChecksums.NO_CHECKSUM_MAGIC;
                }
                Be.put32(p, 0, f1);
                Be.put32(p, size - 8, f2);
            }
        }
        return p;
    }

    /**
     * A legacy-format page with the ordinary crc32 checksums whose body (all {@code 'a'}) compresses
     * well, as real pages of a PAGE_COMPRESSED table do.
     */
    public static byte[] compressibleLegacy(int size, int pageNo, long lsn) {
        byte[] p = legacy(size, Algo.CRC32).pageNo(pageNo).lsn(lsn).type(PageType.INDEX).build();
        java.util.Arrays.fill(p, FilHeader.FIL_PAGE_DATA, size - FilHeader.FIL_PAGE_DATA_END, (byte) 'a');
        Be.put32(p, 0, PageChecksums.crc32(p, 0, size));
        Be.put32(p, size - 8, PageChecksums.crc32(p, 0, size));
        return p;
    }

    /**
     * The legacy page_compressed frame the server writes for {@code inner} ({@link LegacyPageCompression}):
     * algorithm {@code algo} (zlib or lz4), header, payload length, payload, zeros to the end.
     */
    public static byte[] legacyPageCompressed(byte[] inner, int algo) {
        int size = inner.length;
        byte[] payload;
        if (algo == LegacyPageCompression.ZLIB) {
            java.util.zip.Deflater d = new java.util.zip.Deflater(6);
            d.setInput(inner);
            d.finish();
            byte[] out = new byte[size];
            int n = d.deflate(out);
            d.end();
            payload = java.util.Arrays.copyOf(out, n);
        } else {
            payload = net.jpountz.lz4.LZ4Factory.safeInstance().fastCompressor().compress(inner);
        }
        byte[] f = new byte[size];
        System.arraycopy(inner, 0, f, 0, FilHeader.FIL_PAGE_DATA);
        Be.put32(f, 0, PageChecksums.NO_CHECKSUM_MAGIC);
        f[FilHeader.FIL_PAGE_TYPE] = (byte) (PageType.PAGE_COMPRESSED >> 8);
        f[FilHeader.FIL_PAGE_TYPE + 1] = (byte) PageType.PAGE_COMPRESSED;
        Be.put64(f, FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION, algo);
        f[LegacyPageCompression.SIZE_OFFSET] = (byte) (payload.length >> 8);
        f[LegacyPageCompression.SIZE_OFFSET + 1] = (byte) payload.length;
        System.arraycopy(payload, 0, f, LegacyPageCompression.PAYLOAD_OFFSET, payload.length);
        return f;
    }
}
