package io.strata.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes to a {@link SampleSchema} database from N threads, each on its own connection, in tiny
 * transactions (autocommit off, 1-3 statements, then COMMIT) until {@link #stop()}.
 *
 * <p>Mix per transaction: mostly InnoDB (t_fcrc32, t_legacy, t_part: 60 % UPDATE by random
 * primary key, 25 % INSERT, 15 % DELETE by random primary key); a small share of transactions
 * (default 3 %) is a single statement on MyISAM or Aria instead, in a transaction of its own so a
 * rollback never leaves half of it behind. All values come from a seeded {@link Random} in Java, so
 * every statement is deterministic (no NOW(), RAND(), UUID()).
 *
 * <p>Deadlocks (1213) and lock wait timeouts (1205) are rolled back and retried with the same
 * statements; any other error ends its thread and is rethrown by {@link #stop()}.
 */
public final class WriteLoad implements AutoCloseable {

    /** Opens a new connection; each load thread calls it once. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /** Totals of one run. */
    public record Result(long transactions, long retries, Duration elapsed) {
        public double perSecond() {
            return elapsed.isZero() ? 0 : transactions * 1e9 / elapsed.toNanos();
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "%d tx in %.2f s = %.0f tx/s (%d retried after deadlock/lock wait)",
                    transactions, elapsed.toNanos() / 1e9, perSecond(), retries);
        }
    }

    private static final int ER_LOCK_WAIT_TIMEOUT = 1205;
    private static final int ER_LOCK_DEADLOCK = 1213;
    private static final int MAX_ATTEMPTS = 50;

    private final ConnectionSource source;
    private final String db;
    private final int threads;
    private final double rate;
    private final double nonTransactionalShare;
    private final long seed;
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final Map<String, AtomicLong> maxId = new HashMap<>();
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean running;
    private long startNanos;
    private Result result;

    private WriteLoad(Builder b) {
        this.source = b.source;
        this.db = b.db;
        this.threads = b.threads;
        this.rate = b.rate;
        this.nonTransactionalShare = b.nonTransactionalShare;
        this.seed = b.seed;
    }

    public static Builder on(MariaDbSandbox sandbox, String db) {
        return new Builder(sandbox::connection, db);
    }

    public static Builder on(ConnectionSource source, String db) {
        return new Builder(source, db);
    }

    /** Opens the connections and starts the threads; returns once every thread is connected. */
    public synchronized WriteLoad start() {
        if (running || result != null) {
            throw new IllegalStateException("a WriteLoad runs once");
        }
        try (Connection c = source.open(); Statement st = c.createStatement()) {
            for (String t : SampleSchema.TABLES) {
                if (t.equals("t_csv") || t.equals("t_archive")) {
                    continue;
                }
                try (ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(id), 0) FROM " + SampleSchema.quote(db) + "." + t)) {
                    rs.next();
                    maxId.put(t, new AtomicLong(Math.max(rs.getLong(1), 1)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the sample schema in " + db + ": " + e.getMessage(), e);
        }
        running = true;
        CountDownLatch connected = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            Worker w = new Worker(i, connected);
            Thread t = new Thread(w, "write-load-" + db + "-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        workers.forEach(Thread::start);
        try {
            if (!connected.await(30, TimeUnit.SECONDS)) {
                errors.add(new IllegalStateException("load threads did not connect within 30 s"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        startNanos = System.nanoTime();
        if (!errors.isEmpty()) {
            stop();
        }
        return this;
    }

    /** Transactions committed so far. */
    public long committed() {
        return committed.get();
    }

    /** Errors so far (not counting retried deadlocks). */
    public List<Throwable> errors() {
        return List.copyOf(errors);
    }

    /**
     * Stops and joins the threads; returns the totals, or throws the first thread error (others
     * attached as suppressed).
     */
    public synchronized Result stop() {
        if (result != null) {
            return rethrowOr(result);
        }
        running = false;
        long end = System.nanoTime();
        for (Thread t : workers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(60));
                if (t.isAlive()) {
                    errors.add(new IllegalStateException(t.getName() + " did not stop within 60 s"));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        result = new Result(committed.get(), retries.get(), Duration.ofNanos(Math.max(0, end - startNanos)));
        return rethrowOr(result);
    }

    private Result rethrowOr(Result r) {
        if (errors.isEmpty()) {
            return r;
        }
        List<Throwable> all = List.copyOf(errors);
        IllegalStateException e = new IllegalStateException("write load on " + db + " failed after " + r + ": "
                + all.get(0), all.get(0));
        all.subList(1, all.size()).forEach(e::addSuppressed);
        throw e;
    }

    /** Stops the load if it still runs; errors are not rethrown here (call {@link #stop()} for them). */
    @Override
    public void close() {
        try {
            stop();
        } catch (RuntimeException ignored) {
            // already reported by stop() if the test called it; close() must not mask a test failure
        }
    }

    private enum Kind { UPDATE, INSERT, DELETE }

    private record Op(String table, Kind kind, long id, int k, String c) {}

    private final class Worker implements Runnable {
        private final int index;
        private final CountDownLatch connected;
        private final Random random;
        private final Map<String, PreparedStatement[]> statements = new HashMap<>();

        Worker(int index, CountDownLatch connected) {
            this.index = index;
            this.connected = connected;
            this.random = new Random(seed * 31 + index);
        }

        @Override
        public void run() {
            try (Connection c = source.open()) {
                try (Statement st = c.createStatement()) {
                    st.execute("SET SESSION innodb_lock_wait_timeout = 5");
                }
                c.setAutoCommit(false);
                prepare(c);
                connected.countDown();
                loop(c);
            } catch (Throwable t) {
                errors.add(t);
                running = false;
            } finally {
                if (connected.getCount() > 0) {
                    connected.countDown();
                }
                for (PreparedStatement[] ps : statements.values()) {
                    for (PreparedStatement p : ps) {
                        try {
                            p.close();
                        } catch (SQLException ignored) {
                            // the connection is closing anyway
                        }
                    }
                }
            }
        }

        private void prepare(Connection c) throws SQLException {
            String q = SampleSchema.quote(db);
            for (String t : maxId.keySet()) {
                String qt = q + "." + t;
                statements.put(t, new PreparedStatement[] {
                        c.prepareStatement("UPDATE " + qt + " SET k = ?, c = ? WHERE id = ?"),
                        c.prepareStatement("INSERT INTO " + qt + " (k, c) VALUES (?, ?)"),
                        c.prepareStatement("DELETE FROM " + qt + " WHERE id = ?")});
            }
        }

        private void loop(Connection c) throws SQLException {
            long interval = rate > 0 ? (long) (1e9 * threads / rate) : 0;
            long next = System.nanoTime();
            List<Op> plan = new ArrayList<>(3);
            while (running) {
                if (interval > 0) {
                    long now = System.nanoTime();
                    if (next > now) {
                        sleepNanos(next - now);
                    } else if (now - next > 1_000_000_000L) {
                        next = now; // fell far behind: do not burst to catch up
                    }
                    next += interval;
                }
                plan.clear();
                if (random.nextDouble() < nonTransactionalShare) {
                    plan.add(op(SampleSchema.NON_TRANSACTIONAL_TABLES.get(random.nextInt(2))));
                } else {
                    int n = 1 + random.nextInt(3);
                    for (int i = 0; i < n; i++) {
                        plan.add(op(SampleSchema.INNODB_TABLES.get(random.nextInt(SampleSchema.INNODB_TABLES.size()))));
                    }
                }
                runWithRetry(c, plan);
            }
        }

        private Op op(String table) {
            int r = random.nextInt(100);
            Kind kind = r < 60 ? Kind.UPDATE : r < 85 ? Kind.INSERT : Kind.DELETE;
            long bound = maxId.get(table).get();
            long id = 1 + (long) (random.nextDouble() * bound);
            int k = random.nextInt(100_000);
            String text = "w" + index + "-" + Long.toHexString(random.nextLong());
            return new Op(table, kind, id, k, text);
        }

        private void runWithRetry(Connection c, List<Op> plan) throws SQLException {
            for (int attempt = 1; ; attempt++) {
                try {
                    for (Op op : plan) {
                        execute(op);
                    }
                    c.commit();
                    committed.incrementAndGet();
                    return;
                } catch (SQLException e) {
                    rollbackQuietly(c, e);
                    if (!retryable(e) || attempt >= MAX_ATTEMPTS || !running) {
                        if (retryable(e) && !running) {
                            return;
                        }
                        throw e;
                    }
                    retries.incrementAndGet();
                }
            }
        }

        private void execute(Op op) throws SQLException {
            PreparedStatement[] ps = statements.get(op.table());
            switch (op.kind()) {
                case UPDATE -> {
                    ps[0].setInt(1, op.k());
                    ps[0].setString(2, op.c());
                    ps[0].setLong(3, op.id());
                    ps[0].executeUpdate();
                }
                case INSERT -> {
                    ps[1].setInt(1, op.k());
                    ps[1].setString(2, op.c());
                    ps[1].executeUpdate();
                    maxId.get(op.table()).incrementAndGet();
                }
                case DELETE -> {
                    ps[2].setLong(1, op.id());
                    ps[2].executeUpdate();
                }
            }
        }
    }

    private static boolean retryable(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s
                    && (s.getErrorCode() == ER_LOCK_DEADLOCK || s.getErrorCode() == ER_LOCK_WAIT_TIMEOUT)) {
                return true;
            }
        }
        return false;
    }

    private static void rollbackQuietly(Connection c, SQLException cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Settings for a {@link WriteLoad}; {@link #start()} builds and starts it. */
    public static final class Builder {
        private final ConnectionSource source;
        private final String db;
        private int threads = 4;
        private double rate;
        private double nonTransactionalShare = 0.03;
        private long seed = 42;

        private Builder(ConnectionSource source, String db) {
            this.source = source;
            this.db = db;
        }

        /** Number of threads, each with its own connection (default 4). */
        public Builder threads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("threads must be >= 1: " + n);
            }
            this.threads = n;
            return this;
        }

        /** Target transactions per second over all threads; 0 (default) = as fast as possible. */
        public Builder rate(double txPerSecond) { this.rate = txPerSecond; return this; }

        /** Share of transactions that write MyISAM or Aria instead of InnoDB (default 0.03). */
        public Builder nonTransactionalShare(double share) { this.nonTransactionalShare = share; return this; }

        /** Seed of the per-thread random generators (default 42). */
        public Builder seed(long seed) { this.seed = seed; return this; }

        public WriteLoad build() { return new WriteLoad(this); }

        public WriteLoad start() { return build().start(); }
    }
}
