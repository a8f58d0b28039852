package io.strata.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    private static final Pattern COMMAND_ROW = Pattern.compile("^  (\\S+)");

    /** The subcommands a usage text lists under "Commands:" (names start in column 2; wrapped descriptions are indented further). */
    private static List<String> subcommands(String usage) {
        List<String> out = new ArrayList<>();
        boolean inCommands = false;
        for (String line : usage.split("\\R")) {
            if (line.equals("Commands:")) {
                inCommands = true;
            } else if (inCommands && !line.startsWith(" ")) {
                inCommands = false;
            } else if (inCommands) {
                Matcher m = COMMAND_ROW.matcher(line);
                if (m.find()) {
                    out.add(m.group(1));
                }
            }
        }
        return out;
    }

    /** Every command of Main's registry, and every subcommand their usage lists, down to the leaves. */
    @Test
    void everyCommandAndSubcommandPrintsItsUsage() {
        List<String> commands = Main.commandNames();
        assertTrue(commands.contains("backup") && commands.contains("restore"), "the registry: " + commands);
        Deque<List<String>> todo = new ArrayDeque<>();
        commands.forEach(c -> todo.add(List.of(c)));
        List<String> seen = new ArrayList<>();
        while (!todo.isEmpty()) {
            List<String> path = todo.poll();
            String name = String.join(" ", path);
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            String out = run(args.toArray(String[]::new));
            assertTrue(out.matches("(?s)Usage: strata " + Pattern.quote(name) + "\\s.*"), name + ": " + out);
            seen.add(name);
            for (String sub : subcommands(out)) {
                List<String> child = new ArrayList<>(path);
                child.add(sub);
                todo.add(child);
            }
        }
        assertTrue(seen.size() > commands.size(), "no subcommand found in any usage text (binlog archive was one): " + seen);
        assertTrue(run("backup", "--help").contains("--method"), "the backup options are listed");
    }

    /** -h is --host wherever it is known (as for the mariadb client), never help; help is --help or -?. */
    @Test
    void dashHIsHostAndDashQuestionMarkIsHelp() {
        assertTrue(run("list", "-?").startsWith("Usage: strata list "));
        for (String c : List.of("backup", "track", "list", "restore")) {
            String usage = run(c, "--help");
            assertTrue(usage.contains("-?, --help"), c + ": " + usage);
            assertTrue(!usage.contains("-h, --help") && !usage.matches("(?s).*\\[-[A-Za-z?]*h[A-Za-z?]*\\].*"), c + " lists -h as help: " + usage);
        }
        for (String c : List.of("backup", "track")) {
            assertTrue(run(c, "--help").contains("-h, --host=<host>"), c);
        }
        assertTrue(run("binlog", "archive", "--help").contains("-h, --host=<host>"));
    }

    @Test
    void versionOnACommand() {
        assertEquals("strata 0.1.0", run("list", "--version").strip());
    }
}
