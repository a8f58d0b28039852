package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of a restore while its mariadbd runs crash recovery (issue 15, case 7): the server
 * dies with strata instead of running on in the half-restored target, and the restore's watcher
 * then leaves the target as the restore found it (absent, or an empty directory). A target that
 * still holds the files of an unfinished restore (the machine stopped) is refused by the next
 * restore (exit 18) rather than mixed with it. Repeated {@code -Dstrata.restoreKills=N} times (default 5).
 */
class RestoreKillIT {

    @Test
    void killedRestoreLeavesNoServerBehind() throws Exception {
        int kills = Integer.getInteger("strata.restoreKills", 5);
        Path work = ItSupport.tempDir("restore-kill-");
        Path repo = work.resolve("repo");
        String id = loadedBackup(repo);
        for (int i = 0; i < kills; i++) {
            Path target = work.resolve("t" + i);
            Path err = work.resolve("restore" + i + ".err");
            Process p = startRestore(work, repo, id, i);
            long server = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (server < 0 && System.nanoTime() < deadline && p.isAlive()) {
                List<Long> found = serversOn(target);
                if (!found.isEmpty()) {
                    server = found.get(0);
                } else {
                    Thread.sleep(10);
                }
            }
            assertTrue(server > 0, "kill " + i + ": never saw the recovery server running; " + Files.readString(err, StandardCharsets.UTF_8));
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(p.pid())).start().waitFor());
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!serversOn(target).isEmpty() && System.nanoTime() < gone) {
                Thread.sleep(50);
            }
            assertEquals(List.of(), serversOn(target), "kill " + i + ": mariadbd on " + target + " outlived strata");
            System.out.println("restore kill " + i + ": recovery server " + server + " ended with strata");

            // the restore's watcher puts the target back as it found it: t0, t2, ... did not exist, t1, t3, ... were empty directories
            long cleaned = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!asFound(target, i) && System.nanoTime() < cleaned) {
                Thread.sleep(50);
            }
            assertTrue(asFound(target, i), "kill " + i + ": the target is not as the restore found it: " + (Files.exists(target) ? listing(target) : "absent"));
            // the watcher ends right after its clean-up
            while (!KillCampaignIT.processesNaming(List.of(target.toString())).isEmpty() && System.nanoTime() < cleaned) {
                Thread.sleep(50);
            }
            assertEquals(List.of(), KillCampaignIT.processesNaming(List.of(target.toString())), "kill " + i + ": a process of the restore outlived it");
        }
        // a target whose restore could not clean up (the machine stopped): named for what it is, and nothing is written into it
        Path target = work.resolve("t0");
        Files.createDirectories(target.resolve("app"));
        Files.writeString(target.resolve("strata-restore-unfinished"), "restore by strata (pid 1, run x) began 2026-12-01T00:00:00Z\n");
        Files.writeString(target.resolve("ibdata1"), "half");
        List<String> before = listing(target);
        StrataCli.Result again = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
        assertEquals(18, again.exit(), again.toString());
        assertTrue(again.err().contains("ERROR [target-not-empty]: restore target " + target
                + " holds the files of a restore that did not finish (strata was killed or the machine stopped; see strata-restore-unfinished in it)\n"),
                again.toString());
        assertTrue(again.err().contains("HINT: these files are not a usable data directory: delete " + target), again.toString());
        assertEquals(before, listing(target));
        // once cleared, the same target restores normally and holds no marker
        io.strata.util.Dirs.deleteQuietly(target, false);
        StrataCli.Result ok = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
        assertEquals(0, ok.exit(), ok.toString());
        assertFalse(Files.exists(target.resolve("strata-restore-unfinished")));
    }

    /**
     * SIGTERM or SIGINT of a restore while its mariadbd runs crash recovery: strata stops the server,
     * puts the target back as it found it before it exits (not after, through the watcher: a retry
     * at once would meet the half-restored files), says so in one ERROR line and exits 130; the
     * same restore run again at once succeeds.
     */
    @Test
    void signalledRestoreUndoesBeforeItExits() throws Exception {
        Path work = ItSupport.tempDir("restore-signal-");
        Path repo = work.resolve("repo");
        String id = loadedBackup(repo);
        List<String> signals = List.of("TERM", "INT", "TERM", "INT", "TERM");
        for (int i = 0; i < signals.size(); i++) {
            Path target = work.resolve("t" + i);
            Path err = work.resolve("restore" + i + ".err");
            Process p = startRestore(work, repo, id, i);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (serversOn(target).isEmpty() && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(10);
            }
            assertFalse(serversOn(target).isEmpty(), "signal " + i + ": never saw the recovery server running; " + Files.readString(err, StandardCharsets.UTF_8));
            assertEquals(0, new ProcessBuilder("kill", "-" + signals.get(i), Long.toString(p.pid())).start().waitFor());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String stderr = StrataCli.readLog(err);
            assertEquals(130, p.exitValue(), stderr);
            // at once: no waiting for the watcher
            assertTrue(asFound(target, i), "SIG" + signals.get(i) + ": the target is not as the restore found it when strata exited: "
                    + (Files.exists(target) ? listing(target) : "absent"));
            assertEquals(List.of(), serversOn(target), "mariadbd on " + target + " outlived strata");
            List<String> errors = stderr.lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT") || l.contains("Exception")).toList();
            assertEquals(List.of("ERROR [interrupted]: the restore into " + target + " was cancelled by SIG" + signals.get(i) + "; what it wrote was undone"), errors, stderr);
            StrataCli.Result again = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
            assertEquals(0, again.exit(), again.toString());
            assertFalse(Files.exists(target.resolve("strata-restore-unfinished")));
        }
    }

    /** Starts trial {@code i}'s restore of {@code id} into {@code work/t<i>}, made an empty directory first for odd {@code i}; its output in restore{i}.out|.err. */
    private static Process startRestore(Path work, Path repo, String id, int i) throws IOException {
        Path target = work.resolve("t" + i);
        if (i % 2 == 1) {
            Files.createDirectory(target);
        }
        return StrataCli.start(work.resolve("restore" + i + ".out"), work.resolve("restore" + i + ".err"),
                "restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
    }

    /** A full backup into {@code repo} of a source with 20,000 rows in app, taken under a write load; its id. */
    private static String loadedBackup(Path repo) throws Exception {
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                return ItSupport.backup(repo, source);
            }
        }
    }

    /** Trial {@code i}'s target as the restore found it: absent for even {@code i}, an empty directory for odd ones. */
    private static boolean asFound(Path target, int i) throws IOException {
        if (i % 2 == 0) {
            return !Files.exists(target);
        }
        try {
            return Files.isDirectory(target) && listing(target).equals(List.of(""));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false; // the watcher is removing files as we list them
        }
    }

    /** Pids of the mariadbd processes (not a launcher before its exec) whose --datadir is {@code datadir}. */
    static List<Long> serversOn(Path datadir) throws IOException {
        String want = "--datadir=" + datadir.toAbsolutePath();
        List<Long> pids = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path d : procs.toList()) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String[] args;
                try {
                    args = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).split("\0");
                } catch (IOException e) {
                    continue; // ended meanwhile
                }
                if (args.length > 0 && args[0].endsWith("mariadbd") && List.of(args).contains(want)) {
                    pids.add(Long.parseLong(name));
                }
            }
        }
        return pids;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
