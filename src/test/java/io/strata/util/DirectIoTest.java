package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link DirectIo} on the test's file system (ext4 here; these tests need one that allows O_DIRECT). */
class DirectIoTest {
    @TempDir
    Path dir;

    private static byte[] sample(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void rangesOffTheGridAreReadExactly() throws IOException {
        byte[] data = sample(3 * DirectIo.ALIGN + 777, 1);
        Path f = Files.write(dir.resolve("data"), data);
        try (FileChannel ch = DirectIo.openRead(f)) {
            assertNotNull(ch, "O_DIRECT refused on " + f);
            for (int[] r : new int[][] {{0, 4096}, {13, 5000}, {4095, 1}, {4097, 3 * DirectIo.ALIGN + 777 - 4097}, {100, 0}}) {
                ByteBuffer into = DirectIo.allocate(r[1]);
                DirectIo.readRange(ch, r[0], into);
                assertEquals(0, into.position());
                byte[] got = new byte[into.remaining()];
                into.get(got);
                assertArrayEquals(Arrays.copyOfRange(data, r[0], r[0] + r[1]), got, r[0] + "+" + r[1]);
            }
            ByteBuffer past = DirectIo.allocate(100);
            EOFException e = assertThrows(EOFException.class, () -> DirectIo.readRange(ch, data.length - 50, past));
            assertEquals("ends at byte " + data.length + ", before " + (data.length + 50), e.getMessage());
        }
    }

    @Test
    void aWriteOffTheGridIsPaddedWithZerosAndAWriteThroughTheOtherChannelIsExact() throws IOException {
        Path f = Files.createFile(dir.resolve("out"));
        byte[] a = sample(5000, 2);
        byte[] b = sample(300, 3);
        try (FileChannel ch = FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE); FileChannel direct = DirectIo.openWrite(f)) {
            assertNotNull(direct);
            ByteBuffer src = DirectIo.allocate(a.length);
            src.put(a).flip();
            DirectIo.write(direct, ch, src, 4096); // past the cache, padded to 12288
            assertEquals(3 * DirectIo.ALIGN, Files.size(f));
            ByteBuffer src2 = DirectIo.allocate(b.length);
            src2.put(b).flip();
            DirectIo.write(direct, ch, src2, 4096 + 5000 + 1); // off the grid: through ch, exactly
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectIo.write(direct, src2, 100));
            assertEquals("offset 100 is not a multiple of 4096", e.getMessage());
        }
        byte[] want = new byte[3 * DirectIo.ALIGN];
        System.arraycopy(a, 0, want, 4096, a.length);
        System.arraycopy(b, 0, want, 4096 + 5000 + 1, b.length);
        assertArrayEquals(want, Files.readAllBytes(f));
    }

    @Test
    void aFileThatCannotBeOpenedGivesNullAndTheCallerKeepsItsOwnChannel() {
        assertNull(DirectIo.openRead(dir.resolve("missing")));
        assertNull(DirectIo.openWrite(dir.resolve("missing")));
    }
}
