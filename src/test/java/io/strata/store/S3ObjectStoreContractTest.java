package io.strata.store;

import io.strata.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract against a real S3 protocol server (S3Proxy, in-memory blob store) on loopback. */
class S3ObjectStoreContractTest extends ObjectStoreContract {
    static final int PART = 5 << 20;
    static S3ProxyServer server;
    static final AtomicInteger BUCKETS = new AtomicInteger();
    private String bucket;

    @BeforeAll
    static void startServer() {
        S3ProxyServer.useInThisJvm();
        server = S3ProxyServer.start(null);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Override
    protected ObjectStore newStore() {
        bucket = "contract-" + BUCKETS.incrementAndGet();
        server.createBucket(bucket);
        return new S3ObjectStore(bucket, "repo/one/", new S3ObjectStore.Settings(server.endpoint(), null, PART, 2, 3, Duration.ofSeconds(30)));
    }

    /** S3Proxy 2.7.0 ignores If-None-Match on PUT: {@link #s3ProxyIgnoresConditionalPut} pins that, so an upgrade that honours it is noticed. */
    @Override
    protected boolean exclusivePut() {
        return false;
    }

    @org.junit.jupiter.api.Test
    void s3ProxyIgnoresConditionalPut() {
        assertTrue(store.putIfAbsent("strata.repo", bytes(10, 1)));
        assertTrue(store.putIfAbsent("strata.repo", bytes(10, 2)), "S3Proxy now honours If-None-Match: let exclusivePut() return true");
        assertArrayEquals(bytes(10, 2), store.get("strata.repo"));
    }

    /**
     * More writers than the store has part buffers (12 of 5 MiB): each waits for one when all are
     * taken, every object arrives whole, and every buffer is back afterwards, also those of a
     * writer closed without a commit.
     */
    @org.junit.jupiter.api.Test
    void manyWritersShareTheBoundedPartBuffers() throws Exception {
        S3ObjectStore s3 = (S3ObjectStore) store;
        int budget = S3ObjectStore.partBuffers(PART);
        org.junit.jupiter.api.Assertions.assertEquals(12, budget);
        int writers = 20;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        try {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int i = 0; i < writers; i++) {
                int n = i;
                done.add(pool.submit(() -> {
                    store.put("many/" + n, bytes(2 * PART + n, n));
                    return null;
                }));
            }
            for (var f : done) {
                f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < writers; i++) {
            assertArrayEquals(bytes(2 * PART + i, i), store.get("many/" + i), "object " + i);
        }
        try (ObjectStore.Writer w = store.create("many/abandoned")) {
            w.stream().write(bytes(3 * PART + 1, 3)); // three parts handed to the uploads, one buffer filling
        }
        org.junit.jupiter.api.Assertions.assertEquals(budget, s3.freePartBuffers());
    }

    @Override
    protected int largeSize() {
        return 2 * PART + PART / 2 + 17; // three parts, the last one short
    }

    @Override
    protected int unfinishedCount(String prefix) {
        try (S3Client c = S3Client.builder().endpointOverride(URI.create(server.endpoint())).forcePathStyle(true).build()) {
            return c.listMultipartUploads(r -> r.bucket(bucket).prefix("repo/one/" + prefix)).uploads().size();
        }
    }
}
