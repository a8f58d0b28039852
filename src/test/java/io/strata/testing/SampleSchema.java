package io.strata.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A database holding one table of each kind a physical backup has to get right.
 *
 * <pre>
 * table       engine / format                         why
 * t_fcrc32    InnoDB, full_crc32 (FSP flags 0x15)     the 10.11 default; secondary index, TEXT column
 * t_legacy    InnoDB, crc32 (FSP flags 0x21)          pre-10.5 page checksum layout still in the field
 * t_part      InnoDB, PARTITION BY HASH, 4 parts      one .ibd per partition (t_part#P#p0 ...)
 * t_myisam    MyISAM                                  non-transactional: .MYD/.MYI copied under a lock
 * t_aria      Aria TRANSACTIONAL=1                    crash-safe Aria with its own log
 * t_csv       CSV                                     plain files (.CSV/.CSM); NOT NULL, no index
 * t_archive   ARCHIVE                                 append-only (.ARZ); plugin ha_archive
 * trg_fcrc32_version  BEFORE UPDATE trigger on t_fcrc32 (.TRG/.TRN files)
 * v_counts    view over the tables (.frm of a view)
 * </pre>
 *
 * Every table has an integer {@code id} (primary key, except on CSV and ARCHIVE, which allow none),
 * {@code k INT} and {@code c VARCHAR}; rows are derived from the id, so two loads are identical.
 */
public final class SampleSchema {

    /** FSP_SPACE_FLAGS of a full_crc32 tablespace with 16 KiB pages (innodb_checksum_algorithm=full_crc32). */
    public static final int FLAGS_FULL_CRC32 = 0x15;
    /** FSP_SPACE_FLAGS of a legacy-format tablespace with 16 KiB pages (created under crc32). */
    public static final int FLAGS_LEGACY_CRC32 = 0x21;

    /** Every base table, in creation order. */
    public static final List<String> TABLES =
            List.of("t_fcrc32", "t_legacy", "t_part", "t_myisam", "t_aria", "t_csv", "t_archive");
    /** The InnoDB tables (transactional). */
    public static final List<String> INNODB_TABLES = List.of("t_fcrc32", "t_legacy", "t_part");
    /** Non-transactional tables that take UPDATE and DELETE. */
    public static final List<String> NON_TRANSACTIONAL_TABLES = List.of("t_myisam", "t_aria");
    public static final String TRIGGER = "trg_fcrc32_version";
    public static final String VIEW = "v_counts";

    private SampleSchema() {}

    /**
     * Creates database {@code db} (which must not exist) with the tables, trigger and view above,
     * and checks that t_legacy really got the legacy checksum format. Leaves the server's
     * innodb_checksum_algorithm at full_crc32.
     */
    public static void create(Connection c, String db) throws SQLException {
        String q = quote(db);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + q);
            st.execute("CREATE TABLE " + q + ".t_fcrc32 (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " k INT NOT NULL, c VARCHAR(120) NOT NULL, txt TEXT, version INT NOT NULL DEFAULT 0,"
                    + " KEY k_idx (k)) ENGINE=InnoDB");
            // The checksum algorithm is fixed per tablespace when it is created.
            st.execute("SET GLOBAL innodb_checksum_algorithm=crc32");
            try {
                st.execute("CREATE TABLE " + q + ".t_legacy (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                        + " k INT NOT NULL, c VARCHAR(120) NOT NULL, txt TEXT, KEY k_idx (k)) ENGINE=InnoDB");
            } finally {
                st.execute("SET GLOBAL innodb_checksum_algorithm=full_crc32");
            }
            st.execute("CREATE TABLE " + q + ".t_part (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " k INT NOT NULL, c VARCHAR(120) NOT NULL) ENGINE=InnoDB PARTITION BY HASH(id) PARTITIONS 4");
            st.execute("CREATE TABLE " + q + ".t_myisam (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " k INT NOT NULL, c VARCHAR(120) NOT NULL, KEY k_idx (k)) ENGINE=MyISAM");
            st.execute("CREATE TABLE " + q + ".t_aria (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                    + " k INT NOT NULL, c VARCHAR(120) NOT NULL, KEY k_idx (k)) ENGINE=Aria TRANSACTIONAL=1");
            st.execute("CREATE TABLE " + q + ".t_csv (id INT NOT NULL, k INT NOT NULL, c VARCHAR(120) NOT NULL)"
                    + " ENGINE=CSV");
            st.execute("CREATE TABLE " + q + ".t_archive (id INT NOT NULL, k INT NOT NULL, c VARCHAR(120) NOT NULL)"
                    + " ENGINE=ARCHIVE");
            st.execute("CREATE TRIGGER " + q + "." + TRIGGER + " BEFORE UPDATE ON " + q + ".t_fcrc32"
                    + " FOR EACH ROW SET NEW.version = OLD.version + 1");
            StringBuilder view = new StringBuilder("CREATE VIEW " + q + "." + VIEW + " AS ");
            for (int i = 0; i < TABLES.size(); i++) {
                String t = TABLES.get(i);
                view.append(i == 0 ? "" : " UNION ALL ")
                        .append("SELECT '").append(t).append("' AS tbl, COUNT(*) AS n, SUM(k) AS sum_k FROM ")
                        .append(q).append('.').append(t);
            }
            st.execute(view.toString());
        }
        Map<String, Integer> flags = tablespaceFlags(c, db);
        check(flags, db + "/t_fcrc32", FLAGS_FULL_CRC32);
        check(flags, db + "/t_legacy", FLAGS_LEGACY_CRC32);
    }

    /** INNODB_SYS_TABLESPACES.FLAG by tablespace name ("db/table", partitions "db/t_part#P#p0"). */
    public static Map<String, Integer> tablespaceFlags(Connection c, String db) throws SQLException {
        Map<String, Integer> out = new HashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT NAME, FLAG FROM information_schema.INNODB_SYS_TABLESPACES"
                     + " WHERE NAME LIKE '" + db.replace("'", "''") + "/%'")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getInt(2));
            }
        }
        return out;
    }

    private static void check(Map<String, Integer> flags, String name, int expected) {
        Integer actual = flags.get(name);
        if (actual == null || actual != expected) {
            throw new IllegalStateException("tablespace " + name + " has FSP flags "
                    + (actual == null ? "(missing)" : "0x" + Integer.toHexString(actual))
                    + ", expected 0x" + Integer.toHexString(expected) + " (all: " + flags + ")");
        }
    }

    /**
     * Inserts ids 1..rowsPerTable into every table with multi-row INSERTs. The values are a pure
     * function of the id, so loading two servers gives identical checksums.
     */
    public static void loadRows(Connection c, String db, int rowsPerTable) throws SQLException {
        String q = quote(db);
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            for (String t : TABLES) {
                boolean hasText = t.equals("t_fcrc32") || t.equals("t_legacy");
                String head = "INSERT INTO " + q + "." + t + (hasText ? " (id, k, c, txt) VALUES " : " (id, k, c) VALUES ");
                StringBuilder sb = new StringBuilder(head);
                int inBatch = 0;
                for (int id = 1; id <= rowsPerTable; id++) {
                    sb.append(inBatch == 0 ? "(" : ",(").append(id).append(',').append(k(id)).append(",'")
                            .append(c(id)).append('\'');
                    if (hasText) {
                        sb.append(id % 10 == 0 ? ",NULL" : ",'" + txt(id) + "'");
                    }
                    sb.append(')');
                    if (++inBatch == 500 || id == rowsPerTable) {
                        st.execute(sb.toString());
                        sb.setLength(0);
                        sb.append(head);
                        inBatch = 0;
                    }
                }
                c.commit();
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    static int k(long id) {
        return (int) ((id * 7919) % 100_000);
    }

    static String c(long id) {
        return "row-" + id + "-" + "abcdefghijklmnopqrstuvwxyz".substring(0, (int) (id % 26));
    }

    static String txt(long id) {
        return ("text of row " + id + "; ").repeat(1 + (int) (id % 40));
    }

    static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }
}
