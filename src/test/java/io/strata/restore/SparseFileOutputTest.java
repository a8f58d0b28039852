package io.strata.restore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparseFileOutputTest {
    private static final int PS = 16384;

    /** Bytes allocated to {@code f} on disk (st_blocks × 512), which Java's file attributes do not give. */
    static long allocated(Path f) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        String[] v = out.split(" ");
        return Long.parseLong(v[0]) * Long.parseLong(v[1]);
    }

    @Test
    void pageCompressedFilesKeepTheirHoles(@TempDir Path dir) throws Exception {
        // 64 pages: every 4th holds 1000 bytes then zeros (a page_compressed page), one is whole, the rest zero
        byte[] content = new byte[64 * PS];
        for (int p = 0; p < 64; p += 4) {
            Arrays.fill(content, p * PS, p * PS + 1000, (byte) (p + 1));
        }
        Arrays.fill(content, 5 * PS, 6 * PS, (byte) 7);
        Path f = dir.resolve("t.ibd");
        try (FileChannel ch = RestoreRun.createFile(f)) {
            OutputStream os = SparseFileOutput.open(ch, f, 0x15 | 1 << 5); // full_crc32, zlib
            assertTrue(os instanceof SparseFileOutput);
            // written in odd pieces, as a chunked reader hands them over
            for (int off = 0; off < content.length; off += 7000) {
                os.write(content, off, Math.min(7000, content.length - off));
            }
            SparseFileOutput.finish(os);
        }
        assertArrayEquals(content, Files.readAllBytes(f));
        long blocks = allocated(f);
        // 16 pages with 1000 bytes (one 4 KiB block each) and one whole page, on a file system with 4 KiB blocks
        assertTrue(blocks <= 16 * 4096 + PS + 8192, "allocated " + blocks + " bytes");

        // a file that ends in zero pages still has its full length
        Path g = dir.resolve("u.ibd");
        byte[] tail = Arrays.copyOf(content, 80 * PS);
        try (FileChannel ch = RestoreRun.createFile(g)) {
            OutputStream os = SparseFileOutput.open(ch, g, 0x21 | 1 << 16); // legacy page_compressed
            os.write(tail);
            SparseFileOutput.finish(os);
        }
        assertEquals(80L * PS, Files.size(g));
        assertArrayEquals(tail, Files.readAllBytes(g));
        assertEquals(blocks, allocated(g));
    }

    @Test
    void onlyPageCompressedTablespacesAreSparse() {
        assertTrue(SparseFileOutput.needed(0x15 | 2 << 5));
        assertTrue(SparseFileOutput.needed(0x21 | 1 << 16));
        assertFalse(SparseFileOutput.needed(0x15));
        assertFalse(SparseFileOutput.needed(0x21));
        assertFalse(SparseFileOutput.needed(0x10)); // invalid flags: written as they are
    }
}
