package io.strata.restore;

import io.strata.util.DirectIo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes the chunks of one restored file from direct memory: past the page cache (O_DIRECT,
 * {@link DirectIo}) when the file is open that way and the chunk starts on the 4 KiB grid, else
 * through the page cache.
 *
 * <p>Use: {@link #buffer(int)} gives the buffer to read the next chunk into (its address aligned
 * for O_DIRECT, the writer thread's own), {@link #write} writes it, {@link #writeNow} writes heap
 * bytes (decoded chunks, delta pages, zeros), {@link #finish} cuts the file to its length (a write
 * past the page cache that ends off the 4 KiB grid leaves zeros after it, which a later write over
 * them replaces or the cut removes). Writes land in call order. Tried and left out: writing each
 * chunk on a helper thread while the next one is read (a 4 GB full + 7 restore took 5.0-7.5 s
 * either way on the test machine, more writer threads gained more: --parallel).
 */
final class ChunkWriter {
    /** Each writer thread's buffer, grown as needed. */
    private static final ThreadLocal<ByteBuffer[]> BUFFER = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    private final FileChannel ch;
    private final FileChannel direct;

    /**
     * @param ch     the new file, open for writing
     * @param direct the same file opened for writes past the page cache ({@link DirectIo#openWrite}), or null
     */
    ChunkWriter(FileChannel ch, FileChannel direct) {
        this.ch = ch;
        this.direct = direct;
    }

    /**
     * The writer thread's buffer: direct memory with an address aligned to {@link DirectIo#ALIGN},
     * position 0 and limit {@code n} (a chunk's raw length, at most 4 MiB), room for {@code n}
     * rounded up to {@link DirectIo#ALIGN}. Valid until the thread's next call.
     */
    ByteBuffer buffer(int n) {
        ByteBuffer[] b = BUFFER.get();
        if (b[0] == null || b[0].capacity() < DirectIo.alignUp(n)) {
            b[0] = DirectIo.allocate(n);
        }
        return b[0].clear().limit(n);
    }

    /**
     * Writes {@code b} (from position 0 to its limit) at file offset {@code at}
     * ({@link DirectIo#write(FileChannel, FileChannel, ByteBuffer, long)}).
     *
     * @throws IOException from the write
     */
    void write(ByteBuffer b, long at) throws IOException {
        DirectIo.write(direct, ch, b, at);
    }

    /** Writes {@code src[off..off+len)} at file offset {@code at} through the page cache. */
    void writeNow(byte[] src, int off, int len, long at) throws IOException {
        io.strata.util.NioSlices.write(ch, src, off, len, at);
    }

    /** Cuts the file to {@code length} bytes when a write past the page cache left zeros after it. */
    void finish(long length) throws IOException {
        if (ch.size() > length) {
            ch.truncate(length);
        }
    }
}
