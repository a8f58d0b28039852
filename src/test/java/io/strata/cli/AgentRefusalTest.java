package io.strata.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What the agent leaves to its client (Main.agentRefusal), and the reason its log gives. */
class AgentRefusalTest {
    private static final Path NO_SYSTEM_FILE = Path.of("/nonexistent/strata.conf");

    private static String refusal(Map<String, String> env, String... argv) {
        return Main.agentRefusal(env::get, NO_SYSTEM_FILE, argv);
    }

    private static String refusal(String... argv) {
        return refusal(Map.of(), argv);
    }

    @Test
    void aBackupWithAbsolutePathsRunsInTheAgent() {
        assertNull(refusal("backup", "--repo", "/backups/db1", "--socket", "/run/mysqld/mysqld.sock", "--user", "root", "--type", "incremental",
                "--log-file", "/var/log/strata.log", "--metrics-file", "/var/lib/node_exporter/strata.prom"));
        assertNull(refusal(Map.of("STRATA_REPO", "/backups/db1"), "backup", "--quiet"));
        // a command line picocli rejects is not refused: the agent prints the same usage error
        assertNull(refusal("backup", "--repo", "/r", "--bogus"));
    }

    @Test
    void whatDependsOnTheClientsProcessIsLeftToIt() {
        assertEquals("the agent runs backup only", refusal("restore", "--repo", "/r", "--target", "/t"));
        assertEquals("the agent runs backup only", refusal());
        assertEquals("--repo repo is a relative path", refusal("backup", "--repo", "repo"));
        assertEquals("--repo repo is a relative path", refusal(Map.of("STRATA_REPO", "repo"), "backup"));
        assertEquals("--repo s3://bucket/db1 is not a local path", refusal("backup", "--repo", "s3://bucket/db1"));
        assertEquals("--socket mysql.sock is a relative path", refusal("backup", "--repo", "/r", "--socket", "mysql.sock"));
        assertEquals("--log-file strata.log is a relative path", refusal("backup", "--repo", "/r", "--log-file", "strata.log"));
        assertEquals("--encrypt-key-file k is a relative path", refusal("backup", "--repo", "/r", "--encrypt-key-file", "k"));
        assertEquals("--config strata.conf is a relative path", refusal("backup", "--repo", "/r", "--config", "strata.conf"));
        assertEquals("--config strata.conf is a relative path", refusal(Map.of("STRATA_CONFIG", "strata.conf"), "backup", "--repo", "/r"));
        assertEquals("--priority sets the priority of a process of its own", refusal("backup", "--repo", "/r", "--priority", "low"));
        assertEquals("the password is typed on the client's terminal", refusal("backup", "--repo", "/r", "-p"));
        assertEquals("--parallel sizes the heap and the thread pools of a process of its own", refusal("backup", "--repo", "/r", "--parallel", "64"));
        assertEquals("STRATA_JAVA_OPTS sets the JVM of a process of its own", refusal(Map.of("STRATA_JAVA_OPTS", "-Xmx2g"), "backup", "--repo", "/r"));
        assertEquals("a fleet backup (--all, --servers) runs in a process of its own", refusal("backup", "--all"));
        assertEquals("--log-level debug turns on the libraries' debug logging, for the whole process", refusal("backup", "--repo", "/r", "--log-level", "debug"));
        assertEquals("--log-level debug turns on the libraries' debug logging, for the whole process",
                refusal(Map.of("STRATA_LOG_LEVEL", "DEBUG"), "backup", "--repo", "/r"));
    }
}
