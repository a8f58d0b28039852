package io.strata.restore;

import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.restore.PitrWindows.BackupPoint;
import io.strata.restore.PitrWindows.Break;
import io.strata.restore.PitrWindows.Span;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a point-in-time target lies: the span of uninterrupted archive that holds it, the binlog
 * position the replay stops at (a transaction boundary), and the backup to start from, the newest
 * of the span at or before that position. Planning reads only the archive's summaries and, where
 * they cannot decide, the archived bytes of one binlog file; it never touches the target directory.
 *
 * <p>A time target stops before the first transaction stamped after it (binlog timestamps, whole
 * seconds, server clock), a before-time target before the first stamped at or after it; a GTID
 * target after the end of that transaction, a before-GTID target at the start of its GTID event; a
 * position target exactly there, which must be a transaction boundary.
 *
 * @param windows what the server can be restored to
 * @param span    the span holding {@code stop}
 * @param stop    where the replay ends
 * @param backup  the backup whose binlog position the replay starts at
 * @param note    what the restore says about how the target was resolved (a GTID several timelines hold), or null
 */
record PitrPlan(PitrWindows windows, Span span, Pos stop, BackupPoint backup, String note) {

    PitrPlan(PitrWindows windows, Span span, Pos stop, BackupPoint backup) {
        this(windows, span, stop, backup, null);
    }

    /** This plan with {@code note}: what the restore must say about how the target was resolved. */
    PitrPlan withNote(String note) {
        return new PitrPlan(windows, span, stop, backup, note);
    }

    /**
     * Where {@code t} lies in the archive {@code w} describes, and the backup to start from.
     *
     * @throws StrataException pitr-after-window, pitr-before-window, pitr-in-gap or binlog-missing
     *         when no backup and archived binlogs reach the target (the message names the restorable
     *         windows); pitr-bad-target when it names no transaction boundary or GTID of the archive;
     *         io-error or corrupt-data when an archived binlog cannot be read
     */
    static PitrPlan of(PitrWindows w, PitrTarget t) {
        if (w.archive() == null) {
            throw new StrataException(ErrorCode.PITR_AFTER_WINDOW, "target " + t + " is not covered: no binlogs of " + w.serverKey()
                    + " are archived in this repository; restorable windows: " + WindowReport.describeWindows(w),
                    "archive the binlogs with \"strata binlog archive\"; until then only the backups themselves can be restored (--backup ID)");
        }
        if (w.spans().isEmpty()) {
            throw afterWindow(w, t);
        }
        return switch (t.kind()) {
            case TIME, BEFORE_TIME -> planTime(w, t);
            case GTID, BEFORE_GTID -> planGtid(w, t);
            case POSITION -> planPosition(w, t);
        };
    }

    private static PitrPlan planTime(PitrWindows w, PitrTarget t) {
        long time = t.lastSecond(); // the last second restored: BEFORE_TIME is TIME one second earlier
        for (Span s : w.spans()) {
            boolean sawGroupBefore = false;
            for (ArchivedBinlog f : s.files()) {
                for (int i = 0; i < f.cover().size(); i++) {
                    Segment seg = f.cover().get(i);
                    if (seg.maxTime() == null || seg.maxTime() <= time) {
                        sawGroupBefore |= seg.groups() > 0;
                        continue;
                    }
                    // the first transaction stamped after the target is in this segment
                    long from = effectiveStart(f, i);
                    Found hit = find(w.archive(), f, from, seg.end(), e -> e.gtid() != null && e.timestamp() > time, false);
                    boolean evidence = sawGroupBefore || hit.groupsBefore > 0;
                    return choose(w, s, new Pos(f.timeline(), f.name(), hit.at), t, evidence);
                }
            }
            if (time <= s.endTime()) {
                return choose(w, s, s.end(), t, sawGroupBefore);
            }
        }
        throw afterWindow(w, t);
    }

