package io.strata.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.strata.backup.BackupProgress;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.StageProgress;
import io.strata.repo.Json;
import io.strata.util.Log;

import java.io.FileDescriptor;
import java.io.FileOutputStream;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Shows a backup's {@link BackupProgress} or a restore's {@code RestoreProgress} ({@link StageProgress}) on stderr, so that stdout keeps only the result: a
 * table redrawn on a terminal ({@link Mode#TTY}, every 0.5 s), a line every 5 s otherwise
 * ({@link Mode#LINES}), one JSON object per line ({@link Mode#JSON}, every second: events
 * "message", "progress" and "end"), or nothing. Messages are printed as they are said, after the
 * seconds since the backup started. The "end" event waits for the command's verdict,
 * {@link #complete} (it gains "result", the object {@code backup --json} prints) or {@link #fail}
 * (it gains "error": id, exitCode, message, hint).
 */
final class ProgressRenderer implements BackupProgress.View {
    /** --progress: AUTO is TTY when stderr, where it is drawn, is a terminal, else LINES. */
    enum Mode { AUTO, TTY, LINES, JSON, NONE }

    private final PrintStream err;
    /** Where the TTY table is drawn: the terminal itself, so that it never reaches a log file. */
    private final PrintStream draw;
    private final Mode mode;
    private int drawnLines;
    /** The end event of {@link Mode#JSON}, held until {@link #complete} or {@link #fail}. */
    private Map<String, Object> pendingEnd;

    ProgressRenderer(PrintStream err, Mode mode) {
        this(err, err, mode, false);
    }

    private ProgressRenderer(PrintStream err, PrintStream draw, Mode mode, boolean stderrIsTerminal) {
        this.err = err;
        this.draw = draw;
        this.mode = resolve(mode, stderrIsTerminal);
    }

    /** While the agent runs a command: its client's stderr, unlogged, where the TTY table is drawn; else null. */
    private static volatile PrintStream clientStderr;
    /** Whether that client's stderr is a terminal. */
    private static volatile boolean clientTerminal;

    /**
     * Makes the agent's client's stderr ({@code raw}, not the log) the place of the TTY table and
     * {@code terminal} the test of AUTO and "text", until {@link #forOwnProcess}: the agent's own
     * file descriptor 2 is its log, not the terminal of the shell that asked.
     */
    static void forClient(PrintStream raw, boolean terminal) {
        clientTerminal = terminal;
        clientStderr = raw;
    }

    /** Back to the process's own stderr. */
    static void forOwnProcess() {
        clientStderr = null;
    }

    /**
     * The mode a {@code --progress} value names: auto, text (TTY on a console, else LINES), json or none.
     *
     * @throws StrataException usage for any other value
     */
    static Mode parse(String option) {
        return switch (option) {
            case "auto" -> Mode.AUTO;
            case "text" -> (clientStderr != null ? clientTerminal : System.console() != null) ? Mode.TTY : Mode.LINES;
            case "json" -> Mode.JSON;
            case "none" -> Mode.NONE;
            default -> throw new StrataException(ErrorCode.USAGE, "--progress must be auto, text, json or none, not " + option, null);
        };
    }

    /** AUTO as TTY or LINES by whether the stream drawn on is a terminal; other modes as they are. */
    static Mode resolve(Mode mode, boolean drawnOnTerminal) {
        return mode == Mode.AUTO ? (drawnOnTerminal ? Mode.TTY : Mode.LINES) : mode;
    }

    /**
     * The renderer of a command's progress: messages on System.err (the log), the TTY table
     * straight on file descriptor 2, and AUTO decided by whether that descriptor is a terminal.
     */
    static ProgressRenderer forStderr(Mode mode) {
        PrintStream client = clientStderr;
        if (client != null) {
            return new ProgressRenderer(System.err, client, mode, clientTerminal);
        }
        PrintStream tty = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        return new ProgressRenderer(System.err, tty, mode, Log.isTerminal(2));
    }

    /**
     * Messages without stages (strata track, strata binlog archive): each on its own line on
     * {@code err} (the log, which starts it with the time off a terminal); nothing when {@code quiet}.
     */
    static Consumer<String> lines(PrintStream err, boolean quiet) {
        return line -> {
            if (!quiet) {
                err.println(line); // the log (util/Log) puts the time before it off a terminal
            }
        };
    }

    @Override
    public long periodMillis() {
        return switch (mode) {
            case TTY -> 500;
            case JSON -> 1000;
            case LINES -> 5000;
            default -> 2000;
        };
    }

    @Override
    public void message(StageProgress p, String line) {
        switch (mode) {
            case NONE:
                return;
            case JSON: {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("event", "message");
                m.put("id", p.id());
                m.put("elapsedSeconds", Math.round(p.elapsedSeconds() * 10) / 10.0);
                m.put("stage", p.currentStage());
                m.put("text", line);
                printJson(m);
                return;
            }
            case TTY:
                synchronized (this) {
                    clearTable();
                    err.printf("%7.1fs %s%n", p.elapsedSeconds(), line);
                    drawTable(p);
                }
                return;
            default:
                err.printf("%7.1fs %s%n", p.elapsedSeconds(), line);
        }
    }

    @Override
    public void update(StageProgress p) {
        switch (mode) {
            case TTY:
                synchronized (this) {
                    clearTable();
                    drawTable(p);
                }
                break;
            case JSON: {
                Map<String, Object> m = p.snapshot("running");
                m.put("event", "progress");
                printJson(m);
                break;
            }
            case LINES:
                err.printf("%7.1fs %s%n", p.elapsedSeconds(), oneLine(p.snapshot("running")));
                break;
            default:
                break;
        }
    }

    @Override
    public void end(StageProgress p, String state, String error) {
        switch (mode) {
            case TTY:
                synchronized (this) {
                    clearTable();
                    drawTable(p);
                    drawnLines = 0;
                }
                break;
            case JSON: {
                Map<String, Object> m = p.snapshot(state);
                m.put("event", "end");
                synchronized (this) {
                    pendingEnd = m;
                }
                break;
            }
            default:
                break;
        }
    }

    /** With {@link Mode#JSON}, prints the end event with {@code result}, the backup's result object. */
    void complete(Map<String, Object> result) {
        printEnd("result", result);
    }

    /**
     * With {@link Mode#JSON}, prints the end event with {@code error} ({@link JsonMixin#errorObject});
     * a backup that failed before it began gets an end event of its own, state "failed".
     */
    void fail(Map<String, Object> error) {
        printEnd("error", error);
    }

    private void printEnd(String key, Map<String, Object> value) {
        if (mode != Mode.JSON) {
            return;
        }
        Map<String, Object> m;
        synchronized (this) {
            m = pendingEnd;
            pendingEnd = null;
        }
        if (m == null) {
            m = new LinkedHashMap<>();
            m.put("event", "end");
            m.put("state", "failed");
        }
        m.put(key, value);
        printJson(m);
    }

    private void printJson(Map<String, Object> m) {
        try {
            String line = Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
            synchronized (this) {
                err.println(line);
                err.flush();
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "[stage] page-copy 12.0/100.0 MiB; redo-copy 1.5 MiB done;": the stages that began. */
    @SuppressWarnings("unchecked")
    private static String oneLine(Map<String, Object> snapshot) {
        StringBuilder b = new StringBuilder("[" + snapshot.get("stage") + "]");
        for (Map<String, Object> s : (List<Map<String, Object>>) snapshot.get("stages")) {
            if (!"pending".equals(s.get("state"))) {
                Number est = (Number) s.get("bytesEstimated");
                b.append(' ').append(s.get("stage")).append(' ').append(mib(((Number) s.get("bytesDone")).longValue()))
                        .append(est == null ? "" : "/" + mib(est.longValue())).append(" MiB").append("done".equals(s.get("state")) ? " done;" : ";");
            }
        }
        return b.toString();
    }

    private static String mib(long b) {
        return String.format("%.1f", b / 1048576.0);
    }

    /**
     * The table of a progress snapshot ({@link StageProgress#snapshot}, a backup's also as stored for
     * strata status): a header and one row per stage with state, MiB done / estimated, percent,
     * speed and seconds left.
     */
    static List<String> table(Map<String, Object> snapshot) {
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
            err.flush();
            draw.print("\033[" + drawnLines + "A\033[J");
            drawnLines = 0;
        }
    }

    private void drawTable(StageProgress p) {
        List<String> rows = table(p.snapshot("running"));
        err.flush();
        for (String r : rows) {
            draw.println(r);
        }
        draw.flush();
        drawnLines = rows.size();
    }
}
