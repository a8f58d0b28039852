package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "strata agent" run as a user runs it (bin/strata agent, then bin/strata backup with
 * STRATA_AGENT): backups under write load run in the agent and restore equal to the source; the
 * password comes from the client's environment, not the agent's; a command with a relative path,
 * or one sent while the agent runs another or is stuck, runs in the client instead; a client killed with SIGKILL cancels its backup in the agent (recorded
 * as failed, the next one completes there); an agent killed with SIGKILL makes its client fail
 * with agent-lost (exit 49), and the next backup runs without it; SIGTERM to an agent cancels
 * the backup it runs (the client exits 130) and stops the agent, which removes its socket; a client
 * in another mount namespace runs its backup itself; --listen on a file that is no socket is refused.
 */
class AgentIT {
    private static final Path LAUNCHER = Path.of("bin", "strata").toAbsolutePath();

    @Test
    void backupsRunInTheAgentAndEveryWayOfItEndingIsClean() throws Exception {
        Path work = ItSupport.tempDir("agent-");
        Path sock = work.resolve("agent").resolve("agent.sock");
        Path agentLog = work.resolve("agent.err");
        String secret = "pw-" + UUID.randomUUID();
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 20_000);
            }
            source.exec("CREATE USER 'strata_pw'@'localhost' IDENTIFIED BY '" + secret + "'", "GRANT ALL ON *.* TO 'strata_pw'@'localhost'");
            String socket = source.socket().toString();
            Process agent = startAgent(sock, agentLog);
            try {
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock.getParent())));
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
                Map<String, String> env = Map.of("STRATA_AGENT", sock.toString(), "STRATA_PASSWORD", secret);

                // 1. a full and an incremental under write load, both in the agent; restored equal to the source
                Path repo = work.resolve("repo");
                String inc;
                try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                    ItSupport.completedId(client(env, null, "backup", "--repo", repo.toString(), "--socket", socket, "--user", "strata_pw"));
                    inc = ItSupport.completedId(client(env, null, "backup", "--repo", repo.toString(), "--socket", socket, "--user", "strata_pw",
                            "--type", "incremental"));
                }
                assertEquals(2, ran(agentLog, "backup: exit 0 in "), StrataCli.readLog(agentLog));
                JsonNode m = ItSupport.manifest(repo, inc);
                try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, inc, work.resolve("restored"), source,
                        m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                    ItSupport.assertSameData(source, restored, "app");
                }

                // 2. a relative path: the client runs the backup itself, relative to its own directory
                StrataCli.Result rel = client(env, work, "backup", "--repo", "rel-repo", "--socket", socket, "--user", "strata_pw", "--quiet");
                ItSupport.completedId(rel);
                assertTrue(Files.isDirectory(work.resolve("rel-repo").resolve("backups")), rel.toString());
                assertTrue(StrataCli.readLog(agentLog).contains("[agent] left to the client: --repo rel-repo is a relative path\n"), StrataCli.readLog(agentLog));
                assertEquals(2, ran(agentLog, "backup: exit 0 in "), "the relative one did not run in the agent");

                // 2b. a client in another mount namespace (its own /tmp) is left to run its backup itself
                // (the directory hidden is the one of /tmp and /var/tmp that holds neither this checkout nor the server's socket)
                String hide = java.util.stream.Stream.of("/tmp", "/var/tmp")
                        .filter(d -> !LAUNCHER.startsWith(d) && !work.toAbsolutePath().startsWith(d) && !Path.of(socket).toAbsolutePath().startsWith(d))
                        .findFirst().orElseThrow(() -> new AssertionError("the checkout and the socket are in both /tmp and /var/tmp?"));
                StrataCli.Result ns = StrataCli.exec(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs strata-test " + hide + " && exec \"$0\" \"$@\"", LAUNCHER.toString(), "backup", "--repo", work.resolve("repo-ns").toString(),
                        "--socket", socket, "--user", "strata_pw", "--quiet"), env);
                ItSupport.completedId(ns);
                assertTrue(StrataCli.readLog(agentLog).contains("[agent] left to the client: the client is in another mount namespace "
                        + "(PrivateTmp=, a container, unshare), where a path may name another file\n"), StrataCli.readLog(agentLog));

                // 2c. a stuck agent (SIGSTOP) does not hold its client: after 30 s without an answer it runs the backup itself
                new ProcessBuilder("kill", "-STOP", Long.toString(agent.pid())).start().waitFor();
                long t0 = System.nanoTime();
                StrataCli.Result stuck;
                try {
                    stuck = client(env, null, "backup", "--repo", work.resolve("repo-stuck").toString(), "--socket", socket, "--user", "strata_pw", "--quiet");
                } finally {
                    new ProcessBuilder("kill", "-CONT", Long.toString(agent.pid())).start().waitFor();
                }
                ItSupport.completedId(stuck);
                assertTrue(System.nanoTime() - t0 >= TimeUnit.SECONDS.toNanos(30), "the client did not wait its 30 s for the agent");
                assertEquals(2, ran(agentLog, "backup: exit 0 in "), "the stuck agent ran the backup too");

                // 3. the client killed with SIGKILL half-way: the agent cancels the backup, records it failed, serves the next
                Path repo2 = work.resolve("repo2");
                Process c = startClient(env, work.resolve("c.out"), work.resolve("c.err"), "backup", "--repo", repo2.toString(), "--socket", socket,
                        "--user", "strata_pw", "--throttle", "1", "--quiet");
                String id = awaitRunning(repo2, c);
                // meanwhile another client finds the agent busy and runs its backup itself
                ItSupport.completedId(client(env, null, "backup", "--repo", work.resolve("repo-busy").toString(), "--socket", socket,
                        "--user", "strata_pw", "--quiet"));
                assertTrue(StrataCli.readLog(agentLog).contains("[agent] left to the client: the agent is running another command\n"), StrataCli.readLog(agentLog));
                assertEquals(2, ran(agentLog, "backup: exit 0 in "), "the busy one did not run in the agent");
                c.destroyForcibly().waitFor();
                awaitLine(agentLog, "backup: exit 130 in ");
                JsonNode list = ItSupport.list(repo2);
                assertEquals(1, list.size(), list.toString());
                assertEquals("failed", list.get(0).get("state").asText());
                assertEquals("backup " + id + " cancelled by the agent's client disconnecting", list.get(0).get("error").asText());
                ItSupport.completedId(client(env, null, "backup", "--repo", repo2.toString(), "--socket", socket, "--user", "strata_pw", "--quiet"));
                assertEquals(3, ran(agentLog, "backup: exit 0 in "), StrataCli.readLog(agentLog));

                // 4. the agent killed with SIGKILL during a client's backup: the client fails with agent-lost
                Path repo3 = work.resolve("repo3");
                Path cerr = work.resolve("c3.err");
                Process c3 = startClient(env, work.resolve("c3.out"), cerr, "backup", "--repo", repo3.toString(), "--socket", socket,
                        "--user", "strata_pw", "--throttle", "1", "--quiet", "--json");
                String killed = awaitRunning(repo3, c3);
                agent.destroyForcibly().waitFor();
                assertTrue(c3.waitFor(30, TimeUnit.SECONDS), "the client did not end when its agent died");
                assertEquals(49, c3.exitValue(), Files.readString(cerr, StandardCharsets.UTF_8));
                assertEquals("ERROR [agent-lost]: the strata agent on " + sock + " closed the connection before the backup ended (the agent was stopped or died)\n"
                        + "HINT: see the agent's log (journalctl -u strata-agent); the backup is recorded as failed; run it again (it runs without the agent while none listens)\n",
                        StrataCli.readLog(cerr));
                assertTrue(StrataCli.LOG_TIME.matcher(Files.readString(cerr, StandardCharsets.UTF_8)).lookingAt(), "lines timed as strata's log off a terminal");
                JsonNode lost = ItSupport.JSON.readTree(Files.readString(work.resolve("c3.out"), StandardCharsets.UTF_8));
                assertFalse(lost.get("ok").asBoolean());
                assertEquals("agent-lost", lost.get("error").get("id").asText());
                assertEquals(49, lost.get("error").get("exitCode").asInt());
                assertEquals("the strata agent on " + sock + " closed the connection before the backup ended (the agent was stopped or died)",
                        lost.get("error").get("message").asText());
                // the socket file stays behind a killed agent; the next backup finds no one there and runs itself
                assertTrue(Files.exists(sock));
                ItSupport.completedId(client(env, null, "backup", "--repo", repo3.toString(), "--socket", socket, "--user", "strata_pw", "--quiet"));
                JsonNode l3 = ItSupport.list(repo3);
                assertEquals("failed", l3.get(0).get("state").asText(), l3.toString());
                assertEquals(killed, l3.get(0).get("id").asText());
                assertEquals("completed", l3.get(1).get("state").asText(), l3.toString());

                // 5. a new agent removes the stale socket; SIGTERM during a backup cancels it (the client exits
                // 130 with the backup's own message) and stops the agent after it, its socket removed
                Process again = startAgent(sock, work.resolve("agent2.err"));
                Path repo4 = work.resolve("repo4");
                Path c4err = work.resolve("c4.err");
                Process c4 = startClient(env, work.resolve("c4.out"), c4err, "backup", "--repo", repo4.toString(), "--socket", socket,
                        "--user", "strata_pw", "--throttle", "1", "--quiet");
                String stopped = awaitRunning(repo4, c4);
                new ProcessBuilder("kill", "-TERM", Long.toString(again.pid())).start().waitFor();
                assertTrue(c4.waitFor(60, TimeUnit.SECONDS), "the client did not end after its agent's SIGTERM");
                assertEquals(130, c4.exitValue(), StrataCli.readLog(c4err));
                assertTrue(StrataCli.readLog(c4err).contains("ERROR [interrupted]: backup " + stopped + " cancelled by SIGTERM\n"), StrataCli.readLog(c4err));
                assertTrue(again.waitFor(30, TimeUnit.SECONDS), "the agent did not stop after SIGTERM");
                assertEquals(143, again.exitValue(), StrataCli.readLog(work.resolve("agent2.err")));
                assertFalse(Files.exists(sock), "the socket outlived its agent's SIGTERM");
                assertEquals("failed", ItSupport.list(repo4).get(0).get("state").asText());

                // 6. --listen naming a file that is not a socket: refused, the file left as it was
                Path notSocket = Files.writeString(work.resolve("agent").resolve("not-a-socket"), "keep me");
                Process refused = new ProcessBuilder(LAUNCHER.toString(), "agent", "--listen", notSocket.toString())
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(work.resolve("agent3.err").toFile()).start();
                assertTrue(refused.waitFor(60, TimeUnit.SECONDS));
                assertEquals(64, refused.exitValue());
                assertEquals("ERROR [agent-unavailable]: " + notSocket + " exists and is not a socket\n"
                        + "HINT: give --listen the path of a socket to create (e.g. /run/strata/agent.sock); nothing there was changed\n",
                        StrataCli.readLog(work.resolve("agent3.err")));
                assertEquals("keep me", Files.readString(notSocket));
            } finally {
                agent.destroyForcibly().waitFor();
            }
        }
    }

    private static Process startAgent(Path sock, Path err) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "agent", "--listen", sock.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        pb.environment().remove("STRATA_PASSWORD"); // the clients' password reaches the agent with each request only
        Process p = pb.start();
        awaitLine(err, "[agent] listening on " + sock + " (pid ");
        return p;
    }

    /** bin/strata with {@code env} added, in {@code dir} (null: this one). */
    private static StrataCli.Result client(Map<String, String> env, Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        return dir == null ? StrataCli.exec(cmd, env) : StrataCli.exec(cmd, env, dir);
    }

    private static Process startClient(Map<String, String> env, Path out, Path err, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    /** The id of the backup running in {@code repo}, once status says it copies pages. */
    private static String awaitRunning(Path repo, Process client) throws Exception {
        for (int i = 0; i < 200; i++) {
            Thread.sleep(300);
            assertTrue(client.isAlive(), "the backup ended before the test could stop it");
            StrataCli.Result s = StrataCli.run("status", "--repo", repo.toString(), "--json");
            if (s.exit() == 0) {
                JsonNode st = ItSupport.JSON.readTree(s.out());
                if (st.get("running").asBoolean() && "page-copy".equals(st.path("stage").asText())) {
                    return st.get("id").asText();
                }
            }
        }
        throw new AssertionError("status never showed the backup copying pages");
    }

    private static int ran(Path agentLog, String what) {
        return (int) StrataCli.readLog(agentLog).lines().filter(l -> l.startsWith("[agent] ") && l.contains(what)).count();
    }

    private static void awaitLine(Path log, String part) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && StrataCli.readLog(log).contains(part)) {
                return;
            }
            Thread.sleep(100);
        }
        assertNotNull(null, "no \"" + part + "\" in " + log + ": " + (Files.exists(log) ? StrataCli.readLog(log) : "(none)"));
    }
}
