package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerVersion;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The point-in-time roll-forward through the temporary server's own replication applier (its SQL
 * thread, parallel workers on) instead of {@code mariadb-binlog | mariadb}.
 *
 * <p>How: the copies of {@link PitrBinlogs} (whole files, the last one cut exactly at the target)
 * are hard-linked into a relay directory beside them as {@code relay.000001}, {@code relay.000002},
 * ... in replay order, with a {@code relay.index} naming them; mariadbd starts with
 * {@link #serverArgs} (relay log, index, master.info and relay-log.info all in that directory, so
 * nothing of the replication state lands in the target; {@code replicate_same_server_id} so events
 * whose server_id equals the temporary server's are applied, not skipped; binary log off; parallel
 * workers in optimistic mode, which commit in binlog order and retry a transaction that conflicts;
 * the table filter as {@code replicate_wild_do_table}). Then {@link #apply}, on one root connection
 * over the private socket: {@code FLUSH PRIVILEGES} (grant checks back on, so GRANT and CREATE USER
 * in the binlog apply), {@code CHANGE MASTER TO} a dummy host with {@code MASTER_USE_GTID=no}, the
 * relay position (first file, the backup's offset) and the master log name (the first archived
 * file's name: the SQL thread of 10.11 needs one in parallel mode, later names come from the Rotate
 * events in the files), then {@code START SLAVE SQL_THREAD UNTIL RELAY_LOG_FILE=last,
 * RELAY_LOG_POS=end of the last copy}; no IO thread ever runs. It waits for the SQL thread to stop,
 * checks it stopped with no error exactly at the end of the last copy, then {@code RESET SLAVE ALL}
 * (removes the relay files and the replication state) and puts {@code gtid_slave_pos} back to its
 * value before the replay, so the result holds the same replication state as a replay by the pipe.
 *
 * <p>The SQL thread reads the format description event at the start of every relay file first
 * (so a start inside the first file works), verifies the event checksums
 * ({@code slave_sql_verify_checksum}, on by default), and keeps temporary tables per originating
 * connection id, as the pipe's single session does not need to.
 */
final class PitrApplier {
    /** Relay file base name in the relay directory. */
    static final String RELAY = "relay";
    /** Where {@code auto} stops choosing the applier: from 11.4 events inside a transaction may carry log_pos 0 (MDEV-31273), untested here. */
    static final ServerVersion FIRST_UNTESTED = new ServerVersion(11, 4, 0);

    private PitrApplier() {}

    /**
     * Decides the path: {@code tables} (a table filter) needs the applier, which the pipe cannot
     * filter by table; {@code auto} takes the applier below {@link #FIRST_UNTESTED}.
     *
     * @return true for the applier
     * @throws StrataException usage when {@code pipe} is asked for with a table filter
     */
    static boolean useApplier(ReplayOptions.Mode mode, List<String> tables, ServerVersion server) {
        if (mode == ReplayOptions.Mode.PIPE && !tables.isEmpty()) {
            throw new StrataException(ErrorCode.USAGE, "--replay pipe cannot replay only some tables (" + String.join(", ", tables) + ")",
                    "use --replay applier or auto with a table filter");
        }
        return switch (mode) {
            case PIPE -> false;
            case APPLIER -> true;
            case AUTO -> !tables.isEmpty() || server == null || server.olderSeriesThan(FIRST_UNTESTED);
        };
    }

    /**
     * The mariadbd options the applier needs, for a relay directory {@code relay}.
     *
     * @param threads parallel applier workers (slave_parallel_threads), 1 or more
     * @param tables  "db.table" names to apply alone (empty: all); each becomes a
     *                replicate_wild_do_table pattern with {@code _} and {@code %} escaped
     */
    static List<String> serverArgs(Path relay, int threads, List<String> tables) {
        List<String> a = new ArrayList<>(List.of(
                "--relay-log=" + relay.resolve(RELAY),
                "--relay-log-index=" + relay.resolve(RELAY + ".index"),
                "--relay-log-info-file=" + relay.resolve("relay-log.info"),
                "--master-info-file=" + relay.resolve("master.info"),
                "--replicate-same-server-id",
                "--relay-log-purge=0",
                "--slave-parallel-threads=" + threads,
                "--slave-parallel-mode=optimistic",
                "--slave-max-allowed-packet=1G"));
        for (String t : tables) {
            a.add("--replicate-wild-do-table=" + wildPattern(t));
        }
        return a;
    }

    /** "db.t" as a replicate_wild_do_table pattern matching exactly that table ({@code \\}, {@code _}, {@code %} escaped). */
    static String wildPattern(String table) {
        return table.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%");
    }

    /**
     * Hard-links (copies where links are impossible) the binlog copies into {@code relay} as
     * relay.000001... and writes relay.index naming them.
     *
     * @return the relay files, in order
     * @throws StrataException io-error
     */
    static List<Path> install(List<Path> copies, Path relay) {
        List<Path> out = new ArrayList<>();
        try {
            Files.createDirectories(relay);
            StringBuilder index = new StringBuilder();
            for (int i = 0; i < copies.size(); i++) {
                Path f = relay.resolve(String.format("%s.%06d", RELAY, i + 1));
                try {
                    Files.createLink(f, copies.get(i));
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(copies.get(i), f);
                }
                out.add(f);
                index.append(f).append('\n');
            }
            Files.writeString(relay.resolve(RELAY + ".index"), index.toString(), StandardCharsets.UTF_8);
            return out;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot install the binlog copies as relay logs in " + relay + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Runs the replay on the started server and waits for it to end (see the class comment).
     *
     * @param socket     the temporary server's socket
     * @param relayFiles from {@link #install}
     * @param firstName  the archived name of the first copy (the master log name the SQL thread starts in)
     * @param start      byte offset in the first file where the replay starts
     * @param stop       byte offset in the last file where it ends (the last copy's size)
     * @throws StrataException replay-applier-failed when the SQL thread stops with an error, or not at
     *         the end of the last copy, or the server goes away; interrupted
     */
    static void apply(Path socket, List<Path> relayFiles, String firstName, long start, long stop, Consumer<String> log) {
        String last = relayFiles.get(relayFiles.size() - 1).getFileName().toString();
        try (Connection c = DriverManager.getConnection(ConnectionOptions.rootUrl(socket.toString())); Statement st = c.createStatement()) {
            String before = one(st, "SELECT @@GLOBAL.gtid_slave_pos");
            st.execute("FLUSH PRIVILEGES");
            st.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=9, MASTER_USER='strata-replay', MASTER_USE_GTID=no, MASTER_LOG_FILE="
                    + quote(firstName) + ", MASTER_LOG_POS=" + start + ", RELAY_LOG_FILE=" + quote(relayFiles.get(0).getFileName().toString())
                    + ", RELAY_LOG_POS=" + start);
            st.execute("START SLAVE SQL_THREAD UNTIL RELAY_LOG_FILE=" + quote(last) + ", RELAY_LOG_POS=" + stop);
            long t0 = System.nanoTime();
            long lastReport = t0;
            Map<String, String> s;
            while (true) {
                s = status(st);
                if (!"Yes".equalsIgnoreCase(s.get("slave_sql_running")) && !"Preparing".equalsIgnoreCase(s.get("slave_sql_running"))) {
                    break;
                }
                if (System.nanoTime() - lastReport > 30_000_000_000L) {
                    lastReport = System.nanoTime();
                    log.accept("replaying through the applier: at " + s.get("relay_master_log_file") + ":" + s.get("exec_master_log_pos") + " ("
                            + s.get("relay_log_file") + ":" + s.get("relay_log_pos") + " of " + last + ":" + stop + ")");
                }
                Thread.sleep(100);
            }
            String errno = s.getOrDefault("last_sql_errno", "0");
            String where = s.get("relay_master_log_file") + ":" + s.get("exec_master_log_pos");
            if (!"0".equals(errno)) {
                throw failed("the replication applier stopped at archived binlog position " + where + " with error " + errno + ": " + s.get("last_sql_error"));
            }
            if (!last.equals(s.get("relay_log_file")) || !String.valueOf(stop).equals(s.get("relay_log_pos"))) {
                throw failed("the replication applier stopped at relay log " + s.get("relay_log_file") + ":" + s.get("relay_log_pos") + " (archived binlog position "
                        + where + "), not at the target's " + last + ":" + stop);
            }
            st.execute("RESET SLAVE ALL");
            st.execute("SET GLOBAL gtid_slave_pos=" + quote(before == null ? "" : before));
            log.accept(String.format("applied through the replication applier (%s parallel workers, optimistic) in %.1f s, up to %s",
                    one(st, "SELECT @@GLOBAL.slave_parallel_threads"), (System.nanoTime() - t0) / 1e9, where));
        } catch (SQLException e) {
            throw failed("the replication applier failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted during the binlog replay", null, e);
        }
    }

    private static StrataException failed(String message) {
        return new StrataException(ErrorCode.REPLAY_APPLIER_FAILED, message,
                "the restored server could not apply the archived binlogs through its replication applier; the target was left empty;"
                        + " \"--replay pipe\" replays with mariadb-binlog | mariadb instead");
    }

    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static Map<String, String> status(Statement st) throws SQLException {
        Map<String, String> row = new HashMap<>();
        try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
            if (rs.next()) {
                int n = rs.getMetaData().getColumnCount();
                for (int i = 1; i <= n; i++) {
                    row.put(rs.getMetaData().getColumnLabel(i).toLowerCase(java.util.Locale.ROOT), rs.getString(i));
                }
            }
        }
        return row;
    }
}
