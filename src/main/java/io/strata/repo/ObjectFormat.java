package io.strata.repo;

/**
 * Framing of every object strata stores (format "strata-object", version 1).
 *
 * <pre>
 * header
 *   off size field
 *     0    4 magic 0x53545254 ("STRT")
 *     4    2 version (1)
 *     6    1 n = length of the content name
 *     7    n content name, ASCII ("innodb-file", "file", "redo", "manifest", "history")
 * chunks, repeated
 *     0    4 raw length r (1 .. 4 MiB); 0 ends the chunk list
 *     4    4 stored length s
 *     8    1 codec (0 = stored as is)
 *     9    4 CRC-32C of the s stored bytes
 *    13    s stored bytes
 * footer (after the 0 that ends the chunks)
 *     0    8 total raw length
 *     8    4 chunk count
 *    12    4 content digest: CRC-32C over the chunk list as (raw length u32, chunk CRC u32) pairs
 *    16    4 magic 0x54525453 ("TRTS")
 * </pre>
 * All integers are big-endian. The digest ties the chunks together (order, count, lengths) without
 * a second pass over the data; with codec 0 each chunk CRC covers the raw bytes themselves. The
 * manifest records the digest of every stored file. Chunks are independent so that they can be encoded, decoded and
 * checked in parallel. A reader refuses a wrong magic, an unknown version or content name, a
 * chunk whose CRC does not match, and a footer that disagrees with what it read.
 */
public final class ObjectFormat {
    private ObjectFormat() {}

    public static final int MAGIC = 0x53545254;
    public static final int FOOTER_MAGIC = 0x54525453;
    public static final int VERSION = 1;
    public static final int CHUNK_SIZE = 1 << 20;
    public static final int MAX_CHUNK = 4 << 20;
    public static final int CODEC_NONE = 0;

    /** Adds one chunk to a content digest. */
    static void digest(java.util.zip.CRC32C digest, int rawLength, int chunkCrc) {
        byte[] b = {(byte) (rawLength >>> 24), (byte) (rawLength >>> 16), (byte) (rawLength >>> 8), (byte) rawLength,
                (byte) (chunkCrc >>> 24), (byte) (chunkCrc >>> 16), (byte) (chunkCrc >>> 8), (byte) chunkCrc};
        digest.update(b, 0, 8);
    }
}
