package io.strata.restore;

import io.strata.codec.Compression;
import io.strata.error.CorruptDataException;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.Chain;
import io.strata.repo.ChunkScan;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.repo.ObjectFormat;
import io.strata.repo.Repository;
import io.strata.repo.StoredObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PageComposer}'s three ways of writing one InnoDB file of a chain restore give the same
 * bytes: streaming through the readers ({@code compose}, the reference), chunk by chunk of the base
 * with chunks stored as they are read into direct memory ({@code composeByChunks}, through the page cache and past it), and bringing an
 * existing file (empty, stale, or too long) to the result page by page ({@code deltaCompose}). The
 * objects are real ones of a local repository, written as a backup writes them; every page of
 * every layer is told apart by its bytes, and the expected file is laid together here, page by
 * page, newest layer winning. Also: what each path returns (bytes of the result, bytes written,
 * bytes decoded), when the chunk walk gives way to the stream (compressed first chunk, chunks off
 * the page grid), and that damage to the base's bytes, to its manifest entry or to a delta is refused.
 */
class PageComposerTest {
    private static final int FLAGS_16K = 0x15; // full_crc32, 16 KiB pages
    private static final int FLAGS_4K = 0x13;
    private static final int FLAGS_64K = 0x17;
    private static final int MIB = ObjectFormat.CHUNK_SIZE;
    private static final int PS = 16 << 10;
    /** Pages per 1 MiB chunk at 16 KiB. */
    private static final int CP = MIB / PS;
    /** The restored backup's redo end LSN; the pages of the layers carry lower FIL_PAGE_LSNs unless a case says otherwise. */
    private static final long MAX_LSN = 1000;
    private static final String OBJECT = "data/000001";

    @TempDir
    Path dir;
    private Repository repo;
    private int seq;
    private int files;

    @BeforeEach
    void openRepository() {
        repo = Repository.openOrCreate(dir.resolve("repo"));
    }

    // ---- the layers, as plain bytes ----------------------------------------------------------

    /** Page {@code p} as layer {@code layer} (0 the whole copy) holds it: a fill of its own, its number, its layer and FIL_PAGE_LSN {@code lsn}. */
    private static byte[] page(int ps, int layer, long p, long lsn) {
        byte[] b = new byte[ps];
        Arrays.fill(b, (byte) (layer * 41 + p * 7 + 1));
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(4, (int) p); // FIL_PAGE_OFFSET
        bb.putInt(8, layer);
        bb.putLong(16, lsn); // FIL_PAGE_LSN, big-endian
        return b;
    }

    /** A whole copy of {@code pages} pages of layer 0. */
    private static byte[] baseFile(int ps, int pages) {
        byte[] b = new byte[pages * ps];
        for (int p = 0; p < pages; p++) {
            System.arraycopy(page(ps, 0, p, 100), 0, b, p * ps, ps);
        }
        return b;
    }

    /** The pages of one delta and the file's size, in pages, at that backup. */
    private record Delta(long sizePages, SortedMap<Long, byte[]> pages) {}

    private static Delta delta(int ps, int layer, long sizePages, long... pageNos) {
        SortedMap<Long, byte[]> m = new TreeMap<>();
        for (long p : pageNos) {
            m.put(p, page(ps, layer, p, 100 + layer));
        }
        return new Delta(sizePages, m);
    }

    /** The result laid together page by page: the base cut or padded with zeros to the newest size, then each delta's pages, oldest first. */
    private static byte[] expected(int ps, byte[] base, List<Delta> deltas) {
        byte[] r = new byte[deltas.isEmpty() ? base.length : (int) (deltas.get(deltas.size() - 1).sizePages() * ps)];
        System.arraycopy(base, 0, r, 0, Math.min(base.length, r.length));
        for (Delta d : deltas) {
            for (var e : d.pages().entrySet()) {
                if ((e.getKey() + 1) * ps <= r.length) {
                    System.arraycopy(e.getValue(), 0, r, (int) (e.getKey() * ps), ps);
                }
            }
        }
        return r;
    }

    // ---- the layers, stored --------------------------------------------------------------------

