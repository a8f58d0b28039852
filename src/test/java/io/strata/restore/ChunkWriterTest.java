package io.strata.restore;

import io.strata.util.DirectIo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** {@link ChunkWriter}: writes land in call order, past the page cache or through it, and the file is cut to its length. */
class ChunkWriterTest {
    @TempDir
    Path dir;

    @Test
    void writesLandInCallOrderAndTheFileIsCutToItsLength() throws IOException {
        int mib = 1 << 20;
        byte[] want = new byte[2 * mib + 5100];
        new Random(7).nextBytes(want);
        Path f = Files.createFile(dir.resolve("restored"));
        for (boolean pastCache : new boolean[] {false, true}) {
            Files.write(f, new byte[0]);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE);
                 FileChannel direct = pastCache ? DirectIo.openWrite(f) : null) {
                ChunkWriter w = new ChunkWriter(ch, direct);
                if (pastCache) {
                    assertNotNull(direct, "O_DIRECT refused on " + f);
                }
                for (int k = 0; k < 3; k++) {
                    int n = k < 2 ? mib : 5000; // the last write past the page cache ends off the 4 KiB grid: zeros after it
                    ByteBuffer b = w.buffer(n);
                    b.put(want, k * mib, n).flip();
                    w.write(b, (long) k * mib);
                }
                w.writeNow(want, 2 * mib + 5000, 100, 2L * mib + 5000); // over those zeros
                w.finish(want.length);
            }
            assertArrayEquals(want, Files.readAllBytes(f), pastCache ? "past the page cache" : "through it");
        }
    }
}
