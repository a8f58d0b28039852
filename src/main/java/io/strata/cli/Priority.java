package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * {@code backup --priority}: how much of the machine's CPU and disk strata's own work may take
 * from the server it backs up.
 * <ul>
 * <li>{@code normal}: strata runs as it was started (the scheduler shares the CPU evenly between
 *     strata's threads and the server's);</li>
 * <li>{@code low} (the default): CPU niceness 10 and the lowest best-effort I/O priority
 *     (class 2, level 7), so that the server's threads win whenever both want a core or the disk;</li>
 * <li>{@code idle}: niceness 19 and the same I/O priority. Not the I/O "idle" class: a backup in
 *     that class gets no disk time at all while the server keeps the disk busy, and it may hold
 *     the server's backup locks meanwhile.</li>
 * </ul>
 * Only strata's own process (every thread of this JVM, and so every process it starts later)
 * is lowered; the server is never touched. A niceness already above the asked one (strata
 * started under {@code nice -n 15}) is kept: a lower priority is never raised.
 * <p>
 * Linux gives each thread its own niceness and I/O priority, and a new thread or process takes
 * its creator's: every thread of {@code /proc/self/task} is changed, with util-linux's
 * {@code renice} and {@code ionice} (a JVM has no call for {@code setpriority}), until a listing
 * finds no thread left unchanged. The niceness is then read back from each thread's
 * {@code stat} (field 19), so a tool that did nothing is an error, not a silent normal run.
 */
enum Priority {
    NORMAL(0),
    LOW(10),
    IDLE(19);

    /** The I/O priority of low and idle: best-effort (class 2) at its lowest level, 7. */
    static final int IO_CLASS = 2;
    static final int IO_LEVEL = 7;

    /** CPU niceness, 0 (as started) to 19 (the lowest). */
    final int nice;

    Priority(int nice) {
        this.nice = nice;
    }

    /** The name as given on the command line. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses normal, low or idle (any case); anything else is a usage error naming the choices. */
    static final class Converter implements ITypeConverter<Priority> {
        @Override
        public Priority convert(String value) {
            for (Priority p : values()) {
                if (p.label().equalsIgnoreCase(value.trim())) {
                    return p;
                }
            }
            throw new TypeConversionException("'" + value + "' is not a priority (normal, low or idle)");
        }
    }

    /**
     * Lowers every thread of this process to this priority (nothing for {@link #NORMAL}).
     *
     * @return the niceness the process runs at afterwards
     * @throws StrataException PRIORITY_UNAVAILABLE when renice or ionice is missing or fails, or a
     *                         thread is not at the asked niceness afterwards
     */
    int apply() {
        if (this == NORMAL) {
            return niceOf(Path.of("/proc/self/stat"));
        }
        Path tasks = Path.of("/proc/self/task");
        int target = Math.max(nice, niceOf(Path.of("/proc/self/stat")));
        Set<String> done = new TreeSet<>();
        // a thread started while the tools run was made by a thread not yet changed: list again
        for (int round = 0; round < 5; round++) {
            List<String> fresh = new ArrayList<>(threads(tasks));
            fresh.removeAll(done);
            if (fresh.isEmpty()) {
                break;
            }
            List<String> renice = new ArrayList<>(List.of("renice", "-n", Integer.toString(target), "-p"));
            renice.addAll(fresh);
            run(renice);
            List<String> ionice = new ArrayList<>(List.of("ionice", "-c" + IO_CLASS, "-n" + IO_LEVEL, "-p"));
            ionice.addAll(fresh);
            run(ionice);
            done.addAll(fresh);
        }
        for (String t : threads(tasks)) {
            int n;
            try {
                n = niceOf(tasks.resolve(t).resolve("stat"));
            } catch (StrataException e) {
                continue; // the thread ended meanwhile
            }
            if (n < target) {
                throw unavailable("thread " + t + " of strata still runs at niceness " + n + " after renice to " + target);
            }
        }
        return target;
    }

    /** The thread ids of this process. */
    private static List<String> threads(Path tasks) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(tasks)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        } catch (IOException e) {
            throw unavailable("cannot list strata's threads in " + tasks + ": " + e.getMessage());
        }
        return out;
    }

    /**
     * The niceness in a {@code /proc/.../stat} line: field 19, counted after the command name's
     * closing parenthesis (the name may hold spaces and parentheses).
     */
    static int niceOf(Path stat) {
        String line;
        try {
            line = Files.readString(stat, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw unavailable("cannot read " + stat + ": " + e.getMessage());
        }
        return niceOfStat(line);
    }

    /** Field 19 of a stat line (fields 3 onwards follow the last ')'). */
    static int niceOfStat(String line) {
        String[] f = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
        return Integer.parseInt(f[19 - 3]);
    }

    private static void run(List<String> cmd) {
        Process p;
        try {
            p = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(cmd)).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw unavailable("cannot run " + cmd.get(0) + ": " + e.getMessage());
        }
        try {
            p.getOutputStream().close();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(16 * 1024), StandardCharsets.UTF_8).strip();
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw unavailable(cmd.get(0) + " did not finish in 30 s");
            }
            // a thread that ended between the listing and the tool is "No such process": not an error
            if (p.exitValue() != 0 && !out.lines().allMatch(l -> l.contains("No such process") || l.contains("old priority")
                    || l.isBlank())) {
                throw unavailable(cmd.get(0) + " failed (exit " + p.exitValue() + "): " + out.lines().findFirst().orElse(""));
            }
        } catch (IOException e) {
            throw unavailable(cmd.get(0) + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while lowering strata's priority", null);
        }
    }

    private static StrataException unavailable(String what) {
        return new StrataException(ErrorCode.PRIORITY_UNAVAILABLE, "cannot lower strata's priority: " + what,
                "install util-linux (renice, ionice), or run with --priority normal (or priority = normal in the configuration file)");
    }
}
