package io.strata.store;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.testing.FaultyProxy;
import io.strata.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The S3 store behind a proxy that fails requests: retried to a correct object, or a clear failure. */
class S3FaultsTest {
    static final int PART = 5 << 20;
    static S3ProxyServer server;
    static FaultyProxy proxy;

    @BeforeAll
    static void start() {
        S3ProxyServer.useInThisJvm();
        server = S3ProxyServer.start(null);
        server.createBucket("faults");
        proxy = FaultyProxy.start(server.port());
    }

    @AfterAll
    static void stop() {
        proxy.close();
        server.close();
    }

    private static S3ObjectStore store(int attempts) {
        return new S3ObjectStore("faults", "r/", new S3ObjectStore.Settings(proxy.endpoint(), null, PART, 2, attempts, Duration.ofSeconds(20)));
    }

    @Test
    void intermittentFaultsAreRetriedToACorrectObject() throws Exception {
        byte[] data = ObjectStoreContract.bytes(4 * PART + 999, 11);
        // every 3rd request answered 503, every 5th dropped, every 7th GET cut off mid-response
        proxy.rule(r -> r.seq() % 3 == 0 ? FaultyProxy.Fault.HTTP_503 : r.seq() % 5 == 0 ? FaultyProxy.Fault.DROP
                : r.method().equals("GET") && r.seq() % 7 == 1 ? FaultyProxy.Fault.CUT_RESPONSE : FaultyProxy.Fault.NONE);
        int faultsBefore = proxy.faults();
        try (S3ObjectStore s = store(8)) {
            try (ObjectStore.Writer w = s.create("backups/x/data/000001")) {
                OutputStream out = w.stream();
                for (int off = 0; off < data.length; off += 1 << 20) {
                    out.write(data, off, Math.min(1 << 20, data.length - off));
                }
                w.commit();
            }
            s.put("backups/x/manifest", new byte[] {1, 2, 3});
            byte[] back;
            try (InputStream in = s.open("backups/x/data/000001")) {
                back = in.readAllBytes();
            }
            assertArrayEquals(data, back);
            assertArrayEquals(new byte[] {1, 2, 3}, s.get("backups/x/manifest"));
        } finally {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
        }
        assertTrue(proxy.faults() - faultsBefore >= 4, "too few faults injected: " + (proxy.faults() - faultsBefore) + " of " + proxy.requests());
    }

    /** A ranged GET answered without the range asked for (a server that ignores Range) is refused, not read as the range's bytes. */
    @Test
    void aRangedGetAnsweredWithoutItsRangeIsRefused() throws Exception {
        byte[] data = ObjectStoreContract.bytes(100_000, 21);
        try (S3ObjectStore s = store(2)) {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
            s.put("backups/r/pack/000001", data);
            try (InputStream in = s.openRange("backups/r/pack/000001", 1000, 5000)) {
                assertArrayEquals(java.util.Arrays.copyOfRange(data, 1000, 6000), in.readAllBytes(), "through the proxy, as asked");
            }
            proxy.rule(r -> r.method().equals("GET") && r.header("Range") != null ? FaultyProxy.Fault.IGNORE_RANGE : FaultyProxy.Fault.NONE);
            StrataException e = assertThrows(StrataException.class, () -> s.openRange("backups/r/pack/000001", 1000, 5000).close());
            assertEquals(ErrorCode.STORE_FAILED, e.code());
            assertEquals(30, e.code().exitCode());
            assertEquals("the object store answered a ranged GET of s3://faults/r/backups/r/pack/000001 (bytes=1000-5999) with no Content-Range",
                    e.getMessage());
            assertEquals("use an object store that supports ranged GETs (S3 does)", e.hint());
        } finally {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
        }
    }

