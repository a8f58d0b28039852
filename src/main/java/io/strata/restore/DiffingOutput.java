package io.strata.restore;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * The stream a delta restore ({@link DeltaRestore}) writes one file of the result through: it takes
 * the result's bytes in order and writes into the existing file only the units (InnoDB pages, or
 * 64 KiB blocks of other files) whose bytes differ from what the file holds at that offset. Equal
 * bytes imply an equal FIL_PAGE_LSN and checksum, and both pages are in memory anyway, so pages are
 * compared whole rather than by LSN and checksum alone. {@link #finish()} cuts a longer file to the
 * result's length. The file is rewritten in place: a crash part way leaves it mixed, which is why the
 * delta restore marks its target unfinished first.
 */
final class DiffingOutput extends OutputStream {
    /** The unit non-InnoDB files are compared in. */
    static final int BLOCK = 64 << 10;

    private final FileChannel ch;
    private final int unit;
    private final byte[] buf;
    private final byte[] old;
    private int fill;
    private long position;
    private long written;

    /**
     * @param ch   the existing (or new, empty) file, open for reading and writing
     * @param unit compare and write granularity in bytes: the physical page size, or {@link #BLOCK}
     */
    DiffingOutput(FileChannel ch, int unit) {
        this.ch = ch;
        this.unit = unit;
        int size = Math.max(1, (1 << 20) / unit) * unit;
        this.buf = new byte[size];
        this.old = new byte[size];
    }

    @Override
    public void write(int b) throws IOException {
        buf[fill++] = (byte) b;
        if (fill == buf.length) {
            flushBlock();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, buf.length - fill);
            System.arraycopy(b, off, buf, fill, n);
            fill += n;
            off += n;
            len -= n;
            if (fill == buf.length) {
                flushBlock();
            }
        }
    }

    /** Compares the buffered bytes with the file's at the same offset and writes the units that differ, runs of them at once. */
    private void flushBlock() throws IOException {
        ByteBuffer in = ByteBuffer.wrap(old, 0, fill);
        while (in.hasRemaining()) {
            int n = ch.read(in, position + in.position());
            if (n < 0) {
                break;
            }
        }
        int have = in.position();
        int runStart = -1;
        for (int off = 0; off < fill; off += unit) {
            int end = Math.min(off + unit, fill);
            boolean same = end <= have && Arrays.equals(buf, off, end, old, off, end);
            if (!same && runStart < 0) {
                runStart = off;
            } else if (same && runStart >= 0) {
                writeRun(runStart, off);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            writeRun(runStart, fill);
        }
        position += fill;
        fill = 0;
    }

    private void writeRun(int from, int to) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buf, from, to - from);
        while (bb.hasRemaining()) {
            ch.write(bb, position + bb.position());
        }
        written += to - from;
    }

    /** Writes what is buffered and gives the file the result's length (cutting what is beyond it). */
    void finish() throws IOException {
        if (fill > 0) {
            flushBlock();
        }
        if (ch.size() > position) {
            ch.truncate(position); // a cut writes no data bytes
        }
    }

    /** Bytes of the result taken so far. */
    long length() {
        return position + fill;
    }

    /** Bytes written into the file (the units that differed). */
    long written() {
        return written;
    }
}
