package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** One JDBC connection to the source server, with the queries a backup needs. */
public final class ServerSession implements AutoCloseable {
    private final Connection conn;
    private final ConnectionOptions opts;

    private ServerSession(Connection conn, ConnectionOptions opts) {
        this.conn = conn;
        this.opts = opts;
    }

    public static ServerSession connect(ConnectionOptions opts) {
        Properties p = new Properties();
        if (opts.user() != null) {
            p.setProperty("user", opts.user());
        }
        if (opts.password() != null) {
            p.setProperty("password", opts.password());
        }
        try {
            return new ServerSession(DriverManager.getConnection(opts.jdbcUrl(), p), opts);
        } catch (SQLException e) {
            throw translateConnect(e, opts);
        }
    }

    /**
     * Opens {@code n} connections at once (a backup needs two): each handshake waits on the
     * server, so opening them side by side costs about one. Either all are returned or, when one
     * fails, the others are closed and that failure is thrown.
     */
    public static List<ServerSession> connectAll(ConnectionOptions opts, int n) {
        List<java.util.concurrent.CompletableFuture<ServerSession>> others = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            others.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> connect(opts)));
        }
        List<ServerSession> out = new ArrayList<>();
        RuntimeException failure = null;
        try {
            out.add(connect(opts));
        } catch (RuntimeException e) {
            failure = e;
        }
        for (java.util.concurrent.CompletableFuture<ServerSession> f : others) {
            try {
                out.add(f.join());
            } catch (java.util.concurrent.CompletionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException re ? re : e;
                }
            }
        }
        if (failure != null) {
            for (ServerSession s : out) {
                s.close();
            }
            throw failure;
        }
        return out;
    }

    static StrataException translateConnect(SQLException e, ConnectionOptions opts) {
        if (e.getErrorCode() == 1045 || String.valueOf(e.getMessage()).contains("Access denied")) {
            return new StrataException(ErrorCode.ACCESS_DENIED, "access denied for user '" + opts.user() + "' at " + opts.describe(),
                    "check --user and --password (or the [client] section of your option file)", e);
        }
        return new StrataException(ErrorCode.SERVER_UNREACHABLE, "cannot connect to MariaDB at " + opts.describe() + ": " + firstLine(e.getMessage()),
                "check that the server is running and --socket, or --host and --port, point to it", e);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "no reason given";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * {@code text} as an SQL string literal that reads the same under every sql_mode: the
     * introducer and hex form {@code _utf8mb4 X'6162'} for "ab" (two hex digits per UTF-8 byte),
     * so that neither a quote nor a backslash (an escape character unless NO_BACKSLASH_ESCAPES)
     * in a database or table name changes it. Compares with information_schema's utf8mb3 columns.
     */
    public static String literal(String text) {
        return "_utf8mb4 X'" + java.util.HexFormat.of().formatHex(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "'";
    }

    public Connection connection() { return conn; }

    public ConnectionOptions options() { return opts; }

    public void exec(String sql) {
        try (Statement st = conn.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw queryFailed(sql, e);
        }
    }

    public String queryString(String sql) {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw queryFailed(sql, e);
        }
    }

    public List<Map<String, String>> queryRows(String sql) {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<Map<String, String>> rows = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Map<String, String> row = new HashMap<>();
                for (int i = 1; i <= n; i++) {
                    row.put(rs.getMetaData().getColumnLabel(i).toLowerCase(), rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw queryFailed(sql, e);
        }
    }

    /** Innodb_lsn_current, Innodb_lsn_flushed and Innodb_lsn_last_checkpoint in one round trip. */
    public LsnStatus lsnStatus() {
        long cur = -1, flushed = -1, ckpt = -1;
        for (Map<String, String> r : queryRows("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current','Innodb_lsn_flushed','Innodb_lsn_last_checkpoint')")) {
            long v = Long.parseLong(r.get("value"));
            switch (r.get("variable_name").toLowerCase()) {
                case "innodb_lsn_current" -> cur = v;
                case "innodb_lsn_flushed" -> flushed = v;
                case "innodb_lsn_last_checkpoint" -> ckpt = v;
                default -> { }
            }
        }
        if (cur < 0 || flushed < 0) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the server does not report Innodb_lsn_current/Innodb_lsn_flushed", "strata needs MariaDB 10.11, 11.4 or 11.8");
        }
        return new LsnStatus(cur, flushed, ckpt);
    }

    public record LsnStatus(long current, long flushed, long lastCheckpoint) {}

    /**
     * SHOW MASTER STATUS: the binary log file being written and the byte offset after its last
     * event group (always a transaction boundary); null when binary logging is off.
     */
    public MasterStatus masterStatus() {
        List<Map<String, String>> rows = queryRows("SHOW MASTER STATUS");
        return rows.isEmpty() ? null : new MasterStatus(rows.get(0).get("file"), Long.parseLong(rows.get(0).get("position")));
    }

    /** One row of SHOW MASTER STATUS: {@code file} (e.g. "mysql-bin.000003") and {@code position} in bytes. */
    public record MasterStatus(String file, long position) {}

    private StrataException queryFailed(String sql, SQLException e) {
        String state = e.getSQLState();
        if (state != null && state.startsWith("08")) {
            return new StrataException(ErrorCode.SERVER_ERROR, "lost the connection to MariaDB at " + opts.describe() + " during \"" + sql + "\": " + firstLine(e.getMessage()),
                    "check that the server is still running; the backup is recorded as failed", e);
        }
        if (e.getErrorCode() == ER_SPECIFIC_ACCESS_DENIED) {
            return new StrataException(ErrorCode.ACCESS_DENIED, "user '" + opts.user() + "' at " + opts.describe() + " may not run \"" + sql + "\": "
                    + firstLine(e.getMessage()).replaceFirst("^\\(conn=\\d+\\) ", ""), "grant the privilege the server names, or connect as root; a backup needs RELOAD, PROCESS and BINLOG"
                    + " MONITOR: GRANT RELOAD, PROCESS, BINLOG MONITOR ON *.* TO that user", e);
        }
        return new StrataException(ErrorCode.SERVER_ERROR, "query \"" + sql + "\" failed: " + firstLine(e.getMessage()), null, e);
    }

    /** MariaDB's error 1227: the statement needs a global privilege the user lacks ("you need (at least one of) the PROCESS privilege(s)"). */
    private static final int ER_SPECIFIC_ACCESS_DENIED = 1227;

    @Override
    public void close() {
        try {
            conn.close();
        } catch (SQLException ignored) {
            // closing a broken connection has nothing to report
        }
    }
}
