package io.strata.innodb;

import java.util.Arrays;

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
        // Arrays.mismatch compares 8 bytes at a time (a vectorised intrinsic under C2), where a
        // byte loop under the launcher's C1-only JIT cost a settled full backup ~20% of its CPU
        for (int i = from; i < to; i += ZEROS.length) {
            int n = Math.min(ZEROS.length, to - i);
            if (Arrays.mismatch(b, i, i + n, ZEROS, 0, n) >= 0) return false;
        }
        return true;
    }

    /** Compared against by {@link #allZero}: one 64 KiB page, the largest. */
    private static final byte[] ZEROS = new byte[65536];

    static String hex32(int v) { return String.format("0x%08x", v); }

    static String hexLsn(long lsn) { return "0x" + Long.toHexString(lsn); }
}
