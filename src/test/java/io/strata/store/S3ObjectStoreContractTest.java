package io.strata.store;

import io.strata.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

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
