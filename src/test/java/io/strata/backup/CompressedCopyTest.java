package io.strata.backup;

import io.strata.error.CorruptDataException;
import io.strata.repo.DeltaFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The page copier on a real ROW_FORMAT=COMPRESSED file (fixture zip8.ibd.gz, KEY_BLOCK_SIZE=8,
 * MariaDB 10.11.19): pages of 8 KiB, a torn page read again until the server's write is whole, a
 * page that stays damaged failing the copy, and deltas of 8 KiB pages.
 */
class CompressedCopyTest {
    private static final int PS = 8192;
    private static final int FLAGS = 0x29; // legacy, COMPRESSED KEY_BLOCK_SIZE=8

    @TempDir
    Path dir;

    private static byte[] zip8() throws IOException {
        try (InputStream in = CompressedCopyTest.class.getResourceAsStream("/fixtures/mariadb-10.11/zip8.ibd.gz")) {
            return new GZIPInputStream(in).readAllBytes();
        }
    }

    private Tablespace write(byte[] content) throws IOException {
        Path file = dir.resolve("zip8.ibd");
        Files.write(file, content);
        return new Tablespace("fx/zip8.ibd", file, ByteBuffer.wrap(content, 34, 4).getInt(), FLAGS, "`fx`.`zip8`");
    }

    private static PageCopier copier() {
        return new PageCopier(new Throttle(0), () -> { }, n -> { });
    }

    @Test
    void aTornCompressedPageIsReadAgainUntilTheWriteIsWhole() throws Exception {
        byte[] good = zip8();
        byte[] torn = good.clone();
        // the second half of page 4 still as another write left it: here, page 5's
        System.arraycopy(good, 5 * PS + PS / 2, torn, 4 * PS + PS / 2, PS / 2);
        Tablespace ts = write(torn);
        Thread server = new Thread(() -> {
            try (FileChannel ch = FileChannel.open(ts.file(), StandardOpenOption.WRITE)) {
                Thread.sleep(250);
                ch.write(ByteBuffer.wrap(good, 4 * PS, PS), 4L * PS);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        server.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PageCopier.Result r = copier().copy(ts, out, -1);
        server.join();
        assertTrue(r.rereads() >= 1, "the torn page was read again: " + r);
        assertEquals(good.length / PS, r.pages());
        assertEquals(good.length, r.bytes());
        assertArrayEquals(good, out.toByteArray(), "the copy holds the whole write");
    }

    @Test
    void aCompressedPageThatStaysDamagedFailsTheCopy() throws Exception {
        byte[] bad = zip8();
        bad[3 * PS + 3000] ^= 0x08;
        Tablespace ts = write(bad);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> copier().copy(ts, new ByteArrayOutputStream(), -1));
        assertTrue(e.getMessage().startsWith("page 3 of fx/zip8.ibd (`fx`.`zip8`) failed verification after 11 reads: "
                + "compressed page checksum stored=0x"), e.getMessage());
        assertTrue(e.getMessage().endsWith(" (ROW_FORMAT=COMPRESSED, KEY_BLOCK_SIZE=8K)"), e.getMessage());
    }

    @Test
    void aDeltaHoldsWholeCompressedPagesAtTheirNumbers() throws Exception {
        byte[] content = zip8();
        Tablespace ts = write(content);
        long[] lsns = new long[content.length / PS];
        for (int p = 0; p < lsns.length; p++) {
            lsns[p] = ByteBuffer.wrap(content, p * PS + 16, 8).getLong();
        }
        long threshold = Arrays.stream(lsns).filter(l -> l > 0).distinct().sorted().toArray()[1]; // the pages of the newest LSN only
        List<Integer> expected = new ArrayList<>();
        for (int p = 0; p < lsns.length; p++) {
            if (lsns[p] > threshold) {
                expected.add(p);
            }
        }
        assertTrue(expected.size() >= 2 && expected.size() < lsns.length - 2, "a threshold that keeps some pages: " + expected);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PageCopier.Result r = copier().copy(ts, out, threshold);
        assertEquals(expected.size(), r.deltaPages());
        assertEquals(DeltaFormat.length(expected.size(), PS), out.size());
        DeltaFormat.Reader d = new DeltaFormat.Reader(new ByteArrayInputStream(out.toByteArray()), PS, "test delta");
        List<Integer> got = new ArrayList<>();
        while (d.next()) {
            int p = (int) d.pageNo();
            got.add(p);
            assertArrayEquals(Arrays.copyOfRange(content, p * PS, (p + 1) * PS), d.page(), "page " + p);
        }
        assertEquals(expected, got);
    }
}
