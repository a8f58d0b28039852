package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.Log;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/** Entry point: runs a command and turns every outcome into one message and an exit code. */
@Command(name = "strata", scope = CommandLine.ScopeType.INHERIT, version = "strata 0.1.0",
        description = "Hot, incremental, point-in-time physical backups of MariaDB 10.11, 11.4 and 11.8: backup, restore (whole servers or single tables), verify, merge, history.")
public final class Main implements Runnable {
    // -h means --host on every command (as for the mariadb client), so help has no -h: the
    // standard help options are declared here, long or -?, and every command inherits them
    @CommandLine.Option(names = {"--help", "-?"}, usageHelp = true, scope = CommandLine.ScopeType.INHERIT, description = "Show this help message and exit.")
    boolean help;

    @CommandLine.Option(names = {"-V", "--version"}, versionHelp = true, scope = CommandLine.ScopeType.INHERIT, description = "Print version information and exit.")
    boolean version;

    // read by main() before the command line is parsed (see installLog); declared so that every command accepts them
    @CommandLine.Option(names = "--log-file", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Also append the log (what strata prints on stderr), each line after its UTC time, to FILE (created 0600).")
    Path logFile;

    @CommandLine.Option(names = "--log-level", paramLabel = "LEVEL", scope = CommandLine.ScopeType.INHERIT,
            description = "error, warn, info (default) or debug: the least severe log lines shown and written.")
    String logLevel;

    /**
     * The commands, in the order help lists them. picocli builds a command's model from its
     * annotations by reflection, which costs a short run (an incremental that finds nothing
     * changed) about a tenth of a second for all of them: only the command being run is built,
     * and all of them when the first argument names none (top-level help, a mistyped name).
     */
    private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("backup", BackupCommand::new);
        COMMANDS.put("track", TrackCommand::new);
        COMMANDS.put("restore", RestoreCommand::new);
        COMMANDS.put("binlog", BinlogCommand::new);
        COMMANDS.put("list", ListCommand::new);
        COMMANDS.put("show", ShowCommand::new);
        COMMANDS.put("verify", VerifyCommand::new);
        COMMANDS.put("merge", MergeCommand::new);
        COMMANDS.put("copy", CopyCommand::new);
        COMMANDS.put("status", StatusCommand::new);
        COMMANDS.put("check", CheckCommand::new);
        COMMANDS.put("prune", PruneCommand::new);
        COMMANDS.put("demo", DemoCommand::new);
        COMMANDS.put("config", ConfigCommand::new);
        COMMANDS.put("agent", AgentCommand::new);
        COMMANDS.put("cds-train", CdsTrainCommand::new);
    }

    /** The command names, in the order help lists them; the help test walks these. */
    static List<String> commandNames() {
        return List.copyOf(COMMANDS.keySet());
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required: backup, restore, list, show or demo");
    }

    /**
     * True when this JVM is strata's own process (started by main), false when tests run a command
     * inside theirs: process-wide settings such as backup's --priority are applied only then.
     */
    static volatile boolean ownsProcess;

    /**
     * The word given where a command was expected ("strata bakup"), when {@code ex} is about one;
     * else null (an unknown option, or an extra argument after a command).
     */
    static String unknownCommand(CommandLine.ParameterException ex) {
        if (ex instanceof CommandLine.UnmatchedArgumentException u && ex.getCommandLine().getCommandSpec().parent() == null) {
            List<String> unmatched = u.getUnmatched();
            if (!unmatched.isEmpty() && !unmatched.get(0).startsWith("-")) {
                return unmatched.get(0);
            }
        }
        return null;
    }

    /**
     * The two options every command takes before picocli sees its arguments (ConfigDefaults):
     * said at the end of each command's --help, since they are in no command's option list.
     */
    static final String CONFIG_FOOTER = "%nEvery command also takes --config FILE, the configuration file (default: "
            + ConfigDefaults.CONFIG_ENV + ", else " + ConfigDefaults.SYSTEM_FILE + ", when it exists), and --server NAME, the settings of "
            + "its [NAME] section over its [global] ones. An option on the command line wins over the file.";

