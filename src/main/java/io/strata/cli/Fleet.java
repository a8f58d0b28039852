package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code strata backup --all} and {@code strata backup --servers a,b}, and the same for
 * {@code strata check} (below): one backup per section of
 * the configuration file (every section but {@code [global]}, or the named ones), each with that
 * section's defaults and so in the repository the section names.
 * <p>
 * Each backup runs in a child JVM ({@code java -cp <this classpath> io.strata.cli.Main --config
 * FILE backup --server NAME ...} with the other arguments as given), so that one server's failure,
 * its output and its state cannot touch another's; {@code --jobs N} of them at once (default 1).
 * The children's lines are copied to stdout and stderr prefixed with {@code [NAME] }; a summary
 * table follows. Exit 0 when every backup succeeded (3 when one or more finished with warnings),
 * else {@link ErrorCode#FLEET_FAILED} (43): the summary names each failed server, its exit code
 * and its error line. One code for "some servers failed" is what a scheduler can act on; the
 * first failure's own code would hide the others, and those are in the summary.
 * <p>
 * {@code strata check --all [--json]} runs {@code check --server NAME} per section the same way:
 * with --json one array of every server's verdicts, each with {@code "section": NAME} first, and
 * for a section whose check could give no verdict (no repository, an unreadable store) a critical
 * verdict carrying its ERROR line; without it the children's lines prefixed. Exit: the worst
 * verdict (0 ok, 1 warning, 2 critical; an error counts as critical).
 */
final class Fleet {
    /** One server's outcome: {@code backupId} and {@code type} are null unless it completed. */
    record Result(String server, int exit, String backupId, String type, long millis, String error, String stdout) {
        boolean ok() { return exit == 0 || exit == 3; }
    }

    /**
     * The children still running: when this JVM is stopped (SIGINT, SIGTERM) each gets SIGTERM,
     * which a backup turns into a clean cancel recorded in its history, and is waited for.
     */
    private static final Set<Process> CHILDREN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Registers the hook that stops {@link #CHILDREN}; once per run of the fleet. */
    private static void stopChildrenOnExit() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            CHILDREN.forEach(Process::destroy);
            for (Process p : CHILDREN) {
                try {
                    p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "strata-fleet-stop"));
    }

    private final ConfigFile file;
    private final PrintStream out;
    private final PrintStream err;

    Fleet(ConfigFile file, PrintStream out, PrintStream err) {
        this.file = file;
        this.out = out;
        this.err = err;
    }

    /** Whether {@code args} (after the configuration options were taken off) ask for a fleet backup. */
    static boolean wanted(String[] args) {
        if (args.length == 0 || !args[0].equals("backup") && !args[0].equals("check")) {
            return false;
        }
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("--all") || a.equals("--servers") || a.startsWith("--servers=")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs the fleet backup {@code args} ask for ({@code backup ... --all|--servers a,b [--jobs N] ...}).
     *
     * @param defaults the configuration read from the command line; its file names the servers
     * @return the exit code: 0, 3 (warnings) or 43
     * @throws StrataException usage: no configuration file, an unknown server, --server with --all,
     *                         a bad --jobs
     */
    static int run(ConfigDefaults defaults, String[] args, PrintStream out, PrintStream err) {
        ConfigFile file = defaults.file();
        if (file == null) {
            throw new StrataException(ErrorCode.USAGE, args[0] + " --all/--servers: there is no configuration file",
                    "name the servers in sections [NAME] of a configuration file (" + ConfigDefaults.SYSTEM_FILE + ", --config FILE or "
                            + ConfigDefaults.CONFIG_ENV + ")");
        }
        String command = args[0];
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        if (rest.contains("--nagios")) {
            throw new StrataException(ErrorCode.USAGE, "--nagios gives one server's line, not several", "use --json with --all or --servers, or one check per server");
        }
        boolean all = rest.remove("--all");
        String servers = ConfigDefaults.take(rest, "--servers");
        String jobsArg = ConfigDefaults.take(rest, "--jobs");
        if (rest.contains("--server") || rest.stream().anyMatch(a -> a.startsWith("--server="))) {
            throw new StrataException(ErrorCode.USAGE, "--server goes with one server, not with --all or --servers", "name the servers with --servers a,b");
        }
        if (all == (servers != null)) {
            throw new StrataException(ErrorCode.USAGE, "give either --all or --servers a,b, not both", null);
        }
        int jobs = 1;
        if (jobsArg != null) {
            try {
                jobs = Integer.parseInt(jobsArg);
            } catch (NumberFormatException e) {
                jobs = 0;
            }
            if (jobs < 1 || jobs > 64) {
                throw new StrataException(ErrorCode.USAGE, "--jobs must be a number of servers backed up at once, 1-64, not " + jobsArg, null);
            }
        }
        Set<String> names = new LinkedHashSet<>();
        if (all) {
            file.sections().keySet().stream().filter(s -> !s.equals(ConfigFile.GLOBAL)).forEach(names::add);
            if (names.isEmpty()) {
                throw new StrataException(ErrorCode.USAGE, file.path() + " has no server section",
                        "add a section [NAME] per server (repo = ..., socket = ...)");
            }
        } else {
            for (String s : servers.split(",")) {
                String n = s.strip().toLowerCase(Locale.ROOT);
                if (n.isEmpty() || n.equals(ConfigFile.GLOBAL) || !file.hasSection(n)) {
                    throw new StrataException(ErrorCode.USAGE, "--servers " + servers + ": no section [" + s.strip() + "] in " + file.path(),
                            "the servers are the sections of the configuration file other than [global]");
                }
                names.add(n);
            }
        }
        return new Fleet(file, out, err).runAll(command, List.copyOf(names), jobs, rest);
    }

    private int runAll(String command, List<String> names, int jobs, List<String> rest) {
        boolean json = command.equals("check") && rest.contains("--json");
        stopChildrenOnExit();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, names.size()));
        List<Future<Result>> futures = new ArrayList<>();
        try {
            for (String n : names) {
                futures.add(pool.submit(() -> runOne(command, n, rest, json)));
            }
            List<Result> results = new ArrayList<>();
            for (Future<Result> f : futures) {
                try {
                    results.add(f.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while running " + command + " on several servers", null);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
            }
            if (command.equals("check")) {
                if (json) {
                    out.println(checkJson(results));
                }
                out.flush();
                return results.stream().mapToInt(r -> r.exit() >= 0 && r.exit() <= 2 ? r.exit() : 2).max().orElse(0);
            }
            out.print(summary(results));
            out.flush();
            if (results.stream().anyMatch(r -> !r.ok())) {
                long failed = results.stream().filter(r -> !r.ok()).count();
                err.println(new StrataException(ErrorCode.FLEET_FAILED, failed + " of " + results.size() + " server backups failed: "
                        + String.join(", ", results.stream().filter(r -> !r.ok()).map(Result::server).toList()),
                        "see each server's ERROR line above (prefixed [NAME]) and the summary").render());
                err.flush();
                return ErrorCode.FLEET_FAILED.exitCode();
            }
            return results.stream().anyMatch(r -> r.exit() == 3) ? 3 : 0;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The command line of a child: the running JVM, its classpath, Main, this file and section. */
    private List<String> command(String command, String name, List<String> rest) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("--config");
        cmd.add(file.path().toAbsolutePath().toString());
        cmd.add(command);
        cmd.add("--server");
        cmd.add(name);
        cmd.addAll(rest);
        return cmd;
    }

    /** Runs {@code command} for the section {@code name}; with {@code capture} its stdout is kept, not copied. */
    private Result runOne(String command, String name, List<String> rest, boolean capture) {
        long t0 = System.nanoTime();
        String prefix = "[" + name + "] ";
        ProcessBuilder pb = new ProcessBuilder(command(command, name, rest));
        pb.environment().remove(ConfigDefaults.SERVER_ENV);
        Process p;
        try {
            p = pb.start();
            CHILDREN.add(p);
        } catch (IOException e) {
            return new Result(name, ErrorCode.BUG.exitCode(), null, null, 0, "cannot start a JVM: " + e.getMessage(), "");
        }
        String[] completed = new String[1];
        String[] error = new String[1];
        Thread copyErr = new Thread(() -> copy(p.getErrorStream(), err, prefix, line -> {
            if (line.startsWith("ERROR") || line.startsWith("BUG")) {
                error[0] = line;
            }
        }), "fleet-stderr-" + name);
        copyErr.start();
        StringBuilder captured = new StringBuilder();
        if (capture) {
            copy(p.getInputStream(), null, prefix, line -> captured.append(line).append('\n'));
        } else {
            copy(p.getInputStream(), out, prefix, line -> {
                if (line.startsWith("backup ") && line.contains(" completed: ")) {
                    completed[0] = line;
                }
            });
        }
        int exit;
        try {
            exit = p.waitFor();
            copyErr.join();
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            exit = ErrorCode.INTERRUPTED.exitCode();
        } finally {
            CHILDREN.remove(p);
        }
        String id = null;
        String type = null;
        if (completed[0] != null) {
            String[] w = completed[0].split(" ");
            id = w[1];
            type = w.length > 3 ? w[3].replaceAll("[,]$", "") : null;
        }
        return new Result(name, exit, id, type, (System.nanoTime() - t0) / 1_000_000, error[0], captured.toString());
    }

    /** The time a child's log (util/Log) starts each line with off a terminal: {@code 2026-12-01T09:40:12Z }. */
    private static final java.util.regex.Pattern CHILD_TIME = java.util.regex.Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ");

    private static void copy(InputStream in, PrintStream to, String prefix, java.util.function.Consumer<String> seen) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String raw; (raw = r.readLine()) != null; ) {
                // a child's stderr is a pipe, so its log put the time first; this process's log puts its own
                String line = CHILD_TIME.matcher(raw).replaceFirst("");
                seen.accept(line);
                if (to == null) {
                    continue;
                }
                synchronized (to) {
                    to.println(prefix + line);
                    to.flush();
                }
            }
        } catch (IOException e) {
            seen.accept("(output lost: " + e.getMessage() + ")");
        }
    }

    /**
     * The verdicts of every section's {@code check --json}, each with {@code "section"} first; a
     * section whose check printed no array (an error) gets one critical verdict with its ERROR line.
     */
    static String checkJson(List<Result> results) {
        ArrayNode all = Json.MAPPER.createArrayNode();
        for (Result r : results) {
            JsonNode verdicts = null;
            try {
                verdicts = r.stdout().isBlank() ? null : Json.MAPPER.readTree(r.stdout());
            } catch (IOException e) {
                verdicts = null;
            }
            if (verdicts != null && verdicts.isArray() && r.exit() >= 0 && r.exit() <= 2) {
                for (JsonNode v : verdicts) {
                    ObjectNode o = all.addObject();
                    o.put("section", r.server());
                    o.setAll((ObjectNode) v);
                }
                continue;
            }
            String message = r.error() != null ? r.error() : "check exited with " + r.exit();
            ObjectNode o = all.addObject();
            o.put("section", r.server());
            o.put("server", r.server());
            o.putObject("status").put("code", 2).put("message", message);
            ObjectNode c = o.putArray("checks").addObject();
            c.put("name", "repository").put("code", 2).put("status", "CRITICAL").put("message", message);
        }
        try {
            return Json.MAPPER.writeValueAsString(all);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The summary table: server, result, backup id, type, duration, exit code, error. */
    static String summary(List<Result> results) {
        String[] head = {"SERVER", "RESULT", "BACKUP", "TYPE", "DURATION", "EXIT", "ERROR"};
        List<String[]> rows = new ArrayList<>();
        rows.add(head);
        for (Result r : results) {
            rows.add(new String[] {r.server(), r.exit() == 0 ? "ok" : r.exit() == 3 ? "ok (warnings)" : "FAILED",
                    r.backupId() == null ? "-" : r.backupId(), r.type() == null ? "-" : r.type(),
                    String.format(Locale.ROOT, "%.1fs", r.millis() / 1000.0), Integer.toString(r.exit()),
                    r.error() == null ? "" : r.error()});
        }
        int[] width = new int[head.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + width[i] + "s  ", row[i]));
            }
            sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