    @Test
    void persistentFailureIsAClearErrorAndLeavesNothing() throws Exception {
        proxy.rule(r -> r.method().equals("PUT") && r.path().contains("/backups/y/") ? FaultyProxy.Fault.HTTP_500 : FaultyProxy.Fault.NONE);
        try (S3ObjectStore s = store(3)) {
            StrataException e = assertThrows(StrataException.class, () -> {
                try (ObjectStore.Writer w = s.create("backups/y/data/000001")) {
                    w.stream().write(ObjectStoreContract.bytes(3 * PART, 12));
                    w.commit();
                }
            });
            assertEquals(ErrorCode.STORE_FAILED, e.code());
            assertTrue(e.getMessage().matches("the object store failed PUT part \\d of s3://faults/r/backups/y/data/000001 after 3 attempts: "
                    + "HTTP 500( InternalError: injected fault)?"), e.getMessage());
            proxy.rule(r -> FaultyProxy.Fault.NONE);
            assertFalse(s.exists("backups/y/data/000001"));
            assertEquals(0, s.discardUnfinished("backups/"), "the failed writer aborted its upload");
        } finally {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
        }
    }

    /**
     * Small objects committed batched: the committing thread goes on while their PUTs run (many at
     * once), their sizes are known at once, and sync() waits for all; each object's bytes come back.
     * An object beyond the batched size is sent by the committing thread (there when commitBatched
     * returns). A PUT that fails for good: sync() throws it, naming the object, and a later
     * commitBatched throws it at once without sending its own object.
     */
    @Test
    void batchedSmallObjectsArePutInTheBackgroundAndSyncReportsTheFirstFailure() throws Exception {
        java.util.concurrent.atomic.AtomicInteger mostInFlight = new java.util.concurrent.atomic.AtomicInteger();
        try (S3ObjectStore s = store(2)) {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
            int n = 200;
            for (int i = 0; i < n; i++) {
                try (ObjectStore.Writer w = s.create("backups/b/data/" + String.format("%06d", i))) {
                    w.stream().write(ObjectStoreContract.bytes(10_000 + i, i));
                    w.commitBatched();
                }
                assertEquals(10_000 + i, s.size("backups/b/data/" + String.format("%06d", i)), "known before its PUT ended");
                mostInFlight.accumulateAndGet(s.batchedInFlight(), Math::max);
            }
            byte[] large = ObjectStoreContract.bytes(2 << 20, 99); // beyond the batched size (a quarter of the 4 MiB budget)
            try (ObjectStore.Writer w = s.create("backups/b/data/large")) {
                w.stream().write(large);
                w.commitBatched();
            }
            assertArrayEquals(large, s.get("backups/b/data/large"), "sent by the committing thread");
            s.sync();
            assertTrue(mostInFlight.get() > 1, "the PUTs ran while the objects were being written: at most " + mostInFlight.get() + " at once");
            for (int i = 0; i < n; i++) {
                assertArrayEquals(ObjectStoreContract.bytes(10_000 + i, i), s.get("backups/b/data/" + String.format("%06d", i)), "object " + i);
            }

            proxy.rule(r -> r.method().equals("PUT") && r.path().contains("/backups/c/data/000003") ? FaultyProxy.Fault.HTTP_500 : FaultyProxy.Fault.NONE);
            for (int i = 0; i < 5; i++) {
                try (ObjectStore.Writer w = s.create("backups/c/data/" + String.format("%06d", i))) {
                    w.stream().write(ObjectStoreContract.bytes(1000, i));
                    w.commitBatched();
                }
            }
            StrataException e = assertThrows(StrataException.class, s::sync);
            assertEquals(ErrorCode.STORE_FAILED, e.code());
            assertTrue(e.getMessage().matches("the object store failed PUT s3://faults/r/backups/c/data/000003 after 2 attempts: HTTP 500.*"), e.getMessage());
            assertFalse(s.exists("backups/c/data/000003"));
            assertTrue(s.exists("backups/c/data/000004"), "the others were sent");

            proxy.rule(r -> r.method().equals("PUT") && r.path().contains("/backups/d/data/000000") ? FaultyProxy.Fault.HTTP_500 : FaultyProxy.Fault.NONE);
            try (ObjectStore.Writer w = s.create("backups/d/data/000000")) {
                w.stream().write(new byte[] {1});
                w.commitBatched();
            }
            while (s.batchedInFlight() > 0) {
                Thread.sleep(10);
            }
            StrataException next = assertThrows(StrataException.class, () -> {
                try (ObjectStore.Writer w = s.create("backups/d/data/000001")) {
                    w.stream().write(new byte[] {2});
                    w.commitBatched();
                }
            });
            assertTrue(next.getMessage().contains("backups/d/data/000000"), "the earlier failure: " + next.getMessage());
            assertFalse(s.exists("backups/d/data/000001"), "not sent after a failure");
            assertThrows(StrataException.class, s::sync);
            s.sync(); // reported once

            // a delete waits for a PUT of the same key still pending, which would otherwise bring the object back
            proxy.rule(r -> {
                if (r.method().equals("PUT") && r.path().contains("/backups/e/")) {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }
                return FaultyProxy.Fault.NONE;
            });
            for (int i = 0; i < 20; i++) {
                try (ObjectStore.Writer w = s.create("backups/e/data/" + String.format("%06d", i))) {
                    w.stream().write(new byte[] {(byte) i});
                    w.commitBatched();
                }
            }
            s.delete("backups/e/data/000000");
            s.deletePrefix("backups/e/");
            s.sync();
            assertEquals(java.util.List.of(), s.list("backups/e/"), "nothing came back after the deletes");
        } finally {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
        }
    }

