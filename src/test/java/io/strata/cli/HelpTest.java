package io.strata.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --help works on every command, before any required option is checked. */
class HelpTest {
    private static String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.execute(args), String.join(" ", args));
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyCommandPrintsItsUsage() {
        for (String cmd : new String[] {"backup", "track", "restore", "binlog", "list", "show", "verify", "merge", "status", "prune", "demo"}) {
            String out = run(cmd, "--help");
            assertTrue(out.startsWith("Usage: strata " + cmd), cmd + ": " + out);
        }
        assertTrue(run("backup", "--help").contains("--method"), "the backup options are listed");
        assertTrue(run("binlog", "archive", "--help").startsWith("Usage: strata binlog archive"));
    }

    @Test
    void versionOnACommand() {
        assertEquals("strata 0.1.0", run("list", "--version").strip());
    }
}
