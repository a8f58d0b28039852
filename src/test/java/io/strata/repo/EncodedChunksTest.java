package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.Compression;
import static io.strata.codec.TestData.textLike;
import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compressed and sealed chunks (format version 2): round trips, layout, and every kind of tampering. */
class EncodedChunksTest {
    static final int HEADER = ChunkedFormatTest.HEADER;
    static final int MIB = ObjectFormat.CHUNK_SIZE;

    static ChunkCipher cipher(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return new ChunkCipher(new SecretKeySpec(k, "AES"));
    }

    static byte[] frame(byte[] raw, ObjectCodec codec) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChunkedWriter w = new ChunkedWriter(out, "file", codec);
        // odd write sizes, so that chunk boundaries fall inside writes
        for (int off = 0; off < raw.length; off += 77_777) {
            w.write(raw, off, Math.min(77_777, raw.length - off));
        }
        w.finish();
        return out.toByteArray();
    }

    static byte[] read(byte[] framed, ObjectCodec codec) throws IOException {
        try (ChunkedReader r = new ChunkedReader(new ByteArrayInputStream(framed), "file", "obj", codec)) {
            return r.readAllBytes();
        }
    }

    /** Start offsets of the chunks of a framed object. */
    static List<Integer> chunkOffsets(byte[] f) {
        List<Integer> out = new ArrayList<>();
        int off = HEADER;
        while (ObjectFormat.getInt(f, off) != 0) {
            out.add(off);
            off += ObjectFormat.CHUNK_HEADER + ObjectFormat.getInt(f, off + 4);
        }
        out.add(off); // the end marker
        return out;
    }

    static void fixStoredCrc(byte[] f, int chunkOff) {
        int stored = ObjectFormat.getInt(f, chunkOff + 4);
        ObjectFormat.putInt(f, chunkOff + 9, ChunkCoder.crc(f, chunkOff + ObjectFormat.CHUNK_HEADER, stored));
    }

    @Test
    void everyCodecRoundTripsWithTheSameDigest() throws IOException {
        byte[] raw = textLike(3 * MIB + 12_345, 1);
        int plainDigest;
        ChunkedWriter plain = new ChunkedWriter(new ByteArrayOutputStream(), "file");
        plain.write(raw);
        plain.finish();
        plainDigest = plain.rawCrc();
        for (Compression c : new Compression[] {Compression.NONE, Compression.zstd(1), Compression.zstd(3), Compression.LZ4}) {
            for (ChunkCipher k : new ChunkCipher[] {null, cipher(1)}) {
                ObjectCodec codec = new ObjectCodec(c, k);
                byte[] f = frame(raw, codec);
                try (ChunkedReader r = new ChunkedReader(new ByteArrayInputStream(f), "file", "obj", codec)) {
                    assertArrayEquals(raw, r.readAllBytes(), codec.toString());
                    assertEquals(plainDigest, r.rawCrc(), "the digest depends on the raw bytes only: " + codec);
                    assertEquals(k != null, r.sealed());
                }
                if (!c.isNone()) {
                    assertTrue(f.length < raw.length * 0.6, c + " stored " + f.length + " of " + raw.length);
                }
                List<Integer> chunks = chunkOffsets(f);
                assertEquals(5, chunks.size(), "four chunks and the end");
                int codecByte = f[chunks.get(0) + 8] & 0xff;
                assertEquals(c.algorithm().id() | (k == null ? 0 : 0x80), codecByte, codec.toString());
                assertEquals(k == null ? 0 : 1, f[11], "header flag");
                if (k != null) {
                    assertEquals(0, ObjectFormat.getInt(f, f.length - 8), "a sealed object's clear footer carries no digest");
                }
            }
        }
    }

    @Test
    void incompressibleChunksAreStoredAsTheyAre() throws IOException {
        byte[] raw = new byte[MIB + 10];
        new Random(3).nextBytes(raw);
        byte[] f = frame(raw, new ObjectCodec(Compression.zstd(1), null));
        assertEquals(0, f[HEADER + 8], "codec none: compression did not help");
        assertEquals(MIB, ObjectFormat.getInt(f, HEADER + 4));
        assertArrayEquals(raw, read(f, ObjectCodec.PLAIN));
        byte[] s = frame(raw, new ObjectCodec(Compression.zstd(1), cipher(1)));
        assertEquals(0x80, s[HEADER + 8] & 0xff, "sealed, not compressed");
        assertEquals(MIB + 4 + ChunkCipher.OVERHEAD, ObjectFormat.getInt(s, HEADER + 4), "raw CRC, nonce and tag around the raw bytes");
    }

    @Test
    void aLargeObjectStreamsThroughThePoolInOrder() throws IOException {
        byte[] raw = textLike(40 * MIB + 3, 9);
        ObjectCodec codec = new ObjectCodec(Compression.zstd(1), cipher(4));
        assertArrayEquals(raw, read(frame(raw, codec), codec));
    }

    @Test
    void damagedCompressedChunkIsNamed() throws IOException {
        byte[] f = frame(textLike(2 * MIB, 2), new ObjectCodec(Compression.LZ4, null));
        int second = chunkOffsets(f).get(1);
        f[second + ObjectFormat.CHUNK_HEADER + 500] ^= 0x40;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(f, ObjectCodec.PLAIN));
        assertTrue(e.getMessage().startsWith("chunk 1 (raw offset 1048576) "), e.getMessage());
        assertTrue(e.getMessage().endsWith("(resource=obj)"), e.getMessage());
    }

    @Test
    void alteredSealedChunkIsCaughtByItsChecksumAndByGcm() throws IOException {
        ObjectCodec codec = new ObjectCodec(Compression.zstd(1), cipher(1));
        byte[] f = frame(textLike(2 * MIB, 2), codec);
        int second = chunkOffsets(f).get(1);
        f[second + ObjectFormat.CHUNK_HEADER + 300] ^= 0x01;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(f, codec));
        assertTrue(e.getMessage().startsWith("chunk 1 (raw offset 1048576) checksum mismatch of the stored bytes: stored crc32c=0x"), e.getMessage());
        // someone who also rewrites the CRC still cannot forge the tag
        fixStoredCrc(f, second);
        assertEquals("chunk 1 (raw offset 1048576) failed authentication: it was altered, or moved from another object or position (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(f, codec)).getMessage());
    }

    @Test
    void swappedOrForeignChunksFailAuthentication() throws IOException {
        ObjectCodec codec = new ObjectCodec(Compression.NONE, cipher(1));
        byte[] raw = textLike(3 * MIB, 5);
        byte[] f = frame(raw, codec);
        List<Integer> at = chunkOffsets(f);
        int len = at.get(1) - at.get(0);
        assertEquals(len, at.get(2) - at.get(1), "equal-sized chunks");
        byte[] swapped = f.clone();
        System.arraycopy(f, at.get(0), swapped, at.get(1), len);
        System.arraycopy(f, at.get(1), swapped, at.get(0), len);
        assertEquals("chunk 0 (raw offset 0) failed authentication: it was altered, or moved from another object or position (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(swapped, codec)).getMessage());

        // the same chunk position of another object with the same key and content
        byte[] other = frame(raw, codec);
        byte[] foreign = f.clone();
        System.arraycopy(other, at.get(1), foreign, at.get(1), len);
        assertEquals("chunk 1 (raw offset 1048576) failed authentication: it was altered, or moved from another object or position (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(foreign, codec)).getMessage());

        // another key
        assertThrows(CorruptDataException.class, () -> read(f, new ObjectCodec(Compression.NONE, cipher(2))));
    }

    @Test
    void truncationOfASealedObjectIsCaughtEvenWithARewrittenFooter() throws IOException {
        ObjectCodec codec = new ObjectCodec(Compression.zstd(1), cipher(1));
        byte[] f = frame(textLike(3 * MIB, 6), codec);
        List<Integer> at = chunkOffsets(f);
        // cut inside a chunk
        assertEquals("object is truncated after 1048576 bytes (1 chunks) (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(Arrays.copyOf(f, at.get(1) + 100), codec)).getMessage());
        // cut after chunk 2 of 3, with an end marker, the original trailer and a consistent clear footer
        int end = at.get(3);
        ByteArrayOutputStream forged = new ByteArrayOutputStream();
        forged.write(f, 0, at.get(2));
        forged.write(f, end, 4 + 44);
        byte[] footer = new byte[20];
        ObjectFormat.putLong(footer, 0, 2L * MIB);
        ObjectFormat.putInt(footer, 8, 2);
        ObjectFormat.putInt(footer, 16, ObjectFormat.FOOTER_MAGIC);
        forged.write(footer);
        assertEquals("the object's sealed trailer failed authentication after 2 chunks: the object was cut short, extended or altered (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(forged.toByteArray(), codec)).getMessage());
        // a clear footer that disagrees with the sealed trailer
        byte[] g = f.clone();
        ObjectFormat.putInt(g, g.length - 12, 7);
        assertEquals("footer mismatch: clear footer length=3145728 chunks=7, sealed trailer length=3145728 chunks=3 (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(g, codec)).getMessage());
    }

    @Test
    void keysAreRequiredAndPlainObjectsRefusedInAnEncryptedRepository() throws IOException {
        byte[] sealed = frame(textLike(1000, 7), new ObjectCodec(Compression.NONE, cipher(1)));
        StrataException e = assertThrows(StrataException.class, () -> read(sealed, ObjectCodec.PLAIN));
        assertEquals(ErrorCode.KEY_MISSING, e.code());
        assertEquals("object obj is encrypted and no key was given", e.getMessage());

        byte[] plain = frame(textLike(1000, 7), ObjectCodec.PLAIN);
        assertEquals("object is not encrypted, but the repository is: it was not written by strata with this repository's key (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(plain, new ObjectCodec(Compression.NONE, cipher(1)))).getMessage());
        // clearing the header flag of a sealed object does not make it readable as plain
        byte[] unflagged = sealed.clone();
        unflagged[11] = 0;
        assertEquals("chunk 0 has a bad header: raw=1000 stored=1032 codec=128 (resource=obj)",
                assertThrows(CorruptDataException.class, () -> read(unflagged, ObjectCodec.PLAIN)).getMessage());
    }
}
