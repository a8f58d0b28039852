package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reads and writes in 256 KiB slices give back exactly the bytes of one large call, and a short file reads short. */
class NioSlicesTest {
    @TempDir
    Path dir;

    @Test
    void sliceByteExact() throws Exception {
        byte[] data = new byte[3 * NioSlices.SLICE + 12_345];
        new Random(18).nextBytes(data);
        Path f = dir.resolve("f");
        try (OutputStream out = NioSlices.outputStream(FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
            out.write(data, 7, data.length - 7);
            out.write(data[3]);
        }
        byte[] expected = Arrays.copyOfRange(data, 7, data.length + 1);
        expected[expected.length - 1] = data[3];
        assertArrayEquals(expected, Files.readAllBytes(f));

        try (FileChannel ch = FileChannel.open(f)) {
            byte[] buf = new byte[expected.length + 10];
            // from offset 100 of the file into buf[5..]: the file ends 100 bytes early
            assertEquals(expected.length - 100, NioSlices.read(ch, buf, 5, expected.length, 100));
            assertArrayEquals(Arrays.copyOfRange(expected, 100, expected.length), Arrays.copyOfRange(buf, 5, 5 + expected.length - 100));
        }
        try (InputStream in = NioSlices.inputStream(FileChannel.open(f))) {
            assertArrayEquals(expected, in.readAllBytes());
        }
    }
}