    /** Stores the whole copy {@code base} (compressed with {@code c}) and the deltas as a backup writes them; whole copy first. */
    private List<Chain.Layer> store(int flags, byte[] base, Compression c, List<Delta> deltas) throws IOException {
        int ps = new TablespaceFlags(flags).physicalPageSize();
        List<Chain.Layer> layers = new ArrayList<>();
        layers.add(put(FileEntry.WHOLE, flags, base.length, 0, c, os -> os.write(base)));
        for (Delta d : deltas) {
            layers.add(put(FileEntry.DELTA, flags, d.sizePages() * ps, d.pages().size(), Compression.NONE, os -> {
                DeltaFormat.Writer w = new DeltaFormat.Writer(os, ps);
                for (var e : d.pages().entrySet()) {
                    w.write(e.getKey(), e.getValue(), 0);
                }
            }));
        }
        return layers;
    }

    private interface Content {
        void writeTo(OutputStream os) throws IOException;
    }

    private Chain.Layer put(String storage, int flags, long size, long deltaPages, Compression c, Content content) throws IOException {
        String id = Repository.newBackupId(Instant.parse("2026-01-01T00:00:00Z").plusSeconds(++seq));
        boolean whole = FileEntry.WHOLE.equals(storage);
        try (StoredObject o = repo.createBackupObject(id, OBJECT, whole ? "innodb-file" : DeltaFormat.CONTENT, c)) {
            content.writeTo(o.out());
            o.commitBatched();
            long pages = size / new TablespaceFlags(flags).physicalPageSize();
            FileEntry e = new FileEntry("app/t.ibd", "innodb", 5L, flags, size, pages, storage, deltaPages, OBJECT, o.storedBytes(), o.crc32c());
            return new Chain.Layer(Manifest.builder().id(id).type(whole ? "full" : "incremental").build(), e);
        }
    }

    /** The file of a layer's stored object. */
    private Path objectFile(Chain.Layer l) throws IOException {
        try (var s = Files.walk(dir.resolve("repo"))) {
            return s.filter(f -> f.toString().contains(l.backup().id()) && f.endsWith(OBJECT)).findFirst().orElseThrow();
        }
    }

    /** {@code l} with its manifest entry's content digest replaced by {@code crc32c}. */
    private static Chain.Layer withDigest(Chain.Layer l, String crc32c) {
        FileEntry e = l.entry();
        return new Chain.Layer(l.backup(), new FileEntry(e.path(), e.kind(), e.spaceId(), e.flags(), e.size(), e.pages(), e.storage(),
                e.deltaPages(), e.object(), e.storedBytes(), crc32c));
    }

    // ---- the three paths -------------------------------------------------------------------------

    private static int ps(List<Chain.Layer> layers) {
        return new TablespaceFlags(target(layers).flags()).physicalPageSize();
    }

    private static FileEntry target(List<Chain.Layer> layers) {
        return layers.get(layers.size() - 1).entry();
    }

    private Path newFile(byte[] content) throws IOException {
        Path f = dir.resolve("out" + ++files);
        Files.write(f, content);
        return f;
    }

