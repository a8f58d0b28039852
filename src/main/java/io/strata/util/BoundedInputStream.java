package io.strata.util;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The first {@code limit} bytes of another stream: reads end there (or where the stream ends
 * first); closing closes the stream beneath. Used to read one member of a pack (the store's
 * ranged open) as if it were an object of its own.
 */
public final class BoundedInputStream extends FilterInputStream {
    private long left;

    /** @param limit bytes that may be read, at least 0 */
    public BoundedInputStream(InputStream in, long limit) {
        super(in);
        if (limit < 0) {
            throw new IllegalArgumentException("limit " + limit);
        }
        this.left = limit;
    }

    /** {@code in} itself when {@code limit} is {@link Long#MAX_VALUE} (no bound), else its first {@code limit} bytes. */
    public static InputStream of(InputStream in, long limit) {
        return limit == Long.MAX_VALUE ? in : new BoundedInputStream(in, limit);
    }

    @Override
    public int read() throws IOException {
        if (left <= 0) {
            return -1;
        }
        int b = in.read();
        if (b >= 0) {
            left--;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (left <= 0) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n > 0) {
            left -= n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long k = in.skip(Math.min(n, left));
        if (k > 0) {
            left -= k;
        }
        return k;
    }

    @Override
    public int available() throws IOException {
        return (int) Math.min(in.available(), left);
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
