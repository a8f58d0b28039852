package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import io.strata.util.Dirs;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kill -9 campaign of issue 15: every command that writes (a full backup, an incremental, a
 * restore, a merge, a prune, {@code binlog archive --once}) is started as its own JVM against one
 * repository of a source under steady write load and killed with SIGKILL at a random moment within
 * the time that command takes. After each kill:
 * <ul>
 *   <li>no process that names the trial's repository, target or temporary directory outlives
 *       strata (the mariadbd of a restore dies by its parent-death signal);</li>
 *   <li>{@code verify} exits 0: no completed backup was damaged and no half-written backup is
 *       listed as completed (a listed completed backup that was not whole would fail verify). After
 *       a merge or a prune, which rewrite what exists, the whole repository is verified; after the
 *       others, which only add, every backup that became completed; and the whole repository at
 *       the end of each command's trials;</li>
 *   <li>no backup completed before the kill is lost (except what merge and prune remove on
 *       purpose, whose ids must still resolve);</li>
 *   <li>a killed restore leaves its target as it found it (absent or empty), and its temporary
 *       directory empty;</li>
 *   <li>the next run of the same command succeeds.</li>
 * </ul>
 * After the trials of each command that writes backups, the newest completed backup is restored
 * and, with the source's binlog replayed from its position, equals the source table by table. A
 * restore whose recovery fails leaves its target as it found it.
 *
 * <p>{@code -Dstrata.campaign.trials=N} (default 1) trial per command;
 * {@code -Dstrata.campaign.seed=S} replays a run (the seed is printed first).
 */
class KillCampaignIT {
    private static final long GRACE_MS = 3000;

    private Path work;
    private Path repo;
    private MariaDbSandbox source;
    private Random rng;
    private int step;

    @Test
    void killNineAtRandomMomentsOfEveryWritingCommand() throws Exception {
        int trials = Integer.getInteger("strata.campaign.trials", 1);
        long seed = Long.getLong("strata.campaign.seed", System.nanoTime());
        rng = new Random(seed);
        System.out.println("campaign: seed " + seed + ", " + trials + " trials per command (replay with -Dstrata.campaign.seed=" + seed + ")");
        work = ItSupport.tempDir("campaign-");
        repo = work.resolve("repo");
        Map<String, String> summary = new LinkedHashMap<>();
        try (MariaDbSandbox s = ItSupport.source()) {
            source = s;
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            try (WriteLoad w = load()) {
                ItSupport.backup(repo, source, "--type", "full");
                ItSupport.backup(repo, source, "--type", "incremental");
                assertEquals(0, archiveOnce().exit());
            }
            summary.put("backup", campaign("backup", trials, seed, this::backupTrial, true));
            summary.put("incremental", campaign("incremental", trials, seed, this::incrementalTrial, true));
            summary.put("restore", campaign("restore", trials, seed, this::restoreTrial, false));
            failedRecoveryLeavesTheTargetAsFound();
            // prune before merge: the whole repository is verified after each of their kills, and prune keeps it small
            summary.put("prune", campaign("prune", trials, seed, this::pruneTrial, true));
            summary.put("merge", campaign("merge", trials, seed, this::mergeTrial, true));
            summary.put("binlog archive", campaign("binlog archive", trials, seed, this::archiveTrial, false));
        }
        summary.forEach((k, v) -> System.out.println("campaign: " + k + " " + v + " (seed " + seed + ")"));
    }

    private WriteLoad load() {
        return WriteLoad.on(source, "app").threads(2).rate(200).start();
    }

    interface Trial {
        /** Runs one trial; {@code delayMs} &lt; 0 measures the command's duration without a kill. Returns how long it ran (ms) and whether it was killed. */
        Outcome run(long delayMs, int trial) throws Exception;
    }

    /** {@code lastWords}: the last line the command printed before it ended or was killed, to show where the kill landed. */
    record Outcome(long millis, boolean killed, String lastWords) {}