    private static void addConfigFooter(CommandLine c) {
        String[] footer = c.getCommandSpec().usageMessage().footer();
        String[] more = java.util.Arrays.copyOf(footer, footer.length + 1);
        more[footer.length] = CONFIG_FOOTER;
        c.getCommandSpec().usageMessage().footer(more);
        c.getSubcommands().values().forEach(Main::addConfigFooter);
    }

    public static void main(String[] args) {
        ownsProcess = true;
        // a background thread (progress, redo copy, fsync) that dies of an error the command does not
        // catch says so in one line, never with the JVM's stack trace; the command reports its own failure
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> System.err.println("WARNING: thread " + t.getName() + " stopped: "
                + (e instanceof OutOfMemoryError ? "out of Java heap (" + e.getMessage() + ")" : e.toString())));
        // the JSON readers are built on the other core while the command line is parsed (see Json.warmUp)
        Thread warmUp = new Thread(io.strata.repo.Json::warmUp, "strata-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
        int code = execute(System::getenv, Path.of(ConfigDefaults.SYSTEM_FILE), new FileOutputStream(FileDescriptor.err), Log.isTerminal(2), args);
        System.err.flush();
        System.out.flush();
        io.strata.util.SignalExit.beforeExit(); // a signal's exit status, when one stopped the command, wins
        System.exit(code);
    }

