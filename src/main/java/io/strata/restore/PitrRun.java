package io.strata.restore;

import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.repo.Repository;
import io.strata.restore.PitrWindows.BackupPoint;
import io.strata.restore.PitrWindows.Break;
import io.strata.restore.PitrWindows.Span;
import io.strata.server.MariadbProcess;
import io.strata.util.Dirs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Point-in-time restore: the newest completed backup whose binlog position is at or before the
 * target, restored with {@link RestoreRun}, then the archived binlogs from that position to the
 * target replayed into it.
 *
 * <p>Order of work, so that a target strata cannot reach never touches the target directory:
 * (1) resolve the target to a binlog position inside the archive and choose the backup, refusing
 * targets the archive does not cover with the restorable windows in the message; (2) copy the
 * archived binlog files the replay needs into a temporary directory beside the target, checking
 * every chunk, every event CRC, and cutting the last file exactly at the target; (3) restore the
 * backup's files; (4) start mariadbd on the result (crash recovery runs first) on a private socket
 * with networking off and grant checks off, and pipe {@code mariadb-binlog} of the copied files,
 * starting at the backup's position, into {@code mariadb}; (5) stop the server cleanly. A failure
 * after (3) leaves the target empty, as a failed restore does.
 *
 * <p>No stop option of mariadb-binlog is used: the copied files end where the replay must end, so
 * --stop-datetime's "first event at or after" rule and the GTID stop rules of mariadb-binlog 10.11
 * do not matter, and strata's own reading of the binlog decides where a target lies.
 */
public final class PitrRun {

    public record Options(PitrTarget target, String server, Path targetDir, int parallel) {}

    public record Result(BackupPoint backup, Pos from, Pos to, long transactions, String gtidAtTarget, RestoreRun.Result restore) {}

    /** Where a target lies: the span, the binlog position it stops at, and the backup to start from. */
    record Plan(PitrWindows windows, Span span, Pos stop, BackupPoint backup) {}

    private PitrRun() {}

    /**
     * Restores {@code o.target()} from {@code repo}, opened once by the caller (with the key when
     * it is encrypted): the backup's restore and the binlog reads share that handle.
     */
    public static Result run(Repository repo, Options o, Consumer<String> log) {
        Path target = o.targetDir().toAbsolutePath().normalize();
        RestoreRun.checkTarget(target);
        PitrWindows w = PitrWindows.of(repo, chooseServer(repo, o.server()));
        Plan plan = plan(w, o.target());
        BackupPoint b = plan.backup();
        List<ArchivedBinlog> files = filesBetween(plan.span(), b.pos(), plan.stop());
        log.accept("target " + o.target() + (o.target().kind() == PitrTarget.Kind.POSITION ? "" : " is binlog position " + plan.stop())
                + "; starting from backup " + b.id() + " at " + b.pos()
                + " and replaying " + files.size() + " archived binlog file(s)");
        Path work;
        try {
            Path parent = target.getParent() == null ? Path.of(".").toAbsolutePath() : target.getParent();
            Files.createDirectories(parent);
            work = Files.createTempDirectory(parent, ".strata-pitr-");
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create a work directory beside " + target + ": " + e.getMessage(), null, e);
        }
        try {
            Replay replay = materialize(w.archive(), files, b, plan.stop(), work.resolve("binlogs"));
            RestoreRun.Result restored = RestoreRun.run(repo, new RestoreRun.Options(b.id(), target, false, o.parallel()), log);
            try {
                replay(restored, b, replay, target, work.resolve("run"), log);
            } catch (StrataException e) {
                Dirs.deleteQuietly(target, true);
                throw e;
            }
            return new Result(b, b.pos(), plan.stop(), replay.transactions, replay.gtids(), restored);
        } finally {
            Dirs.deleteQuietly(work, false);
        }
    }

