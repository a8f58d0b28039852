package io.strata.restore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DiffingOutputTest {
    private static final int PS = 16384;

    @TempDir
    Path dir;

    /** Writes {@code result} over {@code existing} through a DiffingOutput in odd-sized pieces; returns bytes written. */
    private long rewrite(byte[] existing, byte[] result, int unit) throws Exception {
        Path f = dir.resolve("f");
        Files.write(f, existing);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            DiffingOutput os = new DiffingOutput(ch, unit);
            for (int off = 0; off < result.length; off += 7777) {
                os.write(result, off, Math.min(7777, result.length - off));
            }
            os.finish();
            assertEquals(result.length, os.length());
            assertArrayEquals(result, Files.readAllBytes(f));
            return os.written();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writesOnlyThePagesThatDiffer() throws Exception {
        byte[] old = random(200 * PS, 1); // more than one 1 MiB block
        byte[] result = old.clone();
        result[3 * PS + 100] ^= 1;
        result[4 * PS] ^= 1;          // next to page 3: one run of two pages
        result[130 * PS - 1] ^= 1;    // the last byte of page 129, in the third block
        assertEquals(3L * PS, rewrite(old, result, PS));
    }

    @Test
    void equalFileWritesNothing() throws Exception {
        byte[] b = random(70 * PS, 2);
        assertEquals(0, rewrite(b, b.clone(), PS));
    }

    @Test
    void longerFileIsCutAndShorterOneExtended() throws Exception {
        byte[] old = random(10 * PS, 3);
        assertEquals(0, rewrite(old, Arrays.copyOf(old, 6 * PS), PS));
        byte[] longer = Arrays.copyOf(old, 12 * PS);
        longer[11 * PS] = 5;
        assertEquals(2L * PS, rewrite(old, longer, PS)); // the two pages beyond the old end
    }

    @Test
    void missingFileIsWrittenWhole() throws Exception {
        byte[] b = random(100_000, 4); // not a multiple of the 64 KiB unit
        assertEquals(100_000, rewrite(new byte[0], b, DiffingOutput.BLOCK));
    }
}
