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

    private ChildProcesses() {}

    /** Removes {@link #SECRET_ENV} from the environment {@code pb} will start its process with; returns {@code pb}. */
    public static ProcessBuilder withoutSecrets(ProcessBuilder pb) {
        SECRET_ENV.forEach(pb.environment()::remove);
        return pb;
    }
}
