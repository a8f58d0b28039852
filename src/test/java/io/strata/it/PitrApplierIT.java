package io.strata.it;

import io.strata.repo.Repository;
import io.strata.restore.PitrRun;
import io.strata.restore.PitrTarget;
import io.strata.restore.ReplayOptions;
import io.strata.server.ServerTools;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The point-in-time replay through the restored server's replication applier (issue 19, "fast
 * replay"): (1) many small transactions from four connections at once, with DDL, a temporary
 * table, Aria and a GRANT among them, replayed by parallel workers, give the source's data, leave
 * no replication state in the target (no master.info, relay log or gtid_slave_pos) and say they
 * used the applier; (2) a replay filtered to one table applies that table's changes alone; (3) a
 * binlog the applier cannot apply (a table the binlog never created) fails with exit 61, the
 * archived position and the server's error, and leaves no target.
 */
class PitrApplierIT {

    @Test
    void parallelFilteredAndFailingReplays() throws Exception {
        Path work = ItSupport.tempDir("pitr-applier-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.a (id INT PRIMARY KEY, v INT, c VARCHAR(40)) ENGINE=InnoDB",
                    "CREATE TABLE app.b (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", "CREATE TABLE app.aria (id INT PRIMARY KEY, v INT) ENGINE=Aria",
                    "INSERT INTO app.a VALUES (0, 0, 'before'), (1, 1, 'before')", "INSERT INTO app.b VALUES (0, 0)");
            ItSupport.backup(repo, source, "--type", "full");
            List<List<String>> bAtBackup = source.query("SELECT id, v FROM app.b ORDER BY id");
            // four writers: 4 x 300 small transactions, each on its own rows and on a shared counter row
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    try (Connection c = source.connection(); Statement st = c.createStatement()) {
                        for (int i = 0; i < 300; i++) {
                            int id = 1000 + writer * 1000 + i;
                            for (String sql : List.of("BEGIN", "INSERT INTO app.a VALUES (" + id + ", " + i + ", MD5(" + id + "))",
                                    "UPDATE app.a SET v = v + 1 WHERE id = 1", "INSERT INTO app.b VALUES (" + id + ", " + (i % 7) + ")", "COMMIT")) {
                                st.execute(sql);
                            }
                            if (i % 50 == 0) {
                                st.execute("INSERT INTO app.aria VALUES (" + id + ", " + i + ")");
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            source.exec("CREATE TEMPORARY TABLE app.tmp (id INT) ENGINE=InnoDB", "INSERT INTO app.tmp VALUES (5), (6)",
                    "UPDATE app.b SET v = v + 100 WHERE id IN (SELECT id FROM app.tmp)", "INSERT INTO app.b SELECT id + 10, 0 FROM app.tmp",
                    "DROP TEMPORARY TABLE app.tmp", "CREATE TABLE app.c (id INT PRIMARY KEY, s VARCHAR(10)) ENGINE=InnoDB",
                    "INSERT INTO app.c VALUES (1, 'x'), (2, 'y')", "CREATE TABLE app.m (id INT PRIMARY KEY) ENGINE=MyISAM", "INSERT INTO app.m VALUES (7)",
                    "ALTER TABLE app.b ADD COLUMN note VARCHAR(10) DEFAULT 'x'", "UPDATE app.a SET c = 'after' WHERE id = 0",
                    "CREATE USER 'reader'@'localhost' IDENTIFIED BY 'pw'", "GRANT SELECT ON app.* TO 'reader'@'localhost'");
            BinlogPosition end = source.binlogPosition();
            // not in the binlog, so not in any replay: a later insert into it cannot be applied
            source.exec("SET sql_log_bin = 0", "CREATE TABLE app.hidden (id INT PRIMARY KEY) ENGINE=InnoDB", "SET sql_log_bin = 1",
                    "INSERT INTO app.hidden VALUES (1)");
            BinlogPosition afterHidden = source.binlogPosition();
            source.exec("FLUSH BINARY LOGS");
            PitrSupport.archiveOnce(repo, source);

            // (1) parallel replay of everything up to the end of the load
            Path all = work.resolve("all");
            StrataCli.Result r = PitrSupport.restore(repo, all, "--until-position", end.toString(), "--replay", "applier");
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("replaying through the server's replication applier (" + ReplayOptions.DEFAULT.threads() + " parallel workers; relay logs in "), r.err());
            assertTrue(r.err().contains("applied through the replication applier (" + ReplayOptions.DEFAULT.threads() + " parallel workers, optimistic) in "), r.err());
            // durability relaxed for the replay server alone (PitrReplayKillIT: none of it kept, a killed replay leaves nothing)
            assertTrue(r.err().contains("replay server settings (this run only, none kept in the result): innodb_flush_log_at_trx_commit=0, innodb_doublewrite=0,"
                    + " sync_binlog=0, sync_relay_log=0, sync_relay_log_info=0, sync_master_info=0, innodb_buffer_pool_size=256M;"), r.err());
            assertFalse(Files.exists(all.resolve(io.strata.restore.RestoredLayout.OPTION_FILE)), "an option file in the result");
            try (var s = Files.list(all)) {
                List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.contains("relay") || n.equals("master.info")).toList(); // multi-master.info is the source's, restored
                assertEquals(List.of(), left, "replication state left in the target");
            }
            String applied;
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(all).start()) {
                source.exec("DROP TABLE app.hidden"); // only the restore at afterHidden knows it
                ItSupport.assertSameData(source, restored, "app");
                assertEquals(List.of(List.of("1201")), restored.query("SELECT v FROM app.a WHERE id = 1"));
                assertEquals(List.of(List.of("")), restored.query("SELECT @@gtid_slave_pos"));
                assertEquals(List.of(List.of("Y")), restored.query("SELECT Select_priv FROM mysql.db WHERE User = 'reader' AND Db = 'app'"));
                assertEquals(List.of(), restored.query("SHOW SLAVE STATUS"));
                assertFalse(restored.errorLog().contains("Starting crash recovery"), "the replay did not end with a clean shutdown");
                applied = restored.query("CHECKSUM TABLE app.a").get(0).get(1);
            }

            // (2) the same point, only app.a's changes: app.a as at the point, app.b as at the backup
            Path one = work.resolve("one");
            PitrRun.run(Repository.open(repo), new PitrRun.Options(PitrTarget.position(end.toString()), null, one, 2, ServerTools.defaults(), List.of(),
                    ReplayOptions.DEFAULT.tables(List.of("app.a"))), line -> { });
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(one).start()) {
                assertEquals(applied, restored.query("CHECKSUM TABLE app.a").get(0).get(1));
                assertEquals(bAtBackup, restored.query("SELECT id, v FROM app.b ORDER BY id"));
                assertEquals(List.of(List.of("0")), restored.query("SELECT COUNT(*) FROM app.aria"), "app.aria is not in the filter");
                assertEquals(List.of(), restored.query("SELECT User FROM mysql.user WHERE User = 'reader'"));
                assertEquals(List.of(), restored.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' AND table_name IN ('c', 'm')"));
            }

            // (3) the insert into the table the binlog never created: exit 61 and nothing left
            Path failed = work.resolve("failed");
            r = PitrSupport.restore(repo, failed, "--until-position", afterHidden.toString(), "--replay", "applier");
            assertEquals(61, r.exit(), r.toString());
            String first = r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
            assertTrue(first.startsWith("ERROR [replay-applier-failed]: the replication applier stopped at archived binlog position " + end.file() + ":"), first);
            assertTrue(first.contains(" with error 1146: "), first);
            assertTrue(first.contains("app.hidden"), first);
            assertTrue(r.err().contains("HINT: the restored server could not apply the archived binlogs through its replication applier; the target was left empty;"
                    + " \"--replay pipe\" replays with mariadb-binlog | mariadb instead"), r.err());
            assertFalse(r.err().contains("\tat "), r.toString());
            assertFalse(Files.exists(failed) && Files.list(failed).findAny().isPresent(), "the failed restore left files in " + failed);
        }
    }
}