    /**
     * A GTID target: the newest span whose archived binlogs hold a transaction of that GTID. A
     * server whose binlog history restarted (RESET MASTER, or a data directory restored and started
     * with no binlogs: a new timeline of the archive) numbers its transactions from 1 again, so one
     * GTID can name a transaction in several timelines; it then means the newest timeline's, the
     * history the server lives in now: the plan says so ({@link #note}), naming the older
     * timelines' transactions, which a time target reaches. If no backup of that span reaches it,
     * the target is refused (never replaced by an older timeline's transaction of the same GTID).
     */
    private static PitrPlan planGtid(PitrWindows w, PitrTarget t) {
        var g = t.gtid();
        Long lowest = null;
        Long highest = null;
        List<Span> spans = w.spans();
        List<Span> holding = new ArrayList<>();
        List<Pos> at = new ArrayList<>();
        for (int k = spans.size() - 1; k >= 0; k--) { // newest first
            Span s = spans.get(k);
            Pos hit = null;
            for (ArchivedBinlog f : s.files()) {
                for (int i = 0; i < f.cover().size() && hit == null; i++) {
                    Segment seg = f.cover().get(i);
                    for (BinlogArchive.DomainRange r : seg.gtids()) {
                        if (r.domain() != g.domain()) {
                            continue;
                        }
                        lowest = lowest == null ? r.minSeq() : Math.min(lowest, r.minSeq());
                        highest = highest == null ? r.maxSeq() : Math.max(highest, r.maxSeq());
                        if (hit == null && r.minSeq() <= g.seq() && g.seq() <= r.maxSeq()) {
                            // inclusive: after the end of its transaction; exclusive: at the start of its GTID event
                            Found found = find(w.archive(), f, effectiveStart(f, i), f.usableEnd(), e -> g.equals(e.gtid()), t.kind() == PitrTarget.Kind.GTID);
                            if (found.matched) {
                                hit = new Pos(f.timeline(), f.name(), found.at);
                            }
                        }
                    }
                }
            }
            if (hit != null) {
                holding.add(s);
                at.add(hit);
            }
        }
        if (!holding.isEmpty()) {
            String others = null;
            if (holding.size() > 1) {
                List<String> older = new ArrayList<>();
                for (int k = 1; k < holding.size(); k++) {
                    older.add("timeline " + at.get(k).timeline() + " at " + at.get(k) + " (in the window ending " + WindowReport.iso(holding.get(k).endTime()) + ")");
                }
                others = "GTID " + g + " names a transaction in more than one timeline of the archive (its binlog history restarted): the newest, timeline "
                        + at.get(0).timeline() + " at " + at.get(0) + ", is restored; also in " + String.join(", ", older)
                        + ", reachable only by time (--until or --until-before)";
            }
            try {
                PitrPlan p = choose(w, holding.get(0), at.get(0), t, true);
                return others == null ? p : p.withNote(others);
            } catch (StrataException e) {
                if (others == null) {
                    throw e;
                }
                throw new StrataException(e.code(), e.getMessage() + "; " + others.replace(", is restored;", ", is the one it names;"), e.hint());
            }
        }
        // not in the archive: say why from the sequence numbers around it
        if (lowest == null) {
            throw new StrataException(ErrorCode.PITR_BAD_TARGET, "target " + t + " is not in the binlog archive: it holds no transaction of GTID domain "
                    + g.domain() + "; restorable windows: " + WindowReport.describeWindows(w), "check the GTID (SELECT @@gtid_binlog_pos on the source)");
        }
        if (g.seq() > highest) {
            throw afterWindow(w, t);
        }
        Span after = null;
        Span before = null;
        boolean within = false;
        for (Span s : spans) {
            long[] r = seqRange(s, g.domain());
            if (r == null) {
                continue;
            }
            if (r[1] < g.seq()) {
                before = s;
            } else if (r[0] > g.seq()) {
                after = after == null ? s : after;
            } else {
                within = true;
            }
        }
        if (!within && after != null && (before == null || w.spans().indexOf(after) == w.spans().indexOf(before) + 1)) {
            // older than the archive, or between two spans
            throw beforeWithin(w, after, t);
        }
        throw new StrataException(ErrorCode.PITR_BAD_TARGET, "target " + t + " is not in the binlog archive, though it holds domain " + g.domain()
                + " from sequence " + lowest + " to " + highest + "; restorable windows: " + WindowReport.describeWindows(w),
                "check the server id part of the GTID (SHOW BINLOG EVENTS on the source shows the GTIDs)");
    }

