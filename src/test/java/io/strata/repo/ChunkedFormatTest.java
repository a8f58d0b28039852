package io.strata.repo;

import io.strata.error.CorruptDataException;
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

    @Test
    void headerLayout() throws IOException {
        byte[] f = frame(new byte[] {1, 2, 3});
        assertEquals(0x53, f[0]);
        assertEquals('T', f[3]);
        assertEquals(1, f[5]);
        assertEquals(4, f[6]);
        assertEquals("file", new String(f, 7, 4, java.nio.charset.StandardCharsets.US_ASCII));
        // header 11 + chunk header 13 + 3 data + end marker 4 + footer 20
        assertEquals(11 + 13 + 3 + 4 + 20, f.length);
    }

    @Test
    void flippedBitInDataIsNamed() throws IOException {
        byte[] f = frame(sample(5000));
        f[11 + 13 + 100] ^= 0x01;
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
        f[5] = 2;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(f, "file"));
        assertEquals("object format version 2 is outside the supported range [1,1] (resource=test-object)", e.getMessage());
        assertEquals("a newer strata wrote this repository; upgrade strata to read it", e.hint());
    }
}
