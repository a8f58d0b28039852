package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;

import java.io.IOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The writer lock of a repository in object storage, where there is no file lock: each writer
 * stores its own lock object {@code locks/<token>} naming its host, pid and the start time of its
 * process, and renews it (a heartbeat) every {@link #HEARTBEAT}.
 *
 * <p>Taking it: list {@code locks/} and refuse when a live lock is there; store ours; list again
 * and, if another live lock appeared meanwhile, remove ours and refuse. Two writers that start
 * at the same moment then both see each other and both refuse (safe, never both proceed); this
 * relies only on S3's read-after-write consistency for PUT and LIST (which AWS S3 has given
 * since December 2020), not on conditional writes.
 *
 * <p>A lock is stale, and removed by the next writer, when its heartbeat is older than
 * {@link #STALE}, or at once when it names this host and a pid that no longer runs (or runs a
 * process started at another time). A holder that could not renew its lease for
 * {@link #STALE} minus a margin, or whose lock object was removed by another writer, has lost the
 * lock: {@link #check()} fails before it stores a manifest. Limits: staleness across hosts
 * compares the writer's clock with the reader's, so clocks must agree to well within
 * {@link #STALE}; a writer frozen for longer than that (SIGSTOP, a suspended VM) between
 * {@link #check()} and its next write may overlap with a new writer.
 */
final class LeaseLock implements RepoLock {
    static final String PREFIX = Keys.LOCKS;
    static final Duration HEARTBEAT = Duration.ofSeconds(30);
    static final Duration STALE = Duration.ofMinutes(5);
    private static final Duration MARGIN = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The stored lock object (content "lock"). */
    record Info(String token, String host, long pid, String processStart, String created, String heartbeat, long staleAfterSeconds) {
        Info beat(Instant now) {
            return new Info(token, host, pid, processStart, created, now.toString(), staleAfterSeconds);
        }

        String describe() {
            return "pid " + pid + " on " + host + ", last heartbeat " + heartbeat;
        }
    }

    /**
     * Where lock objects are stored: the repository's store, JSON in its codec, below
     * {@code prefix} ({@link #PREFIX} for the writer lock; {@link Keys#CREATING} for the claim of a
     * repository being created, see {@link RepoConfig}).
     */
    record Place(ObjectIo io, ObjectCodec codec, String repoName, String prefix) {
        Place(ObjectIo io, ObjectCodec codec, String repoName) {
            this(io, codec, repoName, PREFIX);
        }

        ObjectStore store() { return io.store(); }
    }

    private final Place repo;
    private final String key;
    private volatile Info info;
    private volatile Instant lastBeat;
    private volatile String lost;
    private final Thread heartbeat;

    private LeaseLock(Place repo, Info info) {
        this.repo = repo;
        this.key = repo.prefix() + info.token();
        this.info = info;
        this.lastBeat = Instant.parse(info.heartbeat());
        this.heartbeat = new Thread(this::beatLoop, "strata-lock-heartbeat");
        this.heartbeat.setDaemon(true);
    }

    static LeaseLock acquire(Place repo) {
        return acquire(repo, null, null);
    }

    /**
     * Takes the lease below {@code repo.prefix()}, or fails with repo-locked: with
     * {@code lockedMessage} and {@code hint} (each followed by the holder) when given, else the
     * writer lock's message.
     */
    static LeaseLock acquire(Place repo, String lockedMessage, String hint) {
        Instant start = Instant.now();
        for (String k : keys(repo)) {
            Info i = readSettled(repo, k);
            if (i != null && !stale(i, start)) {
                throw locked(repo, i, lockedMessage, hint);
            }
            if (i != null || repo.store().exists(k)) {
                repo.store().delete(k); // a writer that died or stopped renewing its lease, or a lock object that stays unreadable
            }
        }
        Instant now = Instant.now();
        ProcessHandle self = ProcessHandle.current();
        byte[] t = new byte[12];
        RANDOM.nextBytes(t);
        Info mine = new Info(HexFormat.of().formatHex(t), host(), self.pid(), self.info().startInstant().map(Instant::toString).orElse(null),
                now.toString(), now.toString(), STALE.toSeconds());
        LeaseLock lock = new LeaseLock(repo, mine);
        repo.io().writeJson(lock.key, "lock", mine, repo.codec());
        for (String k : keys(repo)) {
            if (k.equals(lock.key)) {
                continue;
            }
            Info i = readSettled(repo, k);
            if (i != null && !stale(i, Instant.now())) {
                lock.release();
                throw locked(repo, i, lockedMessage, hint);
            }
        }
        lock.heartbeat.start();
        return lock;
    }

    private static StrataException locked(Place repo, Info holder, String lockedMessage, String hint) {
        if (lockedMessage != null) {
            return new StrataException(ErrorCode.REPO_LOCKED, lockedMessage + " (" + holder.describe() + ")",
                    (hint == null ? "" : hint + "; ") + "a lease whose heartbeat stops is taken over " + STALE.toMinutes() + " minutes later");
        }
        return new StrataException(ErrorCode.REPO_LOCKED, "repository " + repo.repoName() + " is locked by another strata process (" + holder.describe() + ")",
                "wait for it to finish, or check \"strata list\" for a running backup; a lock whose heartbeat stops is taken over "
                        + STALE.toMinutes() + " minutes later");
    }

    /** The holder of a live lock; null when nobody holds it. Reads only. */
    static Info liveHolder(Place repo) {
        Instant now = Instant.now();
        for (String k : keys(repo)) {
            Info i = readSettled(repo, k);
            if (i != null && !stale(i, now)) {
                return i;
            }
        }
        return null;
    }

    private static List<String> keys(Place repo) {
        return repo.store().list(repo.prefix());
    }

    /** Pauses between reads of a lock object that could not be read (milliseconds), and their number. */
    static final long UNREADABLE_PAUSE_MS = 250;
    static final int UNREADABLE_READS = 5;

    /**
     * A lock object, or null when it stays missing or unreadable over {@link #UNREADABLE_READS} reads
     * {@link #UNREADABLE_PAUSE_MS} ms apart. One failed read proves nothing: the holder's heartbeat
     * rewrites the object every {@link #HEARTBEAT}, and an object store may answer a read that meets
     * the rewrite with a missing or a partial object; judging the lease stale on that read would
     * delete a live writer's lock.
     */
    static Info readSettled(Place repo, String key) {
        for (int n = 1; ; n++) {
            Info i = read(repo, key);
            if (i != null || n >= UNREADABLE_READS) {
                return i;
            }
            try {
                Thread.sleep(UNREADABLE_PAUSE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while reading the lock " + repo.store().describe(key), null, e);
            }
        }
    }

    /** A lock object, or null when it vanished meanwhile or cannot be read. */
    private static Info read(Place repo, String key) {
        try {
            return repo.io().readJson(key, "lock", Info.class, repo.codec());
        } catch (StrataException e) {
            if (e.code() == ErrorCode.STORE_FAILED || e.code() == ErrorCode.REPO_NOT_WRITABLE) {
                throw e;
            }
            return null;
        }
    }

    static boolean stale(Info i, Instant now) {
        Instant beat;
        try {
            beat = Instant.parse(i.heartbeat());
        } catch (RuntimeException e) {
            return true;
        }
        if (Duration.between(beat, now).compareTo(Duration.ofSeconds(i.staleAfterSeconds())) > 0) {
            return true;
        }
        if (host().equals(i.host())) {
            Optional<ProcessHandle> p = ProcessHandle.of(i.pid());
            if (p.isEmpty() || !p.get().isAlive()) {
                return true;
            }
            return Optional.ofNullable(i.processStart()).flatMap(recorded -> p.get().info().startInstant()
                    .map(started -> otherProcess(recorded, started))).orElse(false);
        }
        return false;
    }

    /**
     * How far two readings of one process's start time may lie apart. The JDK adds the start in
     * clock ticks since boot (/proc/PID/stat) to the boot time of /proc/stat's {@code btime}, in whole
     * seconds, which the kernel derives from the wall clock: as NTP adjusts the clock, two processes
     * can read a {@code btime} one second apart, so one process's start may read a second apart.
     */
    static final Duration START_JITTER = Duration.ofSeconds(2);

    /**
     * Whether the live process with the lock's pid started at {@code started} is another process
     * than the one that recorded {@code recorded} (its pid was reused); an unparseable record counts as
     * the same process.
     */
    static boolean otherProcess(String recorded, Instant started) {
        Instant then;
        try {
            then = Instant.parse(recorded);
        } catch (RuntimeException e) {
            return false;
        }
        return Duration.between(then, started).abs().compareTo(START_JITTER) > 0;
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String h = System.getenv("HOSTNAME");
            return h == null ? "unknown-host" : h;
        }
    }

    private void beatLoop() {
        try {
            while (true) {
                Thread.sleep(HEARTBEAT.toMillis());
                try {
                    if (!stillThere()) {
                        return;
                    }
                    Instant now = Instant.now();
                    Info next = info.beat(now);
                    repo.io().writeJson(key, "lock", next, repo.codec());
                    info = next;
                    lastBeat = now;
                } catch (RuntimeException e) {
                    // retried at the next beat; check() fails once the lease may have run out
                }
            }
        } catch (InterruptedException e) {
            // released
        }
    }

    /** False (and the lock lost) when another writer removed our lock object. */
    private boolean stillThere() {
        if (repo.store().exists(key)) {
            return true;
        }
        lost = "its lock object " + repo.store().describe(key) + " was removed by another process";
        return false;
    }

    /** Runs the heartbeat's presence check now instead of at the next beat. */
    void verifyPresent() {
        stillThere();
    }

    /** Fails when this writer may no longer hold the lock. */
    @Override
    public void check() {
        String why = lost;
        if (why == null && Duration.between(lastBeat, Instant.now()).compareTo(STALE.minus(MARGIN)) > 0) {
            why = "its heartbeat could not be stored since " + lastBeat;
        }
        if (why != null && repo.prefix().startsWith(Keys.LEASES)) {
            // a named lease (archiver, tracker, copy of binlogs): no attempt record, the process just stops
            String name = repo.prefix().substring(Keys.LEASES.length(), repo.prefix().length() - 1);
            throw new StrataException(ErrorCode.REPO_LOCKED, "lost the lock " + name + " of repository " + repo.repoName() + ": " + why,
                    "another strata process may hold it now; start this one again once that has stopped");
        }
        if (why != null) {
            throw new StrataException(ErrorCode.REPO_LOCKED, "lost the lock of repository " + repo.repoName() + ": " + why,
                    "another strata process may be writing to it; this attempt is recorded as failed, run it again");
        }
    }

    private void release() {
        repo.store().delete(key);
    }

    @Override
    public void close() {
        lost = "it was released"; // a manifest after the release would be stored without the lock
        heartbeat.interrupt();
        try {
            heartbeat.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        release();
    }
}
