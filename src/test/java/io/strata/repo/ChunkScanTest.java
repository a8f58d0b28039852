package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.error.CorruptDataException;
import io.strata.util.DirectIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ChunkScan}: chunk headers walked one by one, chunks decoded on demand, the footer checked. */
class ChunkScanTest {
    @TempDir
    Path dir;

    private static byte[] sample(int n) {
        byte[] b = new byte[n];
        new Random(5).nextBytes(b);
        for (int i = 0; i < n; i += 4096) {
            Arrays.fill(b, i, Math.min(n, i + 2048), (byte) 0);
        }
        return b;
    }

    private ChunkScan scan(byte[] framed, ObjectCodec codec) throws IOException {
        Path f = dir.resolve("object");
        Files.write(f, framed);
        return ChunkScan.open(FileChannel.open(f, StandardOpenOption.READ), "file", "test-object", codec);
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    @Test
    void walksChunksDecodingOnlyThoseAskedForAndEndsWithTheReadersDigest() throws IOException {
        int n = 3 * ObjectFormat.CHUNK_SIZE + 1234;
        byte[] raw = sample(n);
        for (Compression c : new Compression[] {Compression.NONE, Compression.zstd(1), Compression.LZ4}) {
            byte[] framed = EncodedChunksTest.frame(raw, ObjectCodec.PLAIN.withCompression(c));
            int readerDigest;
            try (ChunkedReader r = new ChunkedReader(new ByteArrayInputStream(framed), "file", "obj", ObjectCodec.PLAIN)) {
                readerDigest = r.drainAndCheck();
            }
            try (ChunkScan s = scan(framed, ObjectCodec.PLAIN)) {
                assertFalse(s.sealed());
                long expectOffset = 0;
                int i = 0;
                while (s.next()) {
                    assertEquals(expectOffset, s.rawOffset(), c + " chunk " + i);
                    int len = s.rawLength();
                    assertEquals(Math.min(ObjectFormat.CHUNK_SIZE, n - (int) expectOffset), len);
                    assertEquals(crc(raw, (int) expectOffset, len), s.crc(), c + " chunk " + i + "'s header CRC is of its raw bytes");
                    if (i % 2 == 1) {
                        ByteBuffer b = s.decode();
                        byte[] got = new byte[b.remaining()];
                        b.get(got);
                        assertArrayEquals(Arrays.copyOfRange(raw, (int) expectOffset, (int) expectOffset + len), got, c + " chunk " + i);
                    }
                    expectOffset += len;
                    i++;
                }
                assertEquals(4, i);
                assertEquals(n, s.rawTotal());
                assertEquals(readerDigest, s.digest());
                assertFalse(s.next());
            }
        }
    }

    @Test
    void damageIsNamed() throws IOException {
        byte[] raw = sample(2 * ObjectFormat.CHUNK_SIZE);
        byte[] framed = EncodedChunksTest.frame(raw, ObjectCodec.PLAIN.withCompression(Compression.zstd(1)));
        // a stored byte of the second chunk: found when that chunk is decoded, not when it is skipped
        int second = EncodedChunksTest.chunkOffsets(framed).get(1);
        byte[] bad = framed.clone();
        bad[second + ObjectFormat.CHUNK_HEADER + 100] ^= 1;
        try (ChunkScan s = scan(bad, ObjectCodec.PLAIN)) {
            assertTrue(s.next());
            s.decode();
            assertTrue(s.next());
            CorruptDataException e = assertThrows(CorruptDataException.class, s::decode);
            assertTrue(e.getMessage().contains("chunk 1") && e.getMessage().contains("resource=test-object"), e.getMessage());
        }
        // the footer's digest
        byte[] badFooter = framed.clone();
        badFooter[badFooter.length - 5] ^= 1;
        try (ChunkScan s = scan(badFooter, ObjectCodec.PLAIN)) {
            assertTrue(s.next());
            assertTrue(s.next());
            CorruptDataException e = assertThrows(CorruptDataException.class, s::next);
            assertTrue(e.getMessage().startsWith("footer mismatch: "), e.getMessage());
        }
        // cut inside the second chunk's stored bytes: the footer is not where the headers say
        byte[] cut = Arrays.copyOf(framed, second + 40);
        try (ChunkScan s = scan(cut, ObjectCodec.PLAIN)) {
            assertTrue(s.next());
            assertTrue(s.next());
            CorruptDataException e = assertThrows(CorruptDataException.class, s::next);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        // another content name
        assertThrows(CorruptDataException.class, () -> ChunkScan.open(FileChannel.open(dir.resolve("object"), StandardOpenOption.READ),
                "innodb-file", "test-object", ObjectCodec.PLAIN));
    }

    @Test
    void aDamagedChunkHeaderFieldIsRefusedBeforeItsBytesAreRead() throws IOException {
        byte[] framed = EncodedChunksTest.frame(sample(2 * ObjectFormat.CHUNK_SIZE), ObjectCodec.PLAIN);
        int second = EncodedChunksTest.chunkOffsets(framed).get(1);
        byte[] tooLong = framed.clone();
        ObjectFormat.putInt(tooLong, second, ObjectFormat.MAX_CHUNK + 1); // raw length
        byte[] badCodec = framed.clone();
        badCodec[second + 8] = 0x33;
        for (byte[] bad : new byte[][] {tooLong, badCodec}) {
            try (ChunkScan s = scan(bad, ObjectCodec.PLAIN)) {
                assertTrue(s.next());
                CorruptDataException e = assertThrows(CorruptDataException.class, s::next);
                assertTrue(e.getMessage().startsWith("chunk 1 has a bad header: "), e.getMessage());
            }
        }
    }

    @Test
    void anEmptyObjectEndsAtItsFooter() throws IOException {
        byte[] framed = EncodedChunksTest.frame(new byte[0], ObjectCodec.PLAIN);
        int readerDigest;
        try (ChunkedReader r = new ChunkedReader(new ByteArrayInputStream(framed), "file", "obj", ObjectCodec.PLAIN)) {
            readerDigest = r.drainAndCheck();
        }
        try (ChunkScan s = scan(framed, ObjectCodec.PLAIN)) {
            assertFalse(s.next());
            assertEquals(0, s.rawTotal());
            assertEquals(readerDigest, s.digest());
        }
        // its footer is checked too
        byte[] bad = framed.clone();
        bad[bad.length - 12] ^= 1; // the chunk count
        try (ChunkScan s = scan(bad, ObjectCodec.PLAIN)) {
            CorruptDataException e = assertThrows(CorruptDataException.class, s::next);
            assertTrue(e.getMessage().startsWith("footer mismatch: "), e.getMessage());
        }
    }

    @Test
    void aChunkStoredAsItIsIsReadIntoDirectMemoryAndCheckedThroughThePageCacheOrPastIt() throws IOException {
        int n = 2 * ObjectFormat.CHUNK_SIZE + 333;
        byte[] raw = sample(n);
        byte[] framed = EncodedChunksTest.frame(raw, ObjectCodec.PLAIN);
        Path object = dir.resolve("object");
        Files.write(object, framed);
        for (boolean pastCache : new boolean[] {false, true}) {
            Path out = dir.resolve("copy-" + pastCache);
            boolean[] opened = new boolean[1];
            try (ChunkScan s = ChunkScan.open(FileChannel.open(object), "file", "test", ObjectCodec.PLAIN)
                    .directReads(() -> { opened[0] = true; return DirectIo.openRead(object); });
                 FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (s.next()) {
                    ByteBuffer b = s.readInto(DirectIo.allocate(ObjectFormat.CHUNK_SIZE), pastCache);
                    assertTrue(b.isDirect());
                    assertEquals(0, b.position());
                    assertEquals(s.rawLength(), b.limit());
                    while (b.hasRemaining()) {
                        ch.write(b, s.rawOffset() + b.position());
                    }
                }
                assertFalse(s.next());
            }
            assertEquals(pastCache, opened[0], "the channel past the page cache is opened only when asked for");
            assertArrayEquals(raw, Files.readAllBytes(out));
        }
        // a compressed chunk is not read as it is
        try (ChunkScan s = scan(EncodedChunksTest.frame(raw, ObjectCodec.PLAIN.withCompression(Compression.zstd(1))), ObjectCodec.PLAIN)) {
            assertTrue(s.next());
            assertNull(s.readInto(DirectIo.allocate(ObjectFormat.CHUNK_SIZE), false));
            assertEquals(ObjectFormat.CHUNK_SIZE, s.decode().remaining());
        }
        // a damaged stored byte: the bytes read do not match the header's CRC
        byte[] bad = framed.clone();
        bad[EncodedChunksTest.chunkOffsets(framed).get(1) + ObjectFormat.CHUNK_HEADER + 7] ^= 1;
        Path damaged = dir.resolve("damaged");
        Files.write(damaged, bad);
        for (boolean pastCache : new boolean[] {false, true}) {
            try (ChunkScan s = ChunkScan.open(FileChannel.open(damaged), "file", "test", ObjectCodec.PLAIN).directReads(() -> DirectIo.openRead(damaged))) {
                assertTrue(s.next());
                assertEquals(ObjectFormat.CHUNK_SIZE, s.readInto(DirectIo.allocate(ObjectFormat.CHUNK_SIZE), pastCache).remaining());
                assertTrue(s.next());
                CorruptDataException e = assertThrows(CorruptDataException.class, () -> s.readInto(DirectIo.allocate(ObjectFormat.CHUNK_SIZE), pastCache));
                assertTrue(e.getMessage().startsWith("chunk 1 (raw offset 1048576) checksum mismatch: stored crc32c=0x"), e.getMessage());
            }
        }
        // an object cut inside a chunk's bytes
        Path cut = dir.resolve("cut");
        Files.write(cut, Arrays.copyOf(framed, EncodedChunksTest.chunkOffsets(framed).get(1) + ObjectFormat.CHUNK_HEADER + 100));
        for (boolean pastCache : new boolean[] {false, true}) {
            try (ChunkScan s = ChunkScan.open(FileChannel.open(cut), "file", "test", ObjectCodec.PLAIN).directReads(() -> DirectIo.openRead(cut))) {
                assertTrue(s.next());
                s.readInto(DirectIo.allocate(ObjectFormat.CHUNK_SIZE), pastCache);
                assertTrue(s.next());
                CorruptDataException e = assertThrows(CorruptDataException.class, () -> s.readInto(DirectIo.allocate(ObjectFormat.CHUNK_SIZE), pastCache));
                assertTrue(e.getMessage().startsWith("object is truncated after"), e.getMessage());
            }
        }
    }

    @Test
    void aSealedObjectSaysSo() throws IOException {
        ObjectCodec codec = new ObjectCodec(Compression.zstd(1), EncodedChunksTest.cipher(3));
        byte[] framed = EncodedChunksTest.frame(sample(100_000), codec);
        try (ChunkScan s = scan(framed, codec)) {
            assertTrue(s.sealed(), "a sealed chunk's header CRC is of its encrypted bytes: the scan is not for it");
        }
    }
}
