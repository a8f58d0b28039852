package io.strata.repo;

import io.strata.error.CorruptDataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Small objects written into packs (docs/repository-format.md, "Packs"), read back as objects of their own. */
class PacksTest {
    private static final String ID = "20261206T000000Z-0001";

    @TempDir
    Path dir;

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Stores {@code data} as an object of about its size, as a backup's copy does; returns its manifest name. */
    private String store(Repository r, int seq, byte[] data) throws IOException {
        try (StoredObject w = r.createBackupObject(ID, Repository.dataObject(seq), "file", (long) data.length)) {
            w.out().write(data, 0, data.length);
            w.commitBatched();
            assertEquals(Keys.member(w.object()) != null ? Keys.member(w.object()).length() : Files.size(dir.resolve("backups/" + ID).resolve(w.object())),
                    w.storedBytes());
            return w.object();
        }
    }

    private static byte[] read(Repository r, String object) throws IOException {
        try (ChunkedReader in = r.openBackupObject(ID, object, "file")) {
            return in.readAllBytes();
        }
    }

    @Test
    void smallObjectsFromManyThreadsGoIntoAFewPacksAndReadBackByteForByte() throws Exception {
        Repository r = Repository.openOrCreate(dir);
        int n = 600;
        List<byte[]> data = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            data.add(bytes(i * 97 % 70_000, i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(Packs.MAX_OPEN_LOCAL); // as many as may be open: every thread finds one
        List<Future<String>> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            names.add(pool.submit(() -> store(r, k + 1, data.get(k))));
        }
        byte[] big = bytes((int) Packs.MEMBER_MAX + 1, 7);
        String bigName = store(r, n + 1, big);
        List<String> objects = new ArrayList<>();
        for (Future<String> f : names) {
            objects.add(f.get());
        }
        pool.shutdown();
        r.syncBackupObjects();

        assertEquals(Repository.dataObject(n + 1), bigName, "above the member limit: an object of its own");
        for (int i = 0; i < n; i++) {
            String o = objects.get(i);
            assertNotNull(Keys.member(o), o + " is a pack member");
            assertArrayEquals(data.get(i), read(r, o), o);
        }
        assertArrayEquals(big, read(r, bigName));
        try (Stream<Path> s = Files.list(dir.resolve("backups/" + ID + "/pack"))) {
            List<Path> packs = s.toList();
            assertTrue(packs.size() <= Packs.MAX_OPEN_LOCAL + 3, packs.size() + " packs for ~21 MB"); // 8 MiB each, at most 16 open
            assertTrue(packs.stream().noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "every pack committed");
        }
        // the scan (restore's reader) sees the same bytes, at the pack's positions
        String o = objects.get(333);
        try (ChunkScan scan = r.scanBackupObject(ID, o, "file")) {
            ByteBuffer all = ByteBuffer.allocate(data.get(333).length);
            while (scan.next()) {
                assertTrue(scan.storedPosition() > Keys.member(o).offset() && scan.storedPosition() < Keys.member(o).offset() + Keys.member(o).length());
                all.put(scan.decode());
            }
            assertArrayEquals(data.get(333), all.array());
        }
    }

    @Test
    void moreThreadsThanPacksWaitForOneAndStillWriteMembers() throws Exception {
        Repository r = Repository.openOrCreate(dir);
        ExecutorService pool = Executors.newFixedThreadPool(Packs.MAX_OPEN_LOCAL * 3);
        List<Future<String>> names = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            int k = i;
            names.add(pool.submit(() -> store(r, k + 1, bytes(3000 + k, k))));
        }
        for (int i = 0; i < names.size(); i++) {
            String o = names.get(i).get();
            assertNotNull(Keys.member(o), o + " is a pack member");
        }
        pool.shutdown();
        r.syncBackupObjects();
        for (int i = 0; i < names.size(); i++) {
            assertArrayEquals(bytes(3000 + i, i), read(r, names.get(i).get()));
        }
        try (Stream<Path> s = Files.list(dir.resolve("backups/" + ID + "/pack"))) {
            assertTrue(s.count() <= Packs.MAX_OPEN_LOCAL, "never more than " + Packs.MAX_OPEN_LOCAL + " packs open, and none full");
        }
    }

