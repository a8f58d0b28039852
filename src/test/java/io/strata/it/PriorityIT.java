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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * backup --priority (issue 18, server impact): a throttled backup is watched from outside while its
 * copy threads run. Every thread of the strata process, including the copy and redo threads started
 * after the priority was set, runs at the asked niceness with the lowest best-effort I/O level; the
 * server keeps its own niceness. The default is low, the configuration file's key works, normal
 * leaves strata as started, and a niceness already above the asked one is never raised.
 */
class PriorityIT {

    @Test
    void everyThreadOfTheBackupRunsAtTheAskedPriority() throws Exception {
        Path work = ItSupport.tempDir("priority-");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            long server = Long.parseLong(Files.readString(Path.of(source.query("SELECT @@pid_file").get(0).get(0))).strip());
            int serverNice = nice(Path.of("/proc", Long.toString(server), "stat"));

            // the default: low. Started at best-effort level 0, so that level 7 is strata's doing (a
            // test environment may itself run at 7)
            List<String> io0 = List.of("ionice", "-c2", "-n0");
            Running d = watch(work, "default", io0, source);
            assertEquals(10, d.nice, d.toString());
            assertEquals("best-effort: prio 7", d.ionice, d.toString());

            Path conf = work.resolve("strata.conf");
            Files.writeString(conf, "[global]\npriority = idle\n");
            Running idle = watch(work, "idle", List.of(), source, "--config", conf.toString());
            assertEquals(19, idle.nice, idle.toString());
            assertEquals("best-effort: prio 7", idle.ionice, idle.toString());

            Running normal = watch(work, "normal", io0, source, "--priority", "normal");
            assertEquals(0, normal.nice, normal.toString());
            assertEquals("best-effort: prio 0", normal.ionice, normal.toString());

            // started under nice 15: low does not raise it back to 10
            Running niced = watch(work, "niced", List.of("nice", "-n", "15"), source, "--priority", "low");
            assertEquals(15, niced.nice, niced.toString());

            assertEquals(serverNice, nice(Path.of("/proc", Long.toString(server), "stat")), "the server's niceness changed");
        }
    }

    /** What a running backup's threads showed: one niceness for all of them (else -100), and the main thread's ionice. */
    record Running(int nice, String ionice, Map<String, Integer> threads) {}

    /**
     * Starts a backup throttled to 1 MB/s, waits until its copy and redo threads run, reads the
     * niceness of every thread, then stops it.
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
                if (seen.keySet().stream().anyMatch(k -> k.startsWith("strata-copy")) && seen.keySet().stream().anyMatch(k -> k.startsWith("strata-redo"))) {
                    break;
                }
            }
            assertTrue(seen.keySet().stream().anyMatch(k -> k.startsWith("strata-copy")), "no copy thread seen: " + seen);
            Process io = new ProcessBuilder("ionice", "-p", Long.toString(p.pid())).redirectErrorStream(true).start();
            String ionice = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            io.waitFor();
            int one = seen.values().stream().distinct().count() == 1 ? seen.values().iterator().next() : -100;
            return new Running(one, ionice, seen);
        } finally {
            p.destroy();
            p.waitFor(60, TimeUnit.SECONDS);
        }
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
