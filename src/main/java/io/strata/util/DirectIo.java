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
 * <p>Why: the kernel's copies into and out of the page cache were most of a restore's time. A
 * full + 7 chain of 4 GB (bench/incremental.sh, results in bench/results-incremental.txt) restored
 * in 8.3-12.7 s with 9-17 s of system CPU when each chunk went through sendfile into the page
 * cache and was read back to check it, and in 5.2-7.2 s with about 1 s past the page cache. A
 * restore also leaves the machine's page cache as it found it, where a buffered copy of a large
 * backup evicts what the other processes were using.
 *
 * <p>O_DIRECT needs the buffer's address, the file offset and the length to be multiples of the
 * device's logical block size; {@link #ALIGN} (4 KiB) covers the devices and file systems in
 * use (512-byte and 4 KiB sectors). A file system that refuses O_DIRECT (tmpfs before Linux
 * 6.6, some FUSE file systems) makes {@link #openRead} and {@link #openWrite} return null, and
 * the caller uses its ordinary channel. Backups read data files past the page cache with
 * {@link DirectReads}, into the arrays their page checks work on.
 */
public final class DirectIo {
    /** Alignment of buffer addresses, file offsets and lengths for O_DIRECT, bytes. */
    public static final int ALIGN = 4096;

    private DirectIo() {}

    /** Opens {@code file} for reading past the page cache; null when its file system does not support O_DIRECT or the open fails. */
    public static FileChannel openRead(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Opens the existing {@code file} for writing past the page cache; null when its file system does not support O_DIRECT or the open fails. */
    public static FileChannel openWrite(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code n} rounded up to a multiple of {@link #ALIGN}. */
    public static long alignUp(long n) {
        return (n + ALIGN - 1) & -ALIGN;
    }

    /**
     * Direct memory for O_DIRECT: its address aligned to {@link #ALIGN}, room for {@code n} rounded
     * up to {@link #ALIGN} bytes (at least 1 MiB), position 0 and limit {@code n}.
     */
    public static ByteBuffer allocate(int n) {
        int size = (int) Math.max(alignUp(n), 1 << 20);
        return ByteBuffer.allocateDirect(size + ALIGN).alignedSlice(ALIGN).limit(n);
    }

    /** Each thread's buffer for the aligned range {@link #readRange} reads, grown as needed. */
    private static final ThreadLocal<ByteBuffer[]> SCRATCH = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    /**
     * Reads bytes [{@code pos}, {@code pos + len}) of {@code ch}, a channel opened with
     * {@link #openRead}, into {@code into} (from its position 0, {@code len} its limit): reads the
     * {@link #ALIGN}ed range that covers them into a buffer of the thread's and copies them from
     * there (a copy in direct memory, not through the kernel). Returns with {@code into} at
     * position 0 and limit {@code len}.
     *
     * @throws EOFException when the file ends before {@code pos + len}
     * @throws IOException  from the read (EINVAL: the device needs a larger alignment)
     */
    public static void readRange(FileChannel ch, long pos, ByteBuffer into) throws IOException {
        int len = into.limit();
        long from = pos & -ALIGN;
        int skip = (int) (pos - from);
        int span = (int) alignUp(skip + (long) len);
        ByteBuffer[] scratch = SCRATCH.get();
        if (scratch[0] == null || scratch[0].capacity() < span) {
            scratch[0] = allocate(span);
        }
        ByteBuffer raw = scratch[0].clear().limit(span);
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
     * multiple of {@link #ALIGN}, else, or when that write fails, exactly its bytes through
     * {@code ch}.
     *
     * @throws IOException from the write through {@code ch}
     */
    public static void write(FileChannel direct, FileChannel ch, ByteBuffer src, long at) throws IOException {
        if (direct != null && (at & (ALIGN - 1)) == 0) {
            try {
                write(direct, src, at);
                return;
            } catch (IOException e) {
                // refused past the page cache (a device that needs a larger alignment): written through ch, which also
                // reports an error of the device itself
            }
        }
        ByteBuffer b = src.duplicate().position(0);
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }
}
