package io.strata.util;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * File reads and writes of Java arrays in slices of at most {@link #SLICE} bytes.
 * <p>
 * NIO reads and writes a heap buffer through a temporary direct buffer, which each thread keeps
 * for the next call only up to {@code jdk.nio.maxCachedBufferSize} (the launcher sets 256 KiB to
 * keep the resident size small). A larger call allocates a fresh direct buffer, zero-fills it,
 * copies through it and frees it: for the 1 MiB batches and chunks of a backup that is two
 * extra passes over every byte, and the pages of the buffer faulted in again and again. In
 * slices of 256 KiB the cached buffer is reused and each byte is copied once.
 */
public final class NioSlices {
    /** The largest read or write of one call: the launcher's jdk.nio.maxCachedBufferSize. */
    public static final int SLICE = 256 << 10;

    private NioSlices() {}

    /**
     * Reads {@code dst[off..off+len)} from file offset {@code pos}, in slices.
     *
     * @return the bytes read: {@code len}, or fewer when the file ends first
     * @throws IOException from the channel
     */
    public static int read(FileChannel ch, byte[] dst, int off, int len, long pos) throws IOException {
        int done = 0;
        while (done < len) {
            ByteBuffer bb = ByteBuffer.wrap(dst, off + done, Math.min(SLICE, len - done));
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pos + (bb.position() - off));
                if (n < 0) {
                    return bb.position() - off;
                }
            }
            done = bb.position() - off;
        }
        return done;
    }

    /**
     * Read-ahead for another thread: reads {@code len} bytes (at most {@link #TOUCH_BYTES}) at file
     * offset {@code pos} and drops them, so that a later read of them finds them in the page cache.
     * Reads nothing past the end. Never throws: a failure (the channel closed meanwhile, an I/O
     * error) is left to the later read to report. Thread-safe (positional reads).
     */
    public static void touch(FileChannel ch, long pos, int len) {
        ByteBuffer b = TOUCH.get().clear().limit(Math.max(0, Math.min(len, TOUCH_BYTES)));
        try {
            while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
                // until the end of the file or the length asked
            }
        } catch (IOException | RuntimeException ignored) {
            // only a head start
        }
    }

    /** The most {@link #touch} reads in one call: the largest InnoDB page. */
    public static final int TOUCH_BYTES = 64 << 10;
    private static final ThreadLocal<ByteBuffer> TOUCH = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(TOUCH_BYTES));

    /**
     * Writes all of {@code src[off..off+len)} at file offset {@code pos}, in slices.
     *
     * @throws IOException from the channel
     */
    public static void write(FileChannel ch, byte[] src, int off, int len, long pos) throws IOException {
        for (int done = 0; done < len; ) {
            ByteBuffer bb = ByteBuffer.wrap(src, off + done, Math.min(SLICE, len - done));
            while (bb.hasRemaining()) {
                done += ch.write(bb, pos + done);
            }
        }
    }

    /** An unbuffered stream writing to {@code ch} in slices; closing it closes the channel. */
    public static OutputStream outputStream(WritableByteChannel ch) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                for (int done = 0; done < len; ) {
                    ByteBuffer bb = ByteBuffer.wrap(b, off + done, Math.min(SLICE, len - done));
                    while (bb.hasRemaining()) {
                        ch.write(bb);
                    }
                    done = bb.position() - off;
                }
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }

    /** An unbuffered stream reading from {@code ch} in slices; closing it closes the channel. */
    public static InputStream inputStream(ReadableByteChannel ch) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) {
                    return 0;
                }
                int n;
                do {
                    n = ch.read(ByteBuffer.wrap(b, off, Math.min(SLICE, len)));
                } while (n == 0);
                return n;
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }
}