    @Test
    void aMemberAbandonedHalfWayLeavesBytesNoEntryNamesAndTheNextReadsBack() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        String first = store(r, 1, bytes(5000, 1));
        try (StoredObject w = r.createBackupObject(ID, Repository.dataObject(2), "file", 3_000_000L / 4)) {
            w.out().write(bytes(3_000_000, 2), 0, 3_000_000); // several chunks reach the pack, then the copy fails
        }
        String third = store(r, 3, bytes(7000, 3));
        r.syncBackupObjects();
        Keys.Member a = Keys.member(first);
        Keys.Member c = Keys.member(third);
        assertEquals(a.pack(), c.pack(), "the same pack");
        assertTrue(c.offset() > a.offset() + a.length() + 2_000_000, "the abandoned bytes lie between: " + first + ", " + third);
        assertArrayEquals(bytes(5000, 1), read(r, first));
        assertArrayEquals(bytes(7000, 3), read(r, third));
    }

    @Test
    void packsOfADeletedBackupAreDroppedAndTheNextSyncStillWorks() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        store(r, 1, bytes(5000, 1)); // an idle pack
        StoredObject inUse = r.createBackupObject(ID, Repository.dataObject(2), "file", 6000L); // a pack in use
        inUse.out().write(bytes(6000, 2), 0, 6000);
        r.deleteBackupObjects(ID); // the backup failed
        inUse.close(); // its copy thread ends later
        // a later sync (the next backup a copy or an agent writes through this handle) commits nothing of it and does not fail
        r.syncBackupObjects();
        try (Stream<Path> left = Files.walk(dir.resolve("backups"))) {
            assertEquals(List.of(), left.filter(Files::isRegularFile).toList());
        }
        // and no member goes into a pack of it any more: an object of its own
        try (StoredObject w = r.createBackupObject(ID, Repository.dataObject(3), "file", 100L)) {
            w.out().write(bytes(100, 3), 0, 100);
            w.commitBatched();
            assertEquals(Repository.dataObject(3), w.object());
        }
        r.syncBackupObjects();
    }

    /** A store whose writers' streams fail with {@code failure} once 10,000 bytes went through; everything else is {@code base}'s. */
    private static io.strata.store.ObjectStore failingAfter10k(io.strata.store.ObjectStore base, java.util.function.Supplier<Exception> failure) {
        return (io.strata.store.ObjectStore) java.lang.reflect.Proxy.newProxyInstance(PacksTest.class.getClassLoader(),
                new Class<?>[] {io.strata.store.ObjectStore.class}, (proxy, method, args) -> {
                    Object r;
                    try {
                        r = method.invoke(base, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (!method.getName().equals("create")) {
                        return r;
                    }
                    io.strata.store.ObjectStore.Writer w = (io.strata.store.ObjectStore.Writer) r;
                    java.io.OutputStream failing = new java.io.FilterOutputStream(w.stream()) {
                        long n;

                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            n += len;
                            if (n > 10_000) {
                                Exception e = failure.get();
                                if (e instanceof IOException io) {
                                    throw io;
                                }
                                throw (RuntimeException) e;
                            }
                            out.write(b, off, len);
                        }
                    };
                    return new io.strata.store.ObjectStore.Writer() {
                        public java.io.OutputStream stream() { return failing; }
                        public void commit() { w.commit(); }
                        public void commitBatched() { w.commitBatched(); }
                        public void close() { w.close(); }
                    };
                });
    }

    @Test
    void aPackWhoseStreamFailsFailsTheSyncAndIsNotCommitted() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        // the device fills: the storage error itself, naming the pack
        Packs full = new Packs(failingAfter10k(r.store(), () -> new IOException("No space left on device")), ID, 2, Packs.PACK_TARGET);
        Packs.Pack p = full.take();
        p.out.write(bytes(5000, 1), 0, 5000); // a member that fits
        assertThrows(io.strata.store.StorageException.class, () -> p.out.write(bytes(20_000, 2), 0, 20_000));
        full.give(p);
        assertNull(full.take(), "no member goes into a pack of it any more");
        io.strata.store.StorageException e = assertThrows(io.strata.store.StorageException.class, full::finish);
        assertEquals("no space left on the repository's device while writing " + r.store().describe(Keys.backupObject(ID, "pack/000001")), e.getMessage());
        assertEquals(23, e.code().exitCode());
        assertFalse(Files.exists(dir.resolve("backups/" + ID + "/pack/000001")), "the failed pack is not committed");

        // a failure of another kind (the store's client gave up): said as the pack's, with what to do
        Packs other = new Packs(failingAfter10k(r.store(), () -> new IllegalStateException("the HTTP client was closed")), "20261206T000000Z-0002", 2,
                Packs.PACK_TARGET);
        Packs.Pack q = other.take();
        assertThrows(IllegalStateException.class, () -> q.out.write(bytes(20_000, 3), 0, 20_000));
        other.give(q);
        io.strata.error.StrataException w = assertThrows(io.strata.error.StrataException.class, other::finish);
        assertEquals("a pack of backup 20261206T000000Z-0002 could not be written: the HTTP client was closed", w.getMessage());
        assertEquals("check the repository's storage, then take the backup again", w.hint());
        assertEquals(io.strata.error.ErrorCode.IO_ERROR, w.code());
    }

    @Test
    void copyingAMemberOfATruncatedPackFailsAndLeavesNoCopy() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        String first = store(r, 1, bytes(4000, 1));
        String second = store(r, 2, bytes(4000, 2));
        r.syncBackupObjects();
        Keys.Member m = Keys.member(second);
        Path pack = dir.resolve("backups/" + ID).resolve(m.pack());
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(pack, StandardOpenOption.WRITE)) {
            ch.truncate(m.offset() + m.length() - 100);
        }
        r.copyBackupObject(ID, first, "20261206T000001Z-0002", "data/00/000001"); // before the cut: copied whole
        CorruptDataException e = assertThrows(CorruptDataException.class,
                () -> r.copyBackupObject(ID, second, "20261206T000001Z-0002", "data/00/000002"));
        assertEquals(r.describeBackupObject(ID, second) + " ends after " + (m.length() - 100) + " of its " + m.length() + " bytes: the pack is truncated",
                e.getMessage());
        assertFalse(Files.exists(dir.resolve("backups/20261206T000001Z-0002/data/00/000002")), "no copy of it stays");
        assertTrue(Files.exists(dir.resolve("backups/20261206T000001Z-0002/data/00/000001")));
    }

    @Test
    void aTruncatedPackFailsTheReadOfItsLastMemberNamingIt() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        store(r, 1, bytes(5000, 1));
        String last = store(r, 2, bytes(9000, 2));
        r.syncBackupObjects();
        Keys.Member m = Keys.member(last);
        Path pack = dir.resolve("backups/" + ID).resolve(m.pack());
        try (var ch = java.nio.channels.FileChannel.open(pack, StandardOpenOption.WRITE)) {
            ch.truncate(m.offset() + m.length() - 10);
        }
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> read(r, last));
        assertTrue(e.getMessage().contains(pack + "@" + m.offset() + "+" + m.length()), e.getMessage());
        CorruptDataException scanned = assertThrows(CorruptDataException.class, () -> {
            try (ChunkScan scan = r.scanBackupObject(ID, last, "file")) {
                while (scan.next()) {
                    scan.decode();
                }
            }
        });
        assertTrue(scanned.getMessage().contains("truncated"), scanned.getMessage());
    }

    @Test
    void anEntryNamingMoreBytesThanItsMemberHoldsFails() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        String first = store(r, 1, bytes(5000, 1));
        store(r, 2, bytes(6000, 2));
        r.syncBackupObjects();
        Keys.Member m = Keys.member(first);
        String longer = new Keys.Member(m.pack(), m.offset(), m.length() + 5).name();
        CorruptDataException read = assertThrows(CorruptDataException.class, () -> read(r, longer));
        assertTrue(read.getMessage().contains("bytes follow the object's footer"), read.getMessage());
        CorruptDataException scanned = assertThrows(CorruptDataException.class, () -> {
            try (ChunkScan scan = r.scanBackupObject(ID, longer, "file")) {
                while (scan.next()) {
                    scan.decode();
                }
            }
        });
        assertTrue(scanned.getMessage().contains("the object ends at byte " + (m.offset() + m.length()) + " of its pack, its entry says " + (m.offset() + m.length() + 5)),
                scanned.getMessage());
        assertArrayEquals(bytes(5000, 1), read(r, first));
    }

    @Test
    void aMissingPackIsNamedByTheMemberRead() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        String first = store(r, 1, bytes(5000, 1));
        r.syncBackupObjects();
        Path pack = dir.resolve("backups/" + ID).resolve(Keys.member(first).pack());
        Files.delete(pack);
        var e = assertThrows(io.strata.store.ObjectStore.NoSuchObjectException.class, () -> read(r, first));
        assertEquals("missing object " + pack + first.substring(Keys.member(first).pack().length()), e.getMessage());
        var scanned = assertThrows(io.strata.store.ObjectStore.NoSuchObjectException.class, () -> r.scanBackupObject(ID, first, "file"));
        assertEquals(e.getMessage(), scanned.getMessage());
    }

    @Test
    void copyingAMemberMakesAnObjectOfItsOwn() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        String member = store(r, 1, bytes(4000, 9));
        r.syncBackupObjects();
        r.copyBackupObject(ID, member, "20261206T000001Z-0002", "data/00/000100");
        try (ChunkedReader in = r.openBackupObject("20261206T000001Z-0002", "data/00/000100", "file")) {
            assertArrayEquals(bytes(4000, 9), in.readAllBytes());
        }
        assertEquals(Keys.member(member).length(), Files.size(dir.resolve("backups/20261206T000001Z-0002/data/00/000100")));
    }

    @Test
    void aMergeCopiesSmallObjectsIntoItsPacksAndLargerOnesAsTheirOwn() throws IOException {
        Repository r = Repository.openOrCreate(dir);
        String small = store(r, 1, bytes(4000, 9));
        String large;
        try (StoredObject w = r.createBackupObject(ID, Repository.dataObject(2), "file", -1L)) {
            w.out().write(bytes(2_000_000, 10), 0, 2_000_000);
            w.commitBatched();
            large = w.object();
        }
        r.syncBackupObjects();
        String to = "20261206T000001Z-0002";
        String a = r.copyBackupObjectBatched(ID, small, to, "data/00/000001", 4000);
        String b = r.copyBackupObjectBatched(ID, large, to, "data/00/000002", 2_000_000);
        String c = r.copyBackupObjectBatched(ID, small, to, "data/00/000003", 4000);
        r.syncBackupObjects();
        assertEquals("pack/000001@0+" + Keys.member(small).length(), a, "byte for byte: as long as the source member");
        assertEquals("data/00/000002", b);
        assertEquals("pack/000001@" + Keys.member(small).length() + "+" + Keys.member(small).length(), c);
        for (String name : List.of(a, c)) {
            try (ChunkedReader in = r.openBackupObject(to, name, "file")) {
                assertArrayEquals(bytes(4000, 9), in.readAllBytes(), name);
            }
        }
        try (ChunkedReader in = r.openBackupObject(to, b, "file")) {
            assertArrayEquals(bytes(2_000_000, 10), in.readAllBytes());
        }
    }

    @Test
    void memberNames() {
        assertEquals(new Keys.Member("pack/000001", 0, 17), Keys.member("pack/000001@0+17"));
        assertEquals("pack/000012@123+4567", Keys.member("pack/000012@123+4567").name());
        assertEquals("pack/1234567", Keys.packObject(1234567));
        for (String not : new String[] {"data/01/000001", "redo", "pack/000001", "pack/@1+2", "pack/000001@+2", "pack/000001@1+", "pack/000001@-1+2",
                "pack/00000a@1+2", "pack/000001@1+2x", "pack/000001@99999999999999999999+1", "pack/000001@07+17", "pack/000001@7+017"}) {
            assertNull(Keys.member(not), not);
        }
        assertEquals("unpacked/000003-4096", Keys.copyName("pack/000003@4096+100"));
        assertEquals("data/01/000001", Keys.copyName("data/01/000001"));
    }

    @Test
    void aFileEntryKeepsAMemberNameCompactlyAndGivesItBack() throws Exception {
        for (String name : new String[] {"pack/000001@0+17", "pack/123456789@9876543210+65536", "pack/0000001@5+5", "pack/000001@5+5+5", "pack/000001@05+5"}) {
            FileEntry f = new FileEntry("db/t.frm", "file", null, null, 17, 0, FileEntry.WHOLE, 0, name, 17, "0000abcd", null, null, null, null);
            assertEquals(name, f.object());
            FileEntry back = Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(f), FileEntry.class);
            assertEquals(f, back);
            assertEquals(name, back.object());
        }
        assertTrue(new FileEntry("a", "file", null, null, 1, 0, FileEntry.WHOLE, 0, "pack/000001@0+17", 17, null, null, null, null, null).inPack());
        assertFalse(new FileEntry("a", "file", null, null, 1, 0, FileEntry.WHOLE, 0, "data/01/000001", 17, null, null, null, null, null).inPack());
        Manifest m = Manifest.builder().id(ID).files(List.of(new FileEntry("a", "file", null, null, 1, 0, FileEntry.WHOLE, 0, "pack/000001@0+17", 17, null,
                null, null, null, null))).build();
        assertEquals(Manifest.FORMAT_VERSION, m.formatVersion());
        assertEquals(3, Manifest.FORMAT_VERSION);
    }
}
