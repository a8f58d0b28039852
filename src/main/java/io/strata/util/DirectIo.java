package io.strata.util;

import com.sun.nio.file.ExtendedOpenOption;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * File reads and writes past the page cache (O_DIRECT), for the bulk copy of a restore: a chunk
 * read from the repository and written to the target by the device's DMA to and from one buffer
 * of this process, without the kernel copying it into and out of the page cache.
 *
 * <p>Why: measured on this project's test machine (a 2-vCPU VM; bench/results-incremental.txt),
 * a 3.7 GB copy of a stored full backup's chunks into a new file, 4 threads: O_DIRECT both ways
 * 3.4-4.6 s wall with 0.5 s of system CPU; buffered reads and O_DIRECT writes 3.6-4.8 s with
 * 2.7 s; sendfile plus a read back (how restore copied before) 4.3-14.3 s with 2.8-22.3 s, the
 * kernel's copies into fresh page-cache pages costing whatever the memory of the moment costs.
 * A restore also leaves the page cache of the machine as it found it, where a buffered copy of
 * a large backup evicts what the other processes were using.
 *
 * <p>O_DIRECT needs the buffer's address, the file offset and the length to be multiples of the
 * device's logical block size; {@link #ALIGN} (4 KiB) covers the devices and file systems in
 * use (512-byte and 4 KiB sectors). A file system that refuses O_DIRECT (tmpfs before Linux
 * 6.6, some FUSE file systems) makes {@link #openRead} and {@link #openWrite} return null, and
 * the caller uses its ordinary channel.
 */
public final class DirectIo {
    /** Alignment of buffer addresses, file offsets and lengths for O_DIRECT, bytes. */
    public static final int ALIGN = 4096;

    private DirectIo() {}

    /** Opens {@code file} for reading past the page cache; null when its file system does not support O_DIRECT or the open fails. */
    public static FileChannel openRead(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** Opens the existing {@code file} for writing past the page cache; null when its file system does not support O_DIRECT or the open fails. */
    public static FileChannel openWrite(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** {@code n} rounded up to a multiple of {@link #ALIGN}. */
    public static long alignUp(long n) {
        return (n + ALIGN - 1) & -ALIGN;
    }

    /**
     * A thread's two buffers of direct memory for O_DIRECT, their addresses aligned to
     * {@link #ALIGN}: {@link #raw(int)} receives the aligned range of a file that covers the bytes
     * asked for, {@link #out(int)} holds those bytes from its first byte on, as written. Grown when
     * a larger one is asked for (chunks are 1 MiB, at most 4 MiB), kept for the thread's next
     * chunk.
     */
    public static final class Buffers {
        private ByteBuffer raw;
        private ByteBuffer out;

        /** The read buffer, cleared, of at least {@code n} + 2 {@link #ALIGN} bytes. */
        ByteBuffer raw(int n) {
            raw = grow(raw, n + 2 * ALIGN);
            return raw.clear();
        }

        /** The write buffer, position 0 and limit {@code n}, of at least {@code n} rounded up to {@link #ALIGN} bytes. */
        public ByteBuffer out(int n) {
            out = grow(out, (int) alignUp(n));
            return out.clear().limit(n);
        }

        private static ByteBuffer grow(ByteBuffer b, int n) {
            if (b != null && b.capacity() >= n) {
                return b;
            }
            int size = Math.max(n, (1 << 20) + 2 * ALIGN);
            return ByteBuffer.allocateDirect(size + ALIGN).alignedSlice(ALIGN);
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** The calling thread's {@link Buffers}. */
    public static Buffers buffers() {
        return BUFFERS.get();
    }

    /**
     * Reads bytes [{@code pos}, {@code pos + len}) of {@code ch}, a channel opened with
     * {@link #openRead}, into {@code into} (from its position 0; {@code into.limit()} must be
     * {@code len}): reads the {@link #ALIGN}ed range that covers them into the thread's read
     * buffer and copies them from there (a copy in direct memory, not through the kernel).
     *
     * @throws EOFException when the file ends before {@code pos + len}
     * @throws IOException  from the read (EINVAL: the device needs a larger alignment)
     */
    public static void readRange(FileChannel ch, long pos, ByteBuffer into, Buffers bufs) throws IOException {
        int len = into.limit();
        long from = pos & -ALIGN;
        int skip = (int) (pos - from);
        int span = (int) alignUp(skip + (long) len);
        ByteBuffer raw = bufs.raw(len).limit(span);
        while (raw.position() < skip + len) {
            int k = ch.read(raw, from + raw.position());
            // a read past the page cache that stops off the grid stopped at the end of the file
            if (k <= 0 || (raw.position() & (ALIGN - 1)) != 0 && raw.position() < skip + len) {
                throw new EOFException("ends at byte " + (from + raw.position()) + ", before " + (pos + len));
            }
        }
        into.clear().limit(len);
        into.put(raw.limit(skip + len).position(skip));
        into.flip();
    }

    /**
     * Writes {@code src} (direct memory with an {@link #ALIGN}ed address, from position 0 to its
     * limit) at file offset {@code at}, a multiple of {@link #ALIGN}, through {@code ch}, a channel
     * opened with {@link #openWrite}. A length that is not a multiple of {@link #ALIGN} is written
     * with zeros after it up to the next multiple: the caller cuts the file to its length at the
     * end, or writes what follows over them.
     *
     * @throws IOException from the write
     */
    public static void write(FileChannel ch, ByteBuffer src, long at) throws IOException {
        if ((at & (ALIGN - 1)) != 0) {
            throw new IllegalArgumentException("offset " + at + " is not a multiple of " + ALIGN);
        }
        int n = src.limit();
        int padded = (int) alignUp(n);
        if (padded > src.capacity()) {
            throw new IllegalArgumentException("a buffer of " + src.capacity() + " bytes cannot be written as " + padded);
        }
        ByteBuffer b = src.duplicate().limit(padded).position(n);
        while (b.hasRemaining()) {
            b.put((byte) 0);
        }
        b.position(0);
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }

    /**
     * Writes {@code src} (from position 0 to its limit) at file offset {@code at}: past the page
     * cache through {@code direct} ({@link #write(FileChannel, ByteBuffer, long)}, zeros after it up
     * to the next multiple of {@link #ALIGN}) when {@code direct} is open and {@code at} is a
     * multiple of {@link #ALIGN}, else exactly its bytes through {@code ch}.
     */
    public static void write(FileChannel direct, FileChannel ch, ByteBuffer src, long at) throws IOException {
        if (direct != null && (at & (ALIGN - 1)) == 0) {
            write(direct, src, at);
            return;
        }
        ByteBuffer b = src.duplicate().position(0);
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }
}
