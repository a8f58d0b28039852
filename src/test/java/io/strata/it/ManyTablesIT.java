package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Open files stay bounded (issue 18): with 3,000 InnoDB tables, three times the descriptors a
 * process may open, a full backup, an incremental after 1% of the tables changed and the restore of
 * both run in CLI processes limited to {@code ulimit -n 1024}, and the restored server holds every
 * table with the source's rows (CHECKSUM TABLE of the database where the changes are, and a count
 * of all tables). 63 s on two busy cores (the tables take 14 s); 121 s beside a 50,000-table build.
 */
class ManyTablesIT {
    private static final int DATABASES = 10;
    private static final int PER_DATABASE = 300;
    private static final int TABLES = DATABASES * PER_DATABASE;

    /** strata's launcher options and command, run by bash after {@code ulimit -n 1024}. */
    private static StrataCli.Result limited(String... args) {
        return StrataCli.exec(StrataCli.command(List.of("bash", "-c", "ulimit -n 1024 && exec \"$@\"", "bash"), args), Map.of());
    }

    @Test
    void backupAndRestoreOfThreeThousandTablesUnderUlimit1024() throws Exception {
        // the limit is real: a process started the same way sees 1024
        StrataCli.Result probe = StrataCli.exec(List.of("bash", "-c", "ulimit -n 1024 && exec bash -c 'ulimit -n'"), Map.of());
        assertEquals("1024", probe.out().strip(), probe.toString());

        Path work = ItSupport.tempDir("many-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = MariaDbSandbox.builder().innodbLogFileSize("64M")
                .extraArgs("--open-files-limit=20000", "--table-open-cache=1000", "--innodb-flush-log-at-trx-commit=0").start()) {
            long t0 = System.nanoTime();
            createTables(source);
            System.out.printf("ManyTablesIT: %d tables created in %.1f s%n", TABLES, (System.nanoTime() - t0) / 1e9);
            String[] server = {"--socket", source.socket().toString(), "--user", "root"};

            StrataCli.Result full = limited(ItSupport.concat(new String[] {"backup", "--repo", repo.toString(), "--type", "full"}, server));
            String fullId = ItSupport.completedId(full);
            System.out.printf("ManyTablesIT: full backup done at %.1f s%n", (System.nanoTime() - t0) / 1e9);
            JsonNode fm = ItSupport.manifest(repo, fullId);
            long ibd = 0;
            for (JsonNode f : fm.get("files")) {
                if (f.get("path").asText().matches("m\\d+/t\\d+\\.ibd")) {
                    ibd++;
                }
            }
            assertEquals(TABLES, ibd, "every table's .ibd in the full backup");

            // 1% of the tables changed, all in database m0 (the one compared by checksum)
            List<String> updates = new ArrayList<>();
            for (int i = 0; i < TABLES / 100; i++) {
                updates.add("UPDATE m0.t" + (i * 7) + " SET k = k + 1000 WHERE id <= " + (1 + i % 20));
            }
            source.exec(updates.toArray(new String[0]));
            String incId = ItSupport.completedId(limited(ItSupport.concat(new String[] {"backup", "--repo", repo.toString(), "--type", "incremental"}, server)));

            Path target = work.resolve("restored");
            StrataCli.Result r = limited("restore", "--repo", repo.toString(), "--backup", incId, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            System.out.printf("ManyTablesIT: incremental and restore done at %.1f s%n", (System.nanoTime() - t0) / 1e9);
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--open-files-limit=20000", "--table-open-cache=1000").start();
                 Connection a = source.connection(); Connection b = restored.connection()) {
                assertEquals(TABLES, countTables(a));
                assertEquals(TABLES, countTables(b), "tables on the restored server");
                Map<String, String> expected = TableChecksums.of(a, "m0");
                assertEquals(PER_DATABASE, expected.size());
                TableChecksums.assertSame(expected, TableChecksums.of(b, "m0"));
            }
        }
    }

    /** TABLES tables of 20 rows in DATABASES databases, created over two connections. */
    private static void createTables(MariaDbSandbox source) throws Exception {
        for (int d = 0; d < DATABASES; d++) {
            source.exec("CREATE DATABASE m" + d);
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int part = 0; part < 2; part++) {
                int first = part;
                done.add(pool.submit(() -> {
                    try (Connection c = source.connection(); Statement st = c.createStatement()) {
                        for (int i = first; i < TABLES; i += 2) {
                            String t = "m" + (i % DATABASES) + ".t" + (i / DATABASES);
                            st.addBatch("CREATE TABLE " + t + " (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(40) NOT NULL) ENGINE=InnoDB");
                            st.addBatch("INSERT INTO " + t + " SELECT seq, seq * 3, REPEAT(CHAR(97 + seq % 26), 40) FROM mysql.seq_1_to_20");
                            if (i % 200 < 2) {
                                st.executeBatch();
                            }
                        }
                        st.executeBatch();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static long countTables(Connection c) throws Exception {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA REGEXP '^m[0-9]+$' AND ENGINE = 'InnoDB'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
