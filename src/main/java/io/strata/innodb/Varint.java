package io.strata.innodb;

/**
 * The variable-length unsigned integer of the 10.8+ redo log ({@code mlog_decode_varint()},
 * mtr0log.h; MariaDB 10.11). The count of leading 1-bits of the first byte gives the extra bytes.
 *
 * <pre>
 * first byte  bytes  value
 * 0xxxxxxx    1      b0                                    0 .. 0x7F
 * 10xxxxxx    2      0x80     + ((b0 &amp; 0x3F) &lt;&lt; 8 | b1)    .. 0x407F
 * 110xxxxx    3      0x4080   + ((b0 &amp; 0x1F) &lt;&lt; 16 | ..)   .. 0x20407F
 * 1110xxxx    4      0x204080 + ((b0 &amp; 0x0F) &lt;&lt; 24 | ..)   .. 0x1020407F
 * 11110000    5      0x10204080 + BE32(b1..b4)              .. 0xFFFFFFFF
 * 0xF1..0xFF  -      invalid
 * </pre>
 */
public final class Varint {
    private Varint() {}

    public static final long MIN_2BYTE = 0x80;
    public static final long MIN_3BYTE = 0x4080;
    public static final long MIN_4BYTE = 0x204080;
    public static final long MIN_5BYTE = 0x10204080;
    public static final long MAX = 0xFFFFFFFFL;

    /** Encoded length (1..5) announced by a first byte; 5 also for the invalid first bytes 0xF1..0xFF. */
    public static int length(byte first) {
        int b = first & 0xFF;
        if (b < 0x80) return 1;
        if (b < 0xC0) return 2;
        if (b < 0xE0) return 3;
        if (b < 0xF0) return 4;
        return 5;
    }

    /** Decodes the varint at {@code b[off]}; -1 if it is invalid. The caller ensures all its bytes are present. */
    public static long decode(byte[] b, int off) {
        int b0 = b[off] & 0xFF;
        if (b0 < 0x80) return b0;
        if (b0 < 0xC0) return MIN_2BYTE + ((b0 & 0x3F) << 8 | (b[off + 1] & 0xFF));
        if (b0 < 0xE0) return MIN_3BYTE + ((b0 & 0x1F) << 16 | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF));
        if (b0 < 0xF0) {
            return MIN_4BYTE + ((long) (b0 & 0x0F) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8
                    | (b[off + 3] & 0xFF));
        }
        if (b0 == 0xF0) {
            long v = Be.u32(b, off + 1);
            return v <= MAX - MIN_5BYTE ? MIN_5BYTE + v : -1;
        }
        return -1;
    }

    /** Bytes needed to encode {@code value}. */
    public static int encodedLength(long value) {
        check(value);
        if (value < MIN_2BYTE) return 1;
        if (value < MIN_3BYTE) return 2;
        if (value < MIN_4BYTE) return 3;
        if (value < MIN_5BYTE) return 4;
        return 5;
    }

    /** Writes {@code value} at {@code out[off]} and returns the number of bytes written. */
    public static int encode(long value, byte[] out, int off) {
        int n = encodedLength(value);
        switch (n) {
            case 1 -> out[off] = (byte) value;
            case 2 -> {
                long v = value - MIN_2BYTE;
                out[off] = (byte) (0x80 | v >>> 8);
                out[off + 1] = (byte) v;
            }
            case 3 -> {
                long v = value - MIN_3BYTE;
                out[off] = (byte) (0xC0 | v >>> 16);
                out[off + 1] = (byte) (v >>> 8);
                out[off + 2] = (byte) v;
            }
            case 4 -> {
                long v = value - MIN_4BYTE;
                out[off] = (byte) (0xE0 | v >>> 24);
                out[off + 1] = (byte) (v >>> 16);
                out[off + 2] = (byte) (v >>> 8);
                out[off + 3] = (byte) v;
            }
            default -> {
                out[off] = (byte) 0xF0;
                Be.put32(out, off + 1, (int) (value - MIN_5BYTE));
            }
        }
        return n;
    }

    /** {@code value} encoded in a new array. */
    public static byte[] encode(long value) {
        byte[] out = new byte[encodedLength(value)];
        encode(value, out, 0);
        return out;
    }

    private static void check(long value) {
        if (value < 0 || value > MAX) throw new IllegalArgumentException("varint value out of range: " + value);
    }
}
