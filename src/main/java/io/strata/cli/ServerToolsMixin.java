package io.strata.cli;

import io.strata.server.ServerTools;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Which MariaDB programs a command runs (crash recovery, the point-in-time replay, the demo): see {@link ServerTools}. */
public final class ServerToolsMixin {
    @Option(names = "--mariadbd", paramLabel = "PATH",
            description = "The MariaDB server binary to run (crash recovery, the point-in-time replay, the demo's servers): "
                    + "of the backup's source release series or newer "
                    + "(default: --mariadb-tools, then PATH, then /usr/sbin, /usr/bin, /usr/local/sbin, /usr/local/bin).")
    Path mariadbd;

    @Option(names = "--mariadb-tools", paramLabel = "DIR",
            description = "Directory of the MariaDB tools to run (mariadb, mariadb-binlog, and mariadbd without --mariadbd), "
                    + "searched before the directory of --mariadbd, PATH and the fixed directories.")
    Path toolsDir;

    ServerTools tools() {
        return ServerTools.of(mariadbd, toolsDir);
    }
}
