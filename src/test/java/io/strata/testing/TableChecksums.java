package io.strata.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The consistency oracle: CHECKSUM TABLE ... EXTENDED of every base table, and CHECK TABLE.
 * EXTENDED reads every row, so it does not trust MyISAM's live checksum and works for every engine.
 */
public final class TableChecksums {

    private TableChecksums() {}

    /** "db.table" → checksum (SQL NULL, for a table the engine cannot read, as "NULL"), sorted by name. */
    public static Map<String, String> of(Connection c, String... dbs) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        try (Statement st = c.createStatement()) {
            for (String table : baseTables(c, dbs)) {
                try (ResultSet rs = st.executeQuery("CHECKSUM TABLE " + quoteQualified(table) + " EXTENDED")) {
                    if (!rs.next()) {
                        throw new SQLException("CHECKSUM TABLE " + table + " returned no row");
                    }
                    String v = rs.getString(2);
                    out.put(table, v == null ? "NULL" : v);
                }
            }
        }
        return out;
    }

    /** Row count per "db.table", for messages next to a checksum mismatch. */
    public static Map<String, Long> rowCounts(Connection c, String... dbs) throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        try (Statement st = c.createStatement()) {
            for (String table : baseTables(c, dbs)) {
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + quoteQualified(table))) {
                    rs.next();
                    out.put(table, rs.getLong(1));
                }
            }
        }
        return out;
    }

    /**
     * CHECK TABLE (default mode) on every base table; returns one line per message that is not
     * "status OK", as "db.table: Msg_type: Msg_text". An empty list means every table is fine.
     */
    public static List<String> checkTables(Connection c, String... dbs) throws SQLException {
        List<String> problems = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            for (String table : baseTables(c, dbs)) {
                try (ResultSet rs = st.executeQuery("CHECK TABLE " + quoteQualified(table))) {
                    while (rs.next()) {
                        String type = rs.getString("Msg_type");
                        String text = rs.getString("Msg_text");
                        if (!("status".equalsIgnoreCase(type) && "OK".equalsIgnoreCase(text))) {
                            problems.add(rs.getString("Table") + ": " + type + ": " + text);
                        }
                    }
                }
            }
        }
        return problems;
    }

    /** Base tables (not views) of the given databases, as "db.table", sorted. */
    public static List<String> baseTables(Connection c, String... dbs) throws SQLException {
        if (dbs.length == 0) {
            throw new IllegalArgumentException("name at least one database");
        }
        StringBuilder in = new StringBuilder();
        for (String db : dbs) {
            in.append(in.length() == 0 ? "" : ",").append('\'').append(db.replace("'", "''")).append('\'');
        }
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT table_schema, table_name FROM information_schema.tables"
                     + " WHERE table_type = 'BASE TABLE' AND table_schema IN (" + in + ")"
                     + " ORDER BY table_schema, table_name")) {
            while (rs.next()) {
                out.add(rs.getString(1) + "." + rs.getString(2));
            }
        }
        return out;
    }

    /**
     * A readable description of how {@code actual} differs from {@code expected}: tables only on one
     * side and tables whose checksums differ. Returns "" when the maps are equal.
     */
    public static String diff(Map<String, String> expected, Map<String, String> actual) {
        StringBuilder sb = new StringBuilder();
        int differing = 0;
        for (String t : new TreeSet<>(expected.keySet())) {
            if (!actual.containsKey(t)) {
                sb.append("\n  ").append(t).append(": missing (expected checksum ").append(expected.get(t)).append(')');
                differing++;
            } else if (!expected.get(t).equals(actual.get(t))) {
                sb.append("\n  ").append(t).append(": expected checksum ").append(expected.get(t))
                        .append(", actual ").append(actual.get(t));
                differing++;
            }
        }
        for (String t : new TreeSet<>(actual.keySet())) {
            if (!expected.containsKey(t)) {
                sb.append("\n  ").append(t).append(": unexpected table (checksum ").append(actual.get(t)).append(')');
                differing++;
            }
        }
        if (differing == 0) {
            return "";
        }
        TreeSet<String> all = new TreeSet<>(expected.keySet());
        all.addAll(actual.keySet());
        return differing + " of " + all.size() + " tables differ:" + sb;
    }

    /** Throws an AssertionError with {@link #diff} as message unless the maps are equal. */
    public static void assertSame(Map<String, String> expected, Map<String, String> actual) {
        String d = diff(expected, actual);
        if (!d.isEmpty()) {
            throw new AssertionError(d);
        }
    }

    static String quoteQualified(String dbDotTable) {
        int dot = dbDotTable.indexOf('.');
        return SampleSchema.quote(dbDotTable.substring(0, dot)) + "." + SampleSchema.quote(dbDotTable.substring(dot + 1));
    }
}
