package io.strata.archive;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogCompaction;
import io.strata.repo.Heartbeat;
import io.strata.repo.Lineage;
import io.strata.repo.RepoLock;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;
import io.strata.store.StorageException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * {@code strata binlog archive}: copies a server's binary logs into the repository, closed files
 * once and the active file as it grows, as segments (see {@link BinlogArchive}).
 *
 * <p>The files are read from the server's binlog directory ({@code @@log_bin_basename}), as backups
 * read the data directory: strata runs on the database host. Only bytes below a safe end are
 * copied: for the active file the position SHOW MASTER STATUS reports (the end of the last
 * complete transaction, never a half-written event), for a closed file its final size. Every event
 * is checked (size, log_pos where the server writes one, CRC-32; see {@link io.strata.binlog.BinlogScanner})
 * before it is stored. Which files exist comes from SHOW BINARY LOGS (the server's binlog index),
 * never from listing the directory, so what MariaDB 11.4+ keeps beside the binlogs (the GTID index
 * {@code binlog.NNNNNN.idx}, the {@code #binlog_cache_files/} directory) is never taken for one.
 *
 * <p>State lives only in the repository: a restarted archiver continues each file where its last
 * segment ended. Before it starts a file it checks that the previous archived file is complete and
 * directly precedes it; if not, binlogs were purged before they were archived and a gap record says
 * which. A server whose binlog history restarted (RESET MASTER, or different files under the same
 * names) starts a new timeline after a gap record. Gaps are never bridged.
 *
 * <p>The archive is written only through the repository's store, so a local directory and S3,
 * encrypted or not, behave alike (docs/repository-format.md, "Binlog archive", "In object
 * storage"): the lock {@code binlog-<source>.lock} is a file lock or a lease, checked before every
 * record that commits something; at start the leftovers of a killed archiver (unfinished uploads,
 * data without a summary) are removed. A store request that fails for good ends the run, the
 * continuous one too, with the store's exit code (store-failed, 30), after a last heartbeat that
 * says why ({@link Heartbeat#STOPPED}); the next run continues where the stored segments end.
 */
public final class BinlogArchiver {

    public record Options(ConnectionOptions connection, Path datadir, boolean once, Duration interval) {}

    /**
     * @param gaps            why each gap recorded by this run was recorded (lost point-in-time coverage), in order
     * @param lastPassFailure why the last pass after a stop could not archive what was new, or null
     */
    public record Result(long segments, long bytes, List<String> gaps, String end, String lastPassFailure) {}

    /**
     * Lets a signal handler stop the archiver: it wakes it from its sleep, the round under way
     * finishes, and one more round archives what the server wrote until the signal.
     */
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

    /** A binlog file as SHOW BINARY LOGS lists it: name and size in bytes. */
    record ServerLog(String name, long size) {}

    private final Options opts;
    private final Consumer<String> log;
    private final Stopper stopper;
    private final Repository repo;
    private ServerFacts facts;
    private BinlogArchive archive;
    private Path binlogDir;
    private long segments;
    private long bytes;
    private final List<String> gaps = new ArrayList<>();
    private long lastAsOf;
    private SegmentCopier copier;
    private final Instant started = Instant.now();
    private Instant caughtUp = started;
    private Instant lastBeat = started;

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
            String lockName = BinlogArchive.lockName(a.archive.dir());
            try (RepoLock lock = repo.lock(lockName, "the binlogs of " + a.facts.serverKey() + " are already being archived into "
                    + repo.root() + " by another strata process", "only one \"strata binlog archive\" per server and repository may run; stop the other one first")) {
                a.archive = BinlogArchive.load(repo, a.archive.dir());
                // in object storage the lock is a lease: every record that commits something is
                // stored only while it is still held (a lost lease stops the archiver)
                a.archive.guardWrites(lock);
                if (a.archive.source() == null) {
                    a.archive.writeSource(new BinlogArchive.Source(BinlogArchive.FORMAT_VERSION, a.facts.serverKey(), a.facts.hostname(), a.facts.port(),
                            a.facts.serverId(), a.facts.logBinBasename(), Instant.now().toString()));
                }
                int discarded = BinlogCompaction.tidy(a.archive);
                if (discarded > 0) {
                    log.accept("removed " + discarded + " unfinished object(s) an interrupted archiver left in " + a.archive.describe());
                }
                a.copier = new SegmentCopier(a.archive, a.binlogDir, log);
                a.announce();
                return a.loop(s);
            }
        } catch (StorageException e) {
            // a request that failed for good gets the archiver's hint; a missing object, a full
            // disk or refused credentials keep their own
            throw e.kind() == StorageException.Kind.REMOTE_FAILED ? storeFailed(e) : e;
        } finally {
            s.close();
        }
    }

    /**
     * A store request failed for good (after the store's own retries): the run ends with the
     * store's exit code; what was stored before stays complete (a segment counts only with its
     * summary), and the next run continues where the stored segments end.
     */
    private static StrataException storeFailed(StorageException e) {
        return new StrataException(e.code(), e.getMessage(), "the archive holds everything stored before this error; start \"strata binlog archive\" again "
                + "once the object store works (check the network, the service and the credentials): it continues where the archive ends", e);
    }

    /** Refuses a server that writes no binlogs (also checked before a new repository is created for the archive). */
    public static void requireLogBin(ServerFacts facts, String server) {
        if (!facts.logBin() || facts.logBinBasename() == null) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "binary logging is off on " + server + " (log_bin=OFF): there are no binlogs to archive",
                    "start the server with --log-bin to make point-in-time recovery possible");
        }
    }

    private void identify(ServerSession s) {
        facts = ServerFacts.read(s, opts.datadir());
        requireLogBin(facts, opts.connection().describe());
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

    /**
     * Rounds until {@code --once} is done or a signal stopped the archiver. A signal never cuts a
     * round short: the round under way ends, and because it read the server's position before the
     * signal came, one last round follows, so that what was committed before the signal is archived.
     */
    private Result loop(ServerSession first) {
        ServerSession s = first;
        boolean lastPass = false;
        String lastPassFailure = null;
        try {
            while (true) {
                try {
                    if (s == null) {
                        s = reconnect();
                    }
                    poll(s);
                    caughtUp = Instant.now();
                    beat(null, null);
                } catch (StrataException e) {
                    boolean transient_ = !(e instanceof StorageException) && (e.code() == ErrorCode.SERVER_ERROR || e.code() == ErrorCode.SERVER_UNREACHABLE);
                    if (opts.once() || !transient_) {
                        lastBeat(e);
                        throw e;
                    }
                    if (s != null && s != first) {
                        s.close();
                    }
                    s = null;
                    beat(e.getMessage(), caughtUp);
                    if (lastPass) {
                        lastPassFailure = e.getMessage();
                        log.accept("WARNING: the last pass could not archive what is new: " + e.getMessage());
                        break;
                    }
                    log.accept("WARNING: " + e.getMessage() + "; trying again in " + opts.interval().toSeconds() + " s");
                }
                if (opts.once() || lastPass) {
                    break;
                }
                if (!stopper.stopped()) {
                    stopper.sleep(opts.interval().toMillis());
                }
                if (stopper.stopped()) {
                    lastPass = true;
                    log.accept("stopping: a last pass archives what the server wrote until now (a second signal stops at once)");
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
        return new Result(segments, bytes, List.copyOf(gaps), end, lastPassFailure);
    }

    /**
     * Rewrites the heartbeat ({@link Heartbeat}) after a poll, and during a long one; only a
     * continuous archiver has one ({@code --once} runs are watched through their exit code).
     *
     * @param behindSince when the archive last held everything the server had written, or null when this poll caught up
     */
    private void beat(String error, Instant behindSince) {
        if (opts.once()) {
            return;
        }
        lastBeat = Instant.now();
        int t = archive.newestTimeline();
        ArchivedBinlog last = t == 0 ? null : newest(t);
        Heartbeat.of(Heartbeat.ARCHIVE, facts.serverKey(), started, last == null ? null : last.name() + ":" + last.usableEnd(),
                behindSince, error, gaps.size(), opts.interval()).write(repo);
    }

    /**
     * The heartbeat of a continuous archiver that stops on an error: its last error says so, for
     * {@code status} and {@code check}. Best effort: a store that fails may refuse it too, and the
     * heartbeat then goes stale, which {@code check} reports as well.
     */
    private void lastBeat(StrataException e) {
        if (e.code() == ErrorCode.REPO_LOCKED) {
            return; // a lost lease: the heartbeat may be another archiver's by now
        }
        try {
            beat(Heartbeat.STOPPED + e.getMessage(), caughtUp);
        } catch (RuntimeException ignored) {
            // the store itself is what failed; the old heartbeat grows stale
        }
    }

    /** A short wait that a stop does not cut (unlike the sleep between rounds). */
    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
            ServerSession.MasterStatus ms = s.masterStatus();
            if (ms == null || logs.isEmpty()) {
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "binary logging is off on " + opts.connection().describe(), "start the server with --log-bin");
            }
            activeFile = ms.file();
            activeEnd = ms.position();
            if (logs.get(logs.size() - 1).name().equals(activeFile)) {
                break;
            }
            if (attempt == 5) {
                throw new StrataException(ErrorCode.SERVER_ERROR, "the binary log rotated during every one of 6 attempts to read its position", null);
            }
            pause(50);
        }
        long asOf = serverNow - 1;
        int tl = archive.newestTimeline();
        Lineage lineage = Lineage.ofDatadir(facts.datadir());
        if (tl > 0) {
            String reset = resetReason(tl, logs);
            String followed = archive.timelines().get(tl).lineage();
            if (!Objects.equals(followed, Lineage.idOf(lineage))) {
                String first = firstOfLineage(lineage, logs, activeFile);
                String why = "new history: the server's data directory was " + Lineage.describe(lineage) + ", and timeline " + tl
                        + " followed lineage " + Lineage.shortId(followed);
                recordGap(tl, newest(tl), tl + 1, first, List.of(), why);
                tl++;
                archive.writeTimeline(new BinlogArchive.Timeline(BinlogArchive.FORMAT_VERSION, tl, first, Instant.now().toString(), why, Lineage.idOf(lineage)));
                log.accept("new timeline " + tl + " from " + first + " (" + why + ")");
            } else if (reset != null) {
                ArchivedBinlog last = newest(tl);
                recordGap(tl, last, tl + 1, logs.get(0).name(), List.of(), "server reset: " + reset);
                tl++;
                archive.writeTimeline(new BinlogArchive.Timeline(BinlogArchive.FORMAT_VERSION, tl, logs.get(0).name(), Instant.now().toString(),
                        "server reset: " + reset, Lineage.idOf(lineage)));
                log.accept("new timeline " + tl + " from " + logs.get(0).name() + " (server reset: " + reset + ")");
            }
        } else {
            tl = 1;
            archive.writeTimeline(new BinlogArchive.Timeline(BinlogArchive.FORMAT_VERSION, tl, logs.get(0).name(), Instant.now().toString(),
                    "archive started; " + logs.get(0).name() + " was the oldest binlog on the server", Lineage.idOf(lineage)));
        }
        ArchivedBinlog last = newest(tl);
        long before = segments;
        long firstOfTimeline = BinlogArchive.fileNumber(archive.timelines().get(tl).firstFile());
        for (ServerLog f : logs) {
            if (last != null && BinlogArchive.fileNumber(f.name()) < last.number() || BinlogArchive.fileNumber(f.name()) < firstOfTimeline) {
                continue;
            }
            boolean active = f.name().equals(activeFile);
            archiveFile(tl, f, active, active ? activeEnd : f.size(), asOf);
            if (Duration.between(lastBeat, Instant.now()).compareTo(opts.interval()) >= 0) {
                beat(null, caughtUp); // a long round (many or large files to catch up on) is no dead archiver
            }
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

    /**
     * The first binlog of a new lineage's history: the oldest on the server created at or after the
     * restore that made the lineage (the restored server's first binlog; older files belong to the
     * old history), else the active file. Without a restore time (the origin, an unreadable mark),
     * the active file.
     */
    private String firstOfLineage(Lineage lineage, List<ServerLog> logs, String activeFile) {
        if (lineage != null && lineage.restored() != null) {
            long restored = Instant.parse(lineage.restored()).getEpochSecond();
            for (ServerLog f : logs) {
                SegmentCopier.FileStart id = SegmentCopier.fileStart(binlogDir.resolve(f.name()));
                if (id != null && id.created() >= restored) {
                    return f.name();
                }
            }
        }
        return activeFile;
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
                SegmentCopier.FileStart id = SegmentCopier.fileStart(binlogDir.resolve(f.name()));
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

    private void recordGap(int tl, ArchivedBinlog after, int nextTl, String nextFile, List<String> lost, String reason) {
        archive.writeGap(new BinlogArchive.Gap(BinlogArchive.FORMAT_VERSION, tl, after == null ? null : after.name(), after == null ? 0 : after.usableEnd(),
                nextTl, nextFile, lost, reason, Instant.now().toString()));
        gaps.add(reason);
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
        BinlogArchive.Segment seg = copier.copy(tl, f, af, active, safeEnd, asOf);
        if (seg != null) {
            segments++;
            bytes += seg.length();
        }
    }
}