    private static FileChannel rw(Path f) throws IOException {
        return FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Path 1 into a new file; returns the file's bytes. */
    private byte[] compose(List<Chain.Layer> layers) throws IOException {
        Path f = newFile(new byte[0]);
        try (FileChannel ch = rw(f)) {
            assertEquals(target(layers).size(), PageComposer.compose(repo, layers, target(layers), f, ch));
        }
        return Files.readAllBytes(f);
    }

    private ChunkScan scan(List<Chain.Layer> layers) {
        return repo.scanBackupObject(layers.get(0).backup().id(), OBJECT, "innodb-file");
    }

    /** Path 2 into the new file {@code f}, past the page cache ({@code direct}: O_DIRECT reads and writes where aligned) or through it; returns its answer. */
    private long byChunks(List<Chain.Layer> layers, Path f, boolean direct) throws IOException {
        try (ChunkScan s = scan(layers); FileChannel ch = rw(f); FileChannel d = direct ? io.strata.util.DirectIo.openWrite(f) : null) {
            if (direct) {
                assertNotNull(d, "the test's file system refuses O_DIRECT: " + f);
            }
            return PageComposer.composeByChunks(repo, layers, target(layers), s, ch, d);
        }
    }

    /** Path 3 onto a file that holds {@code old}; returns {bytes written, bytes decoded} and leaves the file's bytes in {@code got}. */
    private long[] deltaCompose(List<Chain.Layer> layers, byte[] old, long maxLsn, Path[] got) throws IOException {
        return deltaCompose(layers, old, maxLsn, got, null);
    }

    /** As {@link #deltaCompose(List, byte[], long, Path[])}, reading only the chunks that hold a page of {@code suspects} (null: all). */
    private long[] deltaCompose(List<Chain.Layer> layers, byte[] old, long maxLsn, Path[] got, java.util.BitSet suspects) throws IOException {
        Path f = newFile(old);
        got[0] = f;
        try (ChunkScan s = scan(layers); FileChannel ch = rw(f)) {
            return PageComposer.deltaCompose(repo, layers, target(layers), s, ch, maxLsn, suspects);
        }
    }

    /** Raw bytes in the base's chunks that start inside the result: what a walk that cannot skip a chunk decodes. */
    private static long baseBytes(List<Chain.Layer> layers) {
        return layers.get(0).entry().size(); // every chunk: those past a shrunk result's end are read and checked too
    }

    /**
     * Raw bytes of the base's chunks that a delta restore onto a file already equal to the result
     * must decode: those a delta overrides a page of, and those that do not lie wholly inside the result
     * (past a shrunk result's end they are read and checked like the rest).
     */
    private static long chunksToDecode(List<Chain.Layer> layers, List<Delta> deltas) {
        int ps = ps(layers);
        long baseSize = layers.get(0).entry().size();
        long size = target(layers).size();
        long limit = Math.min(baseSize, size) / ps * ps;
        TreeSet<Long> overridden = new TreeSet<>();
        for (Delta d : deltas) {
            overridden.addAll(d.pages().keySet());
        }
        long n = 0;
        for (long off = 0; off < baseSize; off += MIB) {
            long len = Math.min(MIB, baseSize - off);
            long inResult = Math.max(0, Math.min(len, limit - off));
            Long p = overridden.ceiling(off / ps);
            if (inResult < len || p != null && p < (off + inResult) / ps) {
                n += len; // chunks past the result's end are read and checked too
            }
        }
        return n;
    }

    /**
     * Asserts that every path composes {@code layers} into {@code want}: the stream, the chunk walk
     * (unless the base's first chunk is compressed, then it must give way), and the delta restore
     * onto an empty file, onto a stale copy (three pages differ) and onto a copy that is equal but
     * one page and a half too long.
     */
    private void assertAllPathsGive(List<Chain.Layer> layers, List<Delta> deltas, byte[] want, boolean firstChunkCompressed) throws IOException {
        int ps = ps(layers);
        assertArrayEquals(want, compose(layers), "compose into a file");
        ByteArrayOutputStream os = new ByteArrayOutputStream();
        assertEquals(want.length, PageComposer.compose(repo, layers, target(layers), os));
        assertArrayEquals(want, os.toByteArray(), "compose into a stream");

        for (boolean direct : new boolean[] {false, true}) {
            Path f = newFile(new byte[0]);
            long n = byChunks(layers, f, direct);
            if (firstChunkCompressed) {
                assertEquals(-1, n, "a compressed first chunk: the stream decodes on the codec pool");
            } else {
                assertEquals(want.length, n);
                assertArrayEquals(want, Files.readAllBytes(f), "composeByChunks, " + (direct ? "past the page cache" : "through it"));
            }
        }

        Path[] got = new Path[1];
        long[] wd = deltaCompose(layers, new byte[0], MAX_LSN, got);
        assertArrayEquals(want, Files.readAllBytes(got[0]), "deltaCompose onto an empty file");
        assertEquals(want.length, wd[0], "every page written");
        assertEquals(baseBytes(layers), wd[1], "every chunk of the base decoded");

        byte[] stale = want.clone();
        long pages = want.length / ps;
        for (long p : new long[] {1, pages / 2, pages - 1}) {
            stale[(int) (p * ps + ps / 2)] ^= 0x5a;
        }
        wd = deltaCompose(layers, stale, MAX_LSN, got);
        assertArrayEquals(want, Files.readAllBytes(got[0]), "deltaCompose onto a stale copy");
        assertEquals(3L * ps, wd[0], "only the three stale pages written");

        // only the first and last pages named as changed since the last restore (DeltaBasis): a chunk of the base (or a page past
        // its end) holding neither is not read, so the stale middle page stays unless it shares a chunk with them; the deltas'
        // cursors move past the skipped chunks, so the last page still gets the newest delta's version
        java.util.BitSet suspects = new java.util.BitSet();
        suspects.set(1);
        suspects.set((int) (pages - 1));
        wd = deltaCompose(layers, stale, MAX_LSN, got, suspects);
        byte[] after = Files.readAllBytes(got[0]);
        assertEquals(want.length, after.length);
        long limit = Math.min(layers.get(0).entry().size(), want.length) / ps * ps;
        long readable = 0;
        for (long off = 0; off < want.length; ) {
            int len = (int) (off < limit ? Math.min(MIB, limit - off) : ps);
            boolean chunkNamed = DeltaRestore.anySuspect(suspects, off, len, ps);
            readable += chunkNamed ? len : 0;
            for (long p = off / ps; p < (off + len) / ps; p++) {
                int from = (int) (p * ps);
                byte[] g = Arrays.copyOfRange(after, from, from + ps);
                if (suspects.get((int) p)) {
                    assertArrayEquals(Arrays.copyOfRange(want, from, from + ps), g, "named page " + p + " is the result's");
                } else if (!chunkNamed) {
                    assertArrayEquals(Arrays.copyOfRange(stale, from, from + ps), g, "page " + p + " of a chunk with no named page is not touched");
                } else {
                    // a page of a named chunk: compared with its chunk (chunk mode) or left alone (page mode)
                    assertTrue(Arrays.equals(Arrays.copyOfRange(want, from, from + ps), g) || Arrays.equals(Arrays.copyOfRange(stale, from, from + ps), g),
                            "page " + p + " is either the result's or the target's");
                }
            }
            off += len;
        }
        assertTrue(wd[2] <= readable && wd[2] >= 2L * ps, wd[2] + " bytes of the target read; the chunks holding a named page: " + readable);
        assertTrue(readable < want.length || want.length <= 2L * MIB, "the test must leave something unread: " + readable + " of " + want.length);

        byte[] longer = Arrays.copyOf(want, want.length + ps + ps / 2);
        Arrays.fill(longer, want.length, longer.length, (byte) 0x33);
        wd = deltaCompose(layers, longer, MAX_LSN, got);
        assertArrayEquals(want, Files.readAllBytes(got[0]), "deltaCompose onto a longer copy: cut to the result");
        assertEquals(0, wd[0], "nothing differs");
        assertEquals(chunksToDecode(layers, deltas), wd[1], "chunks equal to the file's bytes are not read");
    }

    private void assertAllPathsGive(int flags, byte[] base, Compression c, List<Delta> deltas) throws IOException {
        int ps = new TablespaceFlags(flags).physicalPageSize();
        List<Chain.Layer> layers = store(flags, base, c, deltas);
        assertAllPathsGive(layers, deltas, expected(ps, base, deltas), !c.isNone());
    }

    // ---- the matrix ----------------------------------------------------------------------------------

    @Test
    void aWholeCopyAloneInOneChunk() throws IOException {
        assertAllPathsGive(FLAGS_16K, baseFile(PS, 10), Compression.NONE, List.of());
    }

    @Test
    void aWholeCopyAloneInSeveralChunksTheLastPartial() throws IOException {
        assertAllPathsGive(FLAGS_16K, baseFile(PS, 3 * CP + 5), Compression.NONE, List.of());
    }

    @Test
    void oneDeltaAtTheEdgesOfChunksAndOfTheFile() throws IOException {
        int pages = 3 * CP + 5;
        assertAllPathsGive(FLAGS_16K, baseFile(PS, pages), Compression.NONE,
                List.of(delta(PS, 1, pages, 0, CP - 1, CP, pages - 1)));
    }

    @Test
    void otherPageSizes() throws IOException {
        int small = 4 << 10;
        int pages = 2 * (MIB / small) + 7;
        assertAllPathsGive(FLAGS_4K, baseFile(small, pages), Compression.NONE,
                List.of(delta(small, 1, pages, 0, MIB / small - 1, MIB / small, pages - 1)));
        int large = 64 << 10;
        pages = 2 * (MIB / large) + 3;
        assertAllPathsGive(FLAGS_64K, baseFile(large, pages), Compression.NONE,
                List.of(delta(large, 1, pages, 0, MIB / large - 1, MIB / large, pages - 1)));
    }

    @Test
    void theNewestOfThreeOverlappingDeltasWins() throws IOException {
        int pages = 3 * CP + 5;
        List<Delta> deltas = List.of(
                delta(PS, 1, pages, 5, CP, 100, 150),
                delta(PS, 2, pages, 5, 70, 100, 150, pages - 1),
                delta(PS, 3, pages, 5, 100, pages - 1));
        byte[] base = baseFile(PS, pages);
        byte[] want = expected(PS, base, deltas);
        assertArrayEquals(page(PS, 3, 5, 103), Arrays.copyOfRange(want, 5 * PS, 6 * PS), "the expectation itself: the newest wins");
        assertArrayEquals(page(PS, 2, 150, 102), Arrays.copyOfRange(want, 150 * PS, 151 * PS));
        assertArrayEquals(page(PS, 1, CP, 101), Arrays.copyOfRange(want, CP * PS, (CP + 1) * PS));
        assertAllPathsGive(store(FLAGS_16K, base, Compression.NONE, deltas), deltas, want, false);
    }

    @Test
    void aFileThatGrewTakesPagesPastTheBaseFromTheDeltasAndZerosBetween() throws IOException {
        int basePages = 3 * CP + 5;
        int pages = 5 * CP - 20;
        // each page past the base is the last of its delta (see the disabled test below)
        List<Delta> deltas = List.of(
                delta(PS, 1, basePages + 10, 10, CP + 3, basePages + 9),
                delta(PS, 2, pages, 10, basePages),
                delta(PS, 3, pages, 11, pages - 1));
        assertGrownFile(deltas, 3 * CP + 5);
    }

    /**
     * A page past the base's end that its delta follows with another entry: written before the
     * delta moves on (the delta reader reads its next entry into the same buffer; composeByChunks
     * and deltaCompose once wrote the page after that, so it held the delta's next entry).
     */
    @Test
    void aPagePastTheBaseThatItsDeltaFollowsWithAnother() throws IOException {
        int basePages = 3 * CP + 5;
        int pages = 5 * CP - 20;
        List<Delta> deltas = List.of(
                delta(PS, 1, basePages + 10, 10, basePages, basePages + 9),
                delta(PS, 2, pages, basePages + 9, pages - 1));
        assertGrownFile(deltas, basePages);
    }

    private void assertGrownFile(List<Delta> deltas, int basePages) throws IOException {
        byte[] base = baseFile(PS, basePages);
        byte[] want = expected(PS, base, deltas);
        assertArrayEquals(new byte[PS], Arrays.copyOfRange(want, (basePages + 1) * PS, (basePages + 2) * PS), "a gap page is zeros");
        assertAllPathsGive(store(FLAGS_16K, base, Compression.NONE, deltas), deltas, want, false);
    }

    @Test
    void aFileThatShrankIgnoresTheBasePastItsEnd() throws IOException {
        int basePages = 3 * CP + 5;
        int pages = CP + 36; // inside the second chunk
        List<Delta> deltas = List.of(
                delta(PS, 1, basePages, 3, pages + 20, basePages - 1), // pages past the newest end: dropped
                delta(PS, 2, pages, pages - 1));
        assertAllPathsGive(FLAGS_16K, baseFile(PS, basePages), Compression.NONE, deltas);
    }

    @Test
    void aCompressedBaseIsLeftToTheStream() throws IOException {
        int pages = 3 * CP + 5;
        List<Delta> deltas = List.of(delta(PS, 1, pages, 0, CP - 1, CP, pages - 1));
        for (Compression c : new Compression[] {Compression.zstd(1), Compression.LZ4}) {
            assertAllPathsGive(FLAGS_16K, baseFile(PS, pages), c, deltas);
        }
    }

    @Test
    void aBaseWhoseFirstChunkDidNotCompressIsWalkedWithItsOtherChunksDecoded() throws IOException {
        int pages = 3 * CP + 5;
        byte[] base = baseFile(PS, pages);
        byte[] noise = new byte[MIB];
        new Random(7).nextBytes(noise);
        for (int p = 0; p < CP; p++) {
            ByteBuffer.wrap(noise).putLong(p * PS + 16, 100); // FIL_PAGE_LSN below the backup's
        }
        System.arraycopy(noise, 0, base, 0, MIB);
        List<Delta> deltas = List.of(delta(PS, 1, pages, CP - 1, pages - 1));
        List<Chain.Layer> layers = store(FLAGS_16K, base, Compression.zstd(1), deltas);
        try (ChunkScan s = scan(layers)) {
            assertTrue(s.next() && s.storedAsIs());
            assertTrue(s.next() && !s.storedAsIs(), "the second chunk is compressed");
        }
        assertAllPathsGive(layers, deltas, expected(PS, base, deltas), false);
    }

    @Test
    void aPageNewerThanTheBackupMakesItsChunkBeRead() throws IOException {
        int pages = 3 * CP + 5;
        byte[] base = baseFile(PS, pages);
        ByteBuffer.wrap(base).putLong((2 * CP + 3) * PS + 16, MAX_LSN + 1); // in the third chunk
        List<Chain.Layer> layers = store(FLAGS_16K, base, Compression.NONE, List.of());
        Path[] got = new Path[1];
        long[] wd = deltaCompose(layers, base, MAX_LSN, got);
        assertArrayEquals(base, Files.readAllBytes(got[0]));
        assertEquals(0, wd[0]);
        assertEquals(MIB, wd[1], "the third chunk, whose page 3 has an LSN above the backup's, is decoded; the others are not");
        wd = deltaCompose(layers, base, MAX_LSN + 1, got);
        assertEquals(0, wd[1], "with a later backup's LSN the third chunk is skipped too");
    }

    @Test
    void chunksOffThePageGridAreLeftToTheStream() throws IOException {
        // chunks of another writer's size: 1000 bytes, then the rest
        byte[] base = baseFile(PS, 10);
        byte[] framed = frame(base, 1000);
        List<Chain.Layer> layers = store(FLAGS_16K, base, Compression.NONE, List.of());
        Files.write(objectFile(layers.get(0)), framed);
        try (ChunkScan s = scan(layers)) {
            while (s.next()) {
                // to the footer, for the digest over these chunks
            }
            layers = List.of(withDigest(layers.get(0), String.format("%08x", s.digest())));
        }
        assertArrayEquals(base, compose(layers));
        assertEquals(-1, byChunks(layers, newFile(new byte[0]), true));
        assertNull(deltaCompose(layers, new byte[0], MAX_LSN, new Path[1]));
    }

    /** {@code raw} as an object in the clear with a first chunk of {@code first} bytes and a second of the rest, stored as they are. */
    private static byte[] frame(byte[] raw, int first) throws IOException {
        ByteArrayOutputStream empty = new ByteArrayOutputStream();
        io.strata.repo.ChunkedWriter w = new io.strata.repo.ChunkedWriter(empty, "innodb-file");
        w.finish();
        byte[] e = empty.toByteArray();
        int header = e.length - 4 - 20; // header, end marker, footer
        ByteBuffer b = ByteBuffer.allocate(header + 2 * ObjectFormat.CHUNK_HEADER + raw.length + 4 + 20);
        b.put(e, 0, header);
        java.util.zip.CRC32C digest = new java.util.zip.CRC32C();
        for (int[] c : new int[][] {{0, first}, {first, raw.length - first}}) {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(raw, c[0], c[1]);
            b.putInt(c[1]).putInt(c[1]).put((byte) ObjectFormat.CODEC_NONE).putInt((int) crc.getValue()).put(raw, c[0], c[1]);
            ObjectFormat.digest(digest, c[1], (int) crc.getValue());
        }
        b.putInt(0).putLong(raw.length).putInt(2).putInt((int) digest.getValue()).putInt(ObjectFormat.FOOTER_MAGIC);
        return b.array();
    }

    // ---- damage ------------------------------------------------------------------------------------------

    /** Asserts that the stream, the chunk walk and the delta restore onto an empty file all refuse {@code layers}; returns the walk's message. */
    private String assertAllPathsRefuse(List<Chain.Layer> layers) {
        List<Executable> paths = List.of(
                () -> compose(layers),
                () -> byChunks(layers, newFile(new byte[0]), true),
                () -> deltaCompose(layers, new byte[0], MAX_LSN, new Path[1]));
        List<String> messages = new ArrayList<>();
        for (Executable p : paths) {
            messages.add(assertThrows(CorruptDataException.class, p).getMessage());
        }
        return messages.get(1);
    }

    @Test
    void aDamagedByteInAChunkStoredAsItIsIsFoundByItsCrc() throws IOException {
        int pages = 3 * CP + 5;
        List<Chain.Layer> layers = store(FLAGS_16K, baseFile(PS, pages), Compression.NONE, List.of(delta(PS, 1, pages, 0)));
        Path f = objectFile(layers.get(0));
        byte[] stored = Files.readAllBytes(f);
        // the second chunk holds no delta page: the walk reads it into direct memory and writes it from there
        int second = stored.length - 4 - 20 - (ObjectFormat.CHUNK_HEADER + 5 * PS) - 2 * (ObjectFormat.CHUNK_HEADER + MIB);
        assertEquals(MIB, ByteBuffer.wrap(stored).getInt(second), "the second chunk's header");
        stored[second + ObjectFormat.CHUNK_HEADER + 12345] ^= 1;
        Files.write(f, stored);
        String m = assertAllPathsRefuse(layers);
        assertTrue(m.contains("chunk 1") && m.contains("checksum mismatch"), m);
    }

    @Test
    void aDamagedByteInTheBasePastTheEndOfAFileThatShrankIsFound() throws IOException {
        int basePages = 3 * CP + 5;
        List<Delta> deltas = List.of(delta(PS, 1, CP + 36, 3)); // the result ends inside the second chunk
        List<Chain.Layer> layers = store(FLAGS_16K, baseFile(PS, basePages), Compression.NONE, deltas);
        Path f = objectFile(layers.get(0));
        byte[] stored = Files.readAllBytes(f);
        int third = stored.length - 4 - 20 - (ObjectFormat.CHUNK_HEADER + 5 * PS) - (ObjectFormat.CHUNK_HEADER + MIB);
        assertEquals(MIB, ByteBuffer.wrap(stored).getInt(third), "the third chunk's header");
        stored[third + ObjectFormat.CHUNK_HEADER + 777] ^= 1; // in base bytes no page of the result comes from
        Files.write(f, stored);
        String m = assertAllPathsRefuse(layers);
        assertTrue(m.contains("chunk 2") && m.contains("checksum mismatch"), m);
    }

    @Test
    void aBaseThatDoesNotMatchItsManifestEntryIsRefused() throws IOException {
        int pages = CP + 5;
        for (int size : new int[] {pages, CP - 3}) { // the same size, and a file that shrank: the base's end is checked all the same
            List<Delta> deltas = List.of(delta(PS, 1, size, 0));
            List<Chain.Layer> layers = new ArrayList<>(store(FLAGS_16K, baseFile(PS, pages), Compression.NONE, deltas));
            layers.set(0, withDigest(layers.get(0), "0badc0de"));
            String m = assertAllPathsRefuse(layers);
            assertTrue(m.contains("does not match its manifest entry") && m.contains("expected length " + pages * PS + " digest 0badc0de"), m);
        }
    }

    @Test
    void aTruncatedDeltaIsRefused() throws IOException {
        int pages = 2 * CP;
        List<Chain.Layer> layers = store(FLAGS_16K, baseFile(PS, pages), Compression.NONE, List.of(delta(PS, 1, pages, 0, 3, CP + 1)));
        Path f = objectFile(layers.get(1));
        byte[] stored = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(stored, stored.length - 30_000)); // inside the delta's only chunk
        assertAllPathsRefuse(layers);
    }
}