    /**
     * Measures the command once, then runs {@code trials} killed runs, then (with {@code writesBackups}; restore and
     * binlog archive write none) the oracle check. Returns "passed/trials".
     */
    private String campaign(String name, int trials, long seed, Trial t, boolean writesBackups) throws Exception {
        int passed = 0;
        int killedMidway = 0;
        try (WriteLoad w = load()) {
            long typical = t.run(-1, -1).millis();
            System.out.println("campaign: " + name + " takes " + typical + " ms unkilled");
            for (int i = 0; i < trials; i++) {
                long delay = 1 + (long) (rng.nextDouble() * typical);
                Outcome o = t.run(delay, i);
                if (o.killed()) {
                    killedMidway++;
                }
                passed++; // every check of the trial asserts: a failing trial ends the test with its message
                System.out.println("campaign: " + name + " trial " + i + " killed at " + delay + " ms (" + (o.killed() ? "killed" : "had ended") + ") ok; its last line: " + o.lastWords());
            }
            assertTrue(w.errors().isEmpty(), "the write load failed: " + w.errors());
        }
        verify(null, "verify after the " + name + " trials", "");
        if (writesBackups) {
            oracle(name);
        }
        return passed + "/" + trials + " (" + killedMidway + " killed before they ended)";
    }

    // ---- the commands

