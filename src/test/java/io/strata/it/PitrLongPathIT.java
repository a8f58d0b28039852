package io.strata.it;

import io.strata.restore.ReplayOptions;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A point-in-time restore into a target whose path is far longer than a unix socket path may be
 * (107 bytes), by a JVM whose java.io.tmpdir (where the server's run directory goes) is as long:
 * the server's socket lives in a short private directory, whatever the paths, and is removed after.
 */
class PitrLongPathIT {

    @Test
    void restoresIntoALongTargetPath() throws Exception {
        Path work = ItSupport.tempDir("pitr-long-");
        Path repo = work.resolve("repo");
        Path target = work.resolve("a-restore-target-directory-with-a-long-name-".repeat(3) + "end");
        assertTrue(target.toString().length() >= 150, target.toString());
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO app.t VALUES (1)");
            ItSupport.backup(repo, source, "--type", "full");
            source.exec("INSERT INTO app.t VALUES (2)");
            BinlogPosition end = source.binlogPosition();
            source.exec("INSERT INTO app.t VALUES (3)", "FLUSH BINARY LOGS");
            PitrSupport.archiveOnce(repo, source);

            Path longTmp = Files.createDirectories(work.resolve("a-temporary-directory-with-a-long-name-".repeat(3) + "end"));
            java.util.Set<Path> socketDirs = socketDirs();
            StrataCli.Result r = StrataCli.exec(StrataCli.command(List.of(), List.of("-Djava.io.tmpdir=" + longTmp),
                    "restore", "--repo", repo.toString(), "--target", target.toString(), "--until-position", end.toString()), Map.of());
            assertEquals(0, r.exit(), r.toString());
            // the default replay on this server is the replication applier, its relay logs in the long work directory
            assertTrue(r.err().contains("applied through the replication applier (" + ReplayOptions.DEFAULT.threads() + " parallel workers, optimistic) in "), r.err());
            assertEquals(List.of(), KillCampaignIT.processesNaming(List.of(target.toString())), "a server of the restore outlived it");
            assertEquals(List.of(), leftSince(socketDirs), "a socket directory was left in /tmp");
        }
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
            assertEquals(List.of(List.of("1"), List.of("2")), restored.query("SELECT id FROM app.t ORDER BY id"));
        }
        assertTrue(Files.isDirectory(target));
    }

    private static java.util.Set<Path> socketDirs() throws java.io.IOException {
        try (var s = Files.list(Path.of("/tmp"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("strata-sock-")).collect(java.util.stream.Collectors.toSet());
        }
    }

    /**
     * The socket directories made since {@code before} that remain and that no running process names:
     * the integration tests run in two JVMs at once, so a directory of another test's server (named on
     * its command line, or about to be) is not this restore's; one that stays unnamed for 15 s is.
     */
    private static List<Path> leftSince(java.util.Set<Path> before) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        while (true) {
            List<Path> left = new java.util.ArrayList<>();
            for (Path d : socketDirs()) {
                if (!before.contains(d) && KillCampaignIT.processesNaming(List.of(d.toString())).isEmpty()) {
                    left.add(d);
                }
            }
            if (left.isEmpty() || System.nanoTime() > deadline) {
                return left;
            }
            Thread.sleep(200);
        }
    }
}
