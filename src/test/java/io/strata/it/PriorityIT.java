package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * backup --priority (issue 18, server impact): a throttled backup is watched from outside while its
 * copy threads run. Only the copy threads (strata-copy, strata-read) run at the asked niceness with
 * the lowest best-effort I/O level; the redo copier (strata-redo), the main thread that holds the
 * backup stages, and the JVM's own threads keep the priority strata was started with; the server
 * keeps its own. The default is normal, low is asked explicitly, the configuration file's key works, normal leaves strata as
 * started, and neither a niceness nor an I/O priority already lower than the asked one is raised.
 */
class PriorityIT {

    private static final Set<String> COPY = Set.of("strata-copy", "strata-read", "strata-spawner"); // the spawner starts the others, lowered

    @Test
    void onlyTheCopyThreadsRunAtTheAskedPriority() throws Exception {
        Path work = ItSupport.tempDir("priority-");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            long server = Long.parseLong(Files.readString(Path.of(source.query("SELECT @@pid_file").get(0).get(0))).strip());
            int serverNice = nice(Path.of("/proc", Long.toString(server), "stat"));

            // low, asked. Started at best-effort level 0, so that level 7 is strata's doing (a
            // test environment may itself run at 7). Compressed: the codec threads, which the copy
            // threads start and the redo copy shares, stay as started
            List<String> io0 = List.of("ionice", "-c2", "-n0");
            Running d = watch(work, "low", io0, source, "--priority", "low", "--compress", "zstd");
            assertTrue(d.threads.keySet().stream().anyMatch(k -> k.startsWith("strata-codec")), "no codec thread: " + d);
            d.expect(10, 0);
            assertEquals("best-effort: prio 7", d.copyIo, d.toString());
            assertEquals("best-effort: prio 0", d.redoIo, d.toString());

            // the configuration file's key; started in the I/O idle class, which low must not leave
            Path conf = work.resolve("strata.conf");
            Files.writeString(conf, "[global]\npriority = idle\n");
            Running idle = watch(work, "idle", List.of("ionice", "-c3"), source, "--config", conf.toString());
            idle.expect(19, 0);
            assertEquals("idle", idle.copyIo, idle.toString());
            assertEquals("idle", idle.redoIo, idle.toString());

            // the default: normal
            Running normal = watch(work, "default", io0, source);
            normal.expect(0, 0);
            assertEquals("best-effort: prio 0", normal.copyIo, normal.toString());

            // started under nice 15: low does not raise the copy threads back to 10
            Running niced = watch(work, "niced", List.of("nice", "-n", "15"), source, "--priority", "low");
            niced.expect(15, 15);

            assertEquals(serverNice, nice(Path.of("/proc", Long.toString(server), "stat")), "the server's niceness changed");
        }
    }

    /**
     * The default --parallel on a busy host (CopyGate): with a CPU burner per core and one more
     * running, a backup runs fewer copy threads at once than cores and says so; with --parallel
     * given, it keeps them all and says nothing; the held-back backup restores equal to the source.
     */
    @Test
    void onABusyHostTheDefaultCopyRunsFewerThreads() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        org.junit.jupiter.api.Assumptions.assumeTrue(cores > 1, "one core: nothing to hold back");
        Path work = ItSupport.tempDir("busy-");
        java.util.regex.Pattern said = java.util.regex.Pattern.compile("\\[page-copy\\] other processes kept up to ([0-9.]+) of the host's (\\d+) CPUs busy: "
                + "the copy ran as few as (\\d+) of its (\\d+) threads at once \\(--parallel N runs N throughout\\)");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            Path repo = work.resolve("repo");
            String[] backup = {"backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--throttle", "8"};
            List<Process> burners = new ArrayList<>();
            StrataCli.Result held;
            StrataCli.Result fixed;
            try {
                for (int i = 0; i <= cores; i++) {
                    burners.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
                }
                held = StrataCli.run(backup);
                fixed = StrataCli.run(ItSupport.concat(backup, "--parallel", Integer.toString(cores)));
            } finally {
                burners.forEach(Process::destroyForcibly);
            }
            String id = ItSupport.completedId(held);
            java.util.regex.Matcher m = said.matcher(held.out() + held.err());
            assertTrue(m.find(), "no held-back line: " + held);
            assertTrue(Integer.parseInt(m.group(3)) < cores && Double.parseDouble(m.group(1)) > 0.5, m.group());
            assertEquals(cores, Integer.parseInt(m.group(2)), m.group());
            assertEquals(cores, Integer.parseInt(m.group(4)), m.group());
            assertTrue(java.util.regex.Pattern.compile("\\[block-commit\\] BACKUP STAGE END: commits were blocked for \\d+\\.\\d{3} s")
                    .matcher(held.out() + held.err()).find(), "no BLOCK_COMMIT duration: " + held);
            ItSupport.completedId(fixed);
            assertTrue(!said.matcher(fixed.out() + fixed.err()).find(), "--parallel given, yet held back: " + fixed);

            Path target = work.resolve("t");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }

    /** What a running backup's threads showed ("name/tid" to niceness), and ionice of a copy thread and of the redo thread. */
    record Running(Map<String, Integer> threads, String copyIo, String redoIo) {
        /** Copy threads at {@code copy}; every other thread (redo, main, GC, JIT) at {@code others}. */
        void expect(int copy, int others) {
            Map<String, Integer> wrong = new TreeMap<>();
            threads.forEach((k, v) -> {
                if (v != (COPY.contains(name(k)) ? copy : others)) {
                    wrong.put(k, v);
                }
            });
            assertEquals(Map.of(), wrong, "threads at another niceness than " + copy + " (copy) / " + others + " (others): " + this);
            assertTrue(threads.keySet().stream().anyMatch(k -> name(k).equals("strata-redo")), "no redo thread: " + this);
            assertTrue(threads.keySet().stream().anyMatch(k -> name(k).equals("java")), "no main thread: " + this);
        }
    }

    private static String name(String nameTid) {
        return nameTid.substring(0, nameTid.lastIndexOf('/'));
    }

    private static String tid(Map<String, Integer> seen, String name) {
        String k = seen.keySet().stream().filter(t -> name(t).equals(name)).findFirst().orElseThrow(() -> new AssertionError("no " + name + ": " + seen));
        return k.substring(k.lastIndexOf('/') + 1);
    }

    /**
     * Starts a backup throttled to 1 MB/s, waits until its copy and redo threads run (and a second
     * more, so that each copy thread has lowered itself), reads every thread's niceness, then
     * stops it.
     */
    private static Running watch(Path work, String name, List<String> prefix, MariaDbSandbox source, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("backup", "--repo", work.resolve(name).toString(), "--socket", source.socket().toString(),
                "--user", "root", "--throttle", "1", "--quiet"));
        args.addAll(List.of(extra));
        Path err = work.resolve(name + ".err");
        Process p = new ProcessBuilder(StrataCli.command(prefix, args.toArray(String[]::new)))
                .redirectOutput(work.resolve(name + ".out").toFile()).redirectError(err.toFile()).start();
        try {
            Path tasks = Path.of("/proc", Long.toString(p.pid()), "task");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Map<String, Integer> seen = Map.of();
            while (System.nanoTime() < deadline) {
                Thread.sleep(200);
                assertTrue(p.isAlive(), "the backup ended before it was watched: " + StrataCli.readLog(err));
                seen = threads(tasks);
                if (seen.keySet().stream().anyMatch(k -> name(k).equals("strata-copy")) && seen.keySet().stream().anyMatch(k -> name(k).equals("strata-redo"))) {
                    break;
                }
            }
            Thread.sleep(1000);
            assertTrue(p.isAlive(), "the backup ended before it was watched: " + StrataCli.readLog(err));
            seen = threads(tasks);
            return new Running(seen, ionice(tid(seen, "strata-copy")), ionice(tid(seen, "strata-redo")));
        } finally {
            p.destroy();
            p.waitFor(60, TimeUnit.SECONDS);
        }
    }

    private static String ionice(String tid) throws IOException, InterruptedException {
        Process io = new ProcessBuilder("ionice", "-p", tid).redirectErrorStream(true).start();
        String out = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        io.waitFor();
        return out;
    }

    /** Every thread's "name/tid" and niceness. */
    private static Map<String, Integer> threads(Path tasks) throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(tasks)) {
            for (Path t : s) {
                try {
                    out.put(Files.readString(t.resolve("comm")).strip() + "/" + t.getFileName(), nice(t.resolve("stat")));
                } catch (IOException e) {
                    // the thread ended
                }
            }
        }
        return out;
    }

    /** Field 19 of a /proc stat file, counted after the command name's last ')'. */
    private static int nice(Path stat) throws IOException {
        String line = Files.readString(stat);
        return Integer.parseInt(line.substring(line.lastIndexOf(')') + 2).trim().split(" ")[16]);
    }
}
