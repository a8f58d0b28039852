package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.CodecException;
import io.strata.error.CorruptDataException;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * Reads one object in {@link ObjectFormat} (versions 1 and 2), checking every chunk and the
 * footer. Corruption is reported as {@link CorruptDataException} naming the resource, the chunk
 * and both values; an object of a newer version than this build reads, as
 * {@link io.strata.error.ErrorCode#FORMAT_TOO_NEW} ({@link FormatVersion}).
 *
 * <p>Compressed or sealed chunks are decoded on the shared codec pool while the caller consumes
 * earlier ones: the stored bytes of up to {@link ObjectCodec#inFlight()} chunks are read ahead.
 * The caller's thread only reads stored bytes and hands out decoded ones, in order.
 *
 * <p>Read from a local file ({@link #ChunkedReader(FileChannel, String, String, ObjectCodec)}),
 * a chunk stored uncompressed and in the clear is read straight into direct memory, checked there,
 * and handed out without a copy: {@link #nextBuffer()} and {@link #transferTo(WritableByteChannel)}
 * give its bytes to a file channel, so restoring such an object copies each byte in the kernel
 * twice (read, write) and never in the JVM.
 */
public final class ChunkedReader extends InputStream {
    private final DataInputStream in;
    /** The object's file when read from a local store (see {@link #ChunkedReader(FileChannel, String, String, ObjectCodec)}); else null. */
    private final FileSource file;
    private final String resource;
    private final ObjectCodec codec;
    private final CRC32C digest = new CRC32C();
    private final ArrayDeque<Future<ChunkCoder.In>> pending = new ArrayDeque<>();
    private final ArrayDeque<ChunkCoder.In> free = new ArrayDeque<>();
    private final int version;
    private final boolean sealed;
    private final byte[] aadPrefix;
    private ChunkCoder.In chunk;
    private int pos;
    private int len;
    /** Raw bytes and chunks whose headers were read (ahead of what was handed out). */
    private long readTotal;
    private int readChunks;
    /** Raw bytes and chunks handed out. */
    private long total;
    private int chunks;
    private boolean endSeen;
    private boolean ended;
    private long footerTotal;
    private int footerChunks;
    private int footerDigest;

    /** A reader for a repository that is not encrypted. */
    public ChunkedReader(InputStream source, String expectedContent, String resource) throws IOException {
        this(source, expectedContent, resource, ObjectCodec.PLAIN);
    }

    public ChunkedReader(InputStream source, String expectedContent, String resource, ObjectCodec codec) throws IOException {
        this(source, null, expectedContent, resource, codec);
    }

    /**
     * A reader of the object stored in the local file {@code source}, read from its start; closes
     * it when closed. Chunks stored uncompressed and in the clear are read into direct memory
     * ({@link #nextBuffer()}); the others are decoded as from a stream.
     */
    public ChunkedReader(FileChannel source, String expectedContent, String resource, ObjectCodec codec) throws IOException {
        this(null, new FileSource(source, resource, 0, Long.MAX_VALUE), expectedContent, resource, codec);
    }

    /**
     * A reader of the object stored in bytes [{@code offset}, {@code offset + length}) of the
     * local file {@code source} (a member of a pack, {@link Repository#openBackupObject}): the
     * object ends where they do. Closes the channel when closed.
     */
    public ChunkedReader(FileChannel source, long offset, long length, String expectedContent, String resource, ObjectCodec codec) throws IOException {
        this(null, new FileSource(source, resource, offset, length == Long.MAX_VALUE ? Long.MAX_VALUE : offset + length), expectedContent, resource, codec);
    }

    private ChunkedReader(InputStream stream, FileSource file, String expectedContent, String resource, ObjectCodec codec) throws IOException {
        this.file = file;
        this.in = new DataInputStream(file != null ? file : stream);
        this.resource = resource;
        this.codec = codec;
        Header h = Header.read(in, expectedContent, resource, codec);
        version = h.version();
        sealed = h.sealed();
        aadPrefix = h.aadPrefix();
    }

    /**
     * An object's header, as read by {@link #read}: its version, whether its chunks are sealed,
     * the associated-data prefix of its sealed chunks, and its length in bytes (where the first
     * chunk header starts).
     */
    record Header(int version, boolean sealed, byte[] aadPrefix, int length) {
        /**
         * Reads and checks the header (magic, version, content name, flags) from {@code in}.
         *
         * @throws CorruptDataException when it is not a strata object of content {@code expectedContent}, or is cut short
         * @throws io.strata.error.StrataException missing key (a sealed object without a key) or format too new
         */
        static Header read(DataInputStream in, String expectedContent, String resource, ObjectCodec codec) throws IOException {
            try {
                int magic = in.readInt();
                if (magic != ObjectFormat.MAGIC) {
                    throw ChunkCoder.corrupt(resource, String.format(Locale.ROOT, "not a strata object: magic 0x%08x, expected 0x%08x", magic, ObjectFormat.MAGIC));
                }
                int version = FormatVersion.check("object", resource, in.readUnsignedShort(), ObjectFormat.MIN_VERSION, ObjectFormat.VERSION);
                byte[] name = new byte[in.readUnsignedByte()];
                in.readFully(name);
                String content = new String(name, StandardCharsets.US_ASCII);
                if (!content.equals(expectedContent)) {
                    throw ChunkCoder.corrupt(resource, "object holds \"" + content + "\", expected \"" + expectedContent + "\"");
                }
                byte[] objectId = new byte[ObjectFormat.OBJECT_ID_BYTES];
                int flags = 0;
                if (version >= 2) {
                    flags = in.readUnsignedByte();
                    in.readFully(objectId);
                    if ((flags & ~ObjectFormat.FLAG_SEALED) != 0) {
                        throw ChunkCoder.corrupt(resource, String.format(Locale.ROOT, "object has unknown flags 0x%02x", flags));
                    }
                }
                boolean sealed = (flags & ObjectFormat.FLAG_SEALED) != 0;
                if (sealed && codec.cipher() == null) {
                    throw ChunkCoder.missingKey(resource);
                }
                if (!sealed && codec.sealed()) {
                    throw ChunkCoder.corrupt(resource, "object is not encrypted, but the repository is: it was not written by strata with this repository's key");
                }
                int length = 4 + 2 + 1 + name.length + (version >= 2 ? 1 + ObjectFormat.OBJECT_ID_BYTES : 0);
                return new Header(version, sealed, ObjectFormat.aadPrefix(version, content, objectId), length);
            } catch (EOFException e) {
                throw ChunkCoder.corrupt(resource, "object is truncated inside its header");
            }
        }
    }

    /**
     * Checks one chunk header's fields against each other and the object's header.
     *
     * @throws CorruptDataException naming chunk {@code index} when they do not fit
     */
    static void checkChunkHeader(int raw, int stored, int codecByte, int version, boolean sealed, int index, String resource) {
        boolean chunkSealed = (codecByte & ObjectFormat.CODEC_SEALED) != 0;
        int algo = codecByte & ObjectFormat.CODEC_COMPRESSOR_MASK;
        boolean badCodec = (codecByte & 0x70) != 0 || algo > 2 || (version == 1 && codecByte != 0) || chunkSealed != sealed;
        int maxStored = ObjectFormat.MAX_CHUNK + ChunkCipher.OVERHEAD + 4 + (ObjectFormat.MAX_CHUNK >> 6);
        if (raw < 0 || raw > ObjectFormat.MAX_CHUNK || stored < 0 || stored > maxStored || badCodec
                || (codecByte == ObjectFormat.CODEC_NONE && stored != raw)) {
            throw ChunkCoder.corrupt(resource, String.format(Locale.ROOT, "chunk %d has a bad header: raw=%d stored=%d codec=%d", index, raw, stored, codecByte));
        }
    }

    private CorruptDataException corrupt(String what) {
        return ChunkCoder.corrupt(resource, what);
    }

    /** Reads chunk headers and stored bytes ahead, handing encoded ones to the pool. */
    private void fill() throws IOException {
        while (!endSeen && pending.size() < codec.inFlight()) {
            try {
                int raw = in.readInt();
                if (raw == 0) {
                    readEnd();
                    return;
                }
                int stored = in.readInt();
                int codecByte = in.readUnsignedByte();
                int crc = in.readInt();
                checkChunkHeader(raw, stored, codecByte, version, sealed, readChunks, resource);
                ChunkCoder.In c = free.isEmpty() ? ChunkCoder.takeIn() : free.poll();
                c.storedLen = stored;
                c.rawLen = raw;
                c.codec = codecByte;
                c.crcField = crc;
                c.index = readChunks;
                c.offset = readTotal;
                c.direct = null;
                boolean direct = file != null && codecByte == ObjectFormat.CODEC_NONE;
                if (direct) {
                    c.direct = file.readDirect(c, stored);
                } else {
                    if (c.stored.length < stored) {
                        c.stored = new byte[Math.max(stored, ObjectFormat.CHUNK_SIZE)];
                    }
                    in.readFully(c.stored, 0, stored);
                }
                readTotal += raw;
                readChunks++;
                if (direct) {
                    c.checkDirect(resource);
                    pending.add(CompletableFuture.completedFuture(c));
                    if (pending.size() > 1) {
                        return; // nothing to decode: reading further ahead would only hold memory
                    }
                } else if (codecByte == ObjectFormat.CODEC_NONE) {
                    c.decode(codec, aadPrefix, resource);
                    pending.add(CompletableFuture.completedFuture(c));
                } else {
                    pending.add(ObjectCodec.pool().submit(() -> {
                        c.decode(codec, aadPrefix, resource);
                        return c;
                    }));
                }
            } catch (EOFException e) {
                throw corrupt("object is truncated after " + readTotal + " bytes (" + readChunks + " chunks)");
            }
        }
    }

    private void readEnd() throws IOException {
        if (sealed) {
            byte[] sealedTrailer = new byte[ObjectFormat.TRAILER_PLAIN + ChunkCipher.OVERHEAD];
            in.readFully(sealedTrailer);
            byte[] plain = new byte[ObjectFormat.TRAILER_PLAIN];
            try {
                codec.cipher().open(ObjectFormat.aad(aadPrefix, readChunks, 0, 0, ObjectFormat.KIND_TRAILER), sealedTrailer, 0, sealedTrailer.length, plain);
            } catch (CodecException e) {
                throw corrupt("the object's sealed trailer failed authentication after " + readChunks
                        + " chunks: the object was cut short, extended or altered");
            }
            footerTotal = ObjectFormat.getLong(plain, 0);
            footerChunks = ObjectFormat.getInt(plain, 8);
            footerDigest = ObjectFormat.getInt(plain, 12);
        }
        long t = in.readLong();
        int n = in.readInt();
        int d = in.readInt();
        int magic = in.readInt();
        if (!sealed) {
            footerTotal = t;
            footerChunks = n;
            footerDigest = d;
        } else if (t != footerTotal || n != footerChunks) {
            throw corrupt(String.format(Locale.ROOT, "footer mismatch: clear footer length=%d chunks=%d, sealed trailer length=%d chunks=%d",
                    t, n, footerTotal, footerChunks));
        }
        if (magic != ObjectFormat.FOOTER_MAGIC) {
            throw corrupt(String.format(Locale.ROOT, "footer mismatch: magic 0x%08x, expected 0x%08x", magic, ObjectFormat.FOOTER_MAGIC));
        }
        if (in.read() >= 0) {
            // nothing follows the footer; a pack member's entry that names more bytes than the member holds ends here too
            throw corrupt("bytes follow the object's footer: the object was extended, or its entry names more bytes than it holds");
        }
        endSeen = true;
    }

    private static ChunkCoder.In await(Future<ChunkCoder.In> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while decoding a chunk");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("decoding a chunk failed: " + e.getCause(), e.getCause());
        }
    }

    private boolean nextChunk() throws IOException {
        if (ended) {
            return false;
        }
        if (chunk != null) {
            free.add(chunk);
            chunk = null;
        }
        fill();
        if (pending.isEmpty()) {
            int d = (int) digest.getValue();
            if (footerTotal != total || footerChunks != chunks || footerDigest != d) {
                throw corrupt(String.format(Locale.ROOT, "footer mismatch: stored length=%d chunks=%d digest=0x%08x, read length=%d chunks=%d digest=0x%08x",
                        footerTotal, footerChunks, footerDigest, total, chunks, d));
            }
            ended = true;
            return false;
        }
        ChunkCoder.In c = await(pending.poll());
        ObjectFormat.digest(digest, c.rawLen, c.rawCrc);
        total += c.rawLen;
        chunks++;
        chunk = c;
        pos = 0;
        len = c.rawLen;
        fill();
        return true;
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
        if (chunk.direct != null) {
            chunk.direct.get(pos, b, off, k);
        } else {
            System.arraycopy(chunk.data, chunk.dataOff + pos, b, off, k);
        }
        pos += k;
        return k;
    }

    /**
     * The next raw bytes of the object, consumed: the rest of the current chunk, or of the next
     * one. The buffer is read-only and valid only until the next call on this reader (its memory
     * is reused); direct when the chunk was read from a local file uncompressed and in the clear.
     *
     * @return null at the end of the object, whose footer (length, chunk count, digest) has then been checked
     * @throws CorruptDataException when a chunk or the footer does not check
     */
    public ByteBuffer nextBuffer() throws IOException {
        while (pos == len) {
            if (!nextChunk()) {
                return null;
            }
        }
        ByteBuffer b = chunk.direct != null ? chunk.direct.asReadOnlyBuffer().position(pos).limit(len)
                : ByteBuffer.wrap(chunk.data, chunk.dataOff + pos, len - pos).asReadOnlyBuffer();
        pos = len;
        return b;
    }

    /**
     * Writes the rest of the object's raw bytes to {@code out}, which is left open, and checks
     * the footer; returns the number of bytes written. From a local file, chunks stored
     * uncompressed and in the clear go from direct memory to {@code out} without a copy in the JVM.
     *
     * @throws CorruptDataException when a chunk or the footer does not check
     */
    public long transferTo(WritableByteChannel out) throws IOException {
        long n = 0;
        for (ByteBuffer b = nextBuffer(); b != null; b = nextBuffer()) {
            while (b.hasRemaining()) {
                n += out.write(b);
            }
        }
        return n;
    }

    /**
     * An object's local file read at a position of its own (positional reads: the channel's
     * position is not used), as a stream for the headers and into direct memory for chunk bytes.
     */
    private static final class FileSource extends InputStream {
        private final FileChannel ch;
        private final String resource;
        private final ByteBuffer one = ByteBuffer.allocate(1);
        private long position;
        /** The file offset where the object ends: reads stop there as at the end of a file. */
        private final long end;

        FileSource(FileChannel ch, String resource, long start, long end) {
            this.ch = ch;
            this.resource = resource;
            this.position = start;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            one.clear();
            return read(one) < 0 ? -1 : one.get(0) & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int n) throws IOException {
            return n == 0 ? 0 : read(ByteBuffer.wrap(b, off, n));
        }

        private int read(ByteBuffer b) {
            if (position >= end) {
                return b.hasRemaining() ? -1 : 0;
            }
            int limit = b.limit();
            if (b.remaining() > end - position) {
                b.limit(b.position() + (int) (end - position));
            }
            int k;
            try {
                k = ch.read(b, position);
            } catch (IOException e) {
                throw io.strata.store.StorageException.local("read", resource, e);
            } finally {
                b.limit(limit);
            }
            if (k > 0) {
                position += k;
            }
            return k;
        }

        /** Reads the next {@code n} bytes into {@code c}'s direct buffer (made larger when needed); EOFException when the file ends first. */
        ByteBuffer readDirect(ChunkCoder.In c, int n) throws IOException {
            ByteBuffer b = c.directBuffer(n);
            while (b.hasRemaining()) {
                if (read(b) < 0) {
                    throw new EOFException();
                }
            }
            return b.flip();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /** Reads to the end, checking everything; returns the content digest. */
    public int drainAndCheck() throws IOException {
        while (pos < len || nextChunk()) {
            pos = len;
        }
        return (int) digest.getValue();
    }

    public int rawCrc() { return (int) digest.getValue(); }

    public long rawBytes() { return total; }

    /** Whether the object's chunks are sealed (encrypted). */
    public boolean sealed() { return sealed; }

    @Override
    public void close() throws IOException {
        in.close();
        // chunks still in the pool are left to the garbage collector
        while (!free.isEmpty()) {
            ChunkCoder.give(free.poll());
        }
        if (chunk != null) {
            ChunkCoder.give(chunk);
            chunk = null;
            pos = len = 0;
        }
    }
}
