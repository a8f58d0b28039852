package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DirectReadsTest {
    @TempDir
    Path dir;

    /** A file of 1 KiB pages (ROW_FORMAT=COMPRESSED, KEY_BLOCK_SIZE=1) whose size is no multiple of the 4 KiB alignment. */
    private byte[] file(Path p, int size) throws Exception {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        Files.write(p, b);
        return b;
    }

    @Test
    void readsWholeBatchesAndStopsAtTheEndOfAnUnalignedFile() throws Exception {
        Path p = dir.resolve("t.ibd");
        byte[] want = file(p, 3 * DirectReads.CAPACITY + 5 * 1024);
        try (DirectReads r = DirectReads.open(p)) {
            assumeTrue(r != null, "the temp directory's file system refuses O_DIRECT");
            byte[] got = new byte[want.length];
            // two reads larger than the buffer, then one that runs into the end of the file
            assertEquals(2 * DirectReads.CAPACITY, r.read(got, 0, 2 * DirectReads.CAPACITY, 0));
            int rest = want.length - 2 * DirectReads.CAPACITY;
            assertEquals(rest, r.read(got, 2 * DirectReads.CAPACITY, rest + 3 * 1024, 2L * DirectReads.CAPACITY));
            assertArrayEquals(want, got);
        }
    }

    @Test
    void theBufferHoldsAReadTakenInOneCall() throws Exception {
        Path p = dir.resolve("h.ibd");
        byte[] want = file(p, 2 * DirectReads.CAPACITY + 16 * 1024);
        try (DirectReads r = DirectReads.open(p)) {
            assumeTrue(r != null, "the temp directory's file system refuses O_DIRECT");
            byte[] got = new byte[DirectReads.CAPACITY];
            assertEquals(DirectReads.CAPACITY, r.read(got, 0, DirectReads.CAPACITY, DirectReads.CAPACITY));
            java.nio.ByteBuffer held = r.held(DirectReads.CAPACITY);
            byte[] fromBuffer = new byte[held.remaining()];
            held.get(fromBuffer);
            assertArrayEquals(Arrays.copyOfRange(want, DirectReads.CAPACITY, 2 * DirectReads.CAPACITY), fromBuffer);
            assertEquals(true, r.held(DirectReads.CAPACITY).isReadOnly());
            assertEquals(null, r.held(16 * 1024), "another length");

            // two calls (more than the buffer), a short read at the end, an unaligned offset: nothing held
            byte[] two = new byte[2 * DirectReads.CAPACITY];
            assertEquals(two.length, r.read(two, 0, two.length, 0));
            assertEquals(null, r.held(two.length));
            assertEquals(16 * 1024, r.read(got, 0, 32 * 1024, 2L * DirectReads.CAPACITY));
            assertEquals(null, r.held(32 * 1024));
            assertEquals(null, r.held(16 * 1024));
            assertEquals(16 * 1024, r.read(got, 0, 16 * 1024, 0));
            assertEquals(16 * 1024, r.held(16 * 1024).remaining());
            assertEquals(0, r.read(got, 0, 16 * 1024, 512));
            assertEquals(null, r.held(16 * 1024), "not the read before's bytes");
        }
    }

    @Test
    void anUnalignedOffsetIsLeftToTheCaller() throws Exception {
        Path p = dir.resolve("u.ibd");
        byte[] want = file(p, 64 * 1024);
        try (DirectReads r = DirectReads.open(p)) {
            assumeTrue(r != null, "the temp directory's file system refuses O_DIRECT");
            byte[] got = new byte[16 * 1024];
            assertEquals(0, r.read(got, 0, 16 * 1024, 1024));
            assertEquals(16 * 1024, r.read(got, 0, 16 * 1024, 16 * 1024));
            assertArrayEquals(Arrays.copyOfRange(want, 16 * 1024, 32 * 1024), got);
            assertEquals(0, r.read(got, 0, 16 * 1024, 64 * 1024), "past the end");
        }
    }
}
