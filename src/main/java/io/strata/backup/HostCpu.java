package io.strata.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many of the host's CPUs the processes other than strata keep busy, sampled from Linux's
 * {@code /proc} while a backup copies (the backup's default {@code --parallel}: {@link CopyGate}).
 * <p>
 * Sources, both in clock ticks (USER_HZ, 100 per second on Linux):
 * <ul>
 *   <li>{@code /proc/stat}, line {@code cpu}: the whole host's time since boot, summed over its
 *       CPUs, as ten numbers: user, nice, system, idle, iowait, irq, softirq, steal, guest,
 *       guest_nice. Guest time is already counted in user and nice, so the total is the first
 *       eight; busy is that total less idle and iowait. The {@code cpuN} lines that follow give the
 *       number of CPUs.</li>
 *   <li>{@code /proc/self/stat}: this JVM's own CPU time, all its threads; after the command name
 *       in parentheses (which may hold spaces, so the text after its last {@code ')'}), the
 *       twelfth and thirteenth fields are utime and stime (fields 14 and 15 of proc(5)).</li>
 * </ul>
 * Between two samples, the others' busy CPUs are (busy ticks - this JVM's ticks) / total ticks
 * × CPUs: what strata itself ran is left out, so its own copy threads never count as load. A
 * sample is taken at most every {@link #PERIOD_NANOS}; between samples the last figure holds.
 * <p>
 * Thread-safe. Unreadable {@code /proc} (not Linux, a sandbox): {@link #open()} returns null and the
 * copy keeps its threads.
 */
final class HostCpu {

    /** Samples are at least this far apart: 0.5 s, 50 ticks per CPU. */
    static final long PERIOD_NANOS = 500_000_000L;

    private static final Path STAT = Path.of("/proc/stat");
    private static final Path SELF = Path.of("/proc/self/stat");

    private final int cpus;
    private long lastAt;
    private long lastTotal;
    private long lastBusy;
    private long lastSelf;
    /** The others' busy CPUs over the latest interval; 0 before the first. */
    private double others;
    /** The most busy CPUs the others held over any interval, for the report. */
    private double mostOthers;

    private HostCpu(int cpus, long at, long[] host, long self) {
        this.cpus = cpus;
        this.lastAt = at;
        this.lastTotal = host[0];
        this.lastBusy = host[1];
        this.lastSelf = self;
    }

    /** A sampler whose first interval starts now; null when {@code /proc} cannot be read. */
    static HostCpu open() {
        try {
            String stat = Files.readString(STAT, StandardCharsets.US_ASCII);
            int cpus = 0;
            for (String line : stat.split("\n")) {
                if (line.startsWith("cpu") && line.length() > 3 && Character.isDigit(line.charAt(3))) {
                    cpus++;
                }
            }
            if (cpus == 0) {
                return null;
            }
            return new HostCpu(cpus, System.nanoTime(), hostTicks(stat), selfTicks(Files.readString(SELF, StandardCharsets.US_ASCII)));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The host's CPUs ({@code cpuN} lines of /proc/stat). */
    int cpus() {
        return cpus;
    }

    /**
     * The CPUs' worth (0 to {@link #cpus()}) that other processes kept busy over the latest
     * interval, taking a new sample first when the last is {@link #PERIOD_NANOS} old.
     */
    synchronized double othersBusy() {
        long now = System.nanoTime();
        if (now - lastAt >= PERIOD_NANOS) {
            try {
                long[] host = hostTicks(Files.readString(STAT, StandardCharsets.US_ASCII));
                long self = selfTicks(Files.readString(SELF, StandardCharsets.US_ASCII));
                others = othersOver(host[0] - lastTotal, host[1] - lastBusy, self - lastSelf, cpus);
                mostOthers = Math.max(mostOthers, others);
                lastAt = now;
                lastTotal = host[0];
                lastBusy = host[1];
                lastSelf = self;
            } catch (IOException | RuntimeException e) {
                lastAt = now; // keep the last figure; try again next period
            }
        }
        return others;
    }

    /** The most CPUs the others kept busy over any interval so far. */
    synchronized double mostOthersBusy() {
        return mostOthers;
    }

    /**
     * The others' busy CPUs over one interval: (busy - self) / total × cpus, within 0..cpus; 0 for
     * an interval with no ticks.
     *
     * @param totalTicks all CPUs' ticks in the interval
     * @param busyTicks  the host's busy ticks in it
     * @param selfTicks  this process's CPU ticks in it
     */
    static double othersOver(long totalTicks, long busyTicks, long selfTicks, int cpus) {
        if (totalTicks <= 0) {
            return 0;
        }
        double o = (double) Math.max(0, busyTicks - selfTicks) / totalTicks * cpus;
        return Math.min(cpus, o);
    }

    /** {total, busy} ticks of the {@code cpu} line of a /proc/stat text. */
    static long[] hostTicks(String stat) {
        int end = stat.indexOf('\n');
        String[] f = (end < 0 ? stat : stat.substring(0, end)).trim().split("\\s+");
        if (!f[0].equals("cpu") || f.length < 9) {
            throw new IllegalArgumentException("unexpected /proc/stat first line: " + f[0]);
        }
        long total = 0;
        for (int i = 1; i <= 8; i++) {
            total += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        return new long[]{total, total - idle};
    }

    /** utime + stime ticks of a /proc/PID/stat text. */
    static long selfTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 1).trim().split("\\s+");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
