package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.store.S3ObjectStore;
import io.strata.testing.FaultyProxy;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.S3ProxyServer;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A repository in S3: a real S3 protocol server (S3Proxy) in this JVM on loopback, optionally
 * behind a {@link FaultyProxy}; strata runs as a subprocess with --s3-endpoint and the
 * credentials in its environment, as a user would run it.
 */
final class S3Repo implements AutoCloseable {
    final S3ProxyServer server;
    final FaultyProxy proxy;
    final String bucket;
    final String uri;

    private S3Repo(S3ProxyServer server, FaultyProxy proxy, String bucket, String prefix) {
        this.server = server;
        this.proxy = proxy;
        this.bucket = bucket;
        this.uri = "s3://" + bucket + "/" + prefix;
    }

    static S3Repo start(String bucket, String prefix, boolean faulty) {
        S3ProxyServer.useInThisJvm();
        S3ProxyServer s = S3ProxyServer.start(null);
        s.createBucket(bucket);
        return new S3Repo(s, faulty ? FaultyProxy.start(s.port()) : null, bucket, prefix);
    }

    /**
     * The credentials, and retry delays divided by 50 (S3ObjectStore's test-only knob): the faults
     * this harness injects are retried just as often, without seconds of backoff each.
     */
    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>(S3ProxyServer.clientEnv());
        env.put("STRATA_TEST_S3_BACKOFF_DIVISOR", "50");
        return env;
    }

    String endpoint() {
        return proxy != null ? proxy.endpoint() : server.endpoint();
    }

    /** strata COMMAND --repo s3://… --s3-endpoint … --s3-part-size 5 ARGS…; COMMAND may be two words ("binlog archive"). */
    StrataCli.Result run(String command, String... args) {
        return StrataCli.runWithEnv(env(), args(command, args));
    }

    private String[] args(String command, String... args) {
        List<String> all = new ArrayList<>(List.of(command.split(" ")));
        all.addAll(List.of("--repo", uri, "--s3-endpoint", endpoint(), "--s3-part-size", "5"));
        all.addAll(List.of(args));
        return all.toArray(new String[0]);
    }

    Process start(Path out, Path err, String command, String... args) throws IOException {
        return StrataCli.startWithEnv(env(), out, err, args(command, args));
    }

    String backup(MariaDbSandbox source, String... extra) {
        List<String> args = new ArrayList<>(List.of("--socket", source.socket().toString(), "--user", "root", "--quiet"));
        args.addAll(List.of(extra));
        return ItSupport.completedId(run("backup", args.toArray(new String[0])));
    }

    /** {@code strata list --json} in this JVM (credentials from {@link S3ProxyServer#useInThisJvm}), as ItSupport.list. */
    JsonNode list() throws IOException {
        StrataCli.Result r = StrataCli.inProcess(args("list", "--json"));
        assertEquals(0, r.exit(), r.toString());
        return ItSupport.JSON.readTree(r.out());
    }

    /** {@code strata show ID --json} in this JVM, as {@link #list}. */
    JsonNode manifest(String id) throws IOException {
        StrataCli.Result r = StrataCli.inProcess(args("show", id, "--json"));
        assertEquals(0, r.exit(), r.toString());
        return ItSupport.JSON.readTree(r.out());
    }

    MariaDbSandbox restoreAndReplay(String id, Path target, MariaDbSandbox source) throws IOException {
        JsonNode m = manifest(id);
        StrataCli.Result r = run("restore", "--backup", id, "--target", target.toString());
        assertEquals(0, r.exit(), r.toString());
        return ItSupport.startAndReplay(target, source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), false);
    }

    /** Keys below a prefix of the repository, read directly from the server (not through the proxy). */
    List<String> keys(String prefix) throws IOException {
        try (S3ObjectStore s = new S3ObjectStore(bucket, uri.substring(("s3://" + bucket + "/").length()) + "/",
                new S3ObjectStore.Settings(server.endpoint(), null, 5 << 20, 2, 3, Duration.ofSeconds(30)))) {
            return s.list(prefix);
        }
    }

    /** The stored bytes of one object of the repository, read directly from the server (not through the proxy). */
    byte[] get(String key) throws IOException {
        try (S3ObjectStore s = new S3ObjectStore(bucket, uri.substring(("s3://" + bucket + "/").length()) + "/",
                new S3ObjectStore.Settings(server.endpoint(), null, 5 << 20, 2, 3, Duration.ofSeconds(30)))) {
            return s.get(key);
        }
    }

    /** Multipart uploads started and neither completed nor aborted, anywhere in the bucket. */
    int unfinishedUploads() {
        try (S3Client c = S3Client.builder().endpointOverride(URI.create(server.endpoint())).forcePathStyle(true).build()) {
            return c.listMultipartUploads(r -> r.bucket(bucket)).uploads().size();
        }
    }

    @Override
    public void close() {
        if (proxy != null) {
            proxy.close();
        }
        server.close();
    }
}
