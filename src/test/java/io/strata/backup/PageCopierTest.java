package io.strata.backup;

import io.strata.innodb.PageBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A page selection (redo, tracked methods) copied through the read-ahead: the same output as a scan would give for those pages. */
class PageCopierTest {
    static final int PS = 4096;
    static final int FLAGS = 0x13; // full_crc32, 4 KiB pages
    static final long THRESHOLD = 200;

    @TempDir
    Path dir;

    @Test
    void aScatteredSelectionIsCopiedInPageOrderWithTheLsnFilter() throws Exception {
        int pages = 3000;
        Random r = new Random(11);
        TreeSet<Integer> selected = new TreeSet<>();
        while (selected.size() < 400) {
            selected.add(r.nextInt(pages));
        }
        for (int p = 1000; p < 1700; p++) {
            selected.add(p); // a run longer than one 1 MiB batch (256 pages of 4 KiB)
        }
        BitSet changed = new BitSet();
        for (int p : selected) {
            if (r.nextInt(4) != 0) {
                changed.set(p); // a named page can be older than the threshold: kept out by its LSN
            }
        }
        changed.set(2999);
        selected.add(2999); // the last page of the file
        Path file = dir.resolve("t.ibd");
        byte[][] content = new byte[pages][];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int p = 0; p < pages; p++) {
                content[p] = PageBuilder.fullCrc32(PS).pageNo(p).spaceId(5).seed(p).lsn(changed.get(p) ? 500 + p : 100).build();
                out.write(content[p]);
            }
        }
        int[] only = selected.stream().mapToInt(Integer::intValue).toArray();
        ByteArrayOutputStream delta = new ByteArrayOutputStream();
        long[] reported = new long[1];
        PageCopier copier = new PageCopier(new Throttle(0), () -> { }, n -> reported[0] += n);
        PageCopier.Result res = copier.copy(new Tablespace("app/t.ibd", file, 5, FLAGS, "app/t"), delta, THRESHOLD, only, 0);

        List<Integer> expected = new ArrayList<>();
        for (int p : only) {
            if (changed.get(p)) {
                expected.add(p);
            }
        }
        ByteBuffer b = ByteBuffer.wrap(delta.toByteArray());
        List<Integer> got = new ArrayList<>();
        while (b.hasRemaining()) {
            int p = b.getInt();
            byte[] page = new byte[PS];
            b.get(page);
            assertArrayEquals(content[p], page, "page " + p);
            got.add(p);
        }
        assertEquals(expected, got, "the changed pages of the selection, ascending");
        assertEquals(only.length, res.pagesRead());
        assertEquals(expected.size(), res.deltaPages());
        assertEquals((long) only.length * PS, reported[0], "progress told of every page read");
        assertEquals(pages, res.pages());
    }

    @Test
    void runsSplitAtGapsAndAtTheBatchSize() {
        BitSet s = new BitSet();
        s.set(3);
        s.set(5, 9);
        s.set(100, 700);
        s.set(990, 1200); // beyond the file's 1000 pages from 1000 on
        List<long[]> runs = PageCopier.runs(s, 1000, 256);
        List<String> shown = runs.stream().map(Arrays::toString).toList();
        assertEquals(List.of("[3, 1]", "[5, 4]", "[100, 256]", "[356, 256]", "[612, 88]", "[990, 10]"), shown);
    }

    @Test
    void pagesNamedPastTheEndOfTheFileAreNotRead() throws Exception {
        Path file = dir.resolve("short.ibd");
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int p = 0; p < 4; p++) {
                out.write(PageBuilder.fullCrc32(PS).pageNo(p).spaceId(5).seed(p).lsn(500).build());
            }
        }
        // the redo log named pages the file does not have yet: recovery rebuilds them from the log
        ByteArrayOutputStream delta = new ByteArrayOutputStream();
        PageCopier copier = new PageCopier(new Throttle(0), () -> { }, n -> { });
        PageCopier.Result res = copier.copy(new Tablespace("app/s.ibd", file, 5, FLAGS, "app/s"), delta, THRESHOLD, new int[] {1, 3, 4, 9}, 0);
        assertEquals(2, res.pagesRead());
        assertEquals(2, res.deltaPages());
        assertEquals(2 * (4 + PS), delta.size());
    }

    /**
     * Every other page of a 700-page file selected: 350 runs of one page, more than the read-ahead
     * keeps in flight (128): each is read once and stored in page order, with its own content.
     */
    @Test
    void moreRunsThanTheReadAheadHoldsAreEachStoredOnceInPageOrder() throws Exception {
        int[] only = new int[350];
        for (int i = 0; i < only.length; i++) {
            only[i] = 2 * i + 1;
        }
        assertStoredInOrder("wide.ibd", 700, only);
    }

    /**
     * Twelve runs of 256 pages (1 MiB each, the most one run reads) with one page left out between
     * them: more bytes than the read-ahead keeps in flight (8 MiB), so the run it found and could not
     * yet issue waits for the next call, and is still stored, once and in order.
     */
    @Test
    void runsBeyondTheReadAheadsByteCapAreEachStoredOnceInPageOrder() throws Exception {
        int[] only = new int[12 * 256];
        for (int r = 0, i = 0; r < 12; r++) {
            for (int k = 0; k < 256; k++) {
                only[i++] = r * 257 + k;
            }
        }
        assertStoredInOrder("runs.ibd", 12 * 257, only);
    }

    /** Writes a file of {@code pages} distinct pages, copies {@code only} as a delta, and checks each stored page. */
    private void assertStoredInOrder(String name, int pages, int[] only) throws Exception {
        Path file = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int p = 0; p < pages; p++) {
                out.write(PageBuilder.fullCrc32(PS).pageNo(p).spaceId(5).seed(p).lsn(500).build());
            }
        }
        ByteArrayOutputStream delta = new ByteArrayOutputStream();
        PageCopier copier = new PageCopier(new Throttle(0), () -> { }, n -> { });
        PageCopier.Result res = copier.copy(new Tablespace("app/" + name, file, 5, FLAGS, "app/w"), delta, THRESHOLD, only, 0);
        assertEquals(only.length, res.pagesRead());
        assertEquals(only.length, res.deltaPages());
        ByteBuffer b = ByteBuffer.wrap(delta.toByteArray());
        assertEquals(only.length * (4 + PS), b.remaining());
        for (int expected : only) {
            int pageNo = b.getInt();
            assertEquals(expected, pageNo);
            byte[] page = new byte[PS];
            b.get(page);
            assertArrayEquals(PageBuilder.fullCrc32(PS).pageNo(pageNo).spaceId(5).seed(pageNo).lsn(500).build(), page);
        }
    }

    /**
     * A legacy page_compressed file (PAGE_COMPRESSED=1 created under crc32): a frame caught half
     * written is re-read until the server's write is whole; a frame of an algorithm strata cannot
     * decompress (lzma) is copied as read, without re-reads.
     */
    @Test
    void legacyPageCompressedFramesAreRereadWhenTornAndCopiedWhenUncheckable() throws Exception {
        int ps = 16384;
        int flags = 0x21 | 1 << 16;
        byte[][] content = new byte[4][];
        content[0] = PageBuilder.legacy(ps, PageBuilder.Algo.CRC32).pageNo(0).lsn(500).type(io.strata.innodb.PageType.FSP_HDR).build();
        content[1] = PageBuilder.legacyPageCompressed(PageBuilder.compressibleLegacy(ps, 1, 500), io.strata.innodb.LegacyPageCompression.ZLIB);
        content[2] = PageBuilder.legacyPageCompressed(PageBuilder.compressibleLegacy(ps, 2, 500), io.strata.innodb.LegacyPageCompression.LZ4);
        content[3] = content[1].clone();
        content[3][4 + 3] = 3; // page number 3
        content[3][26 + 7] = 4; // lzma: not decompressed
        Path file = dir.resolve("pc.ibd");
        byte[] torn = content[2].clone();
        for (int i = 60; i < 200; i++) {
            torn[i] ^= 0x5A; // the payload's first sectors not yet written
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            for (byte[] p : new byte[][] {content[0], content[1], torn, content[3]}) {
                out.write(p);
            }
        }
        Thread writer = writeLater(file, content[2], 2L * ps);
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        PageCopier.Result res = new PageCopier(new Throttle(0), () -> { }, n -> { })
                .copy(new Tablespace("app/pc.ibd", file, 5, flags, "app/pc"), whole, -1);
        writer.join();
        assertTrue(res.rereads() >= 1 && res.rereads() <= 5, "re-reads: " + res.rereads());
        byte[] got = whole.toByteArray();
        for (int p = 0; p < 4; p++) {
            assertArrayEquals(content[p], Arrays.copyOfRange(got, p * ps, (p + 1) * ps), "page " + p);
        }
    }

    /** A local object's target that takes buffers as they are, counting them (as the local store's does). */
    private static final class SinkTarget extends ByteArrayOutputStream implements io.strata.util.BufferSink {
        int buffers;

        @Override
        public void write(ByteBuffer src) {
            byte[] b = new byte[src.remaining()];
            src.get(b);
            buffers++;
            write(b, 0, b.length);
        }
    }

    @Test
    void aWholeFileGoesFromTheReadBufferUnlessAPageWasReadAgain() throws Exception {
        int pages = 3 * 256; // three 1 MiB batches of 4 KiB pages
        byte[][] content = new byte[pages][];
        Path file = dir.resolve("w.ibd");
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int p = 0; p < pages; p++) {
                content[p] = PageBuilder.fullCrc32(PS).pageNo(p).spaceId(5).seed(p).lsn(100 + p).build();
                out.write(content[p], 0, PS);
            }
        }
        try (io.strata.util.DirectReads probe = io.strata.util.DirectReads.open(file)) {
            org.junit.jupiter.api.Assumptions.assumeTrue(probe != null, "the temp directory's file system refuses O_DIRECT");
        }
        // page 300 (the second batch) torn until a writer puts it right: that batch is read again
        byte[] torn = content[300].clone();
        torn[PS / 2] ^= 0x5A;
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(torn), 300L * PS);
        }
        Thread writer = writeLater(file, content[300], 300L * PS);
        SinkTarget target = new SinkTarget();
        io.strata.repo.ChunkedWriter w = new io.strata.repo.ChunkedWriter(target, "innodb-file");
        PageCopier.Result res = new PageCopier(new Throttle(0), () -> { }, n -> { })
                .copy(new Tablespace("app/w.ibd", file, 5, FLAGS, "app/w"), w, -1);
        w.finish();
        writer.join();
        assertTrue(res.rereads() >= 1 && res.rereads() <= 5, "re-reads: " + res.rereads());
        assertEquals(2, target.buffers, "the first and third batches from the read buffer, the second from the array");
        byte[] got;
        try (io.strata.repo.ChunkedReader r = new io.strata.repo.ChunkedReader(new java.io.ByteArrayInputStream(target.toByteArray()), "innodb-file", "w")) {
            got = r.readAllBytes();
        }
        assertEquals(pages * PS, got.length);
        for (int p = 0; p < pages; p++) {
            assertArrayEquals(content[p], Arrays.copyOfRange(got, p * PS, (p + 1) * PS), "page " + p);
        }
    }

    /** Starts a thread that writes {@code page} at {@code pos} of {@code file} after 250 ms, as the server puts a torn page right. */
    private static Thread writeLater(Path file, byte[] page, long pos) {
        Thread writer = new Thread(() -> {
            try {
                Thread.sleep(250);
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(page), pos);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        return writer;
    }
}
