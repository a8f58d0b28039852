package io.strata.repo;

import io.strata.codec.ChunkCipher;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * Writes one object in {@link ObjectFormat}; {@link #finish()} writes the footer.
 *
 * <p>With an {@link ObjectCodec} that compresses or encrypts, each full chunk is handed to the
 * shared codec pool as soon as it is filled, and the caller goes on filling the next one: a
 * single large file is encoded on every pool thread at once. Encoded chunks are written in order
 * by the calling thread; at most {@link ObjectCodec#inFlight()} chunks of one writer are in the
 * pool, and the caller waits for the oldest when that many are.
 */
public final class ChunkedWriter extends OutputStream {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DataOutputStream out;
    /** The target when it takes buffers as they are (a local object's file, an S3 object's upload parts), else null. */
    private final io.strata.util.BufferSink sink;
    private final ObjectCodec codec;
    private final byte[] aadPrefix;
    private final CRC32C digest = new CRC32C();
    private final ArrayDeque<Future<ChunkCoder.Out>> pending = new ArrayDeque<>();
    private final ArrayDeque<ChunkCoder.Out> free = new ArrayDeque<>();
    private ChunkCoder.Out current;
    private long total;
    private long storedTotal;
    private int chunks;
    private int submitted;
    private boolean finished;

    /** A writer that stores chunks as they are (no compression, no encryption). */
    public ChunkedWriter(OutputStream target, String contentName) throws IOException {
        this(target, contentName, ObjectCodec.PLAIN);
    }

    public ChunkedWriter(OutputStream target, String contentName, ObjectCodec codec) throws IOException {
        this(target, contentName, codec, -1);
    }

    /**
     * A writer whose first chunk buffer is sized for an object of about {@code expectedBytes} raw
     * bytes (negative: unknown): a small file's writer holds a buffer of its size rather than a
     * whole chunk (1 MiB). More bytes than expected are fine; the buffer then grows to a chunk.
     */
    public ChunkedWriter(OutputStream target, String contentName, ObjectCodec codec, long expectedBytes) throws IOException {
        this.out = new DataOutputStream(target);
        this.sink = target instanceof io.strata.util.BufferSink b ? b : null;
        this.codec = codec;
        byte[] name = contentName.getBytes(StandardCharsets.US_ASCII);
        byte[] objectId = new byte[ObjectFormat.OBJECT_ID_BYTES];
        RANDOM.nextBytes(objectId);
        this.aadPrefix = ObjectFormat.aadPrefix(ObjectFormat.VERSION, contentName, objectId);
        out.writeInt(ObjectFormat.MAGIC);
        out.writeShort(ObjectFormat.VERSION);
        out.writeByte(name.length);
        out.write(name);
        out.writeByte(codec.sealed() ? ObjectFormat.FLAG_SEALED : 0);
        out.write(objectId);
        storedTotal = 4 + 2 + 1 + name.length + 1 + objectId.length;
        current = ChunkCoder.takeOut(expectedBytes);
    }

    @Override
    public void write(int b) throws IOException {
        if (current.rawLen == current.raw.length) {
            current.grow();
        }
        current.raw[current.rawLen++] = (byte) b;
        if (current.rawLen == ObjectFormat.CHUNK_SIZE) {
            endChunk();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (current.rawLen + len > current.raw.length) {
                current.grow();
            }
            int n = Math.min(len, ObjectFormat.CHUNK_SIZE - current.rawLen);
            System.arraycopy(b, off, current.raw, current.rawLen, n);
            current.rawLen += n;
            off += n;
            len -= n;
            if (current.rawLen == ObjectFormat.CHUNK_SIZE) {
                endChunk();
            }
        }
    }

    /**
     * Writes {@code b[off..off+len)} as {@link #write(byte[], int, int)} does; {@code same} (null, or
     * a buffer whose remaining bytes are those {@code len} bytes, such as {@link
     * io.strata.util.DirectReads#held}) may be written to the target in their place. It is when the
     * object is stored as it is (no compression, no encryption), the target takes buffers
     * ({@link io.strata.util.BufferSink}: a local object's file, an S3 object's upload parts) and the bytes make one whole chunk
     * ({@link ObjectFormat#CHUNK_SIZE}) starting at a chunk boundary: the chunk's CRC-32C is taken of
     * {@code b}, and the bytes go from {@code same} to the target without the copy into this
     * writer's chunk (and, to a file, the copy into NIO's temporary direct buffer). The object's
     * bytes are the same either way. Otherwise {@code same} is not used.
     *
     * @throws IllegalArgumentException when {@code same} holds other than {@code len} bytes
     */
    public void write(byte[] b, int off, int len, java.nio.ByteBuffer same) throws IOException {
        // a codec that only takes the CRC (no compression, no cipher) has no chunk in the pool
        if (same == null || sink == null || codec.encodes() || current.rawLen != 0 || len != ObjectFormat.CHUNK_SIZE) {
            write(b, off, len);
            return;
        }
        if (same.remaining() != len) {
            throw new IllegalArgumentException("the buffer holds " + same.remaining() + " bytes for a write of " + len);
        }
        int crc = ChunkCoder.crc(b, off, len);
        submitted++;
        total += len;
        header(len, crc, len, ObjectFormat.CODEC_NONE, crc);
        sink.write(same);
    }

    private void endChunk() throws IOException {
        if (current.rawLen == 0) {
            return;
        }
        ChunkCoder.Out c = current;
        c.index = submitted++;
        total += c.rawLen;
        if (!codec.encodes()) {
            c.encode(codec, aadPrefix);
            emit(c);
            c.rawLen = 0;
            return;
        }
        pending.add(ObjectCodec.pool().submit(() -> {
            c.encode(codec, aadPrefix);
            return c;
        }));
        current = free.isEmpty() ? ChunkCoder.takeOut() : free.poll();
        current.rawLen = 0;
        while (!pending.isEmpty() && (pending.size() >= codec.inFlight() || pending.peek().isDone())) {
            emit(await(pending.poll()));
        }
    }

    private static ChunkCoder.Out await(Future<ChunkCoder.Out> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while encoding a chunk");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("encoding a chunk failed: " + e.getCause(), e.getCause());
        }
    }

    private void emit(ChunkCoder.Out c) throws IOException {
        header(c.rawLen, c.rawCrc, c.storedLen, c.codec, c.crcField);
        out.write(c.stored, 0, c.storedLen);
        if (c != current) {
            c.rawLen = 0;
            free.add(c);
        }
    }

    /**
     * Counts one chunk into the object's digest and totals and writes its header (raw length,
     * stored length, codec, CRC field; {@link ObjectFormat}); its {@code storedLen} bytes follow.
     */
    private void header(int rawLen, int rawCrc, int storedLen, int codecId, int crcField) throws IOException {
        ObjectFormat.digest(digest, rawLen, rawCrc);
        out.writeInt(rawLen);
        out.writeInt(storedLen);
        out.writeByte(codecId);
        out.writeInt(crcField);
        storedTotal += ObjectFormat.CHUNK_HEADER + storedLen;
        chunks++;
    }

    /** Ends the object: the last chunk, the end marker, the sealed trailer and the footer. Does not close the target. */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        endChunk();
        while (!pending.isEmpty()) {
            emit(await(pending.poll()));
        }
        out.writeInt(0);
        int d = (int) digest.getValue();
        if (codec.sealed()) {
            byte[] plain = new byte[ObjectFormat.TRAILER_PLAIN];
            ObjectFormat.putLong(plain, 0, total);
            ObjectFormat.putInt(plain, 8, chunks);
            ObjectFormat.putInt(plain, 12, d);
            byte[] sealed = new byte[ObjectFormat.TRAILER_PLAIN + ChunkCipher.OVERHEAD];
            codec.cipher().seal(ObjectFormat.aad(aadPrefix, chunks, 0, 0, ObjectFormat.KIND_TRAILER), plain, 0, plain.length, sealed, 0);
            out.write(sealed);
        }
        out.writeLong(total);
        out.writeInt(chunks);
        out.writeInt(codec.sealed() ? 0 : d);
        out.writeInt(ObjectFormat.FOOTER_MAGIC);
        out.flush();
        finished = true;
        recycle();
    }

    /** Hands the chunk buffers back once nothing of this writer is in the pool any more. */
    private void recycle() {
        if (!pending.isEmpty()) {
            return;
        }
        while (!free.isEmpty()) {
            ChunkCoder.give(free.poll());
        }
        if (current != null) {
            current.rawLen = 0;
            ChunkCoder.give(current);
            current = null;
        }
    }

    public long rawBytes() { return total + (current == null ? 0 : current.rawLen); }

    /** The object's content digest (see {@link ObjectFormat}); valid after {@link #finish()}. */
    public int rawCrc() { return (int) digest.getValue(); }

    @Override
    public void flush() {
        // chunks are written whole; the target is flushed by finish()
    }

    @Override
    public void close() throws IOException {
        finish();
    }
}
