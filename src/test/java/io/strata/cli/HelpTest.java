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

    /** A mistyped command is named as one, with the nearest commands and the list; an unknown option keeps picocli's message. */
    @Test
    void anUnknownCommandIsNamedWithTheCommands() {
        InProcess.Run r = InProcess.run("bakup", "--repo", "/nonexistent");
        assertEquals(2, r.exit(), r.err());
        String[] lines = r.err().split("\n");
        assertEquals(2, lines.length, r.err());
        assertEquals("ERROR [usage]: unknown command \"bakup\"", lines[0]);
        assertTrue(lines[1].startsWith("HINT: did you mean backup? the commands are backup, "), lines[1]);
        assertTrue(lines[1].endsWith(" (\"strata --help\" says what each does)") && lines[1].contains(", restore, "), lines[1]);

        InProcess.Run far = InProcess.run("zzzzzz");
        assertEquals(2, far.exit(), far.err());
        assertTrue(far.err().startsWith("ERROR [usage]: unknown command \"zzzzzz\"\nHINT: the commands are backup, "), far.err());

        InProcess.Run option = InProcess.run("--frobnicate");
        assertEquals(2, option.exit(), option.err());
        assertTrue(option.err().startsWith("ERROR [usage]: Unknown option: '--frobnicate'"), option.err());
    }

    /** --config and --server, taken before picocli parses, are in every command's help all the same. */
    @Test
    void everyCommandsHelpSaysConfigAndServer() {
        for (String[] cmd : new String[][] {{"backup"}, {"restore"}, {"binlog", "archive"}, {"track"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            String help = run(args).replaceAll("\\s+", " ");
            assertTrue(help.contains("Every command also takes --config FILE, the configuration file (default: STRATA_CONFIG, else "
                    + "/etc/strata/strata.conf, when it exists), and --server NAME, the settings of its [NAME] section over its [global] ones."),
                    String.join(" ", args) + ": " + help);
        }
    }
}
