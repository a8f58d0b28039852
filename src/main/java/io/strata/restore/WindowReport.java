package io.strata.restore;

import io.strata.repo.BinlogArchive.Pos;
import io.strata.restore.PitrWindows.Break;
import io.strata.restore.PitrWindows.Span;
import io.strata.restore.PitrWindows.Window;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the restorable windows of a server ({@link PitrWindows}) are told: one line per window in
 * the messages of a refused point-in-time restore and in {@code strata list}, and the JSON of
 * {@code strata list --json}. Times are shown as ISO-8601 instants (UTC, whole seconds), binlog
 * positions as {@code file:offset}.
 */
public final class WindowReport {
    private WindowReport() {}

    /**
     * The windows in one line, for messages: "from ... to ...; from ... to ..." (see
     * {@link #describe}), or a sentence beginning "none: " saying why there is none.
     */
    public static String describeWindows(PitrWindows windows) {
        List<Window> ws = windows.windows();
        if (ws.isEmpty()) {
            if (windows.archive() == null) {
                return "none: no binlogs of " + windows.serverKey() + " are archived in this repository (run \"strata binlog archive\")";
            }
            return "none: no completed backup of " + windows.serverKey() + " lies inside the archived binlogs";
        }
        List<String> parts = new ArrayList<>();
        for (Window w : ws) {
            parts.add(describe(w));
        }
        return String.join("; ", parts);
    }

    /**
     * One window: "from &lt;time&gt; (backup &lt;id&gt; at &lt;file:offset&gt;, GTID &lt;list&gt;) to &lt;time&gt;
     * (&lt;file:offset&gt;, GTID &lt;list&gt;)"; the GTID parts only where known.
     */
    public static String describe(Window w) {
        return "from " + iso(w.fromTime()) + " (backup " + w.from().id() + " at " + w.from().pos() + gtidNote(w.from().gtid()) + ") to "
                + iso(w.toTime()) + " (" + w.to() + gtidNote(w.toGtid()) + ")";
    }

    private static String gtidNote(String g) {
        return g == null || g.isEmpty() ? "" : ", GTID " + g;
    }

    /** Seconds since the epoch as an ISO-8601 instant, {@code 2024-01-01T00:00:00Z}. */
    public static String iso(long epochSecond) {
        return Instant.ofEpochSecond(epochSecond).toString();
    }

    /**
     * For {@code strata list --json}: {@code server}, {@code archive} (its prefix or null),
     * {@code windows} (each with {@code from}, {@code to}, {@code backups} and {@code replayFails}:
     * null, or where and why a replay from its last backup fails: {@code backup}, {@code connection},
     * {@code table} (null when unknown), {@code at} (the failing transaction: its start, timestamp and the GTID
     * state before it) and {@code description}), {@code archived} (the spans), {@code gaps} (the breaks, {@code kind} gap,
     * reset or missing), {@code backupsOutsideArchive}, {@code backupsSkipped} and {@code replaysUnchecked} (spans whose
     * binlogs could not be read for the check of {@link PitrWindows#checkReplays()}, with the reason); every point is
     * an object of {@code time}, {@code timeline}, {@code binlogFile}, {@code binlogPosition} and,
     * where known, {@code gtid} and {@code backup}.
     */
    public static Map<String, Object> toJson(PitrWindows windows) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("server", windows.serverKey());
        o.put("archive", windows.archive() == null ? null : windows.archive().prefix());
        List<Object> ws = new ArrayList<>();
        for (Window w : windows.windows()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("from", point(w.fromTime(), w.from().pos(), w.from().gtid(), w.from().id()));
            x.put("to", point(w.toTime(), w.to(), w.toGtid(), null));
            List<String> ids = new ArrayList<>();
            w.backups().forEach(b -> ids.add(b.id()));
            x.put("backups", ids);
            x.put("replayFails", w.cut() == null ? null : hazard(w.cut()));
            ws.add(x);
        }
        o.put("windows", ws);
        List<Object> ss = new ArrayList<>();
        for (Span s : windows.spans()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("timeline", s.start().timeline());
            x.put("from", point(s.firstTime() == null ? s.endTime() : s.firstTime(), s.start(), null, null));
            x.put("to", point(s.endTime(), s.end(), s.endGtids(null), null));
            ss.add(x);
        }
        o.put("archived", ss);
        List<Object> bs = new ArrayList<>();
        for (Break b : windows.breaks()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("kind", b.kind().name().toLowerCase(Locale.ROOT));
            x.put("after", b.before() == null ? null : point(b.before().endTime(), b.before().end(), null, null));
            x.put("before", point(b.after().firstTime() == null ? b.after().endTime() : b.after().firstTime(), b.after().start(), null, null));
            x.put("description", b.description());
            bs.add(x);
        }
        o.put("gaps", bs);
        List<String> out = new ArrayList<>();
        windows.outside().forEach(b -> out.add(b.id()));
        o.put("backupsOutsideArchive", out);
        o.put("backupsSkipped", windows.skipped());
        o.put("replaysUnchecked", windows.unchecked());
        return o;
    }

    private static Map<String, Object> hazard(TempTables.Hazard h) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("backup", h.backup().id());
        x.put("connection", h.connection());
        x.put("table", h.table());
        x.put("at", point(h.time(), h.before(), h.gtids(), null));
        x.put("description", h.description());
        return x;
    }

    private static Map<String, Object> point(long time, Pos p, String gtid, String backup) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("time", iso(time));
        x.put("timeline", p.timeline());
        x.put("binlogFile", p.file());
        x.put("binlogPosition", p.offset());
        if (gtid != null) {
            x.put("gtid", gtid);
        }
        if (backup != null) {
            x.put("backup", backup);
        }
        return x;
    }
}
