package io.strata.util;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * SIGINT and SIGTERM handlers for the length of a backup or restore: the first signal asks the
 * run to stop cleanly ({@code onFirst} gets "SIGINT" or "SIGTERM"; the run fails as cancelled,
 * exit 130); a second one ends the JVM at once, also with exit 130 (a backup's shutdown hook still
 * records the attempt as failed; a restore's watcher empties the target).
 */
@SuppressWarnings("removal")
public final class Signals {
    private final List<sun.misc.Signal> signals = new ArrayList<>();
    private final List<sun.misc.SignalHandler> previous = new ArrayList<>();

    private Signals() {}

    /** Installs the handlers; {@link #restore()} puts back the ones before. */
    public static Signals install(Consumer<String> onFirst) {
        Signals s = new Signals();
        boolean[] seen = {false};
        for (String name : List.of("INT", "TERM")) {
            sun.misc.Signal sig = new sun.misc.Signal(name);
            sun.misc.SignalHandler[] old = new sun.misc.SignalHandler[1];
            try {
                old[0] = sun.misc.Signal.handle(sig, x -> {
                    synchronized (seen) {
                        if (!seen[0]) {
                            seen[0] = true;
                            onFirst.accept("SIG" + name);
                            return;
                        }
                    }
                    Runtime.getRuntime().exit(130); // the shutdown hooks still run (a backup records its attempt as failed)
                });
                s.signals.add(sig);
                s.previous.add(old[0]);
            } catch (IllegalArgumentException e) {
                // the signal is reserved or ignored in this process (e.g. started with SIGINT ignored)
            }
        }
        return s;
    }

    /** Puts back the handlers found at {@link #install}. */
    public void restore() {
        for (int i = 0; i < signals.size(); i++) {
            try {
                sun.misc.Signal.handle(signals.get(i), previous.get(i));
            } catch (IllegalArgumentException ignored) {
                // nothing to restore
            }
        }
    }
}
