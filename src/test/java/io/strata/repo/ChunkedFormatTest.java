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
