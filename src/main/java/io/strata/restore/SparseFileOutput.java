package io.strata.restore;

import io.strata.innodb.TablespaceFlags;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Writes a restored page_compressed tablespace as sparse as the server keeps it. The server writes
 * each page_compressed page only up to its compressed length (rounded up to the file system block)
 * and punches a hole over the rest of the page ({@code os_file_punch_hole()}, os0file.cc; MariaDB
 * 10.11), and extends such files with {@code ftruncate}, not {@code fallocate}: a file of 10 MiB may
 * hold 500 KiB. Copied byte for byte it would take its full length on disk.
 *
 * <p>Java has no {@code fallocate(PUNCH_HOLE)}, but a new file needs none: for each page this
 * stream writes the bytes up to the page's last non-zero byte at the page's offset (a positional
 * write) and skips the zeros after it, and {@link #finish()} sets the length with
 * {@code ftruncate} ({@link RandomAccessFile#setLength}). Skipped ranges are never allocated, so
 * the file's blocks are those of the written prefixes, as on the source (mariadb-backup's copy
 * does the same). Every file strata restores or merges is written new, never rewritten in place,
 * so no hole ever has to be punched into existing data. A file system without sparse files
 * (some network file systems) allocates the zeros: the result is the same bytes, only larger.
 *
 * <p>Only page_compressed tablespaces are written this way ({@link #needed}): InnoDB extends other
 * tablespaces with {@code posix_fallocate} so that a page write never meets a full disk, and holes
 * in them would give that guarantee up.
 */
final class SparseFileOutput extends OutputStream {
    private final FileChannel ch;
    private final Path path;
    private final byte[] page;
    private int fill;
    private long position;

    /** Pages of {@code pageSize} bytes into the empty file {@code path}, open as {@code ch} for writing. */
    SparseFileOutput(FileChannel ch, Path path, int pageSize) {
        this.ch = ch;
        this.path = path;
        this.page = new byte[pageSize];
    }

    /** Whether a restored InnoDB file with these FSP flags is kept sparse: page_compressed tablespaces, both layouts. */
    static boolean needed(int flags) {
        TablespaceFlags f = new TablespaceFlags(flags);
        return f.isValid() && f.pageCompressed();
    }

    /**
     * The stream a restored InnoDB file with FSP flags {@code flags} is written through: this class
     * for a page_compressed tablespace, else a plain buffered stream over {@code ch}. Call
     * {@link #finish(OutputStream)} once everything is written, before forcing the channel.
     */
    static OutputStream open(FileChannel ch, Path path, int flags) {
        if (needed(flags)) {
            return new SparseFileOutput(ch, path, new TablespaceFlags(flags).physicalPageSize());
        }
        return new BufferedOutputStream(io.strata.util.NioSlices.outputStream(ch), 1 << 20);
    }

    /** Flushes what {@link #open} returned, and for a sparse file writes its last page and sets its length. */
    static void finish(OutputStream os) throws IOException {
        if (os instanceof SparseFileOutput s) {
            s.finish();
        } else {
            os.flush();
        }
    }

    @Override
    public void write(int b) throws IOException {
        page[fill++] = (byte) b;
        if (fill == page.length) {
            writePage();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, page.length - fill);
            System.arraycopy(b, off, page, fill, n);
            fill += n;
            off += n;
            len -= n;
            if (fill == page.length) {
                writePage();
            }
        }
    }

    /** Writes the buffered page's bytes up to its last non-zero one; the zeros after it stay a hole. */
    private void writePage() throws IOException {
        int end = fill;
        while (end > 0 && page[end - 1] == 0) {
            end--;
        }
        ByteBuffer bb = ByteBuffer.wrap(page, 0, end);
        while (bb.hasRemaining()) {
            ch.write(bb, position + bb.position());
        }
        position += fill;
        fill = 0;
    }

    /** Writes a partial last page, then gives the file its full length without allocating the trailing hole. */
    void finish() throws IOException {
        if (fill > 0) {
            writePage();
        }
        if (ch.size() < position) {
            try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(position); // ftruncate: extends the file with a hole
            }
        }
    }
}
