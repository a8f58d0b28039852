package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19 (4): a partial backup chain (a full and an incremental) of two databases of four,
 * taken under a write load on one included and one left-out database, restores to a server that
 * holds only those two databases' tables, each equal to the source at the backup (oracle: the
 * source's binlog replayed from the recorded position, the left-out tables' events failing and
 * skipped), with the left-out tables gone from the InnoDB dictionary too. An incremental asked
 * with another scope than its parent's is refused (exit 59) naming both scopes.
 */
class PartialBackupIT {

    @Test
    void aPartialChainRestoresOnlyItsDatabases() throws Exception {
        Path work = ItSupport.tempDir("partial-");
        Path repo = work.resolve("repo");
        String scope = "--databases=in1 in2";
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                for (String db : List.of("in1", "in2", "out1", "out2")) {
                    SampleSchema.create(c, db);
                    SampleSchema.loadRows(c, db, 2_000);
                }
            }
            // the checkpoint past the tables' creation: a left-out table whose FILE_CREATE is in a backup's copied log is
            // stored whole (recovery needs its file), so a lagging checkpoint would make out1/out2 files legitimately stored
            source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            ItSupport.waitForCheckpoint(source);
            source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 90");
            String full;
            String incr;
            try (WriteLoad a = WriteLoad.on(source, "in1").threads(1).rate(300).start();
                 WriteLoad b = WriteLoad.on(source, "out1").threads(1).rate(300).start()) {
                Thread.sleep(500);
                StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--type", "full", scope);
                full = ItSupport.completedId(r);
                assertTrue(r.err().contains("partial backup: --databases='in1 in2'"), r.err());
                // tables created between the backups, in and out of scope
                source.exec("CREATE TABLE in2.born (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB", "INSERT INTO in2.born VALUES (1, 'x'), (2, 'y')",
                        "CREATE TABLE out2.born (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO out2.born VALUES (7)");
                Thread.sleep(500);

                // another scope than the parent's: refused, nothing written
                StrataCli.Result bad = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--type", "incremental", "--databases=in1");
                assertEquals(59, bad.exit(), bad.toString());
                List<String> lines = bad.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList();
                assertEquals(List.of("ERROR [scope-mismatch]: backup " + full + " holds --databases='in1 in2', but this backup asks for --databases='in1':"
                                + " an incremental must hold the same tables as its parent",
                        "HINT: give the parent's filters again, or take a full backup (--type full) to start a chain with these"), lines);
                StrataCli.Result whole = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--type", "incremental");
                assertEquals(59, whole.exit(), whole.toString());
                assertTrue(whole.err().contains("backup " + full + " holds --databases='in1 in2', but this backup asks for the whole server"), whole.err());
                // the same filters in another order: the parent's scope (an incremental, exit 0); a misspelt name: refused with nothing
                // backed up when no table is left, warned about (exit 3) when others are
                Path orderRepo = work.resolve("repo-order");
                ItSupport.backup(orderRepo, source, "--type", "full", scope);
                ItSupport.backup(orderRepo, source, "--type", "incremental", "--databases=in2 in1");
                StrataCli.Result none = StrataCli.run("backup", "--repo", work.resolve("repo-none").toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--type", "full", "--databases=in_1");
                assertEquals(48, none.exit(), none.toString());
                assertEquals(List.of("ERROR [scope-empty]: the filters --databases='in_1' keep no table of this server outside the mysql schema; nothing was backed up"),
                        none.err().lines().filter(l -> l.startsWith("ERROR")).toList());
                Path typoRepo = work.resolve("repo-typo");
                StrataCli.Result typo = StrataCli.run("backup", "--repo", typoRepo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--type", "full", "--databases=in1 in_2");
                assertEquals(3, typo.exit(), typo.toString());
                assertTrue(typo.err().contains("--databases in_2 keeps no table of this server (a misspelt name, a database with no tables yet,"
                        + " or all of its tables excluded): nothing of it is in this backup"), typo.err());

                // DDL during the incremental, in and out of scope, once the copied log has begun (so its FILE_CREATE
                // records are in the backup's window): a throttled copy while tables are created
                Path out = work.resolve("incr.out");
                Path err = work.resolve("incr.err");
                Process p = StrataCli.start(out, err, "backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--type", "incremental", scope, "--throttle", "5", "--progress", "text");
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!Files.readString(err).contains("copying the redo log from checkpoint") && p.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                source.exec("CREATE TABLE in2.during (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO in2.during VALUES (42)",
                        "CREATE TABLE out2.during (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO out2.during VALUES (43)");
                assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
                String errText = Files.readString(err);
                assertEquals(0, p.exitValue(), errText);
                assertTrue(errText.contains("[ddl] DDL during the copy"), "the tables were created during the copy: " + errText);
                incr = Files.readString(out).lines().filter(l -> l.startsWith("backup ")).findFirst().orElseThrow().split(" ")[1];
                Thread.sleep(300);
                a.stop();
                b.stop();
                assertTrue(a.errors().isEmpty() && b.errors().isEmpty(), "write load errors: " + a.errors() + b.errors());
            }

            JsonNode m = ItSupport.manifest(repo, incr);
            assertEquals(full, m.get("parent").asText());
            assertEquals("[\"in1\",\"in2\"]", m.get("scope").get("databases").toString());
            for (JsonNode f : m.get("files")) {
                String p = f.get("path").asText();
                // a left-out table the redo window creates is stored whole (recovery needs its file) and dropped by restore
                assertFalse((p.startsWith("out1/") || p.startsWith("out2/")) && !p.equals("out2/born.ibd") && !p.equals("out2/during.ibd"),
                        "a left-out file was stored: " + p);
            }
            assertTrue(m.get("files").toString().contains("\"in2/born.ibd\""), "the table created in scope is stored");
            assertTrue(m.get("files").toString().contains("\"in2/during.ibd\""), "the table created in scope during the copy is stored");
            assertTrue(m.get("files").toString().contains("\"out2/during.ibd\""),
                    "a left-out table whose creation is in the copied log is stored (recovery needs its file): " + m.get("files"));
            assertTrue(m.get("files").toString().contains("\"mysql/"), "the mysql schema is always stored");
            StrataCli.Result list = StrataCli.inProcess("list", "--repo", repo.toString());
            assertTrue(list.out().lines().anyMatch(l -> l.startsWith(incr + " ") && l.contains("partial: --databases='in1 in2'")), list.out());
            StrataCli.Result show = StrataCli.inProcess("show", "--repo", repo.toString(), incr);
            assertTrue(show.out().contains("scope:           partial: --databases='in1 in2'"), show.out());
            assertEquals(0, StrataCli.inProcess("verify", "--repo", repo.toString()).exit());

            Path target = work.resolve("restored");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", incr, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("dropped the InnoDB dictionary entries of 2 database(s) and 0 table(s) it left out"), r.err());
            assertFalse(Files.exists(target.resolve("out1")) || Files.exists(target.resolve("out2")));
            Map<String, String> atBackup;
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--max-allowed-packet=1G").start()) {
                try (Connection c = restored.connection()) {
                    atBackup = TableChecksums.of(c, "in1", "in2");
                }
                BinlogReplay.replay(source, new MariaDbSandbox.BinlogPosition(m.get("binlogFile").asText(), m.get("binlogPosition").asLong()), null,
                        restored.socket(), true);
                try (Connection s = source.connection(); Connection c = restored.connection()) {
                    Map<String, String> expected = TableChecksums.of(s, "in1", "in2");
                    assertTrue(expected.size() >= 10 && expected.containsKey("in2.born"), expected.keySet().toString());
                    TableChecksums.assertSame(expected, TableChecksums.of(c, "in1", "in2"));
                    assertEquals(List.of(), TableChecksums.checkTables(c, "in1", "in2"));
                    assertEquals(List.of(), TableChecksums.baseTables(c, "out1", "out2"));
                    var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE 'out_/%'");
                    rs.next();
                    assertEquals(0, rs.getInt(1), "left-out tables stay in the InnoDB dictionary");
                    // the names are free again
                    c.createStatement().execute("CREATE DATABASE out1");
                    c.createStatement().execute("CREATE TABLE out1.t_fcrc32 (id INT PRIMARY KEY) ENGINE=InnoDB");
                }
            }

            // merge keeps the scope, and the merged backup restores the same tables
            StrataCli.Result merged = StrataCli.run("merge", "--repo", repo.toString(), incr);
            assertEquals(0, merged.exit(), merged.toString());
            String synthetic = merged.out().split(" ")[1];
            assertEquals("[\"in1\",\"in2\"]", ItSupport.manifest(repo, synthetic).get("scope").get("databases").toString());
            Path again = work.resolve("merged");
            assertEquals(0, StrataCli.run("restore", "--repo", repo.toString(), "--backup", synthetic, "--target", again.toString()).exit());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(again).start(); Connection c = restored.connection()) {
                TableChecksums.assertSame(atBackup, TableChecksums.of(c, "in1", "in2"));
                assertEquals(List.of(), TableChecksums.baseTables(c, "out1", "out2"));
            }

