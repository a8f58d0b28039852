package io.strata.repo;

import java.nio.charset.StandardCharsets;

/**
 * Framing of every object strata stores (format "strata-object", version 2; version 1 is still read).
 *
 * <pre>
 * header
 *   off  size field
 *     0     4 magic 0x53545254 ("STRT")
 *     4     2 version (2; 1 = the first format, which ends the header after the name)
 *     6     1 n = length of the content name
 *     7     n content name, ASCII ("innodb-file", "innodb-delta", "file", "redo", "manifest", "history")
 *   7+n     1 flags (version 2): bit 0 = every chunk and the trailer are sealed (AES-256-GCM)
 *   8+n    16 object id (version 2): random, bound into every sealed chunk
 * chunks, repeated
 *     0     4 raw length r (1 .. 4 MiB); 0 ends the chunk list
 *     4     4 stored length s
 *     8     1 codec: bits 0-3 compressor (0 none, 1 zstd, 2 lz4), bit 7 sealed
 *     9     4 CRC-32C of the r raw bytes; of the s stored bytes when the chunk is sealed
 *    13     s stored bytes: the raw bytes, or their compressed form; sealed:
 *               nonce (12) | AES-256-GCM of (CRC-32C of the raw bytes u32 | raw or compressed bytes) | tag (16)
 * end
 *     0     4 0
 * trailer (sealed objects only), 44 bytes
 *     0    12 nonce
 *    12    16 AES-256-GCM of (total raw length u64 | chunk count u32 | content digest u32)
 *    28    16 tag
 * footer
 *     0     8 total raw length
 *     8     4 chunk count
 *    12     4 content digest: CRC-32C over the chunk list as (raw length u32, raw CRC u32) pairs; 0 when sealed
 *    16     4 magic 0x54525453 ("TRTS")
 * </pre>
 * All integers are big-endian. The digest ties the chunks together (order, count, lengths)
 * without a second pass over the data; it depends only on the raw bytes, so the same data has
 * the same digest whatever the codec, and the manifest records it for every stored file.
 *
 * <p>Sealed chunks authenticate {@link #aad associated data}: the object's version, content
 * name and id, the chunk's index, raw length and codec byte. A chunk moved to another object or
 * position, or a changed header, fails to open. The sealed trailer's associated data carries
 * the chunk count as its index and kind 1, so an object cut after any chunk is caught even when
 * its clear footer is rewritten. Chunks are independent: each can be encoded, decoded and
 * checked on its own thread, and read without the rest of the object.
 *
 * <p>Readers accept versions [{@link #MIN_VERSION}, {@link #VERSION}]; a newer one is refused as
 * written by a newer strata, an older one as damage ({@link FormatVersion}).
 */
public final class ObjectFormat {
    private ObjectFormat() {}

    public static final int MAGIC = 0x53545254;
    public static final int FOOTER_MAGIC = 0x54525453;
    public static final int VERSION = 2;
    public static final int MIN_VERSION = 1;
    public static final int CHUNK_SIZE = 1 << 20;
    public static final int MAX_CHUNK = 4 << 20;
    public static final int CODEC_NONE = 0;
    public static final int CODEC_SEALED = 0x80;
    public static final int CODEC_COMPRESSOR_MASK = 0x0f;
    public static final int FLAG_SEALED = 1;
    public static final int OBJECT_ID_BYTES = 16;
    /** Chunk header: raw length, stored length, codec, CRC. */
    public static final int CHUNK_HEADER = 4 + 4 + 1 + 4;
    /** Plaintext of the sealed trailer: total u64, chunk count u32, digest u32. */
    public static final int TRAILER_PLAIN = 8 + 4 + 4;
    static final int KIND_CHUNK = 0;
    static final int KIND_TRAILER = 1;

    /** Adds one chunk to a content digest. */
    public static void digest(java.util.zip.CRC32C digest, int rawLength, int chunkCrc) {
        byte[] b = new byte[8];
        putInt(b, 0, rawLength);
        putInt(b, 4, chunkCrc);
        digest.update(b, 0, 8);
    }

    /** The part of the associated data every sealed chunk of one object shares. */
    static byte[] aadPrefix(int version, String content, byte[] objectId) {
        byte[] name = content.getBytes(StandardCharsets.US_ASCII);
        byte[] p = new byte[2 + 1 + name.length + OBJECT_ID_BYTES];
        p[0] = (byte) (version >>> 8);
        p[1] = (byte) version;
        p[2] = (byte) name.length;
        System.arraycopy(name, 0, p, 3, name.length);
        System.arraycopy(objectId, 0, p, 3 + name.length, OBJECT_ID_BYTES);
        return p;
    }

    /** Associated data of one sealed chunk (kind 0) or of the trailer (kind 1, index = chunk count). */
    static byte[] aad(byte[] prefix, int index, int rawLength, int codec, int kind) {
        byte[] a = new byte[prefix.length + 10];
        System.arraycopy(prefix, 0, a, 0, prefix.length);
        putInt(a, prefix.length, index);
        putInt(a, prefix.length + 4, rawLength);
        a[prefix.length + 8] = (byte) codec;
        a[prefix.length + 9] = (byte) kind;
        return a;
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static int getInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    static void putLong(byte[] b, int off, long v) {
        putInt(b, off, (int) (v >>> 32));
        putInt(b, off + 4, (int) v);
    }

    static long getLong(byte[] b, int off) {
        return ((long) getInt(b, off) << 32) | (getInt(b, off + 4) & 0xffffffffL);
    }
}
