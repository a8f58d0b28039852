package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Health;
import io.strata.repo.Heartbeat;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --metrics-file PATH}: the repository's state in the node_exporter textfile format
 * (one {@code # HELP} and {@code # TYPE} line per metric, then {@code name{label="value"} number}
 * lines), written to a temporary file beside PATH and renamed over it, so that the collector never
 * reads half a file. Every metric is a gauge; timestamps are Unix seconds, sizes bytes.
 */
final class Metrics {
    private Metrics() {}

    private record Family(String name, String help, List<String> samples) {}

    /** The text of the metrics file for these verdicts (see the class comment for the metric names). */
    static String render(List<Health.Verdict> verdicts) {
        return render(verdicts, Map.of());
    }

    /**
     * As {@link #render(List)}, with {@code strata_repository_bytes{kind="…"}} for each entry of
     * {@code bytesByKind} ({@link Repository#bytesByKind()}).
     */
    static String render(List<Health.Verdict> verdicts, Map<String, Long> bytesByKind) {
        Map<String, Family> fams = new LinkedHashMap<>();
        bytesByKind.forEach((kind, bytes) -> add(fams, "strata_repository_bytes",
                "Bytes the repository stores, by kind (the top-level folder: backups, binlogs, tracking, history, ...).", "kind=\"" + escape(kind) + "\"", bytes));
        for (Health.Verdict v : verdicts) {
            String srv = "server=\"" + escape(v.server()) + "\"";
            add(fams, "strata_check_status", "Verdict of strata check: 0 ok, 1 warning, 2 critical.", srv, v.code());
            for (Map.Entry<String, Manifest> e : v.facts().newestByType().entrySet()) {
                Manifest m = e.getValue();
                String l = srv + ",type=\"" + escape(e.getKey()) + "\"";
                Instant end = Instant.parse(m.endTime());
                add(fams, "strata_last_success_timestamp_seconds", "End time of the newest completed backup of this type (Unix seconds).", l, end.getEpochSecond());
                add(fams, "strata_backup_duration_seconds", "How long the newest completed backup of this type took.", l,
                        Duration.between(Instant.parse(m.beginTime()), end).toMillis() / 1000.0);
                add(fams, "strata_backup_stored_bytes", "Bytes the newest completed backup of this type stored in the repository.", l, m.storedBytes());
                add(fams, "strata_backup_raw_bytes", "Bytes of data the newest completed backup of this type read from the server.", l, m.rawBytes());
            }
            add(fams, "strata_archive_gaps", "Gaps recorded in the binlog archive of this server.", srv, v.facts().archiveGaps());
            for (Heartbeat h : v.facts().heartbeats()) {
                long poll = Instant.parse(h.lastPoll()).getEpochSecond();
                if (Heartbeat.ARCHIVE.equals(h.kind())) {
                    add(fams, "strata_archive_end_timestamp_seconds", "Until when the binlog archive held everything the server wrote (Unix seconds, from the archiver's heartbeat).",
                            srv, poll - h.lagSeconds());
                    add(fams, "strata_archive_lag_seconds", "How far the binlog archiver is behind the server, by its last heartbeat.", srv, h.lagSeconds());
                } else if (h.reached() != null) {
                    add(fams, "strata_tracker_coverage_lsn", "LSN up to which the tracker read the redo log, by its last heartbeat.", srv, Long.parseLong(h.reached()));
                }
                add(fams, "strata_heartbeat_timestamp_seconds", "When the process last wrote its heartbeat (Unix seconds).",
                        srv + ",process=\"" + escape(h.kind()) + "\"", poll);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (Family f : fams.values()) {
            sb.append("# HELP ").append(f.name()).append(' ').append(f.help()).append('\n');
            sb.append("# TYPE ").append(f.name()).append(" gauge\n");
            f.samples().forEach(x -> sb.append(x).append('\n'));
        }
        return sb.toString();
    }

    private static void add(Map<String, Family> fams, String name, String help, String labels, Number value) {
        String v = value instanceof Double d ? (d == Math.rint(d) ? Long.toString(d.longValue()) : String.format(Locale.ROOT, "%.3f", d)) : value.toString();
        fams.computeIfAbsent(name, n -> new Family(n, help, new ArrayList<>())).samples().add(name + "{" + labels + "} " + v);
    }

    /** A label value as the text format wants it: backslash, double quote and newline escaped. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /**
     * After a backup, archive or track run: the metrics of the repository (every server, with
     * check's default limits), written to {@code path}. With {@code failure} (the run failed and
     * throws it), a failure here is added to it as suppressed and never replaces it.
     */
    static void afterRun(Repository r, Path path, RuntimeException failure) {
        afterRun(r, path, failure, true);
    }

    /** {@code withBytes}: also {@code strata_repository_bytes}, which lists the whole repository (not on every tick of a daemon). */
    private static void afterRun(Repository r, Path path, RuntimeException failure, boolean withBytes) {
        if (path == null) {
            return;
        }
        try {
            write(path, render(Health.check(r, null, Health.Limits.DEFAULTS, Instant.now()), withBytes ? r.bytesByKind() : Map.of()));
        } catch (RuntimeException e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e);
        }
    }

    /**
     * For the long-running commands (binlog archive, track): rewrites the metrics file every
     * {@link #TICK} on a daemon thread, from the first second on, and once more when closed. A
     * failure is told once on stderr as a WARNING and never stops the command (it retries on the
     * next tick).
     */
    static final class Ticker implements AutoCloseable {
        static final Duration TICK = Duration.ofSeconds(15);
        private final Repository repo;
        private final Path path;
        private final java.util.concurrent.ScheduledExecutorService timer;
        private boolean warned;

        /** Null when {@code path} is null (no --metrics-file). */
        static Ticker start(Repository repo, Path path) {
            return path == null ? null : new Ticker(repo, path);
        }

        private Ticker(Repository repo, Path path) {
            this.repo = repo;
            this.path = path;
            this.timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "strata-metrics");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::tick, 1, TICK.getSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        }

        private synchronized void tick() {
            tick(false);
        }

        /** {@code last}: the write when the command stops, which also has the repository's bytes by kind. */
        private synchronized void tick(boolean last) {
            try {
                afterRun(repo, path, null, last);
            } catch (RuntimeException e) {
                if (!warned) {
                    warned = true;
                    System.err.println("WARNING: cannot write the metrics file " + path + ": " + e.getMessage() + " (trying again every " + TICK.getSeconds() + " s)");
                }
            }
        }

        @Override
        public void close() {
            timer.shutdownNow();
            tick(true);
        }
    }

    /**
     * Writes {@code text} to {@code path} atomically (a temporary file in the same directory, then a rename).
     *
     * @throws StrataException io-error naming the file when it cannot be written
     */
    static void write(Path path, String text) {
        Path abs = path.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write the metrics file " + abs + ": " + e,
                    "give --metrics-file a path in a directory this user can write (node_exporter's --collector.textfile.directory)");
        }
    }
}
