package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import io.strata.track.TrackRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "track", description = "Follow the server's redo log and store which pages change, so that incremental backups read only those "
        + "(--method tracked). Runs until stopped (SIGINT/SIGTERM), or once with --once.")
final class TrackCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Mixin
    KeyMixin key;

    @Option(names = "--once", description = "Read the redo log up to the server's current LSN, store it and exit.")
    boolean once;

    @Option(names = "--flush-interval", defaultValue = "60", description = "Store the pages read so far at least every N seconds (default 60).")
    long flushSeconds;

    @Option(names = "--memory-limit", defaultValue = "32", description = "Store them earlier when they take more than N MiB of memory (default 32).")
    long memoryMib;

    @Option(names = "--datadir", description = "The server's data directory (default: @@datadir).")
    Path datadir;

    @Option(names = "--quiet", description = "No progress on stderr.")
    boolean quiet;

    @Option(names = "--debug-read-delay-ms", hidden = true, description = "Test hook: pause after every read of the redo log.")
    long readDelay;

    @Mixin
    ConnectionMixin conn;

    @Option(names = "--metrics-file", paramLabel = "PATH", description = "Write the repository's metrics in the node_exporter textfile format "
            + "(as strata check --metrics-file) every 15 s while it runs and when it stops.")
    Path metricsFile;

    @Mixin
    JsonMixin json = new JsonMixin();

    @Override
    public Integer call() {
        if (flushSeconds < 1 || memoryMib < 1) {
            throw new StrataException(ErrorCode.USAGE, "--flush-interval and --memory-limit must be at least 1", null);
        }
        long heapMib = Runtime.getRuntime().maxMemory() >> 20;
        if (memoryMib + 64 > heapMib) {
            throw new StrataException(ErrorCode.USAGE, "--memory-limit " + memoryMib + " MiB does not fit the Java heap of " + heapMib + " MiB",
                    "give the JVM more heap, e.g. STRATA_JAVA_OPTS=-Xmx" + (memoryMib + 128) + "m bin/strata track ...");
        }
        ConnectionOptions c = conn.resolve();
        Repository r = repo.openOrCreate(key, c, datadir, (s, facts) -> { });
        TrackRun.Outcome o;
        try (Metrics.Ticker ignored = Metrics.Ticker.start(r, metricsFile)) {
            o = TrackRun.run(r, new TrackRun.Options(c, datadir, once, Duration.ofSeconds(flushSeconds),
                    memoryMib << 20, Duration.ofMillis(100), readDelay), ProgressRenderer.lines(System.err, quiet));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("from", o.from());
        out.put("to", o.to());
        out.put("redoBytesRead", o.redoBytesRead());
        out.put("setsStored", o.setsStored());
        out.put("gapsRecorded", o.gapsRecorded());
        out.put("gaps", o.gaps());
        json.text().printf("tracked LSN %d..%d: %,d bytes of redo log read, %d change sets stored, %d gaps recorded%n",
                o.from(), o.to(), o.redoBytesRead(), o.setsStored(), o.gapsRecorded());
        if (!o.gaps().isEmpty()) {
            // pages changed in a gap are lost to the tracked method for good: its own code, so that no wrapper takes it for success
            StrataException gap = new StrataException(ErrorCode.TRACKING_GAP, "change tracking in " + r.root() + " has " + o.gaps().size()
                    + " new gap(s), redo log ranges whose changed pages no change set will hold: " + String.join("; ", o.gaps()),
                    "an incremental whose range touches a gap cannot use --method tracked (auto chooses another method); "
                            + "a full backup taken now ends the need for the ranges before it");
            return JsonMixin.fail(gap, json.json, out);
        }
        if (json.json) {
            JsonMixin.print(JsonMixin.ok(out));
        }
        return 0;
    }
}
