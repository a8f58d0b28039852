package io.strata.archive;

import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.binlog.BinlogStats;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogCompaction;
import io.strata.repo.BinlogSegmentWriter;
import io.strata.repo.RepoLock;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code strata binlog archive}: copies a server's binary logs into the repository, closed files
 * once and the active file as it grows, as segments (see {@link BinlogArchive}).
 *
 * <p>The files are read from the server's binlog directory ({@code @@log_bin_basename}), as backups
 * read the data directory: strata runs on the database host. Only bytes below a safe end are
 * copied: for the active file the position SHOW MASTER STATUS reports (the end of the last
 * complete transaction, never a half-written event), for a closed file its final size. Every event
 * is checked (size, log_pos, CRC-32) before it is stored.
 *
 * <p>State lives only in the repository: a restarted archiver continues each file where its last
 * segment ended. Before it starts a file it checks that the previous archived file is complete and
 * directly precedes it; if not, binlogs were purged before they were archived and a gap record says
 * which. A server whose binlog history restarted (RESET MASTER, or different files under the same
 * names) starts a new timeline after a gap record. Gaps are never bridged.
 */
public final class BinlogArchiver {

    public record Options(ConnectionOptions connection, Path datadir, boolean once, Duration interval) {}

    public record Result(long segments, long bytes, int gaps, String end) {}

    /** Lets a signal handler stop the archiver between steps and wake it from its sleep. */
    public static final class Stopper {
        private volatile boolean stopped;

        public synchronized void stop() {
            stopped = true;
            notifyAll();
        }

        public boolean stopped() { return stopped; }

        synchronized void sleep(long ms) {
            long until = System.currentTimeMillis() + ms;
            while (!stopped) {
                long left = until - System.currentTimeMillis();
                if (left <= 0) {
                    return;
                }
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("stopped", null, false, false);
        }
    }

    private record ServerLog(String name, long size) {}

    private final Options opts;
    private final Consumer<String> log;
    private final Stopper stopper;
    private final Repository repo;
    private ServerFacts facts;
    private BinlogArchive archive;
    private Path binlogDir;
    private long segments;
    private long bytes;
    private int gaps;
    private long lastAsOf;

    private BinlogArchiver(Options opts, Consumer<String> log, Stopper stopper, Repository repo) {
        this.opts = opts;
        this.log = log;
        this.stopper = stopper;
        this.repo = repo;
    }

    /** Archives into {@code repo}, opened by the caller (with the key when it is encrypted). */
    public static Result run(Repository repo, Options o, Consumer<String> log, Stopper stopper) {
        BinlogArchiver a = new BinlogArchiver(o, log, stopper, repo);
        ServerSession s = ServerSession.connect(o.connection());
        try {
            a.identify(s);
            String lockName = "binlog-" + a.archive.dir() + ".lock";
            try (RepoLock lock = repo.lock(lockName, "the binlogs of " + a.facts.serverKey() + " are already being archived into "
                    + repo.root() + " by another strata process", "only one \"strata binlog archive\" per server and repository may run; stop the other one first")) {
                a.archive = BinlogArchive.load(repo, a.archive.dir());
                if (a.archive.source() == null) {
                    a.archive.writeSource(new BinlogArchive.Source(BinlogArchive.FORMAT_VERSION, a.facts.serverKey(), a.facts.hostname(), a.facts.port(),
                            a.facts.serverId(), a.facts.logBinBasename(), Instant.now().toString()));
                }
                BinlogCompaction.tidy(a.archive);
                a.announce();
                return a.loop(s);
            }
        } finally {
            s.close();
        }
    }