    private Outcome backupTrial(long delay, int trial) throws Exception {
        return killAndCheck("backup-" + trial, delay, null, List.of("backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                "--user", "root", "--type", "full", "--progress", "text"), false);
    }

    private Outcome incrementalTrial(long delay, int trial) throws Exception {
        return killAndCheck("incr-" + trial, delay, null, List.of("backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                "--user", "root", "--type", "incremental", "--progress", "text"), false);
    }

    private Outcome archiveTrial(long delay, int trial) throws Exception {
        source.exec("FLUSH BINARY LOGS");
        return killAndCheck("archive-" + trial, delay, null, List.of("binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(),
                "--user", "root", "--once"), false);
    }

    private Outcome mergeTrial(long delay, int trial) throws Exception {
        // a fresh incremental to fold into its parent each time
        String id = ItSupport.backup(repo, source, "--type", "incremental");
        return killAndCheck("merge-" + trial, delay, null, List.of("merge", "--repo", repo.toString(), id), true);
    }

    private Outcome pruneTrial(long delay, int trial) throws Exception {
        // one more full each time, so that prune has a chain to remove
        ItSupport.backup(repo, source, "--type", "full");
        return killAndCheck("prune-" + trial, delay, null, List.of("prune", "--repo", repo.toString(), "--keep-full", "2"), true);
    }

    private Outcome restoreTrial(long delay, int trial) throws Exception {
        Path target = work.resolve("restore-" + trial + "-" + (++step));
        boolean existed = trial % 2 == 1; // odd trials restore into an existing empty directory, even ones into a new path
        if (existed) {
            Files.createDirectories(target);
        }
        return killAndCheck("restore-" + trial, delay, target, List.of("restore", "--repo", repo.toString(), "--target", target.toString()), false);
    }

    /**
     * Starts the command as its own JVM with a private java.io.tmpdir, kills it with SIGKILL after
     * {@code delay} ms ({@code delay} &lt; 0: lets it end, and it must succeed), and checks the
     * invariants of the class comment. {@code removes}: the command removes backups on purpose.
     */
    private Outcome killAndCheck(String name, long delay, Path target, List<String> args, boolean removes) throws Exception {
        String label = name + (delay < 0 ? " (unkilled)" : " killed at " + delay + " ms");
        Path tmp = work.resolve("tmp-" + name + "-" + (++step));
        Files.createDirectories(tmp);
        boolean targetExisted = target != null && Files.isDirectory(target);
        Set<String> completedBefore = completed();
        Path out = work.resolve(name + "-" + step + ".out");
        Path err = work.resolve(name + "-" + step + ".err");
        List<String> cmd = StrataCli.command(List.of(), List.of("-Djava.io.tmpdir=" + tmp), args.toArray(String[]::new));
        long started = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean killed = false;
        if (delay >= 0) {
            if (!p.waitFor(delay, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly(); // SIGKILL
                killed = true;
            }
        }
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), label + ": did not end");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        String errText = Files.readString(err, StandardCharsets.UTF_8);
        if (delay < 0 || !killed) {
            assertEquals(0, p.exitValue(), label + ": " + errText);
        }
        if (killed && target != null && Files.isDirectory(target) && !Files.exists(target.resolve("strata-restore-unfinished"))
                && !listing(target).isEmpty()) {
            // the kill came after the restore's last step (its unfinished marker, written before any file, removed):
            // the target is a finished restore, and the trial goes on as for one that ended by itself
            killed = false;
        }

        // no process of the trial outlives it
        List<String> names = new ArrayList<>(List.of(repo.toString(), tmp.toString()));
        if (target != null) {
            names.add(target.toString());
        }
        List<String> survivors = processesNaming(names);
        long deadline = System.currentTimeMillis() + GRACE_MS;
        while (!survivors.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
            survivors = processesNaming(names);
        }
        assertEquals(List.of(), survivors, label + ": processes outlived strata");

        // the repository: every completed backup still whole, none lost
        Set<String> completedAfter = completed();
        verify(removes ? null : completedBefore, label + ": verify after the kill", "\n--- the killed command's stderr\n" + errText);
        for (String id : completedBefore) {
            if (!completedAfter.contains(id)) {
                assertTrue(removes, label + ": completed backup " + id + " is no longer listed as completed: " + completedAfter);
            }
        }

        // a restore: the target as it was found, nothing left in its temporary directory
        if (target != null && killed) {
            if (targetExisted) {
                assertTrue(Files.isDirectory(target), label + ": the existing target " + target + " was removed");
                assertEquals(List.of(), listing(target), label + ": the target " + target + " was empty before the restore\n" + errText);
            } else {
                assertFalse(Files.exists(target), label + ": the target " + target + " did not exist before the restore: " + listingOrNothing(target) + "\n" + errText);
            }
        }
        assertEquals(List.of(), listing(tmp), label + ": left in its temporary directory");

        // the next run of the same command succeeds
        if (delay >= 0) {
            if (target != null) {
                if (!killed) {
                    Dirs.deleteQuietly(target, false);
                }
                StrataCli.Result again = StrataCli.run(args.toArray(String[]::new));
                assertEquals(0, again.exit(), label + ": the next run\n" + again);
                Dirs.deleteQuietly(target, false);
            } else {
                StrataCli.Result again = StrataCli.run(args.toArray(String[]::new));
                String id = args.get(args.size() - 1);
                if (args.get(0).equals("merge") && again.exit() == 2 && again.err().startsWith("ERROR [usage]: backup " + id + " was already merged into ")) {
                    // the killed merge had finished its work before the kill: merging the id again is refused, which is right
                    assertTrue(again.err().contains("HINT: merge "), label + ": the next run\n" + again);
                } else {
                    assertEquals(0, again.exit(), label + ": the next run\n" + again);
                }
                verify(removes ? null : completedAfter, label + ": verify after the next run", "");
            }
        } else if (target != null) {
            Dirs.deleteQuietly(target, false);
        }
        Dirs.deleteQuietly(tmp, false);
        String last = errText.isBlank() ? "(nothing printed)" : errText.strip().lines().reduce((a, b) -> b).orElse("");
        return new Outcome(millis, killed, last.length() > 100 ? last.substring(0, 100) + "..." : last);
    }

    /**
     * A restore whose crash recovery fails (the server, through a wrapper a site might use, is asked
     * to load a plugin that does not exist and logs [ERROR] lines) is exit 22 and leaves its
     * target as it found it: a new path (with the parent made for it) is gone, an empty directory
     * is empty again.
     */
    private void failedRecoveryLeavesTheTargetAsFound() throws Exception {
        Path real = MariaDbSandbox.findBinary("mariadbd").orElseThrow();
        Path wrapper = work.resolve("site-mariadbd");
        Files.writeString(wrapper, "#!/bin/sh\nexec " + real + " \"$@\" --plugin-load-add=ha_strata_absent\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path absent = work.resolve("new-parent").resolve("target");
        StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--target", absent.toString(), "--mariadbd", wrapper.toString());
        assertEquals(22, r.exit(), r.toString());
        assertTrue(r.err().contains("ERROR [recovery-failed]: crash recovery by " + wrapper), r.toString());
        deleteKeptLog(r);
        assertFalse(Files.exists(work.resolve("new-parent")), "the failed restore left " + listingOrNothing(work.resolve("new-parent")));
        Path empty = Files.createDirectory(work.resolve("empty-target"));
        r = StrataCli.run("restore", "--repo", repo.toString(), "--target", empty.toString(), "--mariadbd", wrapper.toString());
        assertEquals(22, r.exit(), r.toString());
        deleteKeptLog(r);
        assertTrue(Files.isDirectory(empty));
        assertEquals(List.of(), listing(empty), "the failed restore left files in the empty target");
        Files.delete(empty);
        System.out.println("campaign: a restore whose recovery fails leaves a new target absent and an empty one empty");
    }

    /** Removes the run directory a failed recovery keeps for its log (named in the hint). */
    private static void deleteKeptLog(StrataCli.Result r) {
        var m = java.util.regex.Pattern.compile("see the server log (\\S+?);").matcher(r.err());
        assertTrue(m.find(), r.toString());
        Path dir = Path.of(m.group(1)).getParent();
        assertTrue(dir.getFileName().toString().startsWith("strata-recover-"), dir.toString());
        Dirs.deleteQuietly(dir, false);
    }

    /** Verifies the backups completed now but not in {@code before}, or with {@code before} null the whole repository. */
    private void verify(Set<String> before, String what, String more) throws IOException {
        List<String> ids = new ArrayList<>();
        if (before == null) {
            ids.add(null);
        } else {
            for (String id : completed()) {
                if (!before.contains(id)) {
                    ids.add(id);
                }
            }
        }
        for (String id : ids) {
            // in this JVM: verify is the oracle here, not a command under test, and a JVM start per check cost more than the trials
            StrataCli.Result v = id == null ? StrataCli.inProcess("verify", "--repo", repo.toString()) : StrataCli.inProcess("verify", "--repo", repo.toString(), id);
            assertEquals(0, v.exit(), what + (id == null ? "" : " " + id) + "\n" + v + more);
        }
    }

    /** The newest completed backup restores and, with the source's binlog replayed from its position, equals the source. */
    private void oracle(String after) throws Exception {
        JsonNode list = ItSupport.list(repo);
        String id = null;
        for (JsonNode e : list) {
            if ("completed".equals(e.get("state").asText())) {
                id = e.get("id").asText();
            }
        }
        assertTrue(id != null, "no completed backup after the " + after + " trials: " + list);
        JsonNode m = ItSupport.manifest(repo, id);
        Path target = work.resolve("oracle-" + after.replace(' ', '-'));
        try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, target, source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
            ItSupport.assertSameData(source, restored, "app");
        }
        Dirs.deleteQuietly(target, false);
        System.out.println("campaign: after the " + after + " trials, backup " + id + " restores equal to the source");
    }

    private StrataCli.Result archiveOnce() {
        return StrataCli.run("binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once");
    }

    private Set<String> completed() throws IOException {
        Set<String> ids = new TreeSet<>();
        for (JsonNode e : ItSupport.list(repo)) {
            if ("completed".equals(e.get("state").asText())) {
                ids.add(e.get("id").asText());
            }
        }
        return ids;
    }

    /** "pid: command line" of every process but this JVM whose command line contains one of {@code names}. */
    static List<String> processesNaming(List<String> names) throws IOException {
        long self = ProcessHandle.current().pid();
        List<String> found = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path d : procs.toList()) {
                String pid = d.getFileName().toString();
                if (!pid.chars().allMatch(Character::isDigit) || Long.parseLong(pid) == self) {
                    continue;
                }
                String cmdline;
                try {
                    cmdline = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                } catch (IOException e) {
                    continue; // ended meanwhile
                }
                for (String n : names) {
                    if (cmdline.contains(n)) {
                        found.add(pid + ": " + cmdline.strip());
                        break;
                    }
                }
            }
        }
        return found;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static String listingOrNothing(Path dir) {
        try {
            return listing(dir).toString();
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
