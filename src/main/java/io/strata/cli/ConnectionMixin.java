package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.server.ConnectionOptions;
import io.strata.server.OptionFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * The connection options a MariaDB user expects, resolved with the option files
 * ({@link OptionFiles}). The password comes from --password (which the launcher takes off the
 * command line into {@value #PASSWORD_ENV}, see bin/strata), a prompt on the terminal when -p has
 * no value, the option files, or last the environment variable MYSQL_PWD.
 */
public final class ConnectionMixin {
    /** Where bin/strata puts the value of --password, -pVALUE or --password=VALUE: the JVM's own arguments cannot be blanked. */
    static final String PASSWORD_ENV = "STRATA_PASSWORD";
    /** The value picocli gives -p or --password given without one: ask. */
    private static final String PROMPT = "\u0000prompt";

    @Option(names = {"-S", "--socket"}, description = "Unix socket of the server.")
    String socket;

    @Option(names = {"-h", "--host"}, description = "Host of the server (strata must run on that host to read its files).")
    String host;

    @Option(names = {"-P", "--port"}, converter = Ranges.Port.class, description = "TCP port of the server (1-65535).")
    Integer port;

    @Option(names = {"-u", "--user"}, description = "User to connect as (needs RELOAD, PROCESS and BINLOG MONITOR, or root).")
    String user;

    @Option(names = {"-p", "--password"}, arity = "0..1", fallbackValue = PROMPT, paramLabel = "PASSWORD",
            description = "Password; without a value, asked for on the terminal. bin/strata moves a value into " + PASSWORD_ENV
                    + " before the JVM starts, so that the process list never shows it (prefer an option file).")
    String password;

    @Option(names = "--defaults-file", paramLabel = "FILE",
            description = "Read only this option file (groups [client], [client-server], [client-mariadb], [mariadb-backup], [strata]).")
    Path defaultsFile;

    @Option(names = "--defaults-extra-file", paramLabel = "FILE", description = "Read this option file after the global ones and before ~/.my.cnf.")
    Path defaultsExtraFile;

    @Option(names = "--defaults-group-suffix", paramLabel = "SUFFIX",
            description = "Also read the groups [clientSUFFIX], [mariadb-backupSUFFIX], ... (default: $MYSQL_GROUP_SUFFIX).")
    String defaultsGroupSuffix;

    @Option(names = "--no-defaults", description = "Read no option file.")
    boolean noDefaults;

    /** The environment (tests replace it). */
    Function<String, String> env = io.strata.util.Environment::get;

    ConnectionOptions resolve() {
        String pw = password;
        if (PROMPT.equals(pw)) {
            pw = prompt(System.console());
        } else if (pw == null) {
            pw = env.apply(PASSWORD_ENV);
        }
        if (noDefaults && (defaultsFile != null || defaultsExtraFile != null)) {
            throw new StrataException(ErrorCode.USAGE, "--no-defaults reads no option file, so it cannot be given with --defaults-file or --defaults-extra-file",
                    "drop one of them");
        }
        OptionFiles.Sources src = new OptionFiles.Sources(defaultsFile, defaultsExtraFile, defaultsGroupSuffix, noDefaults);
        return ConnectionOptions.resolve(socket, host, port, user, pw, src, env);
    }

    /** The password typed on the terminal, not echoed; a usage error without a terminal. */
    static String prompt(java.io.Console console) {
        if (console == null) {
            throw new StrataException(ErrorCode.USAGE, "-p/--password without a value asks for the password on a terminal, and there is none",
                    "put it in an option file ([client] password=... in ~/.my.cnf, or --defaults-file) or in the environment variable " + PASSWORD_ENV);
        }
        char[] typed = console.readPassword("Enter password: ");
        if (typed == null) {
            throw new StrataException(ErrorCode.USAGE, "no password was typed (end of input)", null);
        }
        return new String(typed);
    }
}