    private static long[] seqRange(Span s, long domain) {
        long[] r = null;
        for (Segment seg : s.segments()) {
            for (BinlogArchive.DomainRange d : seg.gtids()) {
                if (d.domain() == domain) {
                    r = r == null ? new long[] {d.minSeq(), d.maxSeq()} : new long[] {Math.min(r[0], d.minSeq()), Math.max(r[1], d.maxSeq())};
                }
            }
        }
        return r;
    }

    private static PitrPlan planPosition(PitrWindows w, PitrTarget t) {
        BinlogArchive a = w.archive();
        int tl = 0;
        for (int x : a.timelines().descendingKeySet()) {
            if (a.file(x, t.file()) != null) {
                tl = x;
                break;
            }
        }
        if (tl == 0) {
            tl = a.newestTimeline();
        }
        Pos p = new Pos(tl, t.file(), t.position());
        if (t.position() < BinlogScanner.MAGIC.length) {
            throw new StrataException(ErrorCode.PITR_BAD_TARGET, "target " + t + " is not a transaction boundary: positions start at 4", null);
        }
        Span in = w.spanOf(p);
        if (in == null) {
            // before, between or after the spans
            for (Span s : w.spans()) {
                if (p.compareTo(s.start()) < 0) {
                    throw beforeWithin(w, s, t);
                }
            }
            throw afterWindow(w, t);
        }
        ArchivedBinlog f = in.file(t.file());
        if (t.position() != f.usableEnd()) {
            int i = 0;
            while (i < f.cover().size() - 1 && f.cover().get(i).end() <= t.position()) {
                i++;
            }
            checkBoundary(a, f, effectiveStart(f, i), t.position(), t);
        }
        return choose(w, in, p, t, true);
    }

    /** The newest backup of the span at or before the stop position; for a time, only backups known to be before that time. */
    private static PitrPlan choose(PitrWindows w, Span s, Pos stop, PitrTarget t, boolean evidence) {
        BackupPoint best = null;
        for (BackupPoint b : s.backups()) {
            boolean ok = b.pos().compareTo(stop) <= 0 && (!t.isTime() || evidence || t.lastSecond() >= b.time());
            if (ok && (best == null || b.pos().compareTo(best.pos()) > 0 || b.pos().equals(best.pos()) && b.time() >= best.time())) {
                best = b;
            }
        }
        if (best == null) {
            throw beforeWithin(w, s, t);
        }
        return new PitrPlan(w, s, stop, best);
    }

    /** No backup of span {@code s} can reach the target: it is before the oldest backup, or a gap (or damage) lies between. */
    private static StrataException beforeWithin(PitrWindows w, Span s, PitrTarget t) {
        Span older = null;
        for (Span x : w.spans()) {
            if (x == s) {
                break;
            }
            if (!x.backups().isEmpty()) {
                older = x;
            }
        }
        String windows = "; restorable windows: " + WindowReport.describeWindows(w);
        if (older == null) {
            BackupPoint first = null;
            for (Span x : w.spans()) {
                if (!x.backups().isEmpty()) {
                    first = x.backups().get(0);
                    break;
                }
            }
            return new StrataException(ErrorCode.PITR_BEFORE_WINDOW, "target " + t + " is before the oldest backup that the archived binlogs can roll forward"
                    + (first == null ? "" : " (" + first.id() + " at " + first.pos() + ", ended " + WindowReport.iso(first.time()) + ")") + windows,
                    "restore to a point inside a window; strata cannot go back before a backup");
        }
        List<Break> between = w.breaksBetween(older, s);
        List<String> why = new ArrayList<>();
        boolean damaged = false;
        for (Break b : between) {
            why.add(b.description());
            damaged |= b.kind() == PitrWindows.Kind.MISSING;
        }
        if (damaged) {
            return new StrataException(ErrorCode.BINLOG_MISSING, "target " + t + " cannot be reached: " + String.join("; ", why) + windows,
                    "restore to a point before the damage, or from a backup taken after it");
        }
        return new StrataException(ErrorCode.PITR_IN_GAP, "target " + t + " lies in a gap of the binlog archive: " + String.join("; ", why)
                + "; no backup was taken between that gap and the target" + windows,
                "restore to a point inside a window; keep \"strata binlog archive\" running so that binlogs are archived before the server purges them");
    }

