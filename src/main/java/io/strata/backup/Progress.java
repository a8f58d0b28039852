package io.strata.backup;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.strata.repo.Json;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A backup's progress by stage, like GreatSQL's performance_schema.clone_progress: for each of
 * page copy, file copy, redo copy and sync its state, bytes done and estimated, speed and time
 * left. Shown as a redrawn table on a terminal, as a line every few seconds otherwise, or as one
 * JSON object per line ({@code --progress=json}); all on stderr, so that stdout keeps only the
 * result. A sink (the repository's progress object, read by {@code strata status}) receives a
 * snapshot every {@link #SINK_MILLIS} ms.
 */
public final class Progress {
    public enum Mode { AUTO, TTY, LINES, JSON, NONE }

    public static final String PAGE_COPY = "page-copy";
    public static final String FILE_COPY = "file-copy";
    public static final String REDO_COPY = "redo-copy";
    public static final String SYNC = "sync";
    static final long SINK_MILLIS = 2000;

    /** One stage's counters; bytesEstimated is -1 while unknown. */
    static final class Stage {
        final String name;
        volatile String state = "pending";
        final AtomicLong done = new AtomicLong();
        final AtomicLong estimated = new AtomicLong(-1);
        volatile long beginNanos;
        volatile long endNanos;

        Stage(String name) {
            this.name = name;
        }
    }

    private final PrintStream err;
    private final Mode mode;
    private final long started = System.nanoTime();
    private final Map<String, Stage> stages = new LinkedHashMap<>();
    private volatile String current = "init";
    private volatile String id;
    private volatile Consumer<Map<String, Object>> sink;
    private Thread ticker;
    private int drawnLines;

    public Progress(PrintStream err, Mode mode) {
        this.err = err;
        this.mode = mode == Mode.AUTO ? (System.console() != null ? Mode.TTY : Mode.LINES) : mode;
        for (String s : List.of(PAGE_COPY, FILE_COPY, REDO_COPY, SYNC)) {
            stages.put(s, new Stage(s));
        }
    }

    public Progress(PrintStream err, boolean quiet) {
        this(err, quiet ? Mode.NONE : Mode.AUTO);
    }

    public Mode mode() { return mode; }

    /** Receives a snapshot every few seconds and at the end (the repository's progress object). */
    void attach(String backupId, Consumer<Map<String, Object>> sink) {
        this.id = backupId;
        this.sink = sink;
    }

    // ---- stages ----------------------------------------------------------------------------

    /** Starts a stage (or marks a step such as "backup-stage" that has no bytes) and says what it does. */
    void stage(String name, String detail) {
        current = name;
        Stage s = stages.get(name);
        if (s != null && !"running".equals(s.state)) {
            s.state = "running";
            s.beginNanos = System.nanoTime();
        }
        say("[" + name + "] " + detail);
    }

    void addEstimate(String stage, long bytes) {
        AtomicLong e = stages.get(stage).estimated;
        e.updateAndGet(v -> Math.max(v, 0) + bytes);
    }

    void setEstimate(String stage, long bytes) {
        stages.get(stage).estimated.set(bytes);
    }

    void add(String stage, long bytes) {
        stages.get(stage).done.addAndGet(bytes);
    }

    void set(String stage, long bytes) {
        stages.get(stage).done.set(bytes);
    }

    void done(String stage) {
        Stage s = stages.get(stage);
        if (!"done".equals(s.state)) {
            if (s.beginNanos == 0) {
                s.beginNanos = System.nanoTime();
            }
            s.state = "done";
            s.endNanos = System.nanoTime();
        }
    }

    /** A message between the progress updates. */
    void say(String line) {
        switch (mode) {
            case NONE:
                return;
            case JSON: {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("event", "message");
                m.put("id", id);
                m.put("elapsedSeconds", round1(elapsed()));
                m.put("stage", current);
                m.put("text", line);
                printJson(m);
                return;
            }
            case TTY:
                synchronized (this) {
                    clearTable();
                    err.printf("%7.1fs %s%n", elapsed(), line);
                    drawTable();
                }
                return;
            default:
                err.printf("%7.1fs %s%n", elapsed(), line);
        }
    }

    // ---- periodic updates ------------------------------------------------------------------

    /** Starts the thread that redraws, prints and hands snapshots to the sink. */
    void start() {
        long every = mode == Mode.TTY ? 500 : mode == Mode.JSON ? 1000 : mode == Mode.LINES ? 5000 : SINK_MILLIS;
        ticker = new Thread(() -> {
            long lastSink = 0;
            long lastShow = System.nanoTime();
            try {
                while (true) {
                    Thread.sleep(Math.min(every, 500));
                    long now = System.nanoTime();
                    if ((now - lastShow) / 1_000_000 >= every) {
                        show();
                        lastShow = now;
                    }
                    if ((now - lastSink) / 1_000_000 >= SINK_MILLIS) {
                        toSink("running", null);
                        lastSink = now;
                    }
                }
            } catch (InterruptedException ignored) {
                // the backup ended
            }
        }, "strata-progress");
        ticker.setDaemon(true);
        ticker.start();
    }

    /** Stops the updates and reports the outcome: "completed", "failed" or "cancelled". */
    void finish(String state, String error) {
        if (ticker != null) {
            ticker.interrupt();
            try {
                ticker.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if ("completed".equals(state)) {
            for (Stage s : stages.values()) {
                if ("running".equals(s.state)) {
                    done(s.name);
                }
            }
        }
        switch (mode) {
            case TTY:
                synchronized (this) {
                    clearTable();
                    drawTable();
                    drawnLines = 0;
                }
                break;
            case JSON: {
                Map<String, Object> m = snapshot(state);
                m.put("event", "end");
                m.put("error", error);
                printJson(m);
                break;
            }
            default:
                break;
        }
        toSink(state, error);
    }

    private void show() {
        switch (mode) {
            case TTY:
                synchronized (this) {
                    clearTable();
                    drawTable();
                }
                break;
            case JSON: {
                Map<String, Object> m = snapshot("running");
                m.put("event", "progress");
                printJson(m);
                break;
            }
            case LINES:
                err.printf("%7.1fs %s%n", elapsed(), oneLine());
                break;
            default:
                break;
        }
    }

    private void toSink(String state, String error) {
        Consumer<Map<String, Object>> s = sink;
        if (s == null) {
            return;
        }
        Map<String, Object> m = snapshot(state);
        m.put("error", error);
        try {
            s.accept(m);
        } catch (RuntimeException ignored) {
            // progress is advisory: a full disk must fail the backup through its data, not here
        }
    }

    // ---- rendering -------------------------------------------------------------------------

    private double elapsed() {
        return (System.nanoTime() - started) / 1e9;
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** The state of every stage, as printed by --progress=json and stored for strata status. */
    Map<String, Object> snapshot(String state) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("pid", ProcessHandle.current().pid());
        m.put("state", state);
        m.put("updated", Instant.now().toString());
        m.put("elapsedSeconds", round1(elapsed()));
        m.put("stage", current);
        List<Map<String, Object>> list = new ArrayList<>();
        long now = System.nanoTime();
        for (Stage s : stages.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            long done = s.done.get();
            long est = s.estimated.get();
            double secs = s.beginNanos == 0 ? 0 : ((s.endNanos != 0 ? s.endNanos : now) - s.beginNanos) / 1e9;
            double speed = secs > 0.05 ? done / secs : 0;
            e.put("stage", s.name);
            e.put("state", s.state);
            e.put("bytesDone", done);
            e.put("bytesEstimated", est < 0 ? null : est);
            e.put("bytesPerSecond", Math.round(speed));
            e.put("seconds", round1(secs));
            e.put("secondsLeft", "running".equals(s.state) && est >= done && speed > 0 ? round1((est - done) / speed) : null);
            list.add(e);
        }
        m.put("stages", list);
        return m;
    }

    private void printJson(Map<String, Object> m) {
        try {
            String line = Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
            synchronized (this) {
                err.println(line);
                err.flush();
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private String oneLine() {
        StringBuilder b = new StringBuilder("[" + current + "]");
        for (Stage s : stages.values()) {
            if (!"pending".equals(s.state)) {
                b.append(' ').append(s.name).append(' ').append(bytesPair(s)).append(s.state.equals("done") ? " done;" : ";");
            }
        }
        return b.toString();
    }

    private static String bytesPair(Stage s) {
        long est = s.estimated.get();
        return mib(s.done.get()) + (est < 0 ? "" : "/" + mib(est)) + " MiB";
    }

    private static String mib(long b) {
        return String.format("%.1f", b / 1048576.0);
    }

    /** Renders the table (TTY mode): one row per stage. */
    public static List<String> table(Map<String, Object> snapshot) {
        List<String> rows = new ArrayList<>();
        rows.add(String.format("  %-10s %-8s %24s %5s %12s %9s", "STAGE", "STATE", "DONE / ESTIMATED", "", "SPEED", "LEFT"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> stages = (List<Map<String, Object>>) snapshot.get("stages");
        for (Map<String, Object> s : stages) {
            long done = ((Number) s.get("bytesDone")).longValue();
            Number est = (Number) s.get("bytesEstimated");
            String pct = est != null && est.longValue() > 0 ? Math.min(100, Math.round(100.0 * done / est.longValue())) + "%" : "";
            long speed = ((Number) s.get("bytesPerSecond")).longValue();
            Number left = (Number) s.get("secondsLeft");
            rows.add(String.format("  %-10s %-8s %24s %5s %12s %9s", s.get("stage"), s.get("state"),
                    mib(done) + " / " + (est == null ? "?" : mib(est.longValue())) + " MiB", pct,
                    "pending".equals(s.get("state")) ? "" : mib(speed) + " MiB/s", left == null ? "" : String.format("%.0f s", left.doubleValue())));
        }
        return rows;
    }

    private void clearTable() {
        if (drawnLines > 0) {
            err.print("\033[" + drawnLines + "A\033[J");
            drawnLines = 0;
        }
    }

    private void drawTable() {
        List<String> rows = table(snapshot("running"));
        for (String r : rows) {
            err.println(r);
        }
        err.flush();
        drawnLines = rows.size();
    }
}
