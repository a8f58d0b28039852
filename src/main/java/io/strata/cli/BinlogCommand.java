package io.strata.cli;

import io.strata.archive.BinlogArchiver;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "binlog", description = "Binary logs for point-in-time recovery.", subcommands = BinlogCommand.Archive.class)
final class BinlogCommand implements Runnable {

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a binlog command is required: archive");
    }

    @Command(name = "archive", description = "Copy the server's binary logs into the repository as they are written (until stopped, or once with --once).")
    static final class Archive implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        RepoOptions repo;

        @picocli.CommandLine.Mixin
        KeyMixin key;

        @Option(names = "--once", description = "Archive what the server has now and exit.")
        boolean once;

        @Option(names = "--interval", defaultValue = "10", converter = Ranges.Positive.class, description = "Seconds between two looks at the server, above 0 (default: 10).")
        double interval;

        @Option(names = "--datadir", description = "The server's data directory (default: @@datadir); only names the server, as for backups.")
        Path datadir;

        @Mixin
        ConnectionMixin conn;

        @Option(names = "--metrics-file", paramLabel = "PATH", description = "Write the repository's metrics in the node_exporter textfile format "
                + "(as strata check --metrics-file) every 15 s while it runs and when it stops.")
        Path metricsFile;

        @Mixin
        JsonMixin json = new JsonMixin();

        @Override
        public Integer call() {
            BinlogArchiver.Stopper stopper = new BinlogArchiver.Stopper();
            // SIGINT and SIGTERM end the loop after a last pass that archives what is new, and the
            // JVM exits normally with 0; a second signal ends it at once (the archive stays
            // consistent: nothing half-written counts)
            for (String sig : new String[] {"INT", "TERM"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
                    if (stopper.stopped()) {
                        System.exit(ErrorCode.INTERRUPTED.exitCode());
                    }
                    stopper.stop();
                });
            }
            ConnectionOptions c = conn.resolve();
            Repository into = repo.openOrCreate(key, c, datadir, (s, facts) -> BinlogArchiver.requireLogBin(facts, c.describe()));
            BinlogArchiver.Result r;
            try (Metrics.Ticker ignored = Metrics.Ticker.start(into, metricsFile)) {
                r = BinlogArchiver.run(into, new BinlogArchiver.Options(c, datadir, once,
                        Duration.ofMillis(Math.round(interval * 1000))), ProgressRenderer.lines(System.err, false), stopper);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("segments", r.segments());
            out.put("bytes", r.bytes());
            out.put("end", r.end());
            out.put("gaps", r.gaps());
            out.put("warnings", r.lastPassFailure() == null ? List.of() : List.of(r.lastPassFailure()));
            json.text().printf("archived %d segments (%,d bytes)%s; the archive ends at %s%n", r.segments(), r.bytes(),
                    r.gaps().isEmpty() ? "" : ", recorded " + r.gaps().size() + " gap(s)", r.end());
            if (!r.gaps().isEmpty()) {
                // point-in-time coverage is lost for good, unlike a last pass that failed (3): its own code, so that no wrapper takes it for success
                StrataException gap = new StrataException(ErrorCode.BINLOG_GAP, "the binlog archive in " + into.root() + " has " + r.gaps().size()
                        + " new gap(s), binlogs the archive will never hold: " + String.join("; ", r.gaps()),
                        "no point inside a gap can be restored, and a point after it only from a backup taken after it: take a backup now, "
                                + "then see \"strata list --windows\"");
                return JsonMixin.fail(gap, json.json, out);
            }
            if (json.json) {
                JsonMixin.print(JsonMixin.ok(out));
            }
            // the archive is consistent, but what the server wrote since the last round is not in it
            return r.lastPassFailure() == null ? 0 : 3;
        }
    }
}
