package io.strata.cli;

import io.strata.backup.BackupOptions;
import io.strata.backup.BackupProgress;
import io.strata.backup.BackupRun;
import io.strata.backup.BackupType;
import io.strata.backup.ChangeMethod;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.restore.RestoreRun;
import io.strata.server.ConnectionOptions;
import io.strata.server.MariadbProcess;
import io.strata.server.ServerTools;
import io.strata.util.Dirs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * End to end on a throwaway server: load sample data, keep writing while a full backup runs,
 * restore it, start the restored copy, replay the source's binlog from the backup's recorded
 * position, and compare every table. Everything lives in one temporary directory.
 */
@Command(name = "demo", description = "Run a hot backup and restore end to end on a throwaway local MariaDB.")
final class DemoCommand implements Callable<Integer> {
    private static final List<String> TABLES = List.of("accounts", "orders", "legacy_ledger", "events_myisam", "audit_aria", "log_csv");

    @Option(names = "--rows", defaultValue = "50000", description = "Rows loaded per table (default: ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--keep", description = "Keep the temporary directory (servers are stopped anyway).")
    boolean keep;

    @Mixin
    ServerToolsMixin serverTools;

    @Override
    public Integer call() throws Exception {
        ServerTools tools = serverTools.tools();
        Path mariadbd = tools.mariadbd();
        Path dir = Files.createTempDirectory("strata-demo-");
        say("working in " + dir + " with " + mariadbd + " (MariaDB " + ServerTools.versionOf(mariadbd) + ")");
        MariadbProcess source = null;
        MariadbProcess restored = null;
        try {
            Path data = dir.resolve("source-data");
            install(tools, data, dir);
            source = MariadbProcess.start(mariadbd, data, dir.resolve("source-run"), List.of("--log-bin=" + data.resolve("binlog"), "--binlog-format=ROW",
                    "--server-id=1", "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=128M", "--innodb-flush-log-at-trx-commit=2"),
                    Duration.ofMinutes(2));
            String url = io.strata.server.ConnectionOptions.rootUrl(source.socket().toString());
            try (Connection c = DriverManager.getConnection(url)) {
                load(c);
            }
            say("loaded " + rows + " rows into each of " + TABLES.size() + " tables (InnoDB full_crc32 and legacy crc32, a partitioned table, MyISAM, Aria, CSV)");

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong txCount = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int seed = i;
                Thread t = new Thread(() -> write(url, stop, txCount, seed), "demo-writer-" + i);
                t.start();
                writers.add(t);
            }
            Thread.sleep(1000);
            say("writers running; taking a hot full backup");
            long t0 = System.nanoTime();
            Path repo = dir.resolve("repo");
            Repository repository = Repository.openOrCreate(repo);
            repository.setCompression(io.strata.codec.Compression.zstd(io.strata.codec.Compression.ZSTD_DEFAULT_LEVEL));
            BackupRun.Outcome out = BackupRun.run(repository, new BackupOptions(BackupType.FULL, null, null,
                    new ConnectionOptions(source.socket().toString(), null, null, "root", null), null,
                    Runtime.getRuntime().availableProcessors(), 0, 0, ChangeMethod.AUTO, false),
                    new BackupProgress(new ProgressRenderer(System.err, ProgressRenderer.Mode.LINES)));
            long backupMs = (System.nanoTime() - t0) / 1_000_000;
            Thread.sleep(500);
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
            Manifest m = out.manifest();
            say(String.format("backup %s completed in %.1f s while %d transactions ran; binlog position %s:%d, redo %d..%d",
                    m.id(), backupMs / 1000.0, txCount.get(), m.binlogFile(), m.binlogPosition(), m.startLsn(), m.redoEndLsn()));

            Path target = dir.resolve("restored-data");
            RestoreRun.run(repository, new RestoreRun.Options(m.id(), target, true, Runtime.getRuntime().availableProcessors(), tools), DemoCommand::say);
            restored = MariadbProcess.start(mariadbd, target, dir.resolve("restored-run"), List.of("--innodb-buffer-pool-size=128M"), Duration.ofMinutes(2));
            say("restored server started; replaying the source's binlog from " + m.binlogFile() + ":" + m.binlogPosition());
            try (Connection c = DriverManager.getConnection(url)) {
                exec(c, "FLUSH BINARY LOGS");
            }
            replay(tools, data, m, restored.socket());

            String rurl = io.strata.server.ConnectionOptions.rootUrl(restored.socket().toString());
            int mismatches = 0;
            try (Connection a = DriverManager.getConnection(url); Connection b = DriverManager.getConnection(rurl)) {
                System.out.printf("%-28s %14s %14s %8s  %s%n", "table", "source", "restored", "rows", "check");
                for (String t : TABLES) {
                    String x = checksum(a, "demo." + t);
                    String y = checksum(b, "demo." + t);
                    String check = checkTable(b, "demo." + t);
                    boolean same = x.equals(y) && check.equals("OK");
                    mismatches += same ? 0 : 1;
                    System.out.printf("%-28s %14s %14s %8s  %s %s%n", "demo." + t, x, y, count(b, "demo." + t), check, same ? "match" : "MISMATCH");
                }
            }
            if (mismatches > 0) {
                throw new StrataException(ErrorCode.BUG, mismatches + " table(s) differ after restore", "please report this");
            }
            say("every table of the restored copy matches the source at the backup point");
            return 0;
        } finally {
            if (restored != null) {
                restored.close();
            }
            if (source != null) {
                source.close();
            }
            if (!keep) {
                if (Dirs.deleteQuietly(dir, false)) {
                    say("cleaned up " + dir);
                } else {
                    say("could not remove " + dir);
                }
            }
        }
    }

    private static void say(String s) {
        System.err.println("demo: " + s);
    }

    private static void install(ServerTools tools, Path data, Path dir) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(tools.client("mariadb-install-db").toString(), "--no-defaults", "--datadir=" + data,
                "--auth-root-authentication-method=normal", "--skip-test-db"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("--user=root");
        }
        Process p = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(cmd)).redirectErrorStream(true).redirectOutput(dir.resolve("install.log").toFile()).start();
        if (p.waitFor() != 0) {
            throw new StrataException(ErrorCode.SERVER_ERROR, "mariadb-install-db failed; see " + dir.resolve("install.log"), null);
        }
    }

    private void load(Connection c) throws SQLException {
        exec(c, "CREATE DATABASE demo");
        exec(c, "CREATE TABLE demo.accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(200), KEY(balance)) ENGINE=InnoDB");
        exec(c, "CREATE TABLE demo.orders (id INT PRIMARY KEY, account INT NOT NULL, amount INT NOT NULL, body TEXT) ENGINE=InnoDB PARTITION BY HASH(id) PARTITIONS 4");
        exec(c, "SET GLOBAL innodb_checksum_algorithm=crc32");
        exec(c, "CREATE TABLE demo.legacy_ledger (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB");
        exec(c, "SET GLOBAL innodb_checksum_algorithm=full_crc32");
        exec(c, "CREATE TABLE demo.events_myisam (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=MyISAM");
        exec(c, "CREATE TABLE demo.audit_aria (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=Aria TRANSACTIONAL=1");
        exec(c, "CREATE TABLE demo.log_csv (id INT NOT NULL, v INT NOT NULL) ENGINE=CSV");
        for (int start = 0; start < rows; start += 1000) {
            StringBuilder acc = new StringBuilder("INSERT INTO demo.accounts VALUES ");
            StringBuilder ord = new StringBuilder("INSERT INTO demo.orders VALUES ");
            StringBuilder small = new StringBuilder();
            for (int i = start; i < Math.min(rows, start + 1000); i++) {
                String sep = i == start ? "" : ",";
                acc.append(sep).append('(').append(i).append(',').append(i * 7L % 10007).append(",'account ").append(i).append("')");
                ord.append(sep).append('(').append(i).append(',').append(i % 997).append(',').append(i % 311).append(",REPEAT('x',").append(50 + i % 150).append("))");
                small.append(sep).append('(').append(i).append(',').append(i % 101).append(')');
            }
            exec(c, acc.toString());
            exec(c, ord.toString());
            for (String t : List.of("legacy_ledger", "events_myisam", "audit_aria", "log_csv")) {
                exec(c, "INSERT INTO demo." + t + " VALUES " + small);
            }
        }
    }

    private static void write(String url, AtomicBoolean stop, AtomicLong count, int seed) {
        Random r = new Random(seed);
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            int next = 10_000_000 * (seed + 1);
            try (Statement st = c.createStatement()) {
                while (!stop.get()) {
                    int k = r.nextInt(1000);
                    st.executeUpdate("UPDATE demo.accounts SET balance = balance + " + (r.nextInt(100) - 50) + " WHERE id = " + r.nextInt(1000) * 17 % 50000);
                    st.executeUpdate("INSERT INTO demo.orders VALUES (" + (next++) + "," + k + "," + r.nextInt(500) + ",'hot')");
                    st.executeUpdate("UPDATE demo.legacy_ledger SET v = v + 1 WHERE id = " + k);
                    if (k % 10 == 0) {
                        st.executeUpdate("INSERT INTO demo.events_myisam VALUES (" + (next++) + "," + k + ")");
                        st.executeUpdate("UPDATE demo.audit_aria SET v = v + 1 WHERE id = " + k);
                    }
                    c.commit();
                    count.incrementAndGet();
                }
            }
        } catch (SQLException e) {
            if (!stop.get()) {
                System.err.println("demo: writer stopped: " + e.getMessage());
            }
        }
    }

    private static void replay(ServerTools tools, Path data, Manifest m, Path socket) throws IOException, InterruptedException {
        List<String> files;
        try (Stream<Path> s = Files.list(data)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("binlog\\.\\d+"))
                    .filter(n -> n.compareTo(m.binlogFile()) >= 0).sorted().toList();
        }
        List<String> cmd = new ArrayList<>(List.of(tools.client("mariadb-binlog").toString(), "--no-defaults", "--start-position=" + m.binlogPosition()));
        for (String f : files) {
            cmd.add(data.resolve(f).toString());
        }
        Process dump = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(cmd)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process client = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(tools.client("mariadb").toString(), "--no-defaults", "-S", socket.toString(), "-uroot"))
                .redirectError(ProcessBuilder.Redirect.INHERIT).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (var in = dump.getInputStream(); var outS = client.getOutputStream()) {
            in.transferTo(outS);
        }
        if (dump.waitFor() != 0 || client.waitFor() != 0) {
            throw new StrataException(ErrorCode.SERVER_ERROR, "binlog replay failed (mariadb-binlog exit " + dump.exitValue() + ", mariadb exit " + client.exitValue() + ")", null);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String checksum(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("CHECKSUM TABLE " + table + " EXTENDED")) {
            rs.next();
            return rs.getString(2);
        }
    }

    private static String count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String checkTable(Connection c, String table) throws SQLException {
        Map<String, String> msgs = new LinkedHashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("CHECK TABLE " + table)) {
            while (rs.next()) {
                msgs.put(rs.getString(3), rs.getString(4));
            }
        }
        String status = msgs.get("status");
        return status != null && status.equals("OK") && msgs.size() == 1 ? "OK" : msgs.toString();
    }
}
