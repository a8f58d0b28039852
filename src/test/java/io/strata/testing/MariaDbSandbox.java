package io.strata.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway {@code mariadbd} in its own temp directory, reachable only through a unix socket.
 *
 * <pre>
 * baseDir/
 *   data/          the datadir (unless started with {@link Builder#startOn(Path)})
 *   data/binlog.*  binary logs when {@link Builder#logBin(boolean)} is on
 *   mysql.sock     socket; mysqld.pid; error.log; mariadbd.out (stdout/stderr of the process)
 * </pre>
 *
 * The first install in a JVM goes into a template directory; later sandboxes copy it. Every
 * sandbox directory is deleted on {@link #close()} unless the system property
 * {@code strata.keepSandboxes} is set. A JVM shutdown hook SIGKILLs servers that were never closed,
 * so a failing test does not leave servers behind. Servers run with
 * {@code --innodb-flush-log-at-trx-commit=2 --sync-binlog=0}: tests need speed, not durability
 * against power loss.
 */
public final class MariaDbSandbox implements AutoCloseable {

    /** Unix socket paths are limited to 108 bytes (sun_path); keep a margin. */
    private static final int MAX_SOCKET_PATH = 100;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger SERVER_IDS = new AtomicInteger();
    private static final Set<MariaDbSandbox> LIVE = ConcurrentHashMap.newKeySet();
    private static final Object TEMPLATE_LOCK = new Object();
    /** One installed data directory per tool set (the key: the tools' directories, empty for the default lookup). */
    private static final Map<List<Path>, Path> TEMPLATES = new HashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (MariaDbSandbox s : LIVE) {
                s.killQuietly();
            }
        }, "mariadb-sandbox-reaper"));
    }

    private final Builder cfg;
    private final Path baseDir;
    private final Path datadir;
    private final boolean ownsDatadir;
    private final int serverId;
    private Process process;
    private boolean closed;
    private List<Path> tools;

    private MariaDbSandbox(Builder cfg, Path baseDir, Path datadir, boolean ownsDatadir) {
        this.cfg = cfg;
        this.baseDir = baseDir;
        this.datadir = datadir;
        this.ownsDatadir = ownsDatadir;
        this.serverId = cfg.serverId != null ? cfg.serverId : SERVER_IDS.incrementAndGet();
        this.tools = cfg.tools;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A fresh server with default settings (no binary log). */
    public static MariaDbSandbox start() {
        return builder().start();
    }

    /**
     * Skips the calling test when MariaDB is not installed, but fails it when {@code CI=true}:
     * a missing server in CI is a broken environment, not a reason to pass.
     */
    public static void requireMariaDb() {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("mariadbd", "mariadb-install-db", "mariadb", "mariadb-admin", "mariadb-binlog")) {
            if (findBinary(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String msg = "MariaDB tools not found on PATH or in /usr/sbin: " + missing
                + " (install mariadb-server and mariadb-client, e.g. with .ci/run)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(msg + "; CI=true, so this is a failure, not a skip");
        }
        Assumptions.abort(msg);
    }

    /**
     * The environment variable naming the directory of the MariaDB tools the tests run (bin/with-mariadb
     * sets it to the wrappers of MariaDB 11.8); unset, the tools are looked up on PATH and then in
     * /usr/sbin and /usr/bin.
     */
    public static final String TOOLS_ENV = "STRATA_IT_MARIADB_BIN";

    /** Absolute path of a MariaDB tool; mariadbd lives in /usr/sbin, which is not always on PATH. */
    public static Optional<Path> findBinary(String name) {
        List<String> dirs = new ArrayList<>();
        String chosen = System.getenv(TOOLS_ENV);
        if (chosen != null && !chosen.isBlank()) {
            Path p = Paths.get(chosen, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(TOOLS_ENV + "=" + chosen + " has no " + name);
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(Arrays.asList(path.split(java.io.File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"));
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Paths.get(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static String binary(String name) {
        return findBinary(name).map(Path::toString)
                .orElseThrow(() -> new IllegalStateException(name + " not found; is MariaDB installed?"));
    }

    /** The tool {@code name} from {@code dirs} only (the first that has it), or from the default places when dirs is empty. */
    static String binary(String name, List<Path> dirs) {
        if (dirs.isEmpty()) {
            return binary(name);
        }
        for (Path d : dirs) {
            Path p = d.resolve(name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException(name + " not found in " + dirs);
    }

    /** The directories of the host's own MariaDB (Debian's package): /usr/sbin and /usr/bin, whatever PATH says. */
    public static final List<Path> HOST_TOOLS = List.of(Paths.get("/usr/sbin"), Paths.get("/usr/bin"));

    /**
     * From the next {@link #startServer()} on, runs this sandbox's server with the tools in {@code dirs}
     * (empty: the default lookup); for a test that upgrades a data directory in place.
     */
    public synchronized void useTools(List<Path> dirs) {
        this.tools = List.copyOf(dirs);
    }

    // ---------------------------------------------------------------- accessors

    public Path baseDir() { return baseDir; }

    public Path datadir() { return datadir; }

    public Path socket() { return baseDir.resolve("mysql.sock"); }

    public Path errorLogFile() { return baseDir.resolve("error.log"); }

    /** The server's own temporary directory (its tmpdir), made on first use; not the shared /tmp. */
    Path tmpdir() {
        try {
            return Files.createDirectories(baseDir.resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the sandbox's temporary directory", e);
        }
    }

    public int serverId() { return serverId; }

    public boolean logBin() { return cfg.logBin; }

    /** Base name (path without the .NNNNNN suffix) of the binary logs, if binary logging is on. */
    public Path binlogBasename() {
        if (!cfg.logBin) {
            throw new IllegalStateException("sandbox was started without logBin(true)");
        }
        return (ownsDatadir ? datadir : baseDir).resolve("binlog");
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The JDBC URL for root over the unix socket. */
    public String jdbcUrl() {
        return io.strata.server.ConnectionOptions.rootUrl(socket().toString());
    }

    /** A new connection as root through the unix socket; the caller closes it. */
    public Connection connection() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    /** Runs one statement on a new connection and returns every row as strings (SQL NULL as null). */
    public List<List<String>> query(String sql) {
        try (Connection c = connection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rows(rs);
        } catch (SQLException e) {
            throw new IllegalStateException("query failed on " + socket() + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    /** Executes the statements in order on one new connection (so session settings carry over). */
    public void exec(String... sql) {
        try (Connection c = connection(); Statement st = c.createStatement()) {
            for (String s : sql) {
                try {
                    st.execute(s);
                } catch (SQLException e) {
                    throw new IllegalStateException("statement failed on " + socket() + ": " + s + ": " + e.getMessage(), e);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to " + socket() + ": " + e.getMessage(), e);
        }
    }

    /** SHOW MASTER STATUS: the current end of the binary log, always at a transaction boundary. */
    public BinlogPosition binlogPosition() {
        List<List<String>> r = query("SHOW MASTER STATUS");
        if (r.isEmpty()) {
            throw new IllegalStateException("SHOW MASTER STATUS returned nothing; is log-bin on?");
        }
        return new BinlogPosition(r.get(0).get(0), Long.parseLong(r.get(0).get(1)));
    }

    /** {@code @@version} of the running server, e.g. "11.8.9-MariaDB-0+deb13u1-log". */
    public String version() {
        return query("SELECT @@version").get(0).get(0);
    }

    /** Whether the running server's major.minor is at least {@code major.minor}. */
    public boolean versionAtLeast(int major, int minor) {
        String[] p = version().split("[.-]");
        int ma = Integer.parseInt(p[0]);
        int mi = Integer.parseInt(p[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    /** The whole error log, or "" if there is none yet. */
    public String errorLog() {
        try {
            return Files.exists(errorLogFile()) ? Files.readString(errorLogFile(), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + errorLogFile() + ": " + e + ")";
        }
    }

    static List<List<String>> rows(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        List<List<String>> out = new ArrayList<>();
        while (rs.next()) {
            List<String> row = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                row.add(rs.getString(i));
            }
            out.add(row);
        }
        return out;
    }

    // ---------------------------------------------------------------- life cycle

    /** Starts mariadbd on this sandbox's datadir (again, after {@link #stop()} or {@link #kill()}). */
    public synchronized MariaDbSandbox startServer() {
        if (closed) {
            throw new IllegalStateException("sandbox is closed");
        }
        if (isRunning()) {
            throw new IllegalStateException("server already running on " + socket());
        }
        List<String> cmd = new ArrayList<>(List.of(
                binary("mariadbd", tools), "--no-defaults", "--user=root",
                "--datadir=" + datadir,
                "--socket=" + socket(),
                "--tmpdir=" + tmpdir(),
                "--skip-networking",
                "--pid-file=" + baseDir.resolve("mysqld.pid"),
                "--log-error=" + errorLogFile(),
                "--server-id=" + serverId,
                "--innodb-flush-log-at-trx-commit=2",
                "--sync-binlog=0",
                "--skip-name-resolve",
                // Archive is a plugin in Debian's build; SampleSchema needs it on every server.
                "--plugin-load-add=ha_archive",
                "--innodb-buffer-pool-dump-at-shutdown=0",
                "--innodb-buffer-pool-load-at-startup=0"));
        if (cfg.logBin) {
            cmd.add("--log-bin=" + binlogBasename());
            cmd.add("--binlog-format=ROW");
        }
        if (cfg.innodbLogFileSize != null) {
            cmd.add("--innodb-log-file-size=" + cfg.innodbLogFileSize);
        }
        if (cfg.bufferPool != null) {
            cmd.add("--innodb-buffer-pool-size=" + cfg.bufferPool);
        }
        cmd.addAll(cfg.installArgs);
        cmd.addAll(cfg.extraArgs);
        try {
            Files.deleteIfExists(socket());
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(baseDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(baseDir.resolve("mariadbd.out").toFile()));
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        LIVE.add(this);
        waitUntilReady(cmd);
        return this;
    }

    private void waitUntilReady(List<String> cmd) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("mariadbd exited with code " + process.exitValue()
                        + " during startup; command: " + String.join(" ", cmd) + "\n" + tail());
            }
            if (Files.exists(socket())) {
                try (Connection c = connection(); Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                    return;
                } catch (SQLException e) {
                    last = e;
                }
            }
            sleep(50);
        }
        killQuietly();
        throw new IllegalStateException("mariadbd did not answer on " + socket() + " within " + START_TIMEOUT.toSeconds()
                + " s (last error: " + (last == null ? "no socket" : last.getMessage()) + ")\n" + tail());
    }

    private String tail() {
        List<String> lines = errorLog().lines().toList();
        List<String> t = lines.subList(Math.max(0, lines.size() - 30), lines.size());
        return "--- tail of " + errorLogFile() + " ---\n" + String.join("\n", t);
    }

    /**
     * Clean shutdown with {@code mariadb-admin shutdown}; SIGKILL if the server has not exited after
     * 60 s. Does nothing if the server is not running.
     */
    public synchronized void stop() {
        if (!isRunning()) {
            LIVE.remove(this);
            return;
        }
        try {
            Process admin = new ProcessBuilder(binary("mariadb-admin", tools), "--no-defaults", "-S", socket().toString(),
                    "-uroot", "shutdown")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(baseDir.resolve("mariadb-admin.out").toFile()))
                    .start();
            admin.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            admin.destroyForcibly();
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                System.err.println("mariadbd on " + socket() + " did not stop within " + STOP_TIMEOUT.toSeconds()
                        + " s; sending SIGKILL");
                kill();
            }
        } catch (IOException e) {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        } finally {
            LIVE.remove(this);
        }
    }

    /** SIGKILL, as a crash would: InnoDB has to recover on the next start. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        LIVE.remove(this);
    }

    private void killQuietly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /**
     * Stops the server and deletes the sandbox directory (kept if {@code strata.keepSandboxes} is set).
     * A server on its own data directory, which goes with the sandbox, is killed (SIGKILL): a clean
     * shutdown would first write every dirty page of its buffer pool into files about to be deleted.
     * A server on another directory ({@link Builder#startOn}), which stays, or on a kept sandbox,
     * shuts down cleanly.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            if (ownsDatadir && !keepSandboxes()) {
                kill();
            } else {
                stop();
            }
        } finally {
            closed = true;
            if (keepSandboxes()) {
                System.err.println("keeping sandbox " + baseDir);
            } else {
                deleteTree(baseDir);
            }
        }
    }

    static boolean keepSandboxes() {
        return System.getProperty("strata.keepSandboxes") != null;
    }

    // ---------------------------------------------------------------- directories and template

    /** target/sandboxes when run from the project, else java.io.tmpdir; /tmp if the socket path would be too long. */
    static Path sandboxRoot() {
        String prop = System.getProperty("strata.sandboxRoot");
        Path root;
        if (prop != null) {
            root = Paths.get(prop);
        } else if (Files.isDirectory(Paths.get("target"))) {
            root = Paths.get("target", "sandboxes");
        } else {
            root = Paths.get(System.getProperty("java.io.tmpdir"), "strata-sandboxes");
        }
        root = root.toAbsolutePath().normalize();
        // "/sbx-" + 19 digits of temp suffix + "/mysql.sock"
        if (root.toString().length() + 40 > MAX_SOCKET_PATH) {
            root = Paths.get("/tmp", "strata-sandboxes");
        }
        try {
            return Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + root, e);
        }
    }

    private static Path templateDatadir(List<Path> tools) {
        synchronized (TEMPLATE_LOCK) {
            Path template = TEMPLATES.get(tools);
            if (template != null) {
                return template;
            }
            try {
                Path dir = Files.createTempDirectory(sandboxRoot(), "template-");
                Path data = dir.resolve("data");
                installDb(dir, data, tools, List.of());
                if (!keepSandboxes()) {
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "mariadb-template-cleanup"));
                }
                TEMPLATES.put(tools, data);
                return data;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot install a MariaDB data directory", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while installing a data directory", e);
            }
        }
    }

    /**
     * Runs mariadb-install-db into {@code data} (its log and temporary directory in {@code dir}) with
     * {@code args} added. The directories that {@code --innodb-data-home-dir}, {@code --innodb-log-group-home-dir}
     * and {@code --innodb-undo-directory} name in {@code args} are created first (relative ones under
     * {@code data}, as the server resolves them): the server does not create them.
     */
    private static void installDb(Path dir, Path data, List<Path> tools, List<String> args) throws IOException, InterruptedException {
        Path log = dir.resolve("install.log");
        // its own temporary directory: a shared /tmp let another run's clean-up remove the
        // bootstrap server's temporary tables ("Unknown table 'mysql.tmp_user_sys'")
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        for (String a : args) {
            for (String opt : List.of("--innodb-data-home-dir=", "--innodb-log-group-home-dir=", "--innodb-undo-directory=")) {
                if (a.startsWith(opt)) {
                    Files.createDirectories(data.resolve(a.substring(opt.length())));
                }
            }
        }
        List<String> cmd = new ArrayList<>(List.of(binary("mariadb-install-db", tools), "--no-defaults", "--user=root",
                "--datadir=" + data, "--auth-root-authentication-method=normal"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("TMPDIR", tmp.toString());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("mariadb-install-db did not finish within 120 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("mariadb-install-db failed with exit code " + p.exitValue() + ":\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("cannot delete " + root + ": " + e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "MariaDbSandbox[" + socket() + (isRunning() ? ", running" : ", stopped") + "]";
    }

    /** A position in the binary log: file name (no directory) and byte offset. */
    public record BinlogPosition(String file, long position) {
        @Override
        public String toString() { return file + ":" + position; }
    }

    /** Options for a sandbox; {@link #start()} installs (or copies the template) and starts the server. */
    public static final class Builder {
        private boolean logBin;
        private String innodbLogFileSize;
        private String bufferPool;
        private Integer serverId;
        private final List<String> extraArgs = new ArrayList<>();
        private final List<String> installArgs = new ArrayList<>();
        private Path existingDatadir;
        private List<Path> tools = List.of();

        private Builder() {}

        /**
         * Runs the server (and mariadb-install-db, mariadb-admin) from these directories only, e.g.
         * {@link #HOST_TOOLS} for the host's 10.11 while {@code STRATA_IT_MARIADB_BIN} names 11.8, or
         * the wrappers of another Debian root. Default: {@link #findBinary}'s lookup.
         */
        public Builder tools(List<Path> dirs) { this.tools = List.copyOf(dirs); return this; }

        /** {@code --log-bin=<datadir>/binlog --binlog-format=ROW} (default off). */
        public Builder logBin(boolean on) { this.logBin = on; return this; }

        /** {@code --innodb-log-file-size}, e.g. "16M"; the server resizes the log on start. */
        public Builder innodbLogFileSize(String size) { this.innodbLogFileSize = size; return this; }

        /** {@code --innodb-buffer-pool-size}, e.g. "256M". */
        public Builder bufferPool(String size) { this.bufferPool = size; return this; }

        /** {@code --server-id}; by default each sandbox of this JVM gets its own. */
        public Builder serverId(int id) { this.serverId = id; return this; }

        /** More {@code mariadbd} options, appended last (so they override the defaults). */
        public Builder extraArgs(String... args) { this.extraArgs.addAll(Arrays.asList(args)); return this; }

        /**
         * Options given to {@code mariadb-install-db} as well as to every {@code mariadbd} start (before
         * {@link #extraArgs}), for settings fixed when the data directory is created: the InnoDB data home,
         * log home and undo directories (created first; relative ones under the data directory),
         * {@code innodb_data_file_path}, {@code innodb_undo_tablespaces}. Such a sandbox installs its own
         * data directory instead of copying the shared template (a few seconds more).
         */
        public Builder installArgs(String... args) { this.installArgs.addAll(Arrays.asList(args)); return this; }

        /**
         * Start on an existing (for example restored) data directory instead of a fresh install.
         * That directory is used in place and not deleted on close; binary logs, if asked for,
         * go to the sandbox directory.
         */
        public Builder startOn(Path datadir) { this.existingDatadir = datadir; return this; }

        /** Creates the sandbox directory and data directory and starts the server. */
        public MariaDbSandbox start() {
            requireMariaDb();
            Path base;
            try {
                base = Files.createTempDirectory(sandboxRoot(), "sbx-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a sandbox directory", e);
            }
            MariaDbSandbox s;
            try {
                if (existingDatadir != null) {
                    Path dd = existingDatadir.toAbsolutePath().normalize();
                    if (!Files.isDirectory(dd)) {
                        throw new IllegalArgumentException("not a directory: " + dd);
                    }
                    s = new MariaDbSandbox(this, base, dd, false);
                } else if (!installArgs.isEmpty()) {
                    installDb(base, base.resolve("data"), tools, installArgs);
                    s = new MariaDbSandbox(this, base, base.resolve("data"), true);
                } else {
                    copyTree(templateDatadir(tools), base.resolve("data"));
                    s = new MariaDbSandbox(this, base, base.resolve("data"), true);
                }
            } catch (InterruptedException e) {
                deleteTree(base);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while installing a data directory", e);
            } catch (IOException | RuntimeException e) {
                deleteTree(base);
                if (e instanceof IOException io) {
                    throw new UncheckedIOException("cannot prepare " + base, io);
                }
                throw (RuntimeException) e;
            }
            try {
                return s.startServer();
            } catch (RuntimeException e) {
                try {
                    s.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
