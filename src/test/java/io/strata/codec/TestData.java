package io.strata.codec;

import java.util.Random;

/** Data for codec tests. */
public final class TestData {
    private TestData() {}

    /** Text-like data (digit groups from a small vocabulary, as in sysbench rows): compressible, not trivially. */
    public static byte[] textLike(int n, long seed) {
        Random r = new Random(seed);
        byte[][] words = new byte[300][12];
        for (byte[] w : words) {
            for (int i = 0; i < 11; i++) {
                w[i] = (byte) ('0' + r.nextInt(10));
            }
            w[11] = '-';
        }
        byte[] b = new byte[n];
        for (int i = 0; i < n; i += 12) {
            System.arraycopy(words[r.nextInt(words.length)], 0, b, i, Math.min(12, n - i));
        }
        return b;
    }
}