    /**
     * Makes System.err the {@link Log} of --log-level and --log-file (taken from the command line
     * before picocli parses it, so that even a usage error is logged, else from the environment
     * or the configuration file as any option's default). The libraries' SLF4J
     * lines go there too: the AWS SDK's from WARN, Connector/J's from ERROR (simplelogger.properties:
     * its warnings repeat a server error strata reports itself), both from DEBUG with --log-level debug.
     *
     * @throws StrataException USAGE for an unknown level or a log file that cannot be opened
     */
    static void installLog(ConfigDefaults defaults, OutputStream stderr, boolean terminal) {
        String lv = optionOrDefault(defaults, "--log-level");
        Log.Level level = lv == null ? Log.Level.INFO : Log.Level.parse(lv);
        if (level == null) {
            throw new StrataException(ErrorCode.USAGE, "--log-level " + lv + " is not a level", "give error, warn, info or debug");
        }
        if (level == Log.Level.DEBUG) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
            System.setProperty("org.slf4j.simpleLogger.log.org.mariadb.jdbc", "debug"); // over simplelogger.properties' error
        }
        String file = optionOrDefault(defaults, "--log-file");
        try {
            System.setErr(Log.install(stderr, !terminal, level, file == null ? null : Path.of(file)));
        } catch (IOException e) {
            throw new StrataException(ErrorCode.USAGE, "cannot open the log file " + file + ": " + e.getMessage(),
                    "give --log-file a path in a directory strata's user can write");
        }
    }

    private static String optionOrDefault(ConfigDefaults defaults, String name) {
        String v = optionValue(defaults.args(), name);
        return v != null ? v : defaults.defaultValue(CommandLine.Model.OptionSpec.builder(name).build());
    }

    /** The value of {@code --name V} or {@code --name=V} in {@code args} (the last one; none after "--"), or null. */
    static String optionValue(String[] args, String name) {
        String v = null;
        for (int i = 0; i < args.length && !args[i].equals("--"); i++) {
            if (args[i].equals(name) && i + 1 < args.length) {
                v = args[++i];
            } else if (args[i].startsWith(name + "=")) {
                v = args[i].substring(name.length() + 1);
            }
        }
        return v;
    }

    public static int execute(String... args) {
        return execute(System::getenv, Path.of(ConfigDefaults.SYSTEM_FILE), args);
    }

    /** As {@link #execute(String...)} with another environment and system configuration file (tests). */
    static int execute(Function<String, String> env, Path systemFile, String... argv) {
        return execute(env, systemFile, null, false, argv);
    }

    /**
     * Runs one command for the agent ({@link Agent}) in this long-lived JVM: System.out and
     * System.err become {@code out} and a {@link Log} over {@code err} (its lines timed unless
     * {@code terminal}) for the length of the command, then are put back; the log file of
     * --log-file is closed. One command at a time (the agent serialises them).
     *
     * @return the command's exit code
     */
    static int executeForAgent(Function<String, String> env, Path systemFile, java.io.OutputStream out, java.io.OutputStream err,
            boolean terminal, String... argv) {
        java.io.PrintStream savedOut = System.out;
        java.io.PrintStream savedErr = System.err;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        io.strata.util.Environment.use(env);
        ProgressRenderer.forClient(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8), terminal);
        try {
            return execute(env, systemFile, err, terminal, argv);
        } finally {
            ProgressRenderer.forOwnProcess();
            io.strata.util.Environment.reset();
            System.out.flush();
            System.err.close(); // the Log: flushes and closes its --log-file
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    private static int execute(Function<String, String> env, Path systemFile, OutputStream logTo, boolean terminal, String... argv) {
        CommandLine cl;
        ConfigDefaults defaults;
        try {
            defaults = ConfigDefaults.load(argv, env, systemFile);
            if (logTo != null) {
                installLog(defaults, logTo, terminal);
            }
            if (Fleet.wanted(defaults.args())) {
                return Fleet.run(defaults, defaults.args(), System.out, System.err);
            }
            cl = commandLine(defaults);
        } catch (StrataException e) {
            System.err.println(e.render());
            if (JsonMixin.given(argv)) {
                JsonMixin.print(JsonMixin.failure(JsonMixin.errorObject(e)));
            }
            return e.code().exitCode();
        }
        try {
            return cl.execute(defaults.args());
        } catch (OutOfMemoryError e) {
            // picocli hands its handler exceptions only; an Error thrown by a command (show, list, ...) ends up here
            StrataException oom = StrataException.outOfMemory(e);
            System.err.println(oom.render());
            if (JsonMixin.given(argv)) {
                JsonMixin.print(JsonMixin.failure(JsonMixin.errorObject(oom)));
            }
            return oom.code().exitCode();
        }
    }

    /** The options of backup whose value is a path although picocli holds it as a String. */
    private static final java.util.Set<String> STRING_PATHS = java.util.Set.of("--repo", "--socket");

    /**
     * Why the agent must not run {@code argv} in its JVM, or null when it may: the agent runs
     * {@code backup} of a local repository only, and only when nothing in the command depends on
     * the client's process: every path absolute (the agent's working directory is not the
     * client's), no password typed on the terminal, no --priority (a process-wide setting), no
     * fleet backup, no s3:// repository (the AWS SDK reads its credentials from the process's
     * own environment). The client then runs the command itself, as without an agent. A
     * command line picocli rejects is not refused: the agent prints the same usage error.
     */
    static String agentRefusal(Function<String, String> env, Path systemFile, String... argv) {
        if (argv.length == 0 || !argv[0].equals("backup")) {
            return "the agent runs backup only";
        }
        for (String a : argv) {
            if (a.equals("-p") || a.equals("--password")) {
                return "the password is typed on the client's terminal";
            }
        }

        String javaOpts = env.apply("STRATA_JAVA_OPTS");
        if (javaOpts != null && !javaOpts.isBlank()) {
            return "STRATA_JAVA_OPTS sets the JVM of a process of its own";
        }
        String conf = optionValue(argv, "--config");
        conf = conf != null ? conf : env.apply(ConfigDefaults.CONFIG_ENV);
        if (conf != null && !conf.isEmpty() && !Path.of(conf).isAbsolute()) {
            return "--config " + conf + " is a relative path";
        }
        try {
            ConfigDefaults defaults = ConfigDefaults.load(argv, env, systemFile);
            if (Fleet.wanted(defaults.args())) {
                return "a fleet backup (--all, --servers) runs in a process of its own";
            }
            String level = optionOrDefault(defaults, "--log-level");
            if (level != null && level.equalsIgnoreCase("debug")) {
                return "--log-level debug turns on the libraries' debug logging, for the whole process";
            }
            CommandLine cl = commandLine(defaults);
            CommandLine.ParseResult parsed = cl.parseArgs(defaults.args());
            if (!parsed.hasSubcommand()) {
                return null;
            }
            for (CommandLine.Model.OptionSpec o : parsed.subcommand().commandSpec().options()) {
                Object v = o.getValue();
                String name = o.longestName();
                if (v instanceof Path p && !p.isAbsolute()) {
                    return name + " " + p + " is a relative path";
                }
                if (v instanceof String s && STRING_PATHS.contains(name)) {
                    if (s.contains("://")) {
                        return name + " " + s + " is not a local path";
                    }
                    if (!s.isEmpty() && !s.startsWith("/")) {
                        return name + " " + s + " is a relative path";
                    }
                }
                if (name.equals("--priority") && v != null) {
                    return "--priority sets the priority of a process of its own";
                }
                if (name.equals("--parallel") && v != null) {
                    return "--parallel sizes the heap and the thread pools of a process of its own";
                }
            }
            return null;
        } catch (StrataException | CommandLine.ParameterException e) {
            return null;
        }
    }

    /** A new instance of the command {@code name} (strata config show builds the one it shows). */
    static Object newCommand(String name) {
        Supplier<Object> make = COMMANDS.get(name);
        return make == null ? null : make.get();
    }

    /**
     * The command line for {@code defaults.args()}, with the defaults of {@link ConfigDefaults}
     * and the configuration file's keys checked.
     */
    static CommandLine commandLine(ConfigDefaults defaults) {
        String[] args = defaults.args();
        CommandLine cl = new CommandLine(new Main());
        Supplier<Object> only = args.length > 0 ? COMMANDS.get(args[0]) : null;
        if (only != null) {
            cl.addSubcommand(args[0], only.get());
        } else {
            COMMANDS.forEach((name, make) -> cl.addSubcommand(name, make.get()));
        }
        cl.getSubcommands().values().forEach(Main::addConfigFooter);
        // an empty path ("--target ''", an unset variable) would name the current directory
        cl.registerConverter(java.nio.file.Path.class, v -> {
            if (v.isBlank()) {
                throw new CommandLine.TypeConversionException("an empty path names no file or directory; give one");
            }
            return java.nio.file.Path.of(v);
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String message = ex.getMessage();
            String hint = "see \"" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help\"";
            String unknown = unknownCommand(ex);
            if (unknown != null) {
                message = "unknown command \"" + unknown + "\"";
                List<String> near = ((CommandLine.UnmatchedArgumentException) ex).getSuggestions();
                hint = (near.isEmpty() ? "" : "did you mean " + String.join(" or ", near) + "? ")
                        + "the commands are " + String.join(", ", commandNames()) + " (\"strata --help\" says what each does)";
            }
            err.println("ERROR [" + ErrorCode.USAGE.id() + "]: " + message);
            err.println("HINT: " + hint);
            err.flush();
            if (JsonMixin.given(a)) {
                JsonMixin.print(JsonMixin.failure(JsonMixin.errorObject(ErrorCode.USAGE, message, hint)));
            }
            return ErrorCode.USAGE.exitCode();
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (ex instanceof StrataException wrapped) {
                StrataException se = StrataException.orOutOfMemory(wrapped);
                err.println(se.render());
                err.flush();
                if (JsonMixin.given(cmd)) {
                    JsonMixin.print(JsonMixin.failure(JsonMixin.errorObject(se)));
                }
                return se.code().exitCode();
            }
            StrataException oom = StrataException.outOfMemory(ex);
            if (oom != null) {
                err.println(oom.render());
                err.flush();
                if (JsonMixin.given(cmd)) {
                    JsonMixin.print(JsonMixin.failure(JsonMixin.errorObject(oom)));
                }
                return oom.code().exitCode();
            }
            err.println("BUG: strata failed unexpectedly; please report this with the output below");
            ex.printStackTrace(err);
            err.flush();
            if (JsonMixin.given(cmd)) {
                JsonMixin.print(JsonMixin.failure(JsonMixin.errorObject(ErrorCode.BUG, "strata failed unexpectedly: " + ex, "report this with the stderr output")));
            }
            return ErrorCode.BUG.exitCode();
        });
        cl.setDefaultValueProvider(defaults);
        CommandLine sub = only != null ? cl.getSubcommands().get(args[0]) : cl;
        defaults.check(sub.getCommandSpec(), () -> COMMANDS.values().stream().map(make -> new CommandLine(make.get()).getCommandSpec()).toList());
        return cl;
    }
}
