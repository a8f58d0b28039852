package io.strata.util;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A strata process on this host, named so that what it leaves behind when it is killed (a table,
 * a file, a scratch directory) can be told from what a running strata is still making.
 *
 * <p>The tag is {@code <pid>_<start>}, both in base 36 (lower case): the process id and the
 * process's start time in clock ticks after boot (field 22 of {@code /proc/<pid>/stat}, see
 * proc(5)). A process id alone is reused; with its start time it names one process. A tag is
 * alive while {@code /proc/<pid>/stat} shows that start time. Processes in another PID namespace
 * (another container) are not seen: their leftovers look like a dead run's.
 *
 * @param pid        the process id
 * @param startTicks the process's start time, clock ticks after boot
 */
public record RunOwner(long pid, long startTicks) {
    private static final RunOwner SELF = java.util.Objects.requireNonNullElse(of(ProcessHandle.current().pid()), new RunOwner(ProcessHandle.current().pid(), 0));

    /** This process. */
    public static RunOwner self() {
        return SELF;
    }

    /** {@code <pid>_<start>} in base 36: at most 13 characters (pid ≤ 2^22, start below 36^8 ticks, 89 years at 100 Hz). */
    public String tag() {
        return Long.toString(pid, 36) + "_" + Long.toString(startTicks, 36);
    }

    /** The owner a {@link #tag()} names; null when {@code tag} is not one. */
    public static RunOwner parse(String tag) {
        int u = tag.indexOf('_');
        if (u <= 0 || u != tag.lastIndexOf('_') || !tag.equals(tag.toLowerCase(Locale.ROOT))) {
            return null;
        }
        try {
            return new RunOwner(Long.parseLong(tag.substring(0, u), 36), Long.parseLong(tag.substring(u + 1), 36));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Whether the process this names runs now: its {@code /proc} entry shows the same start time,
     * or exists but cannot be read (proc mounted with hidepid: another user's process is taken
     * for alive). A pid above the kernel's limit (2^22) names no process.
     */
    public boolean alive() {
        if (pid <= 0 || pid > 4_194_304L) {
            return false;
        }
        RunOwner now = of(pid);
        if (now == null) {
            return Files.exists(Path.of("/proc", Long.toString(pid))) && !Files.isReadable(Path.of("/proc", Long.toString(pid), "stat"));
        }
        return now.startTicks == startTicks;
    }

    /** The owner for process {@code pid} as {@code /proc/<pid>/stat} shows it now; null when there is no such process. */
    static RunOwner of(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the fields after the last ')' start at field 3
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return new RunOwner(pid, Long.parseLong(f[22 - 3]));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
