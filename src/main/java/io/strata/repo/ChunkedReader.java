package io.strata.repo;

import io.strata.error.CorruptDataException;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Reads one object in {@link ObjectFormat}, checking every chunk and the footer. Corruption is
 * reported as {@link CorruptDataException} naming the resource, the chunk and both values.
 */
public final class ChunkedReader extends InputStream {
    private final DataInputStream in;
    private final String resource;
    private final CRC32C rawCrc = new CRC32C();
    private final CRC32C chunkCrc = new CRC32C();
    private byte[] chunk = new byte[0];
    private int pos;
    private int len;
    private long total;
    private int chunks;
    private boolean ended;

    public ChunkedReader(InputStream source, String expectedContent, String resource) throws IOException {
        this.in = new DataInputStream(source);
        this.resource = resource;
        try {
            int magic = in.readInt();
            if (magic != ObjectFormat.MAGIC) {
                throw corrupt(String.format("not a strata object: magic 0x%08x, expected 0x%08x", magic, ObjectFormat.MAGIC));
            }
            int version = in.readUnsignedShort();
            if (version != ObjectFormat.VERSION) {
                throw new CorruptDataException(String.format("object format version %d is outside the supported range [1,1] (resource=%s)",
                        version, resource), "a newer strata wrote this repository; upgrade strata to read it");
            }
            byte[] name = new byte[in.readUnsignedByte()];
            in.readFully(name);
            String content = new String(name, StandardCharsets.US_ASCII);
            if (!content.equals(expectedContent)) {
                throw corrupt("object holds \"" + content + "\", expected \"" + expectedContent + "\"");
            }
        } catch (EOFException e) {
            throw corrupt("object is truncated inside its header");
        }
    }

    private CorruptDataException corrupt(String what) {
        return new CorruptDataException(what + " (resource=" + resource + ")",
                "the stored copy is damaged; this backup cannot be used, take a new one");
    }

    private boolean nextChunk() throws IOException {
        if (ended) {
            return false;
        }
        try {
            int raw = in.readInt();
            if (raw == 0) {
                long t = in.readLong();
                int n = in.readInt();
                int crc = in.readInt();
                int magic = in.readInt();
                if (magic != ObjectFormat.FOOTER_MAGIC || t != total || n != chunks || crc != (int) rawCrc.getValue()) {
                    throw corrupt(String.format("footer mismatch: stored length=%d chunks=%d digest=0x%08x, read length=%d chunks=%d digest=0x%08x",
                            t, n, crc, total, chunks, (int) rawCrc.getValue()));
                }
                ended = true;
                return false;
            }
            int stored = in.readInt();
            int codec = in.readUnsignedByte();
            int crc = in.readInt();
            if (raw < 0 || raw > ObjectFormat.MAX_CHUNK || stored != raw || codec != ObjectFormat.CODEC_NONE) {
                throw corrupt(String.format("chunk %d has a bad header: raw=%d stored=%d codec=%d", chunks, raw, stored, codec));
            }
            if (chunk.length < raw) {
                chunk = new byte[raw];
            }
            in.readFully(chunk, 0, raw);
            chunkCrc.reset();
            chunkCrc.update(chunk, 0, raw);
            if ((int) chunkCrc.getValue() != crc) {
                throw corrupt(String.format("chunk %d (raw offset %d) checksum mismatch: stored crc32c=0x%08x computed=0x%08x",
                        chunks, total, crc, (int) chunkCrc.getValue()));
            }
            ObjectFormat.digest(rawCrc, raw, crc);
            total += raw;
            chunks++;
            pos = 0;
            len = raw;
            return true;
        } catch (EOFException e) {
            throw corrupt("object is truncated after " + total + " bytes (" + chunks + " chunks)");
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int n) throws IOException {
        if (n == 0) {
            return 0;
        }
        while (pos == len) {
            if (!nextChunk()) {
                return -1;
            }
        }
        int k = Math.min(n, len - pos);
        System.arraycopy(chunk, pos, b, off, k);
        pos += k;
        return k;
    }

    /** Reads to the end, checking everything; returns the content digest. */
    public int drainAndCheck() throws IOException {
        byte[] skip = new byte[1 << 16];
        while (read(skip, 0, skip.length) >= 0) {
            // reading checks each chunk and the footer
        }
        return (int) rawCrc.getValue();
    }

    public int rawCrc() { return (int) rawCrc.getValue(); }

    public long rawBytes() { return total; }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
