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

    /** The {@code onFirst} of the handlers installed last and not yet restored, or null: see {@link #cancelCurrent}. */
    private static volatile Consumer<String> current;

    private Consumer<String> mine;

    /** The name of the last signal a handler received ("SIGTERM"), or null: see {@link #received}. */
    private static volatile String received;

    private Signals() {}

    /**
     * Asks the run whose handlers are installed to stop as the first signal would ({@code why}
     * names the cause, as "SIGINT" does), without a signal: the agent's request whose client went
     * away or was interrupted. Returns whether a run was there to ask.
     */
    public static boolean cancelCurrent(String why) {
        Consumer<String> c = current;
        if (c == null) {
            return false;
        }
        c.accept(why);
        return true;
    }

    /** Installs the handlers; {@link #restore()} puts back the ones before. */
    public static Signals install(Consumer<String> onFirst) {
        Signals s = new Signals();
        boolean[] seen = {false};
        for (String name : List.of("INT", "TERM")) {
            sun.misc.Signal sig = new sun.misc.Signal(name);
            sun.misc.SignalHandler[] old = new sun.misc.SignalHandler[1];
            try {
                old[0] = sun.misc.Signal.handle(sig, x -> {
                    received = "SIG" + name;
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
        s.mine = x -> {
            synchronized (seen) {
                if (!seen[0]) {
                    seen[0] = true;
                    onFirst.accept(x);
                }
            }
        };
        current = s.mine;
        return s;
    }

    /**
     * The name of the last SIGINT or SIGTERM one of these handlers received since the process
     * started ("SIGTERM"), or null: the agent, whose commands' handlers take the signals meant
     * for it while a command runs, stops after that command.
     */
    public static String received() {
        return received;
    }

    /** Puts back the handlers found at {@link #install}. */
    public void restore() {
        if (current == mine) {
            current = null;
        }
        for (int i = 0; i < signals.size(); i++) {
            try {
                sun.misc.Signal.handle(signals.get(i), previous.get(i));
            } catch (IllegalArgumentException ignored) {
                // nothing to restore
            }
        }
    }
}
