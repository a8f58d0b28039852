package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Servers other than the suite's own: a MariaDB 10.5 is refused for its redo format, and a 10.11
 * data directory upgraded in place by 11.8 continues its backup chain. Both need the Debian roots
 * of bin/with-mariadb (run by bin/test's 11.8 suite); without them they skip and say why.
 */
class ServerVersionsIT {

    /** Debian 11's MariaDB 10.5, started from the bullseye root: refused by the format of its ib_logfile0. */
    @Test
    void mariadb105IsRefusedForItsRedoFormat() throws Exception {
        String dir = System.getenv("STRATA_IT_MARIADB_BIN_BULLSEYE");
        Assumptions.assumeTrue(dir != null && !dir.isBlank(),
                "no Debian 11 root with MariaDB 10.5 in this run (bin/with-mariadb trixie,bullseye builds one); the 10.5 refusal is not tested");
        Path work = ItSupport.tempDir("v105-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox old = MariaDbSandbox.builder().tools(List.of(Path.of(dir))).logBin(true).start()) {
            String version = old.version();
            assertTrue(version.startsWith("10.5."), version);
            try (Connection c = old.connection()) {
                SampleSchema.create(c, "app");
            }
            StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", old.socket().toString(), "--user", "root");
            assertEquals(13, r.exit(), r.toString());
            assertEquals("ERROR [server-unsupported]: MariaDB " + version + " writes its redo log " + old.datadir().toRealPath().resolve("ib_logfile0")
                    + " in the format of MariaDB 10.5 to 10.7 (format word 0x50485953 \"PHYS\", 512-byte log blocks);"
                    + " strata reads the format of MariaDB 10.8 and later", r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(r.err()));
            assertTrue(r.err().contains("back up this server with mariadb-backup of its own version, or upgrade it to MariaDB 10.11 or 11.8"), r.err());
            // recorded as a failed attempt with the reason, never as a backup
            var list = ItSupport.list(repo);
            assertEquals(1, list.size(), list.toString());
            assertEquals("failed", list.get(0).get("state").asText());
            assertTrue(list.get(0).get("error").asText().startsWith("MariaDB " + version + " writes its redo log "), list.toString());
        }
    }

    /**
     * A 10.11 server's full backup, then the same data directory started by 11.8 (an in-place
     * upgrade: 11.8 merges and frees the change buffer), then an incremental with that full as its
     * parent, by the redo method across the restart: the chain restores, with 11.8's mariadbd,
     * equal to the source.
     */
    @Test
    void aChainAcrossAnInPlaceUpgradeFrom1011To118Restores() throws Exception {
        MariaDbSandbox.requireMariaDb();
        Assumptions.assumeTrue(System.getenv(MariaDbSandbox.TOOLS_ENV) != null,
                "the suite runs its own server version only; the upgrade from 10.11 to 11.8 runs in bin/test's 11.8 suite");
        Path work = ItSupport.tempDir("upgrade-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = MariaDbSandbox.builder().tools(MariaDbSandbox.HOST_TOOLS).logBin(true).innodbLogFileSize("32M").start()) {
            assertTrue(source.version().startsWith("10.11."), source.version());
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            String full;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                Thread.sleep(500);
                full = ItSupport.backup(repo, source);
                w.stop();
            }
            assertEquals("10.11", ItSupport.manifest(repo, full).get("source").get("version").asText().substring(0, 5));

            source.stop();
            source.useTools(List.of());
            source.startServer();
            assertTrue(source.version().startsWith("11.8."), source.version());
            String incr;
            MariaDbSandbox.BinlogPosition at;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                Thread.sleep(1000);
                // the redo method reads 10.11's and 11.8's records (the change-buffer merge of the upgrade among
                // them) in one range; the debug check reads every page and fails on one it missed
                incr = ItSupport.backup(repo, source, "--type", "incremental", "--base", full, "--method", "redo", "--debug-check-method");
                w.stop();
            }
            var m = ItSupport.manifest(repo, incr);
            assertEquals(full, m.get("parent").asText());
            assertEquals("redo", m.get("method").asText());
            assertTrue(m.get("source").get("version").asText().startsWith("11.8."), m.toString());
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, incr, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                assertTrue(restored.version().startsWith("11.8."), restored.version());
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
