package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code strata config show}: the option values a command would run with, and where each comes from. */
@Command(name = "config", description = "The configuration file and environment defaults (see README, \"Configuration file\").",
        subcommands = ConfigCommand.Show.class)
final class ConfigCommand implements Runnable {
    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a config command is required: show");
    }

    /**
     * One line per option of a command: {@code --option  value  source}, the source being
     * {@code command line}, {@code env STRATA_X}, {@code FILE [section]}, {@code default} or
     * {@code unset}. The password is never shown (it never comes from the file anyway).
     */
    @Command(name = "show", description = "Print each option of a command with the value it would take and where it comes from: "
            + "command line, env STRATA_<OPTION>, the server's section, [global], or the default. Choose the section with --server NAME.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--command", paramLabel = "COMMAND", defaultValue = "backup",
                description = "The command whose options to show, e.g. backup, restore, list, \"binlog archive\" (default: ${DEFAULT-VALUE}).")
        String command;

        @Parameters(arity = "0..*", paramLabel = "ARG", description = "Options as they would be given to that command (after --), to see them win.")
        List<String> given = new ArrayList<>();

        @picocli.CommandLine.Mixin
        JsonMixin json = new JsonMixin();

        @Override
        public Integer call() {
            ConfigDefaults d = (ConfigDefaults) spec.root().defaultValueProvider();
            CommandSpec target = target();
            ConfigFile file = d == null ? null : d.file();
            List<Map<String, Object>> options = new ArrayList<>();
            if (!json.json) {
                System.out.println("# configuration file: " + (file == null ? "none" : file.path())
                        + (d != null && d.server() != null ? ", section [" + d.server() + "]" : ""));
            }
            for (OptionSpec o : target.options()) {
                String name = o.longestName();
                if (o.hidden() || o.usageHelp() || o.versionHelp() || name.equals("--password")) {
                    continue;
                }
                String value;
                String source;
                String fromArgs = givenValue(o);
                ConfigDefaults.Value v = d == null ? null : d.lookup(o);
                if (fromArgs != null) {
                    value = fromArgs;
                    source = "command line";
                } else if (v != null) {
                    value = v.value();
                    source = v.source();
                } else if (o.defaultValue() != null) {
                    value = o.defaultValue();
                    source = "default";
                } else {
                    value = "-";
                    source = "unset";
                }
                if (json.json) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("option", name);
                    row.put("value", "-".equals(value) && "unset".equals(source) ? null : value);
                    row.put("source", source);
                    options.add(row);
                } else {
                    System.out.printf("%-26s %-32s %s%n", name, value, source);
                }
            }
            if (json.json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("command", command.strip());
                out.put("file", file == null ? null : file.path().toString());
                out.put("section", d == null ? null : d.server());
                out.put("options", options);
                JsonMixin.print(JsonMixin.ok(out));
            }
            return 0;
        }

        private CommandSpec target() {
            String[] words = command.strip().split("\\s+");
            Object made = Main.newCommand(words[0]);
            if (made == null || words[0].equals("config")) {
                throw new StrataException(ErrorCode.USAGE, "--command " + command + ": no such command", "see \"strata --help\" for the commands");
            }
            CommandLine cl = new CommandLine(made);
            for (int i = 1; i < words.length; i++) {
                cl = cl.getSubcommands().get(words[i]);
                if (cl == null) {
                    throw new StrataException(ErrorCode.USAGE, "--command " + command + ": no such command", "see \"strata " + words[0] + " --help\"");
                }
            }
            return cl.getCommandSpec();
        }

        /** The value of {@code o} in the arguments given after --: the last one wins, as in a parse; "true" for a flag. */
        private String givenValue(OptionSpec o) {
            String found = null;
            for (int i = 0; i < given.size(); i++) {
                String a = given.get(i);
                for (String n : o.names()) {
                    if (a.startsWith(n + "=")) {
                        found = a.substring(n.length() + 1);
                    } else if (a.equals(n)) {
                        found = o.arity().max() == 0 ? "true" : i + 1 < given.size() ? given.get(i + 1) : "";
                    }
                }
            }
            return found;
        }
    }
}
