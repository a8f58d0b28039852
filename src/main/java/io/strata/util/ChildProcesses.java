package io.strata.util;

import java.util.List;

/**
 * What the processes strata starts (mariadbd, mariadb-binlog, mariadb) inherit: the environment
 * minus the variables that carry strata's secrets. They need neither the database password, the
 * repository's passphrase nor the object store's credentials, and a process's environment is readable by its user for as long as it
 * runs ({@code /proc/PID/environ}), which for a restored server may be much longer than strata.
 */
public final class ChildProcesses {
    /**
     * The database password (moved there from --password by bin/strata), the repository
     * passphrase, and the object store's secret key and session token.
     */
    public static final List<String> SECRET_ENV = List.of("STRATA_PASSWORD", "STRATA_PASSPHRASE", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");

    private static final java.nio.file.Path SETSID = java.nio.file.Path.of("/usr/bin/setsid");

    private ChildProcesses() {}

    /**
     * {@code cmd} run in a session of its own ({@code setsid}, util-linux; {@code cmd} as it is where
     * setsid is missing): a Ctrl-C in strata's terminal then reaches strata alone, which stops its
     * children itself after it has seen the signal ({@link Cancellation}), instead of the children
     * failing first with errors of their own. The process id stays the child's (a child of the JVM is
     * no process-group leader, so setsid replaces itself without a fork).
     */
    public static List<String> inOwnSession(List<String> cmd) {
        if (!java.nio.file.Files.isExecutable(SETSID)) {
            return cmd;
        }
        List<String> out = new java.util.ArrayList<>(cmd.size() + 1);
        out.add(SETSID.toString());
        out.addAll(cmd);
        return out;
    }

    /** Removes {@link #SECRET_ENV} from the environment {@code pb} will start its process with; returns {@code pb}. */
    public static ProcessBuilder withoutSecrets(ProcessBuilder pb) {
        SECRET_ENV.forEach(pb.environment()::remove);
        return pb;
    }
}
