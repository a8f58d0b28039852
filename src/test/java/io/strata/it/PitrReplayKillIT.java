package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The point-in-time replay runs its temporary server with durability relaxed (flush at commit 0,
 * doublewrite off; issue 19, "fast replay"), which is only right if a replay that does not finish
 * is never used and a finished one is durable: (1) a replay through the pipe gives the source's
 * data, says which settings it relaxed, leaves no option file in the result and ends with a clean
 * shutdown (the result starts without crash recovery); (2) a restore killed with SIGKILL in the
 * middle of its replay (the applier, applying about 40 MB of row events) takes its server with it
 * and leaves the target as it found it (absent), and no work directory beside it.
 */
class PitrReplayKillIT {

    @Test
    void relaxedReplayIsDurableWhenDoneAndLeavesNothingWhenKilled() throws Exception {
        Path work = ItSupport.tempDir("pitr-replay-kill-");
        Path repo = work.resolve("repo");
        String checksum;
        BinlogPosition end;
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.big (id INT PRIMARY KEY, pad VARCHAR(100)) ENGINE=InnoDB",
                    "INSERT INTO app.big VALUES (0, 'before')");
            ItSupport.backup(repo, source, "--type", "full");
            // 8 transactions of 40,000 rows each (~40 MB of row events): seconds of replay for the kill to land in
            for (int i = 0; i < 8; i++) {
                source.exec("INSERT INTO app.big SELECT seq, REPEAT(CHAR(65 + " + i + "), 100) FROM app.seq_" + (1 + i * 40_000) + "_to_" + ((i + 1) * 40_000));
            }
            source.exec("UPDATE app.big SET pad = 'after' WHERE id = 0");
            end = source.binlogPosition();
            checksum = source.query("CHECKSUM TABLE app.big").get(0).get(1);
            source.exec("FLUSH BINARY LOGS");
            PitrSupport.archiveOnce(repo, source);
        }

        // (1) the pipe: relaxed while it ran, nothing of it kept, shut down cleanly
        Path piped = work.resolve("piped");
        StrataCli.Result r = PitrSupport.restore(repo, piped, "--until-position", end.toString(), "--replay", "pipe");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("replay server settings (this run only, none kept in the result): innodb_flush_log_at_trx_commit=0, innodb_doublewrite=0,"
                + " sync_binlog=0, innodb_buffer_pool_size="), r.err());
        assertTrue(r.err().contains("replaying with "), r.err());
        try (Stream<Path> s = Files.walk(piped)) {
            List<String> options = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".err"))
                    .filter(p -> p.getFileName().toString().endsWith(".cnf") || mentionsRelaxedSetting(p)).map(Path::toString).toList();
            assertEquals(List.of(), options, "the result holds an option file or the replay's settings");
        }
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(piped).start()) {
            assertEquals(checksum, restored.query("CHECKSUM TABLE app.big").get(0).get(1));
            assertEquals(List.of(List.of("320001")), restored.query("SELECT COUNT(*) FROM app.big"));
            String log = restored.errorLog();
            assertFalse(log.contains("Starting crash recovery"), "the replay did not end with a clean shutdown:\n" + log);
        }

        // (2) killed during the replay: the server ends with strata, the target is as found
        Path target = work.resolve("killed");
        Path out = work.resolve("killed.out");
        Path err = work.resolve("killed.err");
        Process p = StrataCli.start(out, err, "restore", "--repo", repo.toString(), "--target", target.toString(), "--until-position", end.toString(),
                "--replay", "applier");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        boolean replaying = false;
        while (!replaying && p.isAlive() && System.nanoTime() < deadline) {
            replaying = Files.readString(err, StandardCharsets.UTF_8).contains("replaying through the server's replication applier");
            if (!replaying) {
                Thread.sleep(10);
            }
        }
        assertTrue(replaying, "the restore never reached its replay: " + Files.readString(err, StandardCharsets.UTF_8));
        List<Long> servers = RestoreKillIT.serversOn(target);
        assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(p.pid())).start().waitFor());
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        String said = Files.readString(err, StandardCharsets.UTF_8);
        assertFalse(said.contains("replayed "), "the kill came after the replay had finished:\n" + said);
        assertEquals(1, servers.size(), "the replay server was not running at the kill: " + servers);
        long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((!RestoreKillIT.serversOn(target).isEmpty() || Files.exists(target)) && System.nanoTime() < gone) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), RestoreKillIT.serversOn(target), "the replay server outlived strata");
        assertFalse(Files.exists(target), "the killed replay left " + target);
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(List.of(), s.map(x -> x.getFileName().toString()).filter(n -> n.startsWith(".strata-pitr-")).toList(), "work directory left beside the target");
        }
        // the same target then restores normally
        r = PitrSupport.restore(repo, target, "--until-position", end.toString());
        assertEquals(0, r.exit(), r.toString());
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
            assertEquals(checksum, restored.query("CHECKSUM TABLE app.big").get(0).get(1));
        }
    }

    /** Whether a small file names one of the settings the replay relaxes (an option file strata might leave). */
    private static boolean mentionsRelaxedSetting(Path p) {
        try {
            if (Files.size(p) > 65_536) {
                return false;
            }
            String s = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).replace('-', '_');
            return s.contains("flush_log_at_trx_commit") || s.contains("innodb_doublewrite") || s.contains("sync_binlog");
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
