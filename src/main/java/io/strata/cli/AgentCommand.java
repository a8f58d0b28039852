package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code strata agent}: listens on a Unix domain socket and runs the backups the launcher sends
 * it in this JVM, warm (see {@link Agent}). Runs until stopped (SIGTERM or SIGINT: the socket is
 * removed; a backup running is cancelled and recorded as failed, as in a process of its own).
 */
@Command(name = "agent", description = "Stay up and run the backups that strata's launcher sends to this socket (STRATA_AGENT) in a warm JVM: "
        + "a frequent incremental then pays no JVM start.")
final class AgentCommand implements Callable<Integer> {
    /** The environment variable that names the agent's socket, for the agent and for the launcher. */
    static final String SOCKET_ENV = "STRATA_AGENT";

    @Option(names = "--listen", paramLabel = "SOCKET",
            description = "The Unix domain socket to listen on (default: $" + SOCKET_ENV + "), in a directory no other user may write; "
                    + "the launcher sends a backup there when " + SOCKET_ENV + " names it.")
    Path listen;

    @Override
    public Integer call() {
        Main.ownsProcess = false; // process-wide settings (--priority) are not a command's to change here
        Path socket = listen;
        if (socket == null) {
            String env = io.strata.util.Environment.get(SOCKET_ENV);
            if (env == null || env.isEmpty()) {
                throw new StrataException(ErrorCode.USAGE, "no socket to listen on", "give --listen PATH, or set " + SOCKET_ENV);
            }
            socket = Path.of(env);
        }
        socket = socket.toAbsolutePath();
        Agent agent = Agent.listen(socket, Path.of(ConfigDefaults.SYSTEM_FILE), System.err);
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "strata-agent-stop"));
        System.err.println("[agent] listening on " + socket + " (pid " + ProcessHandle.current().pid() + "); backups sent there by clients with "
                + SOCKET_ENV + "=" + socket + " run here");
        agent.serve();
        return agent.exitCode();
    }
}