    private void identify(ServerSession s) {
        facts = ServerFacts.read(s, opts.datadir());
        if (!facts.logBin() || facts.logBinBasename() == null) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "binary logging is off on " + opts.connection().describe() + " (log_bin=OFF): there are no binlogs to archive",
                    "start the server with --log-bin to make point-in-time recovery possible");
        }
        Path base = Path.of(facts.logBinBasename());
        binlogDir = (base.isAbsolute() ? base : facts.datadir().resolve(base)).getParent();
        if (!Files.isDirectory(binlogDir) || !Files.isReadable(binlogDir) || !Files.isExecutable(binlogDir)) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "the binlog directory " + binlogDir + " is not readable by this user ("
                    + System.getProperty("user.name") + ")", "run strata on the database host as a user that can read the binlogs (root or mysql)");
        }
        String dir = BinlogArchive.sourceDir(facts.serverKey(), facts.hostname(), facts.port());
        archive = BinlogArchive.load(repo, dir);
        BinlogArchive.Source known = archive.source();
        if (known != null && !known.serverKey().equals(facts.serverKey())) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "archive directory " + archive.prefix() + " belongs to " + known.serverKey()
                    + ", not to " + facts.serverKey(), "the repository was edited by hand");
        }
    }

    private void announce() {
        int t = archive.newestTimeline();
        ArchivedBinlog last = t == 0 ? null : newest(t);
        log.accept("archiving the binlogs of " + facts.serverKey() + " (" + binlogDir + ") into " + archive.describe()
                + (last == null ? "; nothing archived yet"
                : "; resuming after " + last.name() + ":" + last.coveredEnd() + (last.closed() ? " (complete)" : "") + " in timeline " + t)
                + (opts.once() ? "" : "; polling every " + opts.interval().toMillis() / 1000.0 + " s, stop with Ctrl-C or SIGTERM"));
    }

    private Result loop(ServerSession first) {
        ServerSession s = first;
        try {
            while (true) {
                try {
                    if (s == null) {
                        s = reconnect();
                    }
                    poll(s);
                } catch (Cancelled c) {
                    break;
                } catch (StrataException e) {
                    boolean transient_ = e.code() == ErrorCode.SERVER_ERROR || e.code() == ErrorCode.SERVER_UNREACHABLE;
                    if (opts.once() || !transient_) {
                        throw e;
                    }
                    log.accept("WARNING: " + e.getMessage() + "; trying again in " + opts.interval().toSeconds() + " s");
                    if (s != null && s != first) {
                        s.close();
                    }
                    s = null;
                }
                if (opts.once() || stopper.stopped()) {
                    break;
                }
                stopper.sleep(opts.interval().toMillis());
                if (stopper.stopped()) {
                    break;
                }
            }
        } finally {
            if (s != null && s != first) {
                s.close();
            }
        }
        int t = archive.newestTimeline();
        ArchivedBinlog last = t == 0 ? null : newest(t);
        String end = last == null ? "nothing" : last.name() + ":" + last.usableEnd();
        if (stopper.stopped()) {
            log.accept("stopped by a signal; the archive ends at " + end);
        }
        return new Result(segments, bytes, gaps, end);
    }

    private ServerSession reconnect() {
        ServerSession s = ServerSession.connect(opts.connection());
        ServerFacts again = ServerFacts.read(s, opts.datadir());
        if (!again.serverKey().equals(facts.serverKey())) {
            s.close();
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "after reconnecting, " + opts.connection().describe() + " is " + again.serverKey()
                    + ", not " + facts.serverKey(), "start one archiver per server");
        }
        log.accept("reconnected to " + opts.connection().describe());
        return s;
    }

    private ArchivedBinlog newest(int timeline) {
        List<ArchivedBinlog> fs = archive.files(timeline);
        return fs.isEmpty() ? null : fs.get(fs.size() - 1);
    }

    /** One round: where the server is, reset and purge checks, then every file from where the archive ends. */
    private void poll(ServerSession s) {
        long serverNow = Long.parseLong(s.queryString("SELECT UNIX_TIMESTAMP()"));
        List<ServerLog> logs = new ArrayList<>();
        String activeFile = null;
        long activeEnd = 0;
        for (int attempt = 0; ; attempt++) {
            logs.clear();
            for (Map<String, String> r : s.queryRows("SHOW BINARY LOGS")) {
                logs.add(new ServerLog(r.get("log_name"), Long.parseLong(r.get("file_size"))));
            }
            List<Map<String, String>> ms = s.queryRows("SHOW MASTER STATUS");
            if (ms.isEmpty() || logs.isEmpty()) {
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "binary logging is off on " + opts.connection().describe(), "start the server with --log-bin");
            }
            activeFile = ms.get(0).get("file");
            activeEnd = Long.parseLong(ms.get(0).get("position"));
            if (logs.get(logs.size() - 1).name().equals(activeFile)) {
                break;
            }
            if (attempt == 5) {
                throw new StrataException(ErrorCode.SERVER_ERROR, "the binary log rotated during every one of 6 attempts to read its position", null);
            }
            stopper.sleep(50);
        }
        long asOf = serverNow - 1;
        int tl = archive.newestTimeline();
        if (tl > 0) {
            String reset = resetReason(tl, logs);
            if (reset != null) {
                ArchivedBinlog last = newest(tl);
                recordGap(tl, last, tl + 1, logs.get(0).name(), List.of(), "server reset: " + reset);
                tl++;
                archive.writeTimeline(new BinlogArchive.Timeline(BinlogArchive.FORMAT_VERSION, tl, logs.get(0).name(), Instant.now().toString(),
                        "server reset: " + reset));
                log.accept("new timeline " + tl + " from " + logs.get(0).name() + " (server reset: " + reset + ")");
            }
        } else {
            tl = 1;
            archive.writeTimeline(new BinlogArchive.Timeline(BinlogArchive.FORMAT_VERSION, tl, logs.get(0).name(), Instant.now().toString(),
                    "archive started; " + logs.get(0).name() + " was the oldest binlog on the server"));
        }
        ArchivedBinlog last = newest(tl);
        long before = segments;
        for (ServerLog f : logs) {
            if (last != null && BinlogArchive.fileNumber(f.name()) < last.number()) {
                continue;
            }
            if (stopper.stopped()) {
                throw new Cancelled();
            }
            boolean active = f.name().equals(activeFile);
            archiveFile(tl, f, active, active ? activeEnd : f.size(), asOf);
        }
        // an idle server: say now and then that nothing came after the archived end, so the
        // restorable window reaches the present (at most one such record per minute)
        last = newest(tl);
        if (segments == before && last != null && last.name().equals(activeFile) && last.coveredEnd() == activeEnd
                && (opts.once() || asOf - lastAsOf >= 60)) {
            archive.writeAsOf(new BinlogArchive.AsOf(BinlogArchive.FORMAT_VERSION, tl, last.name(), last.usableEnd(), asOf));
            lastAsOf = asOf;
        }
    }

    /** Why the server's binlogs are not a continuation of the archived timeline, or null if they are. */
    private String resetReason(int tl, List<ServerLog> logs) {
        ArchivedBinlog last = newest(tl);
        if (last == null) {
            return null;
        }
        ServerLog newestOnServer = logs.get(logs.size() - 1);
        if (BinlogArchive.fileNumber(newestOnServer.name()) < last.number()) {
            return "the server's newest binlog " + newestOnServer.name() + " is older than the archived " + last.name();
        }
        for (ServerLog f : logs) {
            if (f.name().equals(last.name())) {
                FileStart id = fileStart(binlogDir.resolve(f.name()));
                if (id == null) {
                    return null; // purged just now: the purge check handles it
                }
                if (!id.fileId().equals(last.fileId())) {
                    return f.name() + " on the server is not the archived " + last.name() + " (created " + Instant.ofEpochSecond(id.created())
                            + ", the archived one " + Instant.ofEpochSecond(last.created()) + ")";
                }
                if (f.size() < last.coveredEnd()) {
                    return f.name() + " on the server has " + f.size() + " bytes, fewer than the " + last.coveredEnd() + " already archived";
                }
            }
        }
        return null;
    }

    private record FileStart(String fileId, long created, boolean checksums) {}

    /** Reads a file's format description event; null when the file is gone. */
    private FileStart fileStart(Path p) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(p))) {
            BinlogScanner sc = new BinlogScanner(p.toString(), 0, null);
            BinlogEvent e = sc.next(in, Long.MAX_VALUE, null);
            if (e == null || e.type() != BinlogEvent.FORMAT_DESCRIPTION) {
                return null;
            }
            return new FileStart(sc.fileId(), sc.created(), Boolean.TRUE.equals(sc.checksums()));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot read " + p + ": " + e.getMessage(), null, e);
        }
    }

    private void recordGap(int tl, ArchivedBinlog after, int nextTl, String nextFile, List<String> lost, String reason) {
        archive.writeGap(new BinlogArchive.Gap(BinlogArchive.FORMAT_VERSION, tl, after == null ? null : after.name(), after == null ? 0 : after.usableEnd(),
                nextTl, nextFile, lost, reason, Instant.now().toString()));
        gaps++;
        log.accept("GAP: " + reason);
    }

    /** Before the first segment of a file: the archived file before it must be complete and directly precede it. */
    private void checkContinuity(int tl, String name) {
        ArchivedBinlog prev = null;
        for (ArchivedBinlog f : archive.files(tl)) {
            if (f.number() < BinlogArchive.fileNumber(name)) {
                prev = f;
            }
        }
        if (prev == null) {
            return;
        }
        long gapFrom = prev.closed() ? prev.number() + 1 : prev.number();
        long gapTo = BinlogArchive.fileNumber(name) - 1;
        if (gapFrom > gapTo) {
            return;
        }
        for (BinlogArchive.Gap g : archive.gaps()) {
            if (g.timeline() == tl && prev.name().equals(g.afterFile())) {
                return; // already recorded
            }
        }
        List<String> lost = new ArrayList<>();
        for (long n = gapFrom; n <= gapTo && lost.size() < 1000; n++) {
            lost.add(BinlogArchive.sibling(prev.name(), n));
        }
        String what = prev.closed() ? (lost.size() == 1 ? lost.get(0) + " was purged from the server before it was archived"
                : lost.get(0) + " to " + lost.get(lost.size() - 1) + " were purged from the server before they were archived")
                : prev.name() + " was purged from the server after " + prev.coveredEnd() + " bytes of it were archived"
                + (lost.size() > 1 ? ", and " + (lost.size() == 2 ? lost.get(1) + " before it was archived" : lost.get(1) + " to " + lost.get(lost.size() - 1)
                + " before they were archived") : "");
        recordGap(tl, prev, tl, name, lost, what);
    }

    private void archiveFile(int tl, ServerLog f, boolean active, long safeEnd, long asOf) {
        ArchivedBinlog af = archive.file(tl, f.name());
        if (af != null && af.closed()) {
            return;
        }
        long from = af == null ? 0 : af.coveredEnd();
        if (from == 0) {
            checkContinuity(tl, f.name());
        }
        Path path = binlogDir.resolve(f.name());
        Boolean checksums = null;
        String fileId = null;
        long created = 0;
        if (from > 0) {
            FileStart fs = fileStart(path);
            if (fs == null) {
                return; // purged meanwhile: the next round records the gap
            }
            if (!fs.fileId().equals(af.fileId())) {
                return; // replaced meanwhile: the next round starts a new timeline
            }
            checksums = fs.checksums();
            fileId = fs.fileId();
            created = fs.created();
        }
        long limit = active ? safeEnd : f.size();
        if (limit < from || limit == from && (active || af == null)) {
            return; // nothing new (a shorter file is explained by the reset check of the next round)
        }
        try {
            // usually the safe end is the end of a complete event: one pass checks and copies
            Stored done = store(tl, f, path, from, limit, active, checksums, fileId, created, asOf);
            if (done == null) {
                // the file does not end there (not yet written out, or cut short by a crash):
                // find the last complete event, or for the active file the last transaction boundary
                Scan probe = scan(path, from, limit, checksums, null);
                long cut = active ? probe.lastBoundary : probe.end;
                if (!active && cut < f.size()) {
                    log.accept("note: " + f.name() + " ends with " + (f.size() - cut) + " bytes of an incomplete event (the server stopped while writing it); they are not archived");
                }
                if (cut == from && (active || af == null)) {
                    return;
                }
                done = store(tl, f, path, from, cut, active, checksums, fileId, created, asOf);
                if (done == null) {
                    throw new StrataException(ErrorCode.IO_ERROR, f.name() + " changed while it was archived: it no longer ends with a complete event at " + cut, null);
                }
            }
            BinlogArchive.Segment seg = done.segment();
            segments++;
            bytes += seg.length();
            List<BinlogArchive.DomainRange> ranges = seg.gtids();
            log.accept("archived " + f.name() + " [" + seg.start() + ", " + seg.end() + ")" + (active ? "" : ", complete") + ": " + seg.events() + " events, "
                    + seg.groups() + " transactions" + (ranges.isEmpty() ? "" : ", last GTID " + ranges.get(ranges.size() - 1).last()));
            if (seg.closed() && seg.boundaryEnd() < seg.end()) {
                log.accept("note: " + f.name() + " ends inside a transaction at " + seg.boundaryEnd() + " (the server stopped while writing it; that transaction did not commit)");
            }
            if (seg.closed()) {
                // a complete file is kept as one object; its segments go once that one is stored
                BinlogArchive.Segment whole = BinlogCompaction.compact(archive, archive.file(tl, f.name()));
                if (whole != null) {
                    log.accept("compacted " + f.name() + " into one segment [0, " + whole.end() + ")");
                }
            }
        } catch (NoSuchFileException e) {
            // purged meanwhile; nothing was committed, the next round records the gap
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "archiving " + path + " failed: " + e.getMessage(), null, e);
        }
    }

    private record Stored(BinlogArchive.Segment segment) {}

    /**
     * Stores {@code [from, cut)} as a segment, checking every event while copying it; returns null,
     * having stored nothing, when the file's events do not end exactly at {@code cut}.
     */
    private Stored store(int tl, ServerLog f, Path path, long from, long cut, boolean active, Boolean checksums, String fileId, long created, long asOf)
            throws IOException {
        try (BinlogSegmentWriter w = archive.createSegment(tl, f.name(), from, cut)) {
            Scan copied;
            try {
                copied = scan(path, from, cut, checksums, w.stream());
            } catch (BinlogScanner.EventTruncated t) {
                return null;
            }
            if (copied.end != cut) {
                return null;
            }
            BinlogStats st = copied.stats;
            List<BinlogArchive.DomainRange> ranges = new ArrayList<>();
            for (BinlogStats.Range r : st.domains()) {
                ranges.add(new BinlogArchive.DomainRange(r.domain(), r.minSeq(), r.maxSeq(), r.first().toString(), r.last().toString()));
            }
            // the active file's safe end is a position the server reported: a transaction boundary
            long boundaryEnd = active || copied.atBoundary ? cut : copied.lastBoundary;
            return new Stored(w.commit(new BinlogArchive.Segment(BinlogArchive.FORMAT_VERSION, tl, f.name(), from, cut, boundaryEnd, !active,
                    fileId != null ? fileId : copied.fileId, fileId != null ? created : copied.created,
                    checksums != null ? checksums : Boolean.TRUE.equals(copied.checksums),
                    st.events(), st.groups(), st.firstTime(), st.lastTime(), st.maxTime(), ranges, asOf, null, Instant.now().toString())));
        }
    }

    private static final class Scan {
        long end;
        long lastBoundary;
        boolean atBoundary;
        String fileId;
        long created;
        Boolean checksums;
        final BinlogStats stats = new BinlogStats();
    }

    private Scan scan(Path path, long from, long limit, Boolean checksums, OutputStream copy) throws IOException {
        Scan r = new Scan();
        try (InputStream raw = Files.newInputStream(path)) {
            raw.skipNBytes(from);
            InputStream in = new BufferedInputStream(raw, 1 << 16);
            BinlogScanner sc = new BinlogScanner(path.toString(), from, from == 0 ? null : checksums);
            long n = 0;
            while (true) {
                BinlogEvent e;
                try {
                    e = sc.next(in, limit, copy);
                } catch (BinlogScanner.EventTruncated t) {
                    if (copy != null) {
                        throw t;
                    }
                    break; // a file being written: the events before it count
                }
                if (e == null) {
                    break;
                }
                r.stats.add(e);
                if (++n % 1024 == 0 && stopper.stopped()) {
                    throw new Cancelled();
                }
            }
            r.end = sc.offset();
            r.lastBoundary = sc.lastBoundary();
            r.atBoundary = sc.atBoundary();
            r.fileId = sc.fileId();
            r.created = sc.created();
            r.checksums = sc.checksums();
            return r;
        }
    }
}
