package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ChunkedFormatTest {
    private static byte[] frame(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChunkedWriter w = new ChunkedWriter(out, "file");
        w.write(raw);
        w.finish();
        return out.toByteArray();
    }

    private static byte[] read(byte[] framed, String content) throws IOException {
        try (ChunkedReader r = new ChunkedReader(new ByteArrayInputStream(framed), content, "test-object")) {
            return r.readAllBytes();
        }
    }

    private static byte[] sample(int n) {
        byte[] b = new byte[n];
        new Random(7).nextBytes(b);
        return b;
    }

    @Test
    void roundTripsAcrossChunkBoundaries() throws IOException {
        for (int n : new int[] {0, 1, ObjectFormat.CHUNK_SIZE - 1, ObjectFormat.CHUNK_SIZE, 2 * ObjectFormat.CHUNK_SIZE + 17}) {
            byte[] raw = sample(n);
            assertArrayEquals(raw, read(frame(raw), "file"), "length " + n);
        }
    }

    /** magic, version, name length, "file", flags, object id */
    static final int HEADER = 4 + 2 + 1 + 4 + 1 + 16;

    @Test
    void headerLayout() throws IOException {
        byte[] f = frame(new byte[] {1, 2, 3});
        assertEquals(0x53, f[0]);
        assertEquals('T', f[3]);
        assertEquals(2, f[5]);
        assertEquals(4, f[6]);
        assertEquals("file", new String(f, 7, 4, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(0, f[11], "flags: not sealed");
        // header 28 + chunk header 13 + 3 data + end marker 4 + footer 20
        assertEquals(HEADER + 13 + 3 + 4 + 20, f.length);
        assertEquals(3, ObjectFormat.getInt(f, HEADER), "raw length");
        assertEquals(3, ObjectFormat.getInt(f, HEADER + 4), "stored length");
        assertEquals(0, f[HEADER + 8], "codec");
    }

    /** A version 1 object, laid out by hand as docs/repository-format.md described it, still reads. */
    @Test
    void versionOneObjectsStillRead() throws IOException {
        byte[] raw = sample(3000);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        java.io.DataOutputStream d = new java.io.DataOutputStream(b);
        d.writeInt(0x53545254);
        d.writeShort(1);
        d.writeByte(4);
        d.writeBytes("file");
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(raw);
        int crc = (int) c.getValue();
        d.writeInt(raw.length);
        d.writeInt(raw.length);
        d.writeByte(0);
        d.writeInt(crc);
        d.write(raw);
        d.writeInt(0);
        java.util.zip.CRC32C digest = new java.util.zip.CRC32C();
        ObjectFormat.digest(digest, raw.length, crc);
        d.writeLong(raw.length);
        d.writeInt(1);
        d.writeInt((int) digest.getValue());
        d.writeInt(0x54525453);
        byte[] v1 = b.toByteArray();
        try (ChunkedReader r = new ChunkedReader(new ByteArrayInputStream(v1), "file", "v1-object")) {
            assertArrayEquals(raw, r.readAllBytes());
            assertEquals((int) digest.getValue(), r.rawCrc());
        }
        // the digest depends only on the raw bytes: version 2 records the same one
        ChunkedWriter w = new ChunkedWriter(new ByteArrayOutputStream(), "file");
        w.write(raw);
        w.finish();
        assertEquals((int) digest.getValue(), w.rawCrc());
    }

    /** A target that takes buffers as they are, and counts the bytes that came that way. */
    private static final class SinkTarget extends ByteArrayOutputStream implements io.strata.util.BufferSink {
        long viaBuffers;
        int buffers;

        @Override
        public void write(java.nio.ByteBuffer src) {
            byte[] b = new byte[src.remaining()];
            src.get(b);
            viaBuffers += b.length;
            buffers++;
            write(b, 0, b.length);
        }
    }

    private static java.nio.ByteBuffer directCopy(byte[] b, int off, int len) {
        java.nio.ByteBuffer d = java.nio.ByteBuffer.allocateDirect(len);
        d.put(b, off, len).flip();
        return d.asReadOnlyBuffer();
    }

    @Test
    void wholePlainChunksGoFromTheBufferAndTheObjectIsTheSame() throws IOException {
        int c = ObjectFormat.CHUNK_SIZE;
        byte[] raw = sample(2 * c + 5000);
        SinkTarget t = new SinkTarget();
        ChunkedWriter w = new ChunkedWriter(t, "file");
        w.write(raw, 0, c, directCopy(raw, 0, c));
        w.write(raw, c, c, directCopy(raw, c, c));
        w.write(raw, 2 * c, 5000, directCopy(raw, 2 * c, 5000)); // not a whole chunk: through the array
        w.finish();
        assertEquals(2L * c, t.viaBuffers);
        assertEquals(2, t.buffers);
        byte[] viaSink = t.toByteArray();
        byte[] viaArrays = frame(raw);
        // the same object but for its random object id (the header's last 16 bytes)
        assertEquals(viaArrays.length, viaSink.length);
        Arrays.fill(viaSink, HEADER - 16, HEADER, (byte) 0);
        Arrays.fill(viaArrays, HEADER - 16, HEADER, (byte) 0);
        assertArrayEquals(viaArrays, viaSink);
        assertArrayEquals(raw, read(t.toByteArray(), "file"));
    }

    @Test
    void aBufferIsNotUsedOffAChunkBoundaryOrWhenTheObjectIsCompressed() throws IOException {
        int c = ObjectFormat.CHUNK_SIZE;
        byte[] raw = sample(3 * c);
        SinkTarget t = new SinkTarget();
        ChunkedWriter w = new ChunkedWriter(t, "file");
        w.write(raw, 0, 10);
        w.write(raw, 10, c, directCopy(raw, 10, c)); // the chunk began with the 10 bytes before
        w.write(raw, 10 + c, 2 * c - 10);
        w.finish();
        assertEquals(0, t.buffers);
        assertArrayEquals(raw, read(t.toByteArray(), "file"));

        SinkTarget z = new SinkTarget();
        ChunkedWriter zw = new ChunkedWriter(z, "file", new ObjectCodec(io.strata.codec.Compression.zstd(1), null));
        zw.write(raw, 0, c, directCopy(raw, 0, c));
        zw.finish();
        assertEquals(0, z.buffers);
        assertArrayEquals(Arrays.copyOf(raw, c), read(z.toByteArray(), "file"));
    }

    @Test
    void aBufferOfAnotherLengthIsRefusedAndOtherBytesAreFoundOnRead() throws IOException {
        int c = ObjectFormat.CHUNK_SIZE;
        byte[] raw = sample(c);
        ChunkedWriter w = new ChunkedWriter(new SinkTarget(), "file");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(raw, 0, c, directCopy(raw, 0, c - 1)));
        assertEquals("the buffer holds 1048575 bytes for a write of 1048576", e.getMessage());
        // a caller's buffer that does not hold the array's bytes: the chunk's CRC-32C (of the array) names it
        SinkTarget t = new SinkTarget();
        ChunkedWriter bad = new ChunkedWriter(t, "file");
        byte[] other = raw.clone();
        other[12345] ^= 1;
        bad.write(raw, 0, c, directCopy(other, 0, c));
        bad.finish();
        CorruptDataException d = assertThrows(CorruptDataException.class, () -> read(t.toByteArray(), "file"));
        assertEquals(true, d.getMessage().startsWith("chunk 0 (raw offset 0) checksum mismatch"), d.getMessage());
    }

    @Test
    void flippedBitInDataIsNamed() throws IOException {
        byte[] f = frame(sample(5000));
        f[HEADER + 13 + 100] ^= 0x01;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(f, "file"));
        assertEquals(true, e.getMessage().startsWith("chunk 0 (raw offset 0) checksum mismatch: stored crc32c=0x"), e.getMessage());
        assertEquals(true, e.getMessage().endsWith("(resource=test-object)"), e.getMessage());
    }

    @Test
    void truncationIsFound() throws IOException {
        byte[] f = frame(sample(5000));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(Arrays.copyOf(f, f.length - 10), "file"));
        assertEquals("object is truncated after 0 bytes (0 chunks) (resource=test-object)",
                assertThrows(CorruptDataException.class, () -> read(Arrays.copyOf(f, f.length - 40), "file")).getMessage());
        assertEquals("object is truncated after 5000 bytes (1 chunks) (resource=test-object)", e.getMessage());
        CorruptDataException e2 = assertThrows(CorruptDataException.class, () -> read(Arrays.copyOf(f, 5), "file"));
        assertEquals("object is truncated inside its header (resource=test-object)", e2.getMessage());
    }

    @Test
    void wrongContentAndMagicAreRefused() throws IOException {
        byte[] f = frame(sample(10));
        assertEquals("object holds \"file\", expected \"manifest\" (resource=test-object)",
                assertThrows(CorruptDataException.class, () -> read(f, "manifest")).getMessage());
        f[0] = 0;
        assertEquals("not a strata object: magic 0x00545254, expected 0x53545254 (resource=test-object)",
                assertThrows(CorruptDataException.class, () -> read(f, "file")).getMessage());
    }

    @Test
    void newerVersionIsRefusedWithUpgradeHint() throws IOException {
        byte[] f = frame(sample(10));
        f[5] = 3;
        StrataException e = assertThrows(StrataException.class, () -> read(f, "file"));
        assertEquals(ErrorCode.FORMAT_TOO_NEW, e.code());
        assertEquals(29, e.code().exitCode());
        assertEquals("object test-object was written by a newer strata, version 3; this one reads up to 2", e.getMessage());
        assertEquals("upgrade strata to read this repository", e.hint());
    }

    @Test
    void versionBelowTheFirstIsDamage() throws IOException {
        byte[] f = frame(sample(10));
        f[5] = 0;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(f, "file"));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertEquals("object format version 0 is outside the supported range [1,2] (resource=test-object)", e.getMessage());
        assertEquals("no strata writes that version: the object is damaged", e.hint());
    }
}
