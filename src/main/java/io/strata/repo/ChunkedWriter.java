package io.strata.repo;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/** Writes one object in {@link ObjectFormat}; {@link #finish()} writes the footer. */
public final class ChunkedWriter extends OutputStream {
    private final DataOutputStream out;
    private final byte[] buf = new byte[ObjectFormat.CHUNK_SIZE];
    private final CRC32C rawCrc = new CRC32C();
    private final CRC32C chunkCrc = new CRC32C();
    private int fill;
    private long total;
    private long storedTotal;
    private int chunks;
    private boolean finished;

    public ChunkedWriter(OutputStream target, String contentName) throws IOException {
        this.out = new DataOutputStream(target);
        byte[] name = contentName.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(ObjectFormat.MAGIC);
        out.writeShort(ObjectFormat.VERSION);
        out.writeByte(name.length);
        out.write(name);
    }

    @Override
    public void write(int b) throws IOException {
        buf[fill++] = (byte) b;
        if (fill == buf.length) {
            flushChunk();
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
                flushChunk();
            }
        }
    }

    private void flushChunk() throws IOException {
        if (fill == 0) {
            return;
        }
        chunkCrc.reset();
        chunkCrc.update(buf, 0, fill);
        int crc = (int) chunkCrc.getValue();
        ObjectFormat.digest(rawCrc, fill, crc);
        out.writeInt(fill);
        out.writeInt(fill);
        out.writeByte(ObjectFormat.CODEC_NONE);
        out.writeInt(crc);
        out.write(buf, 0, fill);
        total += fill;
        storedTotal += fill + 13;
        chunks++;
        fill = 0;
    }

    /** Ends the object: the last chunk, the end marker and the footer. Does not close the target. */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        flushChunk();
        out.writeInt(0);
        out.writeLong(total);
        out.writeInt(chunks);
        out.writeInt((int) rawCrc.getValue());
        out.writeInt(ObjectFormat.FOOTER_MAGIC);
        out.flush();
        finished = true;
    }

    public long rawBytes() { return total + fill; }

    /** The object's content digest (see {@link ObjectFormat}); valid after {@link #finish()}. */
    public int rawCrc() { return (int) rawCrc.getValue(); }

    @Override
    public void flush() {
        // chunks are written whole; the target is flushed by finish()
    }

    @Override
    public void close() throws IOException {
        finish();
    }
}
