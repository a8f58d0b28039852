package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The heartbeat of a long-running process ({@code strata binlog archive}, {@code strata track}):
 * one small plain JSON object, {@code heartbeats/<kind>-<identity>} (content {@code heartbeat}),
 * rewritten after every poll as a running backup rewrites its progress object, so that
 * {@code status} and {@code check} can tell from the repository alone whether the process is
 * alive and how far behind the server it is (docs/repository-format.md, "Heartbeats").
 *
 * <p>Never encrypted (like the progress object): {@code status} reads it without the key. It names
 * the server and host, as the progress object does, and nothing of the data.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param kind          {@code archive} or {@code track}
 * @param server        the server key of the server followed
 * @param pid           the process id of the writer
 * @param host          the host name the writer runs on
 * @param startTime     when the process started (ISO-8601 UTC)
 * @param lastPoll      when the process last looked at the server (ISO-8601 UTC); also when the object was written
 * @param reached       how far the copy reached: {@code file:offset} for the archive, the LSN (decimal) for the tracker; null before the first poll
 * @param lagSeconds    seconds since the process last held everything the server had written (0 when the last poll caught up)
 * @param lastError     why the last poll failed, or null when it succeeded; {@link #STOPPED} and the error
 *                      in the last heartbeat of a process that ended on an error
 * @param gaps          gaps this process recorded since it started
 * @param intervalSeconds how often the object is rewritten while the process runs, in seconds
 */
public record Heartbeat(int formatVersion, String kind, String server, long pid, String host, String startTime, String lastPoll,
                        String reached, long lagSeconds, String lastError, int gaps, long intervalSeconds) {
    public static final int FORMAT_VERSION = 1;
    public static final int MIN_FORMAT_VERSION = 1;
    public static final String ARCHIVE = "archive";
    public static final String TRACK = "track";
    static final String PREFIX = "heartbeats/";
    static final String CONTENT = "heartbeat";
    /** A heartbeat is never called stale younger than this, whatever its interval. */
    public static final long MIN_STALE_SECONDS = 60;

    /** {@code heartbeats/<kind>-<identity>}, the identity being {@link Tracking#identity(String)} of the server key. */
    static String key(String kind, String serverKey) {
        return PREFIX + kind + "-" + Tracking.identity(serverKey);
    }

    /**
     * A heartbeat of this process written now.
     *
     * @param caughtUp when the process last held everything the server had written; null when the poll just done caught up
     * @param interval how often the process rewrites it (rounded up to whole seconds, at least 1)
     */
    public static Heartbeat of(String kind, String serverKey, Instant started, String reached, Instant caughtUp, String error, int gaps,
                               Duration interval) {
        Instant now = Instant.now();
        return new Heartbeat(FORMAT_VERSION, kind, serverKey, ProcessHandle.current().pid(), localHost(), started.toString(), now.toString(),
                reached, caughtUp == null ? 0 : Math.max(0, Duration.between(caughtUp, now).getSeconds()), error, gaps,
                Math.max(1, (interval.toMillis() + 999) / 1000));
    }

    private static String localHost() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** Rewrites this heartbeat (plain; a reader sees the old or the new object, never a part). */
    public void write(Repository repo) {
        repo.io().writeJson(key(kind, server), CONTENT, this, ObjectCodec.PLAIN);
    }

    /**
     * Every heartbeat stored, by key. A damaged one is skipped and named in {@code damaged}
     * when given (it will be rewritten by its process; check reports it).
     *
     * @throws StrataException format-too-new for a heartbeat written by a newer strata
     */
    public static List<Heartbeat> all(Repository repo, List<String> damaged) {
        List<Heartbeat> out = new ArrayList<>();
        for (String k : repo.store().list(PREFIX)) {
            if (k.substring(PREFIX.length()).startsWith(".tmp-") || k.contains("/.tmp-")) {
                continue;
            }
            try {
                Heartbeat h = repo.io().readJson(k, CONTENT, Heartbeat.class, ObjectCodec.PLAIN);
                FormatVersion.check(CONTENT, repo.store().describe(k), h.formatVersion(), MIN_FORMAT_VERSION, FORMAT_VERSION);
                out.add(h);
            } catch (io.strata.store.StorageException e) {
                if (e.kind() != io.strata.store.StorageException.Kind.NOT_FOUND) {
                    throw e;
                }
                // removed between list and read (its process ended cleanly)
            } catch (StrataException e) {
                if (e.code() == ErrorCode.FORMAT_TOO_NEW || damaged == null) {
                    throw e;
                }
                damaged.add(e.getMessage());
            }
        }
        return out;
    }

    /** Seconds after {@link #lastPoll} from which the process is taken for dead: max(3 × interval, 60 s), or {@code override}. */
    public long staleAfterSeconds(Long override) {
        return override != null ? override : Math.max(3 * intervalSeconds, MIN_STALE_SECONDS);
    }

    /** Seconds since {@link #lastPoll} at {@code now} (never negative). */
    public long ageSeconds(Instant now) {
        return Math.max(0, Duration.between(Instant.parse(lastPoll), now).getSeconds());
    }

    /** Whether the process stopped rewriting its heartbeat (killed, crashed, hung, machine down). */
    public boolean stale(Instant now, Long staleAfterOverride) {
        return ageSeconds(now) > staleAfterSeconds(staleAfterOverride);
    }

    /** How {@link #lastError} begins in the last heartbeat of a process that ended on an error. */
    public static final String STOPPED = "stopped: ";

    /**
     * Why the process ended, when this is the last heartbeat of one that ended on an error (its
     * {@code lastError} is {@link #STOPPED} followed by the error); null while it runs, or when it
     * was stopped cleanly or killed (its heartbeat then grows stale).
     */
    public String stopped() {
        return lastError != null && lastError.startsWith(STOPPED) ? lastError.substring(STOPPED.length()) : null;
    }

    /** "binlog archiver" or "tracker". */
    public String what() {
        return ARCHIVE.equals(kind) ? "binlog archiver" : "tracker";
    }
}
