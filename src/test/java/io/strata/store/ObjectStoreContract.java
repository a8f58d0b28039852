package io.strata.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link ObjectStore} must do, run against each implementation (restic's backend
 * test suite is the model): an object is visible only once committed, whole, and then lists,
 * reads back byte for byte and deletes; a writer closed or abandoned before commit leaves
 * nothing that a reader sees, and {@link ObjectStore#discardUnfinished} removes its remains.
 */
abstract class ObjectStoreContract {
    protected ObjectStore store;

    /** A new, empty store. */
    protected abstract ObjectStore newStore() throws Exception;

    /** Bytes that need several parts (or buffers) to write. */
    protected abstract int largeSize();

    /**
     * Whether {@link ObjectStore#putIfAbsent} is exclusive on the server under test: true on disk;
     * S3 only when the server honours {@code If-None-Match: *} (the repository's creation claim
     * covers the others, see RepositoryCreateRaceTest).
     */
    protected boolean exclusivePut() {
        return true;
    }

    /** Remains of writers that were never committed nor closed, as the store keeps them (temp files, uploads). */
    protected abstract int unfinishedCount(String prefix) throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void smallObjectRoundTrip() throws IOException {
        byte[] data = "hello, strata".getBytes(StandardCharsets.US_ASCII);
        store.put("backups/x/manifest", data);
        assertTrue(store.exists("backups/x/manifest"));
        assertEquals(data.length, store.size("backups/x/manifest"));
        assertArrayEquals(data, store.get("backups/x/manifest"));
    }

    @Test
    void listSizesGivesEachKeyBelowThePrefixWithItsSize() throws IOException {
        store.put("backups/a/manifest", bytes(10, 1));
        store.put("backups/b/data/000001", bytes(2000, 2));
        store.put("history/a/begin", bytes(7, 3));
        assertEquals(java.util.Map.of("backups/a/manifest", 10L, "backups/b/data/000001", 2000L), store.listSizes("backups/"));
        assertEquals(3, store.listSizes("").size());
        assertEquals(7L, store.listSizes("").get("history/a/begin"));
    }

    @Test
    void listToADepthLeavesOutDeeperKeys() throws IOException {
        store.put("backups/a/manifest", bytes(10, 1));
        store.put("backups/a/data/000001", bytes(20, 2));
        store.put("backups/b/data/000001", bytes(20, 3));
        store.put("backups/c/manifest", bytes(10, 4));
        assertEquals(List.of("backups/a/manifest", "backups/c/manifest"), store.list("backups/", 2));
        assertEquals(List.of("backups/a/data/000001", "backups/a/manifest", "backups/b/data/000001", "backups/c/manifest"), store.list("backups/", 3));
    }

    @Test
    void emptyObjectRoundTrip() throws IOException {
        store.put("e/empty", new byte[0]);
        assertTrue(store.exists("e/empty"));
        assertEquals(0, store.size("e/empty"));
        assertArrayEquals(new byte[0], store.get("e/empty"));
    }

    /** Buffers written as they are (BufferSink) and arrays, interleaved: the object holds them in order, across parts. */
    @Test
    void buffersAndArraysInterleaveInOrder() throws IOException {
        int big = largeSize();
        byte[] all = bytes(3 + big / 2 + 1000 + big + 77, 9);
        try (ObjectStore.Writer w = store.create("backups/a/data/000002")) {
            java.io.OutputStream out = w.stream();
            assertTrue(out instanceof io.strata.util.BufferSink, out.getClass().getName());
            io.strata.util.BufferSink sink = (io.strata.util.BufferSink) out;
            int at = 0;
            out.write(all, at, 3);
            at += 3;
            java.nio.ByteBuffer d = java.nio.ByteBuffer.allocateDirect(big / 2);
            d.put(all, at, big / 2).flip();
            sink.write(d);
            assertEquals(0, d.remaining(), "the buffer is written whole");
            at += big / 2;
            out.write(all, at, 1000);
            at += 1000;
            java.nio.ByteBuffer r = java.nio.ByteBuffer.allocateDirect(big);
            r.put(all, at, big).flip();
            sink.write(r.asReadOnlyBuffer());
            at += big;
            out.write(all, at, all.length - at);
            w.commit();
        }
        assertArrayEquals(all, store.get("backups/a/data/000002"));
    }

    @Test
    void nothingIsVisibleBeforeCommit() throws IOException {
        try (ObjectStore.Writer w = store.create("backups/a/data/000001")) {
            w.stream().write(bytes(1000, 1));
            w.stream().flush();
            assertFalse(store.exists("backups/a/data/000001"));
            assertEquals(List.of(), store.list("backups/"));
            w.commit();
            assertTrue(store.exists("backups/a/data/000001"));
        }
        assertEquals(List.of("backups/a/data/000001"), store.list("backups/"));
    }

    @Test
    void largeObjectStreamsThroughAndReadsBackExactly() throws IOException {
        byte[] data = bytes(largeSize(), 2);
        try (ObjectStore.Writer w = store.create("big/object")) {
            OutputStream out = w.stream();
            int off = 0;
            Random r = new Random(3);
            while (off < data.length) {
                int n = Math.min(data.length - off, 1 + r.nextInt(300_000));
                out.write(data, off, n);
                off += n;
            }
            assertFalse(store.exists("big/object"));
            w.commit();
        }
        assertEquals(data.length, store.size("big/object"));
        byte[] back;
        try (InputStream in = store.open("big/object")) {
            back = in.readAllBytes();
        }
        assertArrayEquals(data, back);
    }

    @Test
    void closingWithoutCommitDiscards() throws Exception {
        try (ObjectStore.Writer w = store.create("backups/b/data/000001")) {
            w.stream().write(bytes(largeSize(), 4));
        }
        try (ObjectStore.Writer w = store.create("backups/b/data/000002")) {
            w.stream().write(bytes(100, 5));
        }
        assertFalse(store.exists("backups/b/data/000001"));
        assertFalse(store.exists("backups/b/data/000002"));
        assertEquals(List.of(), store.list("backups/"));
        assertEquals(0, unfinishedCount("backups/"));
    }

    @Test
    void abandonedWriterIsDiscardedLater() throws Exception {
        // a process killed in the middle of an object: neither commit nor close ran
        ObjectStore.Writer w = store.create("backups/c/data/000001");
        w.stream().write(bytes(largeSize(), 6));
        w.stream().flush();
        ObjectStore.Writer other = store.create("binlogs/s/000001");
        other.stream().write(bytes(largeSize(), 7));
        other.stream().flush();
        assertFalse(store.exists("backups/c/data/000001"));
        assertTrue(unfinishedCount("backups/") >= 1);
        assertTrue(store.discardUnfinished("backups/") >= 1);
        assertEquals(0, unfinishedCount("backups/"));
        assertEquals(List.of(), store.list("backups/"));
        assertTrue(unfinishedCount("binlogs/") >= 1, "remains outside the prefix are left alone");
        other.close();
    }

    @Test
    void batchedCommitsAreVisibleAndSyncMakesThemDurable() throws IOException {
        byte[] big = bytes(largeSize(), 10);
        try (ObjectStore.Writer w = store.create("backups/d/data/000001")) {
            w.stream().write(big);
            w.commitBatched();
        }
        try (ObjectStore.Writer w = store.create("backups/d/data/000002")) {
            w.stream().write(new byte[] {7});
            w.commitBatched();
        }
        assertTrue(store.exists("backups/d/data/000001"));
        store.sync();
        assertEquals(List.of("backups/d/data/000001", "backups/d/data/000002"), store.list("backups/d/"));
        assertArrayEquals(big, store.get("backups/d/data/000001"));
        assertEquals(1, store.size("backups/d/data/000002"));
    }

    @Test
    void listIsLexicalAndBoundedByThePrefix() throws IOException {
        for (String k : List.of("a/2", "a/10", "a/1", "ab/x", "b/1", "a/sub/z")) {
            store.put(k, k.getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals(List.of("a/1", "a/10", "a/2", "a/sub/z"), store.list("a/"));
        assertEquals(List.of("a/1", "a/10", "a/2", "a/sub/z", "ab/x", "b/1"), store.list(""));
        assertEquals(List.of(), store.list("c/"));
    }

    @Test
    void aRangeReadsExactlyItsBytes() throws IOException {
        byte[] data = bytes(largeSize(), 11);
        try (ObjectStore.Writer w = store.create("backups/x/pack/000001")) {
            w.stream().write(data);
            w.commit();
        }
        long[][] ranges = {{0, 1}, {0, data.length}, {12345, 100_000}, {data.length - 7, 7}, {data.length - 7, 50}, {5, 0}};
        for (long[] r : ranges) {
            byte[] got;
            try (var in = store.openRange("backups/x/pack/000001", r[0], r[1])) {
                got = in.readAllBytes();
            }
            int to = (int) Math.min(data.length, r[0] + r[1]);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) r[0], to), got, "bytes " + r[0] + "+" + r[1]);
        }
        assertThrows(ObjectStore.NoSuchObjectException.class, () -> store.openRange("no/such", 10, 20).close());
    }

    @Test
    void missingObjects() throws IOException {
        assertFalse(store.exists("no/such"));
        assertThrows(ObjectStore.NoSuchObjectException.class, () -> store.open("no/such"));
        assertThrows(ObjectStore.NoSuchObjectException.class, () -> store.size("no/such"));
        store.delete("no/such");
    }

    @Test
    void deleteAndDeletePrefix() throws IOException {
        for (String k : List.of("backups/1/manifest", "backups/1/data/000001", "backups/2/manifest", "history/1/begin")) {
            store.put(k, new byte[] {1});
        }
        store.delete("backups/2/manifest");
        assertFalse(store.exists("backups/2/manifest"));
        store.deletePrefix("backups/1/");
        assertEquals(List.of(), store.list("backups/"));
        assertEquals(List.of("history/1/begin"), store.list("history/"));
    }

    @Test
    void committingAgainReplacesTheObjectWhole() throws IOException {
        store.put("locks/t", bytes(5000, 8));
        byte[] second = bytes(700, 9);
        store.put("locks/t", second);
        assertArrayEquals(second, store.get("locks/t"));
        assertEquals(700, store.size("locks/t"));
    }

    @Test
    void putIfAbsentNeverReplaces() {
        org.junit.jupiter.api.Assumptions.assumeTrue(exclusivePut(), "the server ignores conditional PUTs");
        byte[] first = bytes(300, 10);
        assertTrue(store.putIfAbsent("strata.repo", first));
        assertFalse(store.putIfAbsent("strata.repo", bytes(300, 11)));
        store.put("other", bytes(10, 12));
        assertFalse(store.putIfAbsent("other", first), "an object stored by an ordinary put is not replaced either");
        assertArrayEquals(first, store.get("strata.repo"));
        assertEquals(List.of("other", "strata.repo"), store.list(""));
    }

    /** Many writers racing for one key (two first backups creating one repository): exactly one wins, and its bytes stay. */
    @Test
    void putIfAbsentHasExactlyOneWinnerUnderARace() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(exclusivePut(), "the server ignores conditional PUTs");
        int writers = 8;
        for (int round = 0; round < 5; round++) {
            String key = "race-" + round + "/strata.repo";
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(writers);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
            try {
                List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
                for (int i = 0; i < writers; i++) {
                    byte[] mine = bytes(200 + i, 100L * round + i);
                    results.add(pool.submit(() -> {
                        start.await();
                        return store.putIfAbsent(key, mine);
                    }));
                }
                int winner = -1;
                for (int i = 0; i < writers; i++) {
                    if (results.get(i).get()) {
                        assertEquals(-1, winner, "two writers both won " + key + ": " + winner + " and " + i);
                        winner = i;
                    }
                }
                assertTrue(winner >= 0, "nobody stored " + key);
                assertArrayEquals(bytes(200 + winner, 100L * round + winner), store.get(key), "the winner's object is the one stored");
                assertEquals(List.of(key), store.list("race-" + round + "/"), "no other object, no leftover");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void keysThatEscapeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> store.create("../outside"));
        assertThrows(IllegalArgumentException.class, () -> store.create("/absolute"));
    }
}
