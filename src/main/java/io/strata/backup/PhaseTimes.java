package io.strata.backup;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Wall time of a backup's phases, for one DEBUG line at the end ({@code --log-level debug}):
 * "DEBUG [timing] jvm 0.21 s, connect 0.05 s, ...". The first figure is the time from the process's
 * start to the backup's (JVM start, class loading, option parsing) when the system knows it.
 */
final class PhaseTimes {
    private final List<String> parts = new ArrayList<>();
    private long last = System.nanoTime();

    PhaseTimes() {
        ProcessHandle.current().info().startInstant().ifPresent(t -> {
            long ms = java.time.Duration.between(t, java.time.Instant.now()).toMillis();
            parts.add(String.format(java.util.Locale.ROOT, "jvm %.2f s", ms / 1000.0));
        });
    }

    /** Ends the phase {@code name} now: its time is from the end of the previous one. */
    void lap(String name) {
        long now = System.nanoTime();
        parts.add(String.format(java.util.Locale.ROOT, "%s %.3f s", name, (now - last) / 1e9));
        last = now;
    }

    /** Says the DEBUG line. */
    void report(Consumer<String> say) {
        say.accept("DEBUG [timing] " + String.join(", ", parts));
    }
}
