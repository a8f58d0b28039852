package io.strata.cli;

import io.strata.server.ConnectionOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The connection options a MariaDB user expects, resolved with the [client] option files. */
public final class ConnectionMixin {
    // -h is --host here, as in the mariadb client, so these commands get the long help and
    // version options only (the inherited standard ones would claim -h)
    @Option(names = "--help", usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--version", versionHelp = true, description = "Print version information and exit.")
    boolean version;

    @Option(names = {"-S", "--socket"}, description = "Unix socket of the server.")
    String socket;

    @Option(names = {"-h", "--host"}, description = "Host of the server (strata must run on that host to read its files).")
    String host;

    @Option(names = {"-P", "--port"}, description = "TCP port of the server.")
    Integer port;

    @Option(names = {"-u", "--user"}, description = "User to connect as (needs RELOAD, PROCESS and BINLOG MONITOR, or root).")
    String user;

    @Option(names = {"-p", "--password"}, description = "Password (prefer an option file).")
    String password;

    @Option(names = "--defaults-file", description = "Read only this option file's [client] section.")
    Path defaultsFile;

    ConnectionOptions resolve() {
        return ConnectionOptions.resolve(socket, host, port, user, password, defaultsFile);
    }
}
