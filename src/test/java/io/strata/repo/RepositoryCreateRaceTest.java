package io.strata.repo;

import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.S3ObjectStore;
import io.strata.store.StoreLocation;
import io.strata.testing.S3ProxyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Creators racing for one new repository (first backups started together): one marker is
 * published, every creator ends up with it, and a creator with another key fails with key-wrong
 * (docs/repository-format.md, "Creating a repository"). On disk through the hard-link publish; in
 * object storage through the creation claim, on S3Proxy, which ignores conditional PUTs.
 */
class RepositoryCreateRaceTest {
    private static final int CREATORS = 6;
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private static Secret.Key key() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        return new Secret.Key(k);
    }

    /** Runs {@code CREATORS} openOrCreate calls started together; each gives its repository or its failure. */
    private static List<Object> race(StoreLocation where, List<Secret> secrets) throws Exception {
        CyclicBarrier start = new CyclicBarrier(secrets.size());
        ExecutorService pool = Executors.newFixedThreadPool(secrets.size());
        try {
            List<Future<Object>> fs = new ArrayList<>();
            for (Secret s : secrets) {
                fs.add(pool.submit(() -> {
                    start.await();
                    try {
                        return Repository.openOrCreate(where, s);
                    } catch (StrataException e) {
                        return e;
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : fs) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Different keys: exactly one creator opens the repository; the others fail with key-wrong; the stored marker is the winner's. */
    private static void differentKeys(StoreLocation where) throws Exception {
        List<Secret> keys = new ArrayList<>();
        for (int i = 0; i < CREATORS; i++) {
            keys.add(key());
        }
        List<Object> out = race(where, keys);
        int winner = -1;
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) instanceof Repository) {
                assertEquals(-1, winner, "two creators with different keys both opened " + where + ": " + winner + " and " + i);
                winner = i;
            } else {
                StrataException e = (StrataException) out.get(i);
                assertEquals(ErrorCode.KEY_WRONG, e.code(), e.getMessage());
            }
        }
        assertTrue(winner >= 0, "nobody created " + where + ": " + out);
        Repository r = Repository.open(where, keys.get(winner));
        r.writeJson("history/x/begin", "history", java.util.Map.of("id", "x")); // the winner's key seals and reads
        assertEquals("x", r.readJson("history/x/begin", "history", java.util.Map.class).get("id"));
    }

    /** One key for all: every creator opens the same repository (same encryption parameters as stored). */
    private static void sameKey(StoreLocation where) throws Exception {
        Secret k = key();
        List<Object> out = race(where, java.util.Collections.nCopies(CREATORS, k));
        String stored = Json.MAPPER.writeValueAsString(Repository.open(where, k).encryption());
        for (Object o : out) {
            assertTrue(o instanceof Repository, String.valueOf(o));
            assertEquals(stored, Json.MAPPER.writeValueAsString(((Repository) o).encryption()));
        }
    }

    @Test
    void onDiskOneMarkerWins() throws Exception {
        for (int round = 0; round < 3; round++) {
            Path a = dir.resolve("same-" + round);
            sameKey(StoreLocation.local(a));
            Path b = dir.resolve("different-" + round);
            differentKeys(StoreLocation.local(b));
            try (var s = Files.list(b)) {
                assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no unfinished marker is left");
            }
        }
    }

    @Test
    void inObjectStorageOneMarkerWins() throws Exception {
        S3ProxyServer.useInThisJvm();
        try (S3ProxyServer server = S3ProxyServer.start(null)) {
            String bucket = "race";
            server.createBucket(bucket);
            S3ObjectStore.Settings settings = new S3ObjectStore.Settings(server.endpoint(), null, 5 << 20, 2, 3, Duration.ofSeconds(30));
            for (int round = 0; round < 2; round++) {
                sameKey(StoreLocation.parse("s3://" + bucket + "/same-" + round, settings));
                StoreLocation b = StoreLocation.parse("s3://" + bucket + "/different-" + round, settings);
                differentKeys(b);
                try (var store = b.open()) {
                    assertEquals(List.of(), store.list(Keys.CREATING), "every claim was released");
                }
            }
        }
    }
}
