package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.error.CorruptDataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ChunkedReader} over a local file: chunks read into direct memory check and read as from a stream. */
class ChunkedFileReaderTest {
    @TempDir
    Path dir;

    private static byte[] frame(byte[] raw, Compression c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChunkedWriter w = new ChunkedWriter(out, "file", ObjectCodec.PLAIN.withCompression(c));
        w.write(raw);
        w.finish();
        return out.toByteArray();
    }

    /** Random bytes, half of each 4 KiB zeros so that zstd shrinks them. */
    private static byte[] sample(int n) {
        byte[] b = new byte[n];
        new Random(11).nextBytes(b);
        for (int i = 0; i < n; i += 4096) {
            Arrays.fill(b, i, Math.min(n, i + 2048), (byte) 0);
        }
        return b;
    }

    private ChunkedReader open(byte[] framed) throws IOException {
        Path f = dir.resolve("object");
        Files.write(f, framed);
        return new ChunkedReader(FileChannel.open(f, StandardOpenOption.READ), "file", "test-object", ObjectCodec.PLAIN);
    }

    @Test
    void readsAsFromAStreamWithEveryCodec() throws IOException {
        for (Compression c : new Compression[] {Compression.NONE, Compression.zstd(1), Compression.LZ4}) {
            for (int n : new int[] {0, 1, ObjectFormat.CHUNK_SIZE, 2 * ObjectFormat.CHUNK_SIZE + 17}) {
                byte[] raw = sample(n);
                byte[] framed = frame(raw, c);
                try (ChunkedReader r = open(framed)) {
                    assertArrayEquals(raw, r.readAllBytes(), c + ", length " + n);
                }
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                boolean direct = false;
                try (ChunkedReader r = open(framed)) {
                    for (ByteBuffer b = r.nextBuffer(); b != null; b = r.nextBuffer()) {
                        direct |= b.isDirect();
                        byte[] part = new byte[b.remaining()];
                        b.get(part);
                        got.write(part);
                    }
                    assertNull(r.nextBuffer());
                    assertEquals(n, r.rawBytes());
                }
                assertArrayEquals(raw, got.toByteArray(), c + ", length " + n + " by buffers");
                if (c.isNone()) {
                    assertEquals(n > 0, direct, "chunks stored as they are come in direct memory");
                }
            }
        }
    }

    @Test
    void transferToWritesTheRawBytes() throws IOException {
        byte[] raw = sample(3 * ObjectFormat.CHUNK_SIZE + 5);
        Path out = dir.resolve("out");
        try (ChunkedReader r = open(frame(raw, Compression.NONE)); FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(raw.length, r.transferTo(ch));
        }
        assertArrayEquals(raw, Files.readAllBytes(out));
    }

    @Test
    void aFlippedBitInADirectChunkIsNamed() throws IOException {
        byte[] f = frame(sample(2 * ObjectFormat.CHUNK_SIZE), Compression.NONE);
        f[f.length - 24 - 100] ^= 0x04; // in the second chunk's bytes, before the end marker and footer
        try (ChunkedReader r = open(f)) {
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> {
                while (r.nextBuffer() != null) {
                    // read through
                }
            });
            assertTrue(e.getMessage().startsWith("chunk 1 (raw offset " + ObjectFormat.CHUNK_SIZE + ") checksum mismatch: stored crc32c=0x"), e.getMessage());
            assertTrue(e.getMessage().endsWith("(resource=test-object)"), e.getMessage());
        }
    }

    @Test
    void truncationIsFound() throws IOException {
        byte[] f = frame(sample(5000), Compression.NONE);
        try (ChunkedReader r = open(Arrays.copyOf(f, f.length - 10))) {
            assertEquals("object is truncated after 5000 bytes (1 chunks) (resource=test-object)",
                    assertThrows(CorruptDataException.class, r::readAllBytes).getMessage());
        }
        try (ChunkedReader r = open(Arrays.copyOf(f, f.length - 40))) {
            assertEquals("object is truncated after 0 bytes (0 chunks) (resource=test-object)",
                    assertThrows(CorruptDataException.class, r::nextBuffer).getMessage());
        }
    }
}