    /** The server whose backups and binlogs to use: the only one, or the one --server names. */
    static String chooseServer(Repository repo, String wanted) {
        List<String> servers = PitrWindows.servers(repo);
        if (wanted != null) {
            for (String s : servers) {
                if (s.equals(wanted)) {
                    return s;
                }
            }
            throw new StrataException(ErrorCode.USAGE, "--server " + wanted + " has no backups or binlogs in " + repo.root() + "; it holds " + servers, null);
        }
        if (servers.isEmpty()) {
            throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "repository " + repo.root() + " holds no completed backup",
                    "take one with \"strata backup --repo " + repo.root() + "\"");
        }
        if (servers.size() > 1) {
            throw new StrataException(ErrorCode.USAGE, "repository " + repo.root() + " holds backups of " + servers.size() + " servers; name one with --server: "
                    + String.join(", ", servers), null);
        }
        return servers.get(0);
    }

    // ---- where the target lies ------------------------------------------------------------

    static Plan plan(PitrWindows w, PitrTarget t) {
        if (w.archive() == null) {
            throw new StrataException(ErrorCode.PITR_AFTER_WINDOW, "target " + t + " is not covered: no binlogs of " + w.serverKey()
                    + " are archived in this repository; restorable windows: " + w.describeWindows(),
                    "archive the binlogs with \"strata binlog archive\"; until then only the backups themselves can be restored (--backup ID)");
        }
        if (w.spans().isEmpty()) {
            throw afterWindow(w, t);
        }
        return switch (t.kind()) {
            case TIME -> planTime(w, t);
            case GTID -> planGtid(w, t);
            case POSITION -> planPosition(w, t);
        };
    }

    private static Plan planTime(PitrWindows w, PitrTarget t) {
        long time = t.time();
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

    private static Plan planGtid(PitrWindows w, PitrTarget t) {
        var g = t.gtid();
        Long lowest = null;
        Long highest = null;
        List<Span> spans = w.spans();
        for (int k = 0; k < spans.size(); k++) {
            Span s = spans.get(k);
            for (ArchivedBinlog f : s.files()) {
                for (int i = 0; i < f.cover().size(); i++) {
                    Segment seg = f.cover().get(i);
                    for (BinlogArchive.DomainRange r : seg.gtids()) {
                        if (r.domain() != g.domain()) {
                            continue;
                        }
                        lowest = lowest == null ? r.minSeq() : Math.min(lowest, r.minSeq());
                        highest = highest == null ? r.maxSeq() : Math.max(highest, r.maxSeq());
                        if (r.minSeq() <= g.seq() && g.seq() <= r.maxSeq()) {
                            Found hit = find(w.archive(), f, effectiveStart(f, i), f.usableEnd(), e -> g.equals(e.gtid()), true);
                            if (hit.matched) {
                                return choose(w, s, new Pos(f.timeline(), f.name(), hit.at), t, true);
                            }
                        }
                    }
                }
            }
        }
        // not in the archive: say why from the sequence numbers around it
        if (lowest == null) {
            throw new StrataException(ErrorCode.PITR_BAD_TARGET, "target " + t + " is not in the binlog archive: it holds no transaction of GTID domain "
                    + g.domain() + "; restorable windows: " + w.describeWindows(), "check the GTID (SELECT @@gtid_binlog_pos on the source)");
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
                + " from sequence " + lowest + " to " + highest + "; restorable windows: " + w.describeWindows(),
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

    private static Plan planPosition(PitrWindows w, PitrTarget t) {
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
    private static Plan choose(PitrWindows w, Span s, Pos stop, PitrTarget t, boolean evidence) {
        BackupPoint best = null;
        for (BackupPoint b : s.backups()) {
            boolean ok = b.pos().compareTo(stop) <= 0 && (t.kind() != PitrTarget.Kind.TIME || evidence || t.time() >= b.time());
            if (ok && (best == null || b.pos().compareTo(best.pos()) > 0 || b.pos().equals(best.pos()) && b.time() >= best.time())) {
                best = b;
            }
        }
        if (best == null) {
            throw beforeWithin(w, s, t);
        }
        return new Plan(w, s, stop, best);
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
        String windows = "; restorable windows: " + w.describeWindows();
        if (older == null) {
            BackupPoint first = null;
            for (Span x : w.spans()) {
                if (!x.backups().isEmpty()) {
                    first = x.backups().get(0);
                    break;
                }
            }
            return new StrataException(ErrorCode.PITR_BEFORE_WINDOW, "target " + t + " is before the oldest backup that the archived binlogs can roll forward"
                    + (first == null ? "" : " (" + first.id() + " at " + first.pos() + ", ended " + PitrWindows.iso(first.time()) + ")") + windows,
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
                + (last == null ? "" : " (" + PitrWindows.iso(last.endTime()) + " at " + last.end() + ")") + "; restorable windows: " + w.describeWindows(),
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

    // ---- copying the binlogs the replay needs ---------------------------------------------

    /** The files of a span from the backup's file to the stop file, in order. */
    private static List<ArchivedBinlog> filesBetween(Span s, Pos from, Pos to) {
        List<ArchivedBinlog> out = new ArrayList<>();
        for (ArchivedBinlog f : s.files()) {
            if (f.number() >= BinlogArchive.fileNumber(from.file()) && f.number() <= BinlogArchive.fileNumber(to.file())) {
                out.add(f);
            }
        }
        return out;
    }

    static final class Replay {
        final List<Path> files = new ArrayList<>();
        final Map<Long, String> gtids;
        long startPosition;
        long transactions;

        Replay(String base) {
            this.gtids = PitrWindows.parseGtidList(base);
        }

        String gtids() { return String.join(",", gtids.values()); }
    }

    /** Copies each file from offset 0 to its end (the stop offset for the last), checking every event. */
    private static Replay materialize(BinlogArchive a, List<ArchivedBinlog> files, BackupPoint b, Pos stop, Path dir) {
        Replay r = new Replay(b.gtid());
        r.startPosition = b.pos().offset();
        try {
            Files.createDirectories(dir);
            for (ArchivedBinlog f : files) {
                long end = f.name().equals(stop.file()) ? stop.offset() : f.usableEnd();
                Path out = dir.resolve(f.name());
                try (InputStream in = new java.io.BufferedInputStream(a.open(f, 0, end), 1 << 16);
                     OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
                    BinlogScanner sc = new BinlogScanner(f.name(), 0, null);
                    BinlogEvent e;
                    boolean first = f.name().equals(b.pos().file());
                    while ((e = sc.next(in, end, os)) != null) {
                        if (e.gtid() != null && (!first || e.offset() >= b.pos().offset())) {
                            r.transactions++;
                            r.gtids.put(e.gtid().domain(), e.gtid().toString());
                        }
                    }
                    if (sc.offset() != end) {
                        throw new StrataException(ErrorCode.CORRUPT_DATA, "archived " + f.name() + " does not end at an event boundary at " + end
                                + " (the last complete event ends at " + sc.offset() + ")", "the archive is damaged");
                    }
                }
                r.files.add(out);
            }
            return r;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "copying archived binlogs to " + dir + " failed: " + e.getMessage(), null, e);
        }
    }

    // ---- replaying -------------------------------------------------------------------------

    private static void replay(RestoreRun.Result restored, BackupPoint b, Replay r, Path target, Path run, Consumer<String> log) {
        List<String> args = new ArrayList<>(RestoreRun.recoveryArgs(restored.manifest()));
        // grant checks off: the replay must not depend on the restored accounts; FLUSH PRIVILEGES
        // (below) turns them on again for GRANT and CREATE USER in the binlog
        args.add("--skip-grant-tables");
        args.add("--max-allowed-packet=1G");
        log.accept("starting mariadbd on " + target + " (crash recovery, then the replay; log " + run.resolve("mysqld.err") + ")");
        try (MariadbProcess p = MariadbProcess.start(target, run, args, Duration.ofMinutes(30))) {
            if (!r.files.isEmpty()) {
                List<String> dump = new ArrayList<>(List.of(MariadbProcess.binary("mariadb-binlog"), "--no-defaults", "--verify-binlog-checksum",
                        "--start-position=" + r.startPosition));
                r.files.forEach(f -> dump.add(f.toString()));
                List<String> apply = List.of(MariadbProcess.binary("mariadb"), "--no-defaults", "--socket=" + p.socket(), "--user=root",
                        "--binary-mode", "--max-allowed-packet=1G", "--init-command=FLUSH PRIVILEGES");
                pipe(dump, apply, run);
            }
            p.shutdown(Duration.ofMinutes(10));
            Files.copy(p.errorLog(), target.resolve("strata-pitr.err"));
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot keep the server log: " + e.getMessage(), null, e);
        }
        log.accept("replayed " + r.transactions + " transaction(s); the server stopped cleanly (its log kept as strata-pitr.err)");
    }

    private static void pipe(List<String> producer, List<String> consumer, Path run) throws IOException {
        Path err1 = run.resolve("mariadb-binlog.err");
        Path err2 = run.resolve("mariadb.err");
        List<Process> ps = ProcessBuilder.startPipeline(List.of(
                new ProcessBuilder(producer).redirectError(err1.toFile()),
                new ProcessBuilder(consumer).redirectError(err2.toFile()).redirectOutput(run.resolve("mariadb.out").toFile())));
        try {
            for (Process x : ps) {
                x.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ps.forEach(Process::destroyForcibly);
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted during the binlog replay", null, e);
        }
        int rc1 = ps.get(0).exitValue();
        int rc2 = ps.get(1).exitValue();
        if (rc1 != 0 || rc2 != 0) {
            throw new StrataException(ErrorCode.REPLAY_FAILED, "binlog replay failed: mariadb-binlog exit " + rc1 + ", mariadb exit " + rc2 + ": "
                    + (tail(err2) + " " + tail(err1)).trim(), "the restored server could not apply the archived binlogs; the target was left empty");
        }
        ps.forEach(x -> x.onExit().orTimeout(1, TimeUnit.SECONDS));
    }

    private static String tail(Path p) {
        try {
            String s = Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8).trim() : "";
            return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "";
        }
    }
}
