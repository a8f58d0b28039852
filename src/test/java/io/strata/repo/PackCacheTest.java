package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.store.ObjectStore;
import io.strata.store.S3ObjectStore;
import io.strata.store.StoreLocation;
import io.strata.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** Pack members read from object storage through a {@link PackCache}: one GET per pack, each member byte for byte (S3Proxy on loopback). */
class PackCacheTest {
    private static final String ID = "20261206T000000Z-0001";
    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private static S3ProxyServer server;

    @BeforeAll
    static void startServer() {
        S3ProxyServer.useInThisJvm();
        server = S3ProxyServer.start(null);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static Repository s3Repository() {
        String bucket = "packs-" + BUCKETS.incrementAndGet();
        server.createBucket(bucket);
        S3ObjectStore.Settings settings = new S3ObjectStore.Settings(server.endpoint(), null, 5 << 20, 4, 3, Duration.ofSeconds(30));
        return Repository.openOrCreate(StoreLocation.parse("s3://" + bucket + "/repo", settings), null);
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Stores {@code count} objects of 50-250 KiB (random, so they do not compress) as a backup's copy does; returns their names. */
    private static List<String> storeMembers(Repository r, int count) throws IOException {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] data = bytes(50_000 + 2_000 * i, i);
            try (StoredObject w = r.createBackupObject(ID, Repository.dataObject(i + 1), "file", (long) data.length)) {
                w.out().write(data);
                w.commitBatched();
                names.add(w.object());
            }
        }
        r.syncBackupObjects();
        return names;
    }

    @Test
    void membersReadInPackOrderCostOneReadOfEachPackAndComeBackByteForByte() throws IOException {
        Repository r = s3Repository();
        List<String> names = storeMembers(r, 90); // ~12 MB: at least three packs of 4 MiB
        TreeSet<String> packs = new TreeSet<>();
        for (String n : names) {
            assertNotNull(Keys.member(n), n);
            packs.add(Keys.member(n).pack());
        }
        assertTrue(packs.size() >= 3, packs.toString());
        PackCache cache = new PackCache();
        List<FileEntry> entries = new ArrayList<>();
        for (String n : names) {
            entries.add(new FileEntry("db/t" + entries.size() + ".ibd", "file", null, null, 1, 0, FileEntry.WHOLE, 0, n, 1, "00000000"));
        }
        for (int i : RepoCopy.copyOrder(entries)) {
            try (ChunkedReader in = r.openBackupObject(ID, names.get(i), "file", cache)) {
                assertArrayEquals(bytes(50_000 + 2_000 * i, i), in.readAllBytes(), names.get(i));
            }
        }
        assertEquals(packs.size(), cache.reads(), "each pack read once");
    }

    @Test
    void aPackLargerThanTheCacheHoldsIsReadMemberByMember() throws IOException {
        Repository r = s3Repository();
        List<String> names = storeMembers(r, 3); // one pack of ~160 KB
        PackCache small = new PackCache(100_000);
        for (int i = 0; i < names.size(); i++) {
            try (ChunkedReader in = r.openBackupObject(ID, names.get(i), "file", small)) {
                assertArrayEquals(bytes(50_000 + 2_000 * i, i), in.readAllBytes(), names.get(i));
            }
        }
        assertEquals(0, small.reads(), "never read whole");
    }

    @Test
    void aTruncatedPackFailsTheMemberPastItsEndAndAMissingOneIsNamed() throws IOException {
        Repository r = s3Repository();
        List<String> names = storeMembers(r, 3); // one pack
        Keys.Member last = Keys.member(names.get(2));
        ObjectStore store = r.store();
        String key = Keys.backupObject(ID, last.pack());
        byte[] pack = store.get(key);
        store.put(key, java.util.Arrays.copyOf(pack, (int) (last.offset() + last.length() / 2)));
        PackCache cache = new PackCache();
        try (ChunkedReader in = r.openBackupObject(ID, names.get(0), "file", cache)) {
            assertArrayEquals(bytes(50_000, 0), in.readAllBytes());
        }
        CorruptDataException cut = assertThrows(CorruptDataException.class, () -> {
            try (ChunkedReader in = r.openBackupObject(ID, names.get(2), "file", cache)) {
                in.readAllBytes();
                in.drainAndCheck();
            }
        });
        assertTrue(cut.getMessage().contains(names.get(2)), cut.getMessage());
        assertEquals(1, cache.reads());

        store.delete(key);
        PackCache fresh = new PackCache();
        ObjectStore.NoSuchObjectException gone = assertThrows(ObjectStore.NoSuchObjectException.class,
                () -> r.openBackupObject(ID, names.get(1), "file", fresh).close());
        assertTrue(gone.getMessage().contains("missing object") && gone.getMessage().contains(names.get(1)), gone.getMessage());
    }
}
