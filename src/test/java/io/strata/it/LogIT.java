package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: a backup run on a terminal with {@code 2> file} (stdin and stdout a terminal, stderr a
 * file) writes log lines to the file, each after its UTC time, and no terminal drawing; the
 * --log-file gets the same lines.
 */
class LogIT {
    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    @Test
    void stderrRedirectedFromATerminalGetsTimedLinesAndNoEscapeCodes() throws Exception {
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO app.t VALUES (1), (2)");
            Path work = ItSupport.tempDir("log-");
            Path err = work.resolve("backup.err");
            Path logFile = work.resolve("strata.log");
            List<String> cmd = StrataCli.command(List.of(), "backup", "--repo", work.resolve("repo").toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--log-file", logFile.toString());
            // script(1) runs the command on a new terminal (stdin, stdout and stderr); the shell sends stderr to a file
            String shell = cmd.stream().map(LogIT::quote).collect(Collectors.joining(" ")) + " 2>" + quote(err.toString());
            Process p = new ProcessBuilder("script", "-qec", shell, "/dev/null").redirectErrorStream(true)
                    .redirectOutput(work.resolve("terminal.out").toFile()).start();
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the backup did not finish");
            String text = Files.readString(err, StandardCharsets.UTF_8);
            String terminal = Files.readString(work.resolve("terminal.out"), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), terminal + "\n--- stderr\n" + text);
            assertTrue(terminal.contains("backup "), "the result line on the terminal: " + terminal);
            assertFalse(text.contains("\033"), "escape codes in the redirected stderr:\n" + text);
            List<String> lines = text.lines().toList();
            assertTrue(lines.size() >= 2, text);
            for (String l : lines) {
                assertTrue(StrataCli.LOG_TIME.matcher(l).lookingAt(), "a line without its time: " + l);
            }
            assertEquals(text, Files.readString(logFile, StandardCharsets.UTF_8), "the log file has the same lines");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(logFile)));
        }
    }
}
