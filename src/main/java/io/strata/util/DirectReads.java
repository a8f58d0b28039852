package io.strata.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Reads of a file that bypass the page cache (O_DIRECT), for the copy of InnoDB data files.
 * <p>
 * A buffered read copies every byte twice on the CPU: from the device into the page cache, then
 * from the page cache into the reader's buffer; and it fills the page cache with a whole data
 * directory read once. With O_DIRECT the device writes straight into an aligned buffer of this
 * thread's and one copy into the caller's array follows. MariaDB itself reads and writes its data
 * files with O_DIRECT by default since 10.6 (innodb_flush_method), as mariadb-backup reads them,
 * so the bytes are those the server wrote; a file the server writes through the page cache is
 * still read coherently, since the kernel writes dirty cached pages of the range out before a
 * direct read of it.
 * <p>
 * O_DIRECT asks for file offsets, lengths and buffer addresses aligned to the file system's block
 * size: reads here are aligned to {@value #ALIGN} bytes and at most {@value #CAPACITY} bytes a call.
 * Whatever this class does not read (an unaligned offset, the bytes after a short read at the end
 * of the file, a file system that refuses O_DIRECT such as tmpfs, or one whose block is larger)
 * the caller reads the ordinary way: {@link #read} says how far it got.
 */
public final class DirectReads implements AutoCloseable {
    /** Alignment of offsets, lengths and the buffer: the usual block size of ext4 and XFS (a multiple of 512-byte sectors). */
    public static final int ALIGN = DirectIo.ALIGN;
    /** The most bytes one call reads: the buffer each reading thread keeps. */
    public static final int CAPACITY = 1 << 20;
    private static final ThreadLocal<ByteBuffer> BUFFER = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(CAPACITY + ALIGN).alignedSlice(ALIGN).limit(CAPACITY));

    private final FileChannel ch;
    private boolean refused;
    /** Bytes of the last {@link #read} still whole in this thread's buffer from offset 0; 0 when none. */
    private int held;

    private DirectReads(FileChannel ch) {
        this.ch = ch;
    }

    /**
     * Opens {@code file} for direct reads.
     *
     * @return null when the file system (or the JDK) refuses O_DIRECT for it, or the file cannot be opened
     *         (the caller's ordinary open reports why)
     */
    public static DirectReads open(Path file) {
        FileChannel ch = DirectIo.openRead(file);
        return ch == null ? null : new DirectReads(ch);
    }

    /**
     * Reads up to {@code len} bytes at file offset {@code pos} into {@code dst[off..]}.
     *
     * @return how many bytes were read, from {@code pos} on (0 .. len): fewer than {@code len} at the
     *         end of the file, when {@code pos} is not aligned, or once the file system refused an
     *         aligned read (from then on this reader reads nothing); the caller reads the rest
     *         the ordinary way. Never throws: an I/O error is left for that ordinary read to report.
     */
    public int read(byte[] dst, int off, int len, long pos) {
        held = 0;
        if (refused || pos % ALIGN != 0) {
            return 0;
        }
        ByteBuffer b = BUFFER.get();
        int done = 0;
        try {
            while (done < len) {
                int want = Math.min(CAPACITY, roundUp(len - done));
                b.clear().limit(want);
                while (b.hasRemaining()) {
                    int k = ch.read(b, pos + done + b.position());
                    if (k <= 0 || b.position() % ALIGN != 0) {
                        break; // the end of the file, or a short read the next aligned read cannot follow
                    }
                }
                int got = Math.min(b.position(), len - done);
                b.flip().get(dst, off + done, got);
                if (done == 0 && got == len) {
                    held = len; // the whole read in one call: the buffer still holds dst's bytes
                }
                done += got;
                if (got < want && done < len) {
                    return done;
                }
            }
            return done;
        } catch (IOException e) {
            refused = true; // an alignment this file system wants, or an I/O error: the ordinary read sees it again
            return done;
        }
    }

    /**
     * The bytes the last {@link #read} of this reader copied into the caller's array, as a
     * read-only view of this thread's aligned direct buffer (position 0, limit {@code len}), when
     * that read took all {@code len} of them in one call (at most {@link #CAPACITY}); else null.
     * Valid on the thread that read, until its next read through any {@code DirectReads}. A writer
     * that sends the view to a file saves the two copies a Java array costs on the way out (into the
     * object's chunk, and into NIO's temporary direct buffer).
     */
    public ByteBuffer held(int len) {
        if (held != len || len == 0) {
            return null;
        }
        return BUFFER.get().asReadOnlyBuffer().position(0).limit(len);
    }

    private static int roundUp(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