    private static StrataException afterWindow(PitrWindows w, PitrTarget t) {
        Span last = w.spans().isEmpty() ? null : w.spans().get(w.spans().size() - 1);
        return new StrataException(ErrorCode.PITR_AFTER_WINDOW, "target " + t + " is after the end of the binlog archive"
                + (last == null ? "" : " (" + WindowReport.iso(last.endTime()) + " at " + last.end() + ")") + "; restorable windows: " + WindowReport.describeWindows(w),
                "is \"strata binlog archive\" running? Run it (or with --once) and try again, or choose an earlier target");
    }

    /** A cover segment's bytes start after the previous cover segment's end (cover segments may overlap). */
    private static long effectiveStart(ArchivedBinlog f, int i) {
        return i == 0 ? 0 : f.cover().get(i - 1).end();
    }

    private static final class Found {
        boolean matched;
        long at;
        long groupsBefore;
    }

    private interface EventTest {
        boolean test(BinlogEvent e);
    }

    private static BinlogScanner scanner(ArchivedBinlog f, long from) {
        return new BinlogScanner(f.name(), from, from == 0 ? null : f.checksums());
    }

    /**
     * The first event of a file's archived bytes {@code [from, to)} passing {@code test}: its
     * offset, or with {@code groupEnd} the first transaction boundary after it (the end of its
     * transaction). Without a match, {@code at} is {@code to}.
     */
    private static Found find(BinlogArchive a, ArchivedBinlog f, long from, long to, EventTest test, boolean groupEnd) {
        Found r = new Found();
        r.at = to;
        try (InputStream in = new java.io.BufferedInputStream(a.open(f, from, to), 1 << 16)) {
            BinlogScanner sc = scanner(f, from);
            BinlogEvent e;
            while ((e = sc.next(in, to, null)) != null) {
                if (r.matched) {
                    if (e.boundaryBefore()) {
                        r.at = e.offset();
                        return r;
                    }
                } else if (test.test(e)) {
                    r.matched = true;
                    r.at = e.offset();
                    if (!groupEnd) {
                        return r;
                    }
                } else if (e.gtid() != null) {
                    r.groupsBefore++;
                }
                if (r.matched && sc.atBoundary()) {
                    r.at = sc.offset();
                    return r;
                }
            }
            if (r.matched) {
                r.at = to; // the transaction runs to the end of the usable bytes, which is a boundary
            }
            return r;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "reading the archived " + f.name() + " failed: " + e.getMessage(), null, e);
        }
    }

    /** Whether {@code pos} is a transaction boundary of the file; else the error naming the nearest ones. */
    private static void checkBoundary(BinlogArchive a, ArchivedBinlog f, long from, long pos, PitrTarget t) {
        long before = from;
        Long after = null;
        boolean ok = false;
        try (InputStream in = new java.io.BufferedInputStream(a.open(f, from, f.usableEnd()), 1 << 16)) {
            BinlogScanner sc = scanner(f, from);
            BinlogEvent e;
            while (after == null && (e = sc.next(in, f.usableEnd(), null)) != null) {
                for (long b : new long[] {e.boundaryBefore() ? e.offset() : -1, sc.atBoundary() ? sc.offset() : -1}) {
                    if (b < 0) {
                        continue;
                    }
                    if (b == pos) {
                        ok = true;
                    } else if (b < pos) {
                        before = b;
                    } else if (after == null) {
                        after = b;
                    }
                }
                if (ok) {
                    return;
                }
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "reading the archived " + f.name() + " failed: " + e.getMessage(), null, e);
        }
        if (!ok) {
            throw new StrataException(ErrorCode.PITR_BAD_TARGET, "target " + t + " is not a transaction boundary in the archived " + f.name()
                    + "; the nearest are " + f.name() + ":" + before + " and " + f.name() + ":" + (after == null ? f.usableEnd() : after),
                    "use a position that SHOW MASTER STATUS reported, or the start of a GTID event in SHOW BINLOG EVENTS");
        }
    }

    /** The archived files the replay reads, in order: those of the span from the backup's file to the stop file. */
    List<ArchivedBinlog> files() {
        List<ArchivedBinlog> out = new ArrayList<>();
        for (ArchivedBinlog f : span.files()) {
            if (f.number() >= BinlogArchive.fileNumber(backup.pos().file()) && f.number() <= BinlogArchive.fileNumber(stop.file())) {
                out.add(f);
            }
        }
        return out;
    }
}
