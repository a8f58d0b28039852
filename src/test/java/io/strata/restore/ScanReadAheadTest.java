package io.strata.restore;

import io.strata.codec.Compression;
import io.strata.repo.ChunkScan;
import io.strata.repo.ChunkedWriter;
import io.strata.repo.ObjectCodec;
import io.strata.repo.ObjectFormat;
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
import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ScanReadAhead}: the reads it issues ahead of a delta restore's walk are at the offsets the
 * walk reads (checked against the bytes of a real object: each predicted header holds the chunk's
 * lengths, each predicted page the raw page), it keeps within {@link ScanReadAhead#AHEAD_CHUNKS} of
 * the walk, and it stops at the first chunk that is not where the prediction put it.
 */
class ScanReadAheadTest {
    private static final int PS = 16384;

    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private Path object(byte[] raw, Compression c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ChunkedWriter w = new ChunkedWriter(out, "innodb-file", ObjectCodec.PLAIN.withCompression(c))) {
            w.write(raw, 0, raw.length);
        }
        Path f = dir.resolve("object-" + c.algorithm());
        Files.write(f, out.toByteArray());
        return f;
    }

    private static ChunkScan scan(Path object) throws IOException {
        return ChunkScan.open(FileChannel.open(object, StandardOpenOption.READ), "innodb-file", "test-object", ObjectCodec.PLAIN);
    }

    @Test
    void readsAheadTheHeadersAndNamedPagesTheWalkReadsAndNoFurtherThanItsWindow() throws IOException {
        int chunks = ScanReadAhead.AHEAD_CHUNKS + 6;
        byte[] raw = random(chunks * ObjectFormat.CHUNK_SIZE - 3 * PS, 1); // a short last chunk
        Path object = object(raw, Compression.NONE);
        byte[] stored = Files.readAllBytes(object);
        Path targetFile = dir.resolve("target");
        Files.write(targetFile, random(raw.length, 2));
        BitSet suspects = new BitSet();
        int perChunk = ObjectFormat.CHUNK_SIZE / PS;
        suspects.set(3);
        suspects.set(perChunk + 7);
        suspects.set(perChunk + 8);
        suspects.set((chunks - 1) * perChunk + 2); // in the last chunk
        try (ChunkScan s = scan(object); FileChannel target = FileChannel.open(targetFile, StandardOpenOption.READ);
             ScanReadAhead ahead = ScanReadAhead.of(s, target, suspects, PS, raw.length)) {
            int pagesChecked = 0;
            for (long index = 0; s.next(); index++) {
                ahead.at(index);
                assertFalse(ahead.stopped(), "chunk " + index);
                if (index == 0) {
                    assertEquals(ScanReadAhead.AHEAD_CHUNKS, ahead.issued(), "the first window");
                    continue;
                }
                // never further than the window past the walk (fewer while the queue is full)
                assertTrue(ahead.issued() <= Math.min(chunks - 1, index + ScanReadAhead.AHEAD_CHUNKS), "chunk " + index + ": " + ahead.issued());
                // what was issued for this chunk: its header where the walk read it, and its named pages on both sides
                List<long[]> reads = ahead.reads(index);
                long header = reads.get(0)[1];
                assertEquals(s.storedPosition() - ObjectFormat.CHUNK_HEADER, header);
                assertEquals(s.rawLength(), ByteBuffer.wrap(stored, (int) header, 4).getInt(), "the raw length field of chunk " + index);
                for (long[] r : reads.subList(1, reads.size())) {
                    if (r[0] == ScanReadAhead.OBJECT) {
                        long page = s.rawOffset() / PS + (r[1] - s.storedPosition()) / PS;
                        assertTrue(suspects.get((int) page), "page " + page);
                        assertArrayEquals(Arrays.copyOfRange(raw, (int) (page * PS), (int) (page + 1) * PS),
                                Arrays.copyOfRange(stored, (int) r[1], (int) r[1] + PS), "stored page " + page);
                        pagesChecked++;
                    } else {
                        assertTrue(suspects.get((int) (r[1] / PS)), "target offset " + r[1]);
                    }
                }
            }
            assertEquals(3, pagesChecked, "the named pages after chunk 0");
        }
    }

    @Test
    void stopsAtTheFirstChunkNotWherePredicted() throws IOException {
        // zstd stores an incompressible chunk as it is and a compressible one shorter: chunk 1 is where predicted (after chunk 0,
        // stored as it is), chunk 2 is not (after chunk 1, compressed)
        byte[] raw = new byte[4 * ObjectFormat.CHUNK_SIZE];
        System.arraycopy(random(ObjectFormat.CHUNK_SIZE, 3), 0, raw, 0, ObjectFormat.CHUNK_SIZE); // chunk 0 random, 1-3 zeros
        Path object = object(raw, Compression.zstd(1));
        BitSet suspects = new BitSet();
        suspects.set(1);
        try (ChunkScan s = scan(object); FileChannel target = FileChannel.open(object, StandardOpenOption.READ);
             ScanReadAhead ahead = ScanReadAhead.of(s, target, suspects, PS, raw.length)) {
            assertTrue(s.next());
            ahead.at(0);
            assertFalse(ahead.stopped());
            assertEquals(3, ahead.issued());
            assertTrue(s.next());
            ahead.at(1);
            assertFalse(ahead.stopped(), "chunk 1 follows a chunk stored as it is");
            assertTrue(s.next());
            ahead.at(2);
            assertTrue(ahead.stopped(), "chunk 1 was stored compressed: chunk 2 is not where predicted");
            assertTrue(s.next());
            ahead.at(3);
            assertEquals(3, ahead.issued(), "nothing more issued once stopped");
        }
    }

    @Test
    void aFirstChunkStoredCompressedStartsNoReadAhead() throws IOException {
        Path object = object(new byte[3 * ObjectFormat.CHUNK_SIZE], Compression.LZ4);
        BitSet suspects = new BitSet();
        suspects.set(70);
        try (ChunkScan s = scan(object); FileChannel target = FileChannel.open(object, StandardOpenOption.READ);
             ScanReadAhead ahead = ScanReadAhead.of(s, target, suspects, PS, 3L * ObjectFormat.CHUNK_SIZE)) {
            assertTrue(s.next());
            ahead.at(0);
            assertTrue(ahead.stopped());
            assertEquals(0, ahead.issued());
        }
    }
}
