package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a BACKUP STAGE statement while watching whether it waits on another connection's lock.
 * After {@value #POLL_SECONDS} s, and every {@value #POLL_SECONDS} s after that, a second
 * connection (opened only then) reads information_schema.PROCESSLIST and names the likeliest
 * blocker in a progress line: the connection other than this backup's that runs a statement and
 * does not itself wait for the backup lock, longest running first (a write to a non-transactional
 * table holds BLOCK_DDL, a running DDL holds START and BLOCK_DDL, a commit in progress holds
 * BLOCK_COMMIT). When the wait passes the timeout, the stage statement is stopped with KILL QUERY
 * (the blocker is left alone) and {@link ErrorCode#LOCK_WAIT_TIMEOUT} is thrown naming the blocker.
 */
public final class LockWait {
    static final int POLL_SECONDS = 2;
    static final int STATEMENT_CHARS = 100;

    private final ConnectionOptions opts;
    private final int timeoutSeconds;
    private final Consumer<String> say;

    /**
     * @param opts           how to open the watching connection
     * @param timeoutSeconds how long a stage may wait, in seconds; 0 waits without end
     * @param say            where progress lines go
     */
    public LockWait(ConnectionOptions opts, int timeoutSeconds, Consumer<String> say) {
        this.opts = opts;
        this.timeoutSeconds = timeoutSeconds;
        this.say = say;
    }

    /** A connection of the process list: id, user, seconds in its state, command, state and statement (null when idle). */
    record Blocker(long id, String user, long time, String command, String state, String info) {
        String describe() {
            String stmt = info == null ? "no statement (idle, " + command + ")"
                    : "\"" + (info.length() > STATEMENT_CHARS ? info.substring(0, STATEMENT_CHARS) + "..." : info).replaceAll("\\s+", " ") + "\"";
            return "connection " + id + " (user " + user + ", " + time + " s" + (state == null || state.isEmpty() ? "" : ", " + state) + "): " + stmt;
        }
    }

    /**
     * Runs {@code sql} (a BACKUP STAGE statement) on {@code session}.
     *
     * @throws StrataException lock-wait-timeout when it waited longer than the timeout; what
     *                         {@link ServerSession#exec} throws otherwise
     */
    void run(ServerSession session, String sql) {
        long self = Long.parseLong(session.queryString("SELECT CONNECTION_ID()"));
        long t0 = System.nanoTime();
        Blocker[] last = new Blocker[1];
        boolean[] killed = new boolean[1];
        boolean[] done = new boolean[1];
        ServerSession[] watcher = new ServerSession[1];
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-lock-wait");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                if (watcher[0] == null) {
                    watcher[0] = ServerSession.connect(opts);
                }
                long waited = (System.nanoTime() - t0) / 1_000_000_000L;
                Blocker b = blocker(watcher[0], self);
                synchronized (last) {
                    last[0] = b;
                }
                String who = b == null ? "no other connection runs a statement (an idle one may hold LOCK TABLES or FLUSH TABLES WITH READ LOCK)" : b.describe();
                say.accept("[lock-wait] " + sql + " has waited " + waited + " s" + (timeoutSeconds > 0 ? " of " + timeoutSeconds : "") + " for " + who);
                if (timeoutSeconds > 0 && waited >= timeoutSeconds) {
                    synchronized (last) {
                        if (!done[0]) {
                            killed[0] = true;
                            watcher[0].exec("KILL QUERY " + self);
                        }
                    }
                    throw new IllegalStateException("stop polling");
                }
            } catch (RuntimeException e) {
                if (!killed[0]) {
                    say.accept("[lock-wait] cannot read the process list: " + e.getMessage());
                }
                throw e; // ends the polling
            }
        }, POLL_SECONDS, POLL_SECONDS, TimeUnit.SECONDS);
        try {
            session.exec(sql);
            boolean raced;
            synchronized (last) {
                done[0] = true;
                raced = killed[0];
            }
            if (raced) {
                // the stage was granted as the KILL QUERY was sent: let a pending kill land on a no-op
                try {
                    session.exec("DO 0");
                } catch (StrataException ignored) {
                    // interrupted by that kill: the session is usable again
                }
            }
        } catch (StrataException e) {
            synchronized (last) {
                if (killed[0]) {
                    Blocker b = last[0];
                    throw new StrataException(ErrorCode.LOCK_WAIT_TIMEOUT, sql + " waited more than " + timeoutSeconds + " s (--lock-wait-timeout) for "
                            + (b == null ? "a lock held by an idle connection (no other connection runs a statement)" : b.describe()),
                            "let that statement finish (or end it yourself: KILL QUERY " + (b == null ? "ID" : b.id())
                                    + ") and run the backup again, or give a longer --lock-wait-timeout", e);
                }
            }
            throw e;
        } finally {
            timer.shutdownNow();
            try {
                timer.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (watcher[0] != null) {
                watcher[0].close();
            }
        }
    }

    /** The likeliest blocker of connection {@code self}, or null when no other connection runs a statement. */
    static Blocker blocker(ServerSession watcher, long self) {
        List<Map<String, String>> rows = watcher.queryRows("SELECT ID, USER, TIME, COMMAND, STATE, INFO FROM information_schema.PROCESSLIST"
                + " WHERE ID NOT IN (" + self + ", CONNECTION_ID()) AND COMMAND NOT IN ('Daemon', 'Binlog Dump')"
                + " AND USER <> 'system user' AND INFO IS NOT NULL AND COALESCE(STATE, '') NOT LIKE 'Waiting for backup lock%'"
                + " ORDER BY TIME DESC, ID LIMIT 1");
        if (rows.isEmpty()) {
            return null;
        }
        Map<String, String> r = rows.get(0);
        return new Blocker(Long.parseLong(r.get("id")), r.get("user"), Long.parseLong(r.get("time")), r.get("command"), r.get("state"), r.get("info"));
    }
}