    /**
     * Over plain HTTP every request is signed with an unsigned payload: no SHA-256 of the body and
     * no aws-chunked encoding (UnsignedPayloadScheme), and S3Proxy, which checks SigV4, accepts it.
     */
    @Test
    void bodiesGoUnsignedAndUnchunkedOverHttpAndTheServiceAcceptsThem() throws Exception {
        java.util.List<FaultyProxy.Request> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        proxy.rule(r -> {
            seen.add(r);
            return FaultyProxy.Fault.NONE;
        });
        byte[] data = ObjectStoreContract.bytes(2 * PART + 77, 5);
        try (S3ObjectStore s = store(1)) {
            s.put("backups/u/data/000001", data);
            s.put("backups/u/manifest", new byte[] {9});
            assertArrayEquals(data, s.get("backups/u/data/000001"));
            assertArrayEquals(new byte[] {9}, s.get("backups/u/manifest"));
        } finally {
            proxy.rule(r -> FaultyProxy.Fault.NONE);
        }
        java.util.List<FaultyProxy.Request> puts = seen.stream().filter(r -> r.method().equals("PUT")).toList();
        assertEquals(4, puts.size(), "3 parts and one small object: " + puts);
        for (FaultyProxy.Request r : seen) {
            assertEquals("UNSIGNED-PAYLOAD", r.header("x-amz-content-sha256"), r.head());
            assertTrue(r.header("Authorization").startsWith("AWS4-HMAC-SHA256 "), r.head());
            assertEquals(null, r.header("Content-Encoding"), r.head());
            assertEquals(null, r.header("x-amz-decoded-content-length"), r.head());
        }
        assertEquals(String.valueOf(PART), puts.get(0).header("Content-Length"));
    }

    @Test
    void unreachableServerIsAClearError() {
        try (S3ObjectStore s = new S3ObjectStore("faults", "r/", new S3ObjectStore.Settings("http://127.0.0.1:9", null, PART, 2, 2, Duration.ofSeconds(5)))) {
            StrataException e = assertThrows(StrataException.class, () -> s.put("history/x/begin", new byte[] {1}));
            assertEquals(ErrorCode.STORE_FAILED, e.code());
            assertTrue(e.getMessage().startsWith("the object store at http://127.0.0.1:9 did not complete PUT s3://faults/r/history/x/begin after 2 attempts: "),
                    e.getMessage());
        }
    }

    @Test
    void theTestOnlyBackoffDivisorIsAnIntegerFrom1To1000AndOtherwiseOne() {
        assertEquals(1, S3ObjectStore.backoffDivisor(null));
        assertEquals(50, S3ObjectStore.backoffDivisor(" 50 "));
        assertEquals(1000, S3ObjectStore.backoffDivisor("1000"));
        assertEquals(1, S3ObjectStore.backoffDivisor("1001"));
        assertEquals(1, S3ObjectStore.backoffDivisor("0"));
        assertEquals(1, S3ObjectStore.backoffDivisor("fast"));
    }
}