            // --tables alone (no writes now: the source is the oracle): every database directory is kept, left-out tables of it
            // are dropped by name, a left-out partitioned table cannot be and is named in a warning
            Path repo2 = work.resolve("repo2");
            ItSupport.backup(repo2, source, "--type", "full", "--tables=^in1\\.t_(fcrc32|legacy)$", "--tables-exclude=legacy");
            Path third = work.resolve("tables");
            StrataCli.Result tr = StrataCli.run("restore", "--repo", repo2.toString(), "--target", third.toString());
            assertEquals(0, tr.exit(), tr.toString());
            assertTrue(tr.err().contains("WARNING: left-out partitioned table(s) `in1`.`t_part`, `in2`.`t_part`, `out1`.`t_part`, `out2`.`t_part`"
                    + " stay in the InnoDB dictionary"), tr.err());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(third).start(); Connection c = restored.connection();
                 Connection s = source.connection()) {
                assertEquals(List.of("in1.t_fcrc32"), TableChecksums.baseTables(c, "in1", "in2", "out1", "out2"));
                assertEquals(TableChecksums.of(s, "in1").get("in1.t_fcrc32"), TableChecksums.of(c, "in1").get("in1.t_fcrc32"));
                var rs = c.createStatement().executeQuery("SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM information_schema.INNODB_SYS_TABLES"
                        + " WHERE NAME LIKE 'in_/%' OR NAME LIKE 'out_/%'");
                rs.next();
                assertEquals("in1/t_fcrc32,in1/t_part#P#p0,in1/t_part#P#p1,in1/t_part#P#p2,in1/t_part#P#p3,in2/t_part#P#p0,in2/t_part#P#p1,"
                        + "in2/t_part#P#p2,in2/t_part#P#p3,out1/t_part#P#p0,out1/t_part#P#p1,out1/t_part#P#p2,out1/t_part#P#p3,"
                        + "out2/t_part#P#p0,out2/t_part#P#p1,out2/t_part#P#p2,out2/t_part#P#p3", rs.getString(1));
            }
        }
    }
}
