package io.strata.util;

import java.util.function.Function;

/**
 * The environment strata's commands read (STRATA_PASSWORD, MYSQL_PWD, STRATA_PASSPHRASE, PATH,
 * ...): the process's own, except while the agent runs a command for a client, when it is the
 * client's (sent with the request: "strata agent"). Read through here, never through
 * System.getenv, so that a command run by the agent sees the environment of the shell that asked.
 */
public final class Environment {
    private static volatile Function<String, String> source = System::getenv;

    private Environment() {}

    /** The variable {@code name}, or null when it is not set. */
    public static String get(String name) {
        return source.apply(name);
    }

    /** Makes {@code env} the environment until {@link #reset}; the agent's one command at a time. */
    public static void use(Function<String, String> env) {
        source = env;
    }

    /** Puts back the process's own environment. */
    public static void reset() {
        source = System::getenv;
    }
}
