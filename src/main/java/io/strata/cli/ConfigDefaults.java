package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Default values of options from the environment and the configuration file, in this order
 * (the command line, which picocli reads itself, comes before all of them):
 * <ol>
 * <li>the environment variable {@code STRATA_<OPTION>}: the long name upper-cased, dashes as
 *     underscores ({@code --encrypt-key-file} is {@code STRATA_ENCRYPT_KEY_FILE});</li>
 * <li>the server's section of the configuration file, {@code [NAME]}, when {@code --server NAME}
 *     or {@code STRATA_SERVER=NAME} names one;</li>
 * <li>its {@code [global]} section;</li>
 * <li>the option's own default.</li>
 * </ol>
 * The file is {@code --config FILE} (anywhere on the command line), else {@code STRATA_CONFIG},
 * else {@value #SYSTEM_FILE} when it exists. {@code --server NAME} naming a section is taken off
 * the command line; one that names none is left for a command that has a {@code --server} of its
 * own (restore's server key) and is a usage error elsewhere. A section's {@value #SERVER_KEY}
 * key is restore's {@code --server} when that section is chosen: the configured name and the
 * repository's server key are then one notion.
 * <p>
 * Never from here: {@code --help}, {@code --version} and the password, which comes only from
 * {@code STRATA_PASSWORD}, an option file or the prompt ({@link ConnectionMixin}); a
 * {@code password} key in the file is refused.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    static final String SYSTEM_FILE = "/etc/strata/strata.conf";
    static final String CONFIG_ENV = "STRATA_CONFIG";
    static final String SERVER_ENV = "STRATA_SERVER";
    /**
     * A section's key naming its server as the repository does (host:port:datadir, as "strata
     * list" prints it): the value of restore's --server when --server NAME chose the section.
     */
    static final String SERVER_KEY = "server-key";
    /** Options never given a default from outside the command line. */
    private static final Set<String> NEVER = Set.of("help", "version", "password", "config", "server", "command");

    /** Where a value came from, as {@code strata config show} prints it. */
    record Value(String value, String source) {}

    private final ConfigFile file;
    private final String server;
    /** STRATA_SERVER or --server when it names no section: restore's server key. */
    private final String serverKey;
    private final Function<String, String> env;
    private final List<String> args;
    /** --server NAME on the command line that names no section, or null. */
    private String unmatchedServer;

    private ConfigDefaults(ConfigFile file, String server, String serverKey, Function<String, String> env, List<String> args) {
        this.file = file;
        this.server = server;
        this.serverKey = serverKey;
        this.env = env;
        this.args = args;
    }

    /**
     * Takes {@code --config} (and a {@code --server} that names a section) off {@code args} and
     * reads the configuration file.
     *
     * @param env        the environment (System::getenv; a map in tests)
     * @param systemFile the file read when neither --config nor STRATA_CONFIG names one
     * @throws StrataException usage: a named file that is missing or malformed
     */
    static ConfigDefaults load(String[] args, Function<String, String> env, Path systemFile) {
        List<String> rest = new ArrayList<>(List.of(args));
        String configArg = take(rest, "--config");
        Path path = configArg != null ? Path.of(configArg)
                : env.apply(CONFIG_ENV) != null && !env.apply(CONFIG_ENV).isEmpty() ? Path.of(env.apply(CONFIG_ENV))
                : systemFile != null && Files.exists(systemFile) ? systemFile : null;
        ConfigFile file = path == null ? null : ConfigFile.read(path);
        String name = null;
        String key = null;
        int at = indexOf(rest, "--server");
        String given = at < 0 ? null : valueAt(rest, at, "--server");
        if (given != null && file != null && file.hasSection(given)) {
            take(rest, "--server");
            name = given;
        }
        // STRATA_SERVER chooses the section when --server does not (restore --server KEY keeps it)
        String e = env.apply(SERVER_ENV);
        if (name == null && e != null && !e.isEmpty()) {
            if (file != null && file.hasSection(e)) {
                name = e;
            } else if (given == null) {
                key = e;
            }
        }
        ConfigDefaults d = new ConfigDefaults(file, name, key, env, List.copyOf(rest));
        d.unmatchedServer = given != null && name == null ? given : null;
        return d;
    }

    /** The arguments left for picocli. */
    String[] args() {
        return args.toArray(String[]::new);
    }

    ConfigFile file() { return file; }

    /** The section chosen with --server or STRATA_SERVER, or null. */
    String server() { return server; }

    @Override
    public String defaultValue(ArgSpec arg) {
        Value v = lookup(arg);
        return v == null ? null : v.value();
    }

    /** The value of {@code arg} from outside the command line and where it came from, or null. */
    Value lookup(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || !o.longestName().startsWith("--")) {
            return null;
        }
        String name = o.longestName().substring(2);
        if (name.equals("server") && serverKey != null) {
            return new Value(serverKey, "env " + SERVER_ENV);
        }
        if (name.equals("server") && server != null) {
            ConfigFile.Entry entry = file.section(server).get(SERVER_KEY);
            return entry == null ? null : new Value(entry.value(), file.path() + " [" + server + "] " + SERVER_KEY);
        }
        if (NEVER.contains(name)) {
            return null;
        }
        String var = envName(name);
        String e = env.apply(var);
        // an empty value of a path option (STRATA_SCRATCH_DIR=, "scratch-dir =") is unset: a path option refuses an empty value
        boolean path = o.type() == java.nio.file.Path.class;
        if (e != null && !(path && e.isBlank())) {
            return new Value(e, "env " + var);
        }
        if (file != null) {
            for (String section : server == null ? List.of(ConfigFile.GLOBAL) : List.of(server, ConfigFile.GLOBAL)) {
                ConfigFile.Entry entry = file.section(section).get(name);
                if (entry != null && !(path && entry.value().isBlank())) {
                    return new Value(entry.value(), file.path() + " [" + section + "]");
                }
            }
        }
        return null;
    }

    static String envName(String option) {
        return "STRATA_" + option.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /**
     * Checks the keys of the sections in use against the options of {@code command} and, for
     * a key it does not know, of every other command (a key for restore is fine in [global] of
     * a backup): a misspelt key must not be ignored without a word.
     *
     * @param all builds every command, only when a key is not one of {@code command}'s
     * @throws StrataException usage, naming file:line and the key
     */
    void check(CommandSpec command, Supplier<List<CommandSpec>> all) {
        if (unmatchedServer != null && command.findOption("--server") == null) {
            throw new StrataException(ErrorCode.USAGE, "--server " + unmatchedServer + ": "
                    + (file == null ? "there is no configuration file" : "no section [" + unmatchedServer + "] in " + file.path()),
                    "--server NAME chooses a section of the configuration file (" + SYSTEM_FILE + ", --config FILE or " + CONFIG_ENV + ")");
        }
        if (file == null) {
            return;
        }
        List<CommandSpec> others = null;
        for (String section : file.sections().keySet()) {
            for (ConfigFile.Entry e : file.section(section).values()) {
                if (e.key().equals("password")) {
                    throw new StrataException(ErrorCode.USAGE, file.path() + ":" + e.line() + ": a password does not belong in the configuration file",
                            "remove it; give the password in an option file (--defaults-file, [client] password=...), in "
                                    + ConnectionMixin.PASSWORD_ENV + ", or type it at the prompt of -p");
                }
                if (known(command, e.key()) || e.key().equals(SERVER_KEY) && !section.equals(ConfigFile.GLOBAL)) {
                    continue;
                }
                if (others == null) {
                    others = all.get();
                }
                if (others.stream().noneMatch(c -> known(c, e.key()))) {
                    throw new StrataException(ErrorCode.USAGE, file.path() + ":" + e.line() + ": unknown option \"" + e.key() + "\" in [" + section + "]",
                            "keys are long option names without dashes (repo, compress, encrypt-key-file ...); see \"strata COMMAND --help\"");
                }
            }
        }
    }

    /** Whether {@code command} or one of its subcommands has the option --{@code key}. */
    private static boolean known(CommandSpec command, String key) {
        if (NEVER.contains(key) && !key.equals("password")) {
            return false;
        }
        if (command.findOption("--" + key) != null) {
            return true;
        }
        return command.subcommands().values().stream().anyMatch(sub -> known(sub.getCommandSpec(), key));
    }

    /** Removes {@code name VALUE} or {@code name=VALUE} from {@code args}; its value, or null. */
    static String take(List<String> args, String name) {
        int at = indexOf(args, name);
        if (at < 0) {
            return null;
        }
        boolean joined = args.get(at).startsWith(name + "=");
        String v = valueAt(args, at, name);
        args.remove(at);
        if (!joined) {
            args.remove(at);
        }
        return v;
    }

    private static int indexOf(List<String> args, String name) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                return -1;
            }
            if (a.equals(name) || a.startsWith(name + "=")) {
                return i;
            }
        }
        return -1;
    }

    private static String valueAt(List<String> args, int at, String name) {
        String a = args.get(at);
        if (a.startsWith(name + "=")) {
            return a.substring(name.length() + 1);
        }
        if (at + 1 >= args.size()) {
            throw new StrataException(ErrorCode.USAGE, name + " needs a value", null);
        }
        return args.get(at + 1);
    }
}
