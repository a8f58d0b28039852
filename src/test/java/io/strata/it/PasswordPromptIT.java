package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: {@code -p} without a value asks for the password on a terminal, as the mariadb
 * client does. strata runs on a pseudo-terminal made by script(1); the test types the password
 * after the prompt shows, and the backup connects as a user that has one. The typed password
 * is not echoed on the terminal, and a wrong one is access-denied (exit 16).
 */
class PasswordPromptIT {
    private static final String SECRET = "Pr0mpt-typed-only";

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Runs {@code args} on a new terminal, types {@code typed} once "Enter password:" shows; the terminal's output and the exit code. */
    private static StrataCli.Result onTerminal(Path work, String name, String typed, String... args) throws Exception {
        Path terminal = work.resolve(name + ".terminal");
        String shell = StrataCli.command(List.of(), args).stream().map(PasswordPromptIT::quote).collect(Collectors.joining(" "));
        Process p = new ProcessBuilder("script", "-qec", shell, "/dev/null").redirectErrorStream(true).redirectOutput(terminal.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(terminal, StandardCharsets.UTF_8).contains("Enter password:")) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, "no prompt: " + Files.readString(terminal, StandardCharsets.UTF_8));
            Thread.sleep(100);
        }
        try (OutputStream in = p.getOutputStream()) {
            in.write((typed + "\r").getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertTrue(p.waitFor(3, TimeUnit.MINUTES), "strata did not finish");
        }
        String out = Files.readString(terminal, StandardCharsets.UTF_8);
        return new StrataCli.Result(p.exitValue(), out, "");
    }

    @Test
    void dashPWithoutAValuePromptsOnTheTerminalAndDoesNotEchoThePassword() throws Exception {
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO app.t VALUES (1), (2)",
                    "CREATE USER 'dba'@'localhost' IDENTIFIED BY '" + SECRET + "'", "GRANT ALL ON *.* TO 'dba'@'localhost'");
            Path work = ItSupport.tempDir("prompt-");
            Path repo = work.resolve("repo");

            StrataCli.Result ok = onTerminal(work, "good", SECRET, "backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "dba", "-p");
            assertEquals(0, ok.exit(), ok.out());
            assertTrue(ok.out().contains(" completed: full"), ok.out());
            assertFalse(ok.out().contains(SECRET), "the typed password was echoed: " + ok.out());
            assertEquals(1, ItSupport.list(repo).size());

            StrataCli.Result wrong = onTerminal(work, "wrong", "not-" + SECRET, "backup", "--repo", repo.toString(), "--socket",
                    source.socket().toString(), "--user", "dba", "-p");
            assertEquals(16, wrong.exit(), wrong.out());
            assertTrue(wrong.out().contains("ERROR [access-denied]"), wrong.out());
            assertFalse(wrong.out().contains(SECRET), wrong.out());
        }
    }
}
