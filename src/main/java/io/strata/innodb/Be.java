package io.strata.innodb;

/** Big-endian reads and writes, as InnoDB stores every integer (mach_read_from_N / mach_write_to_N). */
final class Be {
    private Be() {}

    static int u8(byte[] b, int off) { return b[off] & 0xFF; }

    static int u16(byte[] b, int off) { return (b[off] & 0xFF) << 8 | (b[off + 1] & 0xFF); }

    static int i32(byte[] b, int off) {
        return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
    }

    static long u32(byte[] b, int off) { return i32(b, off) & 0xFFFFFFFFL; }

    static long i64(byte[] b, int off) { return (long) i32(b, off) << 32 | u32(b, off + 4); }

    static void put32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static void put64(byte[] b, int off, long v) {
        put32(b, off, (int) (v >>> 32));
        put32(b, off + 4, (int) v);
    }

    static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) return false;
        }
        return true;
    }

    static String hex32(int v) { return String.format("0x%08x", v); }

    static String hexLsn(long lsn) { return "0x" + Long.toHexString(lsn); }
}
