package io.strata.testing;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * A real S3 protocol server (S3Proxy) on loopback, in this JVM: a filesystem blob store below a
 * directory, or an in-memory one. Clients authenticate with {@link #ACCESS_KEY} and
 * {@link #SECRET_KEY} (AWS signature v2 or v4).
 *
 * <p>{@link #main} runs one for the benchmark: {@code --dir D --bucket B [--latency-ms N]}; it
 * prints "s3proxy ready ENDPOINT" and serves until its standard input closes. With
 * {@code --latency-ms} every call the S3 server makes on its blob store (one or a few per request)
 * first waits that long, as a remote object store's service time (S3: tens of milliseconds a
 * request), which loopback does not have.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "strata-test-access";
    public static final String SECRET_KEY = "strata-test-secret";

    private final S3Proxy proxy;
    private final BlobStoreContext context;

    private S3ProxyServer(S3Proxy proxy, BlobStoreContext context) {
        this.proxy = proxy;
        this.context = context;
    }

    /** Starts a server on 127.0.0.1 and a free port; {@code dir} null keeps the objects in memory. */
    public static S3ProxyServer start(Path dir) {
        return start(dir, 0);
    }

    /** As {@link #start(Path)}, each blob-store call delayed by {@code latencyMillis} (0: none). */
    static S3ProxyServer start(Path dir, long latencyMillis) {
        Properties p = new Properties();
        String provider = dir == null ? "transient" : "filesystem";
        if (dir != null) {
            p.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        }
        BlobStoreContext ctx = ContextBuilder.newBuilder(provider).credentials("identity", "credential").overrides(p)
                .build(BlobStoreContext.class);
        BlobStore store = ctx.getBlobStore();
        if (latencyMillis > 0) {
            BlobStore inner = store;
            store = (BlobStore) java.lang.reflect.Proxy.newProxyInstance(BlobStore.class.getClassLoader(), new Class<?>[] {BlobStore.class}, (o, m, a) -> {
                if (!m.getName().equals("getContext")) {
                    Thread.sleep(latencyMillis);
                }
                try {
                    return m.invoke(inner, a);
                } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                }
            });
        }
        S3Proxy proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
        try {
            proxy.start();
            for (int i = 0; i < 1000 && !"STARTED".equals(proxy.getState()); i++) {
                Thread.sleep(10);
            }
        } catch (Exception e) {
            ctx.close();
            throw new IllegalStateException("S3Proxy did not start", e);
        }
        if (!"STARTED".equals(proxy.getState())) {
            throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
        }
        return new S3ProxyServer(proxy, ctx);
    }

    public int port() { return proxy.getPort(); }

    public String endpoint() { return "http://127.0.0.1:" + port(); }

    public BlobStore blobStore() { return context.getBlobStore(); }

    public void createBucket(String bucket) {
        blobStore().createContainerInLocation(null, bucket);
    }

    /** The environment a strata process needs to reach this server. */
    public static Map<String, String> clientEnv() {
        return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY, "AWS_REGION", "us-east-1");
    }

    /** The same for an SDK client in this JVM (system properties come first in the SDK's default chains). */
    public static void useInThisJvm() {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
        System.setProperty("aws.region", "us-east-1");
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            context.close();
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = null;
        String bucket = "bench";
        long latency = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--bucket" -> bucket = args[++i];
                case "--latency-ms" -> latency = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("usage: S3ProxyServer [--dir D] [--bucket B] [--latency-ms N]");
            }
        }
        try (S3ProxyServer s = start(dir, latency)) {
            s.createBucket(bucket);
            System.out.println("s3proxy ready " + s.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until stdin closes
            }
        }
    }
}
