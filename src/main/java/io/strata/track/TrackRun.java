package io.strata.track;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.redo.LiveLog;
import io.strata.redo.RedoLayout;
import io.strata.redo.PageCollector;
import io.strata.repo.ChangeSetFormat;
import io.strata.repo.ChangedPages;
import io.strata.repo.Heartbeat;
import io.strata.repo.Lineage;
import io.strata.repo.Manifest;
import io.strata.repo.RepoLock;
import io.strata.repo.Repository;
import io.strata.repo.Tracking;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;
import io.strata.util.SignalExit;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * {@code strata track}: follows the server's redo log and stores, for consecutive LSN ranges, the
 * pages it names (change sets, {@link Tracking}), so that an incremental can find its changed pages
 * without a full scan even after the log has wrapped many times since its parent began.
 *
 * <p>It reads the live log the way the backup's redo copier does (below Innodb_lsn_flushed, every
 * mini-transaction validated, the server's LSN compared after each read so that nothing the server
 * may have overwritten is trusted; {@link LiveLog}). Whatever it cannot read is recorded as a gap,
 * never skipped silently: the log overwritten before it was read (the tracker fell behind, or was
 * not running while the log wrapped), the log resized or re-created, the server restarted (its
 * start time differs from the one the last range was read under; a restart may bring back another
 * data directory), or the server's LSN going backwards (a restored data directory: every stored set
 * then describes another history and is dropped). The same happens when the server's data
 * directory is of another {@link Lineage} than the stored sets (restored by strata, design rule 9),
 * checked at start and after every restart of the server; the tracker then records the new lineage.
 *
 * <p>Memory is bounded: the pages of the current range are flushed to a change set when they
 * take more than {@code memoryLimit} bytes, besides every {@code flushInterval}. Change sets that no
 * future incremental can need are removed after each flush: those ending before the start of the
 * newest completed full backup of this server (the base of a differential, and at or before the
 * start of every other possible default base) and before the server's current checkpoint. Nothing is
 * removed while a backup is running. The tracker does not take the repository's writer lock, so it
 * never blocks a backup; it holds its own lock per server ({@code tracking/<identity>/lock}: a file
 * lock, or a lease in object storage, checked before every change set or gap it stores).
 *
 * <p>The repository may be local or in object storage, encrypted or not. A store request that fails
 * for good (after the store's retries) ends the run with the store's error (store-failed for S3);
 * a continuous tracker first tries to leave a last heartbeat saying so ({@link Heartbeat#STOPPED}).
 * What it had read but not stored is lost only from memory: the next run continues where the
 * stored change sets end and records a gap only where the log no longer holds that range.
 */
public final class TrackRun {
    /** Largest LSN range read in one step, so that a stop request is seen soon even with a backlog. */
    private static final long STEP = 64L << 20;

    /**
     * @param once          read up to the server's flushed LSN at start, store it and exit
     * @param flushInterval store the current range at least this often
     * @param memoryLimit   store the current range when its pages take more heap than this
     * @param poll          pause between reads when caught up
     * @param testDelayMs   test hook: pause this long after every read, to prove that a tracker that
     *                      falls behind records a gap
     */
    public record Options(ConnectionOptions connection, Path datadir, boolean once, Duration flushInterval, long memoryLimit,
                          Duration poll, long testDelayMs) {}

    private final Options opts;
    /** Where the run says what it does, one line at a time. */
    private final Consumer<String> say;
    private volatile boolean stop;
    /** Counted down when the run has stored what it read; a stop request waits for it. */
    private final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);

    private final Repository repo;
    /** The tracker's lock (a lease in object storage), checked before each change set or gap is stored. */
    private RepoLock lock;
    private Tracking tracking;
    private ServerFacts facts;
    private ServerBackups backups;
    private ServerSession session;
    private LiveLog log;
    private long serverStarted;
    private long pos;
    private long rangeFrom;
    private ChangedPages pending = new ChangedPages();
    private PageCollector collector = new PageCollector(pending);
    private long rangeMtrs;
    private long lastFlush = System.nanoTime();
    private long lastFileCheck = System.nanoTime();
    private long redoRead;
    private int setsStored;
    private int gapsRecorded;
    private final List<String> gaps = new ArrayList<>();
    /** How often a continuous tracker rewrites its heartbeat (it polls every 100 ms; the heartbeat need not). */
    static final Duration BEAT_INTERVAL = Duration.ofSeconds(10);
    private final Instant started = Instant.now();
    private Instant caughtUp;
    private long lastBeat = System.nanoTime() - BEAT_INTERVAL.toNanos();

    private TrackRun(Repository repo, Options opts, Consumer<String> say) {
        this.repo = repo;
        this.opts = opts;
        this.say = say;
    }

    /** What a run did. */
    /** @param gaps the gaps this run recorded, each as "LSN from..to: reason" */
    public record Outcome(long from, long to, long redoBytesRead, int setsStored, int gapsRecorded, List<String> gaps) {}

    /**
     * Follows the server's redo log into {@code repo}, opened by the caller, until stopped by a
     * signal or, with {@code once}, up to the flushed LSN at start.
     *
     * @param say receives one line per event worth telling (start, change set stored, gap, stop),
     *            each starting with {@code [track]}
     * @throws StrataException repo-locked when another tracker follows this server into the repository;
     *         server errors that reconnecting cannot cure (any, with {@code once})
     */
    public static Outcome run(Repository repo, Options opts, Consumer<String> say) {
        TrackRun t = new TrackRun(repo, opts, say);
        Thread hook = new Thread(t::onSignal, "strata-track-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return t.execute();
        } finally {
            t.finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // a signal came as the run ended: the hook runs for sure, perhaps not yet begun, and
                // waits for our report; so that beforeExit waits for the halt instead of racing it
                SignalExit.begin();
            }
        }
    }

    /**
     * SIGINT/SIGTERM: ask the loop to store what it has read and wait for that (bounded), then for
     * the command to print its outcome ({@link SignalExit}); the JVM then exits with the signal's
     * status (130 or 143), whatever the outcome (new gaps included).
     */
    private void onSignal() {
        SignalExit.begin();
        stop = true;
        long deadline = System.nanoTime() + 60_000_000_000L;
        try {
            finished.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
            return;
        }
        SignalExit.awaitReport(Math.max(1, (deadline - System.nanoTime()) / 1_000_000_000L));
    }

    private Outcome execute() {
        repo.requireKey(); // before the server is asked anything: every object of an encrypted repository is sealed
        session = ServerSession.connect(opts.connection());
        try {
            facts = ServerFacts.read(session, opts.datadir());
            RedoLayout.require(facts.logDir(), facts.version());
            tracking = new Tracking(repo, facts.serverKey());
            backups = new ServerBackups(repo, facts.serverKey());
            try (RepoLock held = tracking.lock()) {
                lock = held;
                try {
                    tracking.describeServer();
                    long first = start();
                    long target = opts.once() ? session.lsnStatus().flushed() : Long.MAX_VALUE;
                    loop(target);
                    flush();
                    prune();
                    say.accept("[track] " + (stop ? "stopped by a signal" : "done") + ": change sets cover the redo log up to LSN " + pos
                            + "; read " + redoRead + " bytes of redo log in this run");
                    return new Outcome(first, pos, redoRead, setsStored, gapsRecorded, List.copyOf(gaps));
                } catch (StrataException e) {
                    lastBeat(e);
                    throw e;
                }
            }
        } finally {
            if (log != null) {
                log.close();
            }
            session.close();
        }
    }

    private Path logFile() {
        return facts.logDir().resolve("ib_logfile0");
    }

    private long queryServerStarted() {
        return Long.parseLong(session.queryString(
                "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"));
    }

    private static boolean sameStart(Long a, long b) {
        return a != null && Math.abs(a - b) <= 2; // uptime is in whole seconds
    }

    /** Decides where to begin reading; records a gap if the stored coverage cannot be continued. */
    private long start() {
        serverStarted = queryServerStarted();
        log = LiveLog.open(logFile(), session);
        ServerSession.LsnStatus st = session.lsnStatus();
        long ckpt = log.checkpoint().checkpointLsn();
        Tracking.End end = tracking.end();
        Lineage lineage = Lineage.ofDatadir(facts.datadir());
        String followed = tracking.lineage();
        if (end != null && !Objects.equals(followed, Lineage.idOf(lineage))) {
            newLineage(lineage, followed, ckpt);
            pos = ckpt;
        } else if (end == null) {
            if (!Objects.equals(followed, Lineage.idOf(lineage))) {
                lock.check();
                tracking.recordLineage(Lineage.idOf(lineage));
            }
            pos = ckpt;
            // begin where the newest backups began, if the log still holds that, so that the next
            // incremental is covered at once
            for (Manifest m : backups.completed()) {
                if (m.startLsn() < pos && log.whyNotHeld(m.startLsn(), st.current()) == null) {
                    pos = m.startLsn();
                }
            }
            say.accept("[track] no earlier change sets: following the redo log from LSN " + pos);
        } else if (st.current() < end.lsn()) {
            int dropped = dropAllSets();
            record(0, ckpt, "the server's LSN " + st.current() + " is below LSN " + end.lsn() + " where the change sets ended: its data directory was"
                    + " replaced or restored, and the " + dropped + " stored change sets and gaps described another history");
            pos = ckpt;
        } else if (!sameStart(end.serverStarted(), serverStarted)) {
            pos = end.lsn();
            restarted(ckpt);
        } else {
            String why = log.whyNotHeld(end.lsn(), st.current());
            if (why == null) {
                pos = end.lsn();
                say.accept("[track] continuing from LSN " + pos);
            } else {
                pos = Math.max(ckpt, end.lsn());
                record(end.lsn(), pos, "the tracker was not running while the log moved on: " + why);
            }
        }
        rangeFrom = pos;
        return pos;
    }

    /**
     * The server's data directory is of another lineage than the stored change sets (it was
     * restored): they describe another history. Drops them, records a gap from 0 to {@code ckpt}
     * and only then the new lineage, so that no backup ever uses a set of the old one for the new.
     */
    private void newLineage(Lineage lineage, String followed, long ckpt) {
        int dropped = dropAllSets();
        record(0, ckpt, "the server's data directory was " + Lineage.describe(lineage) + ", and the change sets followed lineage "
                + Lineage.shortId(followed) + ": the " + dropped + " stored change sets and gaps described another history");
        lock.check();
        tracking.recordLineage(Lineage.idOf(lineage));
    }

    /** Drops every stored change set and gap, only while the lease is held (rule 5: nothing changes after it may be lost). */
    private int dropAllSets() {
        lock.check();
        return tracking.dropAllSets();
    }

    private void record(long from, long to, String reason) {
        if (to <= from) {
            return;
        }
        lock.check();
        tracking.recordGap(from, to, reason, serverStarted);
        gapsRecorded++;
        gaps.add("LSN " + from + ".." + to + ": " + reason);
        say.accept("[track] GAP at LSN " + from + ".." + to + ": " + reason);
    }

    private void loop(long target) {
        while (!stop && pos < target) {
            boolean behind;
            try {
                behind = step(target);
            } catch (StrataException e) {
                serverLost(e);
                continue;
            }
            if (!behind) {
                caughtUp = Instant.now();
            }
            beat(null, false);
            if (!behind && !stop && pos < target) {
                sleep(opts.poll().toMillis());
            }
            if (opts.testDelayMs() > 0) {
                sleep(opts.testDelayMs());
            }
            if (pending.memoryBytes() > opts.memoryLimit() || System.nanoTime() - lastFlush > opts.flushInterval().toNanos()) {
                flush();
                try {
                    prune(); // asks the server for its checkpoint: it may have gone away since the step
                } catch (StrataException e) {
                    serverLost(e);
                }
            }
        }
    }

    /**
     * A query failed: when the server went away (and the tracker runs continuously), stores what
     * was read, says so in the heartbeat and waits for the server; anything else is thrown on.
     */
    private void serverLost(StrataException e) {
        if (e.code() != ErrorCode.SERVER_ERROR && e.code() != ErrorCode.SERVER_UNREACHABLE || opts.once()) {
            throw e;
        }
        flush();
        beat(e.getMessage(), true);
        reconnect(e.getMessage());
    }

    /**
     * Rewrites the heartbeat ({@link Heartbeat}) when {@link #BEAT_INTERVAL} has passed since the
     * last one, or at once when {@code now}; only a continuous tracker has one.
     */
    private void beat(String error, boolean now) {
        beat(error, now, pos);
    }

    /** @param reached the LSN the heartbeat reports, or null before anything was read */
    private void beat(String error, boolean now, Long reached) {
        if (opts.once() || !now && System.nanoTime() - lastBeat < BEAT_INTERVAL.toNanos()) {
            return;
        }
        lastBeat = System.nanoTime();
        Heartbeat.of(Heartbeat.TRACK, facts.serverKey(), started, reached == null ? null : Long.toString(reached), caughtUp == null ? started : caughtUp,
                error, gaps.size(), BEAT_INTERVAL).write(repo);
    }

    /**
     * A continuous tracker ends on {@code e} (the object store failed for good, the lease was lost, the
     * log could not be read ...): its last heartbeat says why ({@code lastError} "stopped: ...") and
     * reaches only as far as the stored change sets, which is where the next run continues. Best
     * effort: when the store itself fails, the heartbeat cannot be written and grows stale instead,
     * which {@code check} reports just as well.
     */
    private void lastBeat(StrataException e) {
        if (opts.once() || e.code() == ErrorCode.REPO_LOCKED) {
            return; // a lost lease: the heartbeat may be another tracker's by now
        }
        try {
            // rangeFrom 0: it failed before start() chose where to begin (LSNs of a real log are far above 0)
            beat(Heartbeat.STOPPED + e.getMessage(), true, rangeFrom == 0 ? null : rangeFrom);
        } catch (RuntimeException ignored) {
            say.accept("[track] could not store the last heartbeat either: " + ignored.getMessage());
        }
    }

    /** Reads one piece of new log; returns whether more is waiting. */
    private boolean step(long target) {
        if (System.nanoTime() - lastFileCheck > 1_000_000_000L) {
            lastFileCheck = System.nanoTime();
            if (log.replaced()) {
                lost("the redo log file " + logFile() + " was resized or re-created");
                return true;
            }
        }
        ServerSession.LsnStatus st = session.lsnStatus();
        if (st.current() < pos) {
            lost("the server's LSN went back from " + pos + " to " + st.current());
            return true;
        }
        // not capped at target: the flushed LSN may lie inside a mini-transaction, which --once then
        // reads to its end
        long fence = st.flushed();
        if (fence <= pos) {
            return false;
        }
        long to = Math.min(fence, pos + STEP);
        try {
            long before = pos;
            long got = log.scan(pos, to, () -> session.lsnStatus().current(), collector);
            redoRead += got - before;
            rangeMtrs = collector.mtrCount();
            pos = got;
            return to < fence;
        } catch (LiveLog.Unavailable e) {
            lost(e.getMessage());
            return true;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "reading the redo log " + logFile() + " failed: " + e.getMessage(), null, e);
        }
    }

    /**
     * The log could not be read from {@code pos}: store what was read, then continue from the
     * server's current checkpoint (which the log always holds) and record what lies between as a gap.
     */
    private void lost(String reason) {
        flush();
        log.close();
        log = LiveLog.open(logFile(), session);
        ServerSession.LsnStatus st = session.lsnStatus();
        long ckpt = log.checkpoint().checkpointLsn();
        if (st.current() < pos) {
            int dropped = dropAllSets();
            record(0, ckpt, reason + ": the data directory was replaced or restored, and the " + dropped
                    + " stored change sets and gaps described another history");
            pos = ckpt;
        } else if (ckpt > pos) {
            record(pos, ckpt, reason);
            pos = ckpt;
        } else {
            // the checkpoint is not past pos, so the server still keeps the log from pos: try again
            say.accept("[track] cannot read the redo log at LSN " + pos + " (" + reason + "); trying again");
            sleep(1000);
        }
        rangeFrom = pos;
    }

    /**
     * The server restarted since the tracker read up to {@code pos}. A restart may bring back another
     * data directory whose log continues differently, so coverage across {@code pos} is not trusted:
     * a gap from pos to the new checkpoint (at least one byte, so that it covers pos), and reading
     * resumes at the later of the two.
     */
    private void restarted(long ckpt) {
        long from = pos;
        record(from, Math.max(ckpt, from + 1), "the server restarted (at " + java.time.Instant.ofEpochSecond(serverStarted) + ") after the tracker had read up to LSN "
                + from + "; a restart may bring back a different data directory");
        pos = Math.max(ckpt, from);
        rangeFrom = pos;
    }

    /** The connection failed: wait for the server, then check whether it restarted. */
    private void reconnect(String why) {
        say.accept("[track] lost the server (" + why + "); reconnecting");
        session.close();
        while (!stop) {
            sleep(2000);
            try {
                session = ServerSession.connect(opts.connection());
                long started = queryServerStarted();
                // the start time is known to the second only: a server restarted on a restored data
                // directory within two seconds looks like the same start, but its redo log is another file
                boolean logReplaced = log.replaced();
                if (!sameStart(started, serverStarted) || logReplaced) {
                    serverStarted = started;
                    log.close();
                    log = LiveLog.open(logFile(), session);
                    long current = session.lsnStatus().current();
                    Lineage lineage = Lineage.ofDatadir(facts.datadir());
                    String followed = tracking.lineage();
                    if (!Objects.equals(followed, Lineage.idOf(lineage))) {
                        flush(); // what was read before the restart belongs to the old lineage: dropped with it
                        newLineage(lineage, followed, log.checkpoint().checkpointLsn());
                        pos = log.checkpoint().checkpointLsn();
                        rangeFrom = pos;
                    } else if (current < pos) {
                        lost("the server's LSN went back from " + pos + " to " + current);
                    } else {
                        restarted(log.checkpoint().checkpointLsn());
                    }
                }
                say.accept("[track] connected again; following from LSN " + pos);
                return;
            } catch (StrataException e) {
                if (e.code() != ErrorCode.SERVER_UNREACHABLE && e.code() != ErrorCode.SERVER_ERROR) {
                    throw e;
                }
            }
        }
    }

    /** Stores the pages read since {@code rangeFrom} as one change set. */
    private void flush() {
        lastFlush = System.nanoTime();
        if (pos <= rangeFrom) {
            return;
        }
        ChangeSetFormat.Header h = new ChangeSetFormat.Header(rangeFrom, pos, log.header().firstLsn(), log.fileSize(), rangeMtrs, serverStarted);
        lock.check(); // a tracker that lost its lease stores nothing more: another may follow the server now
        long bytes = tracking.storeSet(h, pending);
        setsStored++;
        say.accept(String.format("[track] stored change set LSN %d..%d: %,d pages of %d tablespaces, %,d mini-transactions, %,d bytes",
                rangeFrom, pos, pending.pageCount(), pending.spaces().size(), rangeMtrs, bytes));
        pending = new ChangedPages();
        collector = new PageCollector(pending);
        rangeMtrs = 0;
        rangeFrom = pos;
    }

    /** Removes change sets no future incremental can need (see the class comment). */
    private void prune() {
        // the checkpoint first: see ServerBackups.pruneHorizon
        Long horizon = backups.pruneHorizon(session.lsnStatus().lastCheckpoint());
        if (horizon == null) {
            return;
        }
        lock.check();
        int n = tracking.prune(horizon);
        if (n > 0) {
            say.accept("[track] removed " + n + " change sets and gaps ending at or before LSN " + horizon + ", which no future incremental needs");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
