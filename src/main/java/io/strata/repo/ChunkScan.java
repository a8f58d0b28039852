package io.strata.repo;

import io.strata.error.CorruptDataException;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * Walks the chunk list of one object kept as a local file ({@link ObjectFormat}) header by header,
 * with positional reads, decoding only the chunks the caller asks for. A caller that already holds
 * bytes which may equal a chunk's (a delta restore's target file) compares their CRC-32C with
 * {@link #crc()} and reads the stored bytes of the chunks that differ only: for an object of
 * 1 MiB chunks it reads 13 bytes per MiB of the ones it skips.
 *
 * <p>Only for objects in the clear: a sealed chunk's header CRC covers its encrypted bytes, not the
 * raw ones ({@link #sealed()}; such an object is read with {@link ChunkedReader}). What is checked:
 * the object's header (as {@link ChunkedReader}), every chunk header's fields, the CRC-32C of every
 * chunk {@link #decode decoded}, and at the end the footer: magic, total raw length, chunk count and
 * content digest, the digest computed from the chunk headers' (raw length, CRC) pairs. The stored
 * bytes of a chunk not decoded are not read, so damage inside them is not seen; the caller that
 * skips a chunk has bytes whose CRC-32C equals the header's, which is what an intact chunk holds.
 *
 * <p>Not thread-safe; one scan per object. The channel is closed with the scan.
 */
public final class ChunkScan implements AutoCloseable {
    private final FileChannel ch;
    private final String resource;
    private final ObjectCodec codec;
    private final ChunkedReader.Header header;
    private final ByteBuffer head = ByteBuffer.allocate(ObjectFormat.CHUNK_HEADER);
    private final CRC32C digest = new CRC32C();
    private final ChunkCoder.In chunk = ChunkCoder.takeIn();
    /** File offset of the next chunk header (after {@link #next()}: of the current chunk's stored bytes). */
    private long position;
    private long rawOffset;
    private long rawTotal;
    private int chunks;
    private boolean ended;
    /** Whether {@link #next()} stopped on a chunk (whose stored bytes start at {@link #position}). */
    private boolean onChunk;
    private boolean closed;

    /** The file offset where the object ends (of a pack member: its last byte + 1; else beyond any file). */
    private final long end;

    private ChunkScan(FileChannel ch, String resource, ObjectCodec codec, ChunkedReader.Header header, long start, long end) {
        this.ch = ch;
        this.resource = resource;
        this.codec = codec;
        this.header = header;
        this.position = start + header.length();
        this.end = end;
    }

    /**
     * Opens a scan of the object in {@code ch}, reading and checking its header; the scan owns the
     * channel from here on (closed on failure too).
     *
     * @param expectedContent the content name the object must hold ("innodb-file", "file", ...)
     * @param resource        how messages name the object
     * @throws CorruptDataException when the header does not check; missing key and format too new as {@link ChunkedReader}
     */
    public static ChunkScan open(FileChannel ch, String expectedContent, String resource, ObjectCodec codec) throws IOException {
        return open(ch, 0, Long.MAX_VALUE, expectedContent, resource, codec);
    }

    /**
     * As {@link #open(FileChannel, String, String, ObjectCodec)}, for the object stored in bytes
     * [{@code offset}, {@code offset + length}) of the file (a member of a pack): positions
     * ({@link #storedPosition()}) are the file's, and the object ends where the range does.
     */
    public static ChunkScan open(FileChannel ch, long offset, long length, String expectedContent, String resource, ObjectCodec codec) throws IOException {
        try {
            long end = length == Long.MAX_VALUE ? Long.MAX_VALUE : offset + length;
            // buffered: the header is read field by field; what the buffer reads past it is not used (reads after it are positional)
            InputStream in = new java.io.BufferedInputStream(io.strata.util.BoundedInputStream.of(Channels.newInputStream(ch.position(offset)), length), 512);
            ChunkedReader.Header h = ChunkedReader.Header.read(new DataInputStream(in), expectedContent, resource, codec);
            return new ChunkScan(ch, resource, codec, h, offset, end);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Whether the object's chunks are sealed (encrypted): then {@link #crc()} is not of the raw bytes and this scan must not be used. */
    public boolean sealed() {
        return header.sealed();
    }

    /**
     * Moves to the next chunk, reading its header only.
     *
     * @return false at the end, after the footer checked (magic, length, chunk count, digest)
     * @throws CorruptDataException when a header or the footer does not check, or the object is cut short
     */
    public boolean next() throws IOException {
        if (ended) {
            return false;
        }
        if (onChunk) {
            position += chunk.storedLen;
            rawOffset += chunk.rawLen;
            onChunk = false;
        }
        readAt(head.clear(), position);
        int raw = head.getInt(0);
        if (raw == 0) {
            readFooter(position + 4);
            ended = true;
            return false;
        }
        int stored = head.getInt(4);
        int codecByte = head.get(8) & 0xff;
        int crc = head.getInt(9);
        ChunkedReader.checkChunkHeader(raw, stored, codecByte, header.version(), header.sealed(), chunks, resource);
        position += ObjectFormat.CHUNK_HEADER;
        if (position + stored > end) {
            throw ChunkCoder.corrupt(resource, "object is truncated after " + rawTotal + " bytes (" + chunks + " chunks)");
        }
        chunk.rawLen = raw;
        chunk.storedLen = stored;
        chunk.codec = codecByte;
        chunk.crcField = crc;
        chunk.index = chunks;
        chunk.offset = rawOffset;
        chunk.direct = null;
        ObjectFormat.digest(digest, raw, crc);
        rawTotal += raw;
        chunks++;
        onChunk = true;
        return true;
    }

    /** Offset of the current chunk's first raw byte in the object's raw content. */
    public long rawOffset() {
        return rawOffset;
    }

    /** Raw length of the current chunk, bytes (1 .. 4 MiB). */
    public int rawLength() {
        return chunk.rawLen;
    }

    /** Whether the current chunk is stored as it is (no compressor, in the clear): {@link #readInto} reads it without decoding. */
    public boolean storedAsIs() {
        return chunk.codec == ObjectFormat.CODEC_NONE && !header.sealed();
    }

    /** CRC-32C of the current chunk's raw bytes, as its header records it (objects in the clear). */
    public int crc() {
        return chunk.crcField;
    }

    /**
     * Reads and decodes the current chunk's stored bytes and checks their CRC-32C. The buffer
     * (position 0, limit the raw length) is valid until the next call on this scan.
     *
     * @throws CorruptDataException when the chunk does not decode or check
     */
    public ByteBuffer decode() throws IOException {
        if (chunk.stored.length < chunk.storedLen) {
            chunk.stored = new byte[Math.max(chunk.storedLen, ObjectFormat.CHUNK_SIZE)];
        }
        readAt(ByteBuffer.wrap(chunk.stored, 0, chunk.storedLen), position);
        chunk.decode(codec, header.aadPrefix(), resource);
        return ByteBuffer.wrap(chunk.data, chunk.dataOff, chunk.rawLen).slice();
    }

    /** Opens this object past the page cache on first use (null: it cannot be); see {@link #readInto}. */
    private java.util.function.Supplier<FileChannel> directOpener;
    private FileChannel directIn;

    /**
     * Lets {@link #readInto} read this object's chunks past the page cache (O_DIRECT) through a
     * channel that {@code opener} opens on first use; it returns null when the object's file system
     * cannot. Returns this scan.
     */
    public ChunkScan directReads(java.util.function.Supplier<FileChannel> opener) {
        this.directOpener = opener;
        return this;
    }

    /**
     * For a chunk stored as it is (no compressor, in the clear): reads its stored bytes, which are
     * its raw bytes, into {@code into} and checks their CRC-32C against the header's.
     * With {@code pastCache}, past the page cache ({@link io.strata.util.DirectIo}) when
     * {@link #directReads} was given an opener and the object's file system supports it; else by
     * one positional read. The caller may change the buffer's bytes (a composition lays delta pages
     * over them) and write it, with {@link io.strata.util.DirectIo#write} to a file opened past the
     * page cache.
     *
     * @param into direct memory of at least the chunk's raw length rounded up to 4 KiB, its address
     *             aligned to {@link io.strata.util.DirectIo#ALIGN} when {@code pastCache}
     * @return {@code into}, position 0 and limit the chunk's raw length; null, having read nothing,
     *         for a chunk of another codec (use {@link #decode})
     * @throws CorruptDataException when the bytes do not match the header's CRC-32C, or the object ends inside them
     */
    public ByteBuffer readInto(ByteBuffer into, boolean pastCache) throws IOException {
        if (!storedAsIs()) {
            return null;
        }
        ByteBuffer b = into.clear().limit(chunk.rawLen);
        if (pastCache && directIn == null && directOpener != null) {
            directIn = directOpener.get();
            directOpener = null;
        }
        boolean read = false;
        if (pastCache && directIn != null) {
            try {
                io.strata.util.DirectIo.readRange(directIn, position, b);
                read = true;
            } catch (IOException e) {
                // a read past the page cache that ended early (the end of the object, or a file system that returns short
                // reads) or was refused (a device that needs a larger alignment): this object is read the ordinary way from
                // here on, which tells a cut object from the rest and reports an error of the device itself
                FileChannel d = directIn;
                directIn = null;
                d.close();
                b.clear().limit(chunk.rawLen);
            }
        }
        if (!read) {
            readAt(b, position);
            b.flip();
        }
        CRC32C c = new CRC32C();
        c.update(b.duplicate());
        if ((int) c.getValue() != chunk.crcField) {
            throw ChunkCoder.corrupt(resource, String.format(Locale.ROOT, "chunk %d (raw offset %d) checksum mismatch: stored crc32c=0x%08x computed=0x%08x",
                    chunk.index, rawOffset, chunk.crcField, (int) c.getValue()));
        }
        return b;
    }

    /**
     * For a chunk stored as it is (no compressor, in the clear): reads the {@code len} raw bytes at
     * offset {@code off} of the current chunk into {@code dst[dstOff ..]}, without reading the rest
     * of the chunk, so without checking its CRC-32C: the caller checks those bytes another way (an
     * InnoDB page by its own checksum, page number and space id).
     *
     * @return false, having read nothing, for a chunk of another codec
     * @throws CorruptDataException when the object ends before those bytes
     */
    public boolean readRaw(int off, byte[] dst, int dstOff, int len) throws IOException {
        if (!storedAsIs()) {
            return false;
        }
        if (off < 0 || len < 0 || off + len > chunk.rawLen) {
            throw new IllegalArgumentException("bytes " + off + ".." + (off + len) + " are outside the chunk's " + chunk.rawLen);
        }
        if (io.strata.util.NioSlices.read(ch, dst, dstOff, len, position + off) < len) {
            throw ChunkCoder.corrupt(resource, "object is truncated inside chunk " + chunk.index + " (raw offset " + rawOffset + ")");
        }
        return true;
    }

    /** File offset in the object of the current chunk's first stored byte (just after its 13-byte header). */
    public long storedPosition() {
        return position;
    }

    /**
     * Read-ahead for another thread: reads {@code len} bytes (at most 64 KiB) at file offset
     * {@code position} of the object and drops them, so that the walk finds them in the page cache
     * when it gets there. Thread-safe with the walk; reads nothing past the end; a failure (the
     * scan closed meanwhile, an I/O error) is ignored: the walk's own read reports it.
     */
    public void touch(long position, int len) {
        io.strata.util.NioSlices.touch(ch, position, len);
    }

    /** The object's content digest (as a manifest entry's {@code crc32c}); valid once {@link #next()} returned false. */
    public int digest() {
        return (int) digest.getValue();
    }

    /** Total raw length of the object, bytes; valid once {@link #next()} returned false. */
    public long rawTotal() {
        return rawTotal;
    }

    private void readFooter(long at) throws IOException {
        ByteBuffer f = ByteBuffer.allocate(20);
        readAt(f, at);
        long total = f.getLong(0);
        int n = f.getInt(8);
        int d = f.getInt(12);
        int magic = f.getInt(16);
        if (magic != ObjectFormat.FOOTER_MAGIC || total != rawTotal || n != chunks || d != digest()) {
            throw ChunkCoder.corrupt(resource, String.format(Locale.ROOT, "footer mismatch: stored length=%d chunks=%d digest=0x%08x magic=0x%08x, read length=%d chunks=%d digest=0x%08x",
                    total, n, d, magic, rawTotal, chunks, digest()));
        }
        if (end != Long.MAX_VALUE && at + 20 != end) {
            throw ChunkCoder.corrupt(resource, "the object ends at byte " + (at + 20) + " of its pack, its entry says " + end);
        }
    }

    /** Fills {@code b} from its position to its limit with the bytes at file offset {@code at}. */
    private void readAt(ByteBuffer b, long at) throws IOException {
        long p = at;
        if (at + b.remaining() > end) {
            throw ChunkCoder.corrupt(resource, "object is truncated after " + rawTotal + " bytes (" + chunks + " chunks)");
        }
        while (b.hasRemaining()) {
            int k = ch.read(b, p);
            if (k < 0) {
                throw ChunkCoder.corrupt(resource, "object is truncated after " + rawTotal + " bytes (" + chunks + " chunks)");
            }
            p += k;
        }
    }

    /** Closes the object's channel and gives the chunk buffers back to the pool; a second call does nothing. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        ChunkCoder.give(chunk);
        try (FileChannel d = directIn) {
            ch.close();
        }
    }
}
