package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.KeyManagement;
import io.strata.repo.Manifest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The key management crash recovery of an encrypted backup runs with, checked before the restore
 * writes anything (manifest field {@code keyManagement}, {@link KeyManagement}).
 *
 * <p>Two ways, decided by the user:
 * <ul>
 *   <li>without {@code --mariadbd-defaults-file}: mariadbd gets the recorded plugins and their
 *       recorded variables as options ({@link KeyManagement#recoveryOptions()}). Checked first:
 *       each plugin's library is in the mariadbd's plugin directory (as {@code mariadbd
 *       --no-defaults --verbose --help} prints it), every recorded file (a {@code *_filename}
 *       variable, a {@code FILE:} reference) is readable, and no secret is missing;</li>
 *   <li>with {@code --mariadbd-defaults-file FILE}: mariadbd reads FILE instead of no option file
 *       ({@code --defaults-file=FILE} in place of {@code --no-defaults}: only that file, never
 *       /etc/mysql/my.cnf) and gets no recorded key-management option, so FILE decides the plugin
 *       and its settings; strata's own options on the command line still win. Checked first: FILE
 *       is readable and every file its {@code *_filename} lines name for a recorded plugin is readable.</li>
 * </ul>
 * When the manifest says the key management is not {@code required} (a plugin was loaded but
 * nothing was encrypted) and the recorded plugin cannot be loaded here, recovery runs without it.
 */
final class RecoveryKeys {
    private RecoveryKeys() {}

    /** What recovery runs with: extra mariadbd options, and the option file to read (null: none). */
    record Plan(List<String> options, Path defaultsFile) {
        static final Plan NONE = new Plan(List.of(), null);
    }

    /**
     * Checks that recovery of {@code m} can get its keys, writing nothing.
     *
     * @param mariadbd     the server that will run recovery
     * @param defaultsFile {@code --mariadbd-defaults-file}, or null
     * @throws StrataException key-management-missing (exit 36) naming the plugin and the library,
     *                         file or option that is missing
     */
    static Plan check(Manifest m, Path mariadbd, Path defaultsFile, Consumer<String> log) {
        KeyManagement km = m.keyManagement();
        if (defaultsFile != null) {
            checkDefaultsFile(m, km, defaultsFile);
            log.accept("crash recovery reads its key management from " + defaultsFile + " (--mariadbd-defaults-file)");
            return new Plan(List.of(), defaultsFile.toAbsolutePath());
        }
        if (km == null || km.plugins().isEmpty()) {
            return Plan.NONE;
        }
        List<String> missing = missing(km, mariadbd);
        if (missing.isEmpty()) {
            log.accept("crash recovery loads the recorded key management: " + String.join(", ", km.plugins().stream().map(KeyManagement.Plugin::name).toList()));
            return new Plan(km.recoveryOptions(), null);
        }
        if (!km.required()) {
            log.accept("NOTE: the source had key management loaded but nothing encrypted; recovery runs without it (" + missing.get(0) + ")");
            return Plan.NONE;
        }
        throw new StrataException(ErrorCode.KEY_MANAGEMENT_MISSING, "backup " + m.id() + " holds encrypted InnoDB data ("
                + first(km) + "), but crash recovery cannot get its keys: " + String.join("; ", missing) + "; nothing was written",
                "give mariadbd the key configuration with --mariadbd-defaults-file FILE (an option file with plugin-load-add="
                        + km.plugins().get(0).name() + " and its settings), or restore with --no-recover");
    }

    private static String first(KeyManagement km) {
        return km.reasons().isEmpty() ? "the key management was in use" : km.reasons().get(0)
                + (km.reasons().size() > 1 ? " and " + (km.reasons().size() - 1) + " more" : "");
    }

    /** What keeps the recorded key management from loading: one phrase per problem, naming plugin and option or file. */
    static List<String> missing(KeyManagement km, Path mariadbd) {
        List<String> out = new ArrayList<>();
        Path pluginDir = null;
        for (KeyManagement.Plugin p : km.plugins()) {
            if (p.library() != null && !p.library().isEmpty()) {
                if (pluginDir == null) {
                    pluginDir = pluginDir(mariadbd);
                }
                if (!Files.isRegularFile(pluginDir.resolve(p.library()))) {
                    out.add("plugin " + p.name() + " needs its library " + p.library() + ", which is not in " + mariadbd + "'s plugin directory " + pluginDir);
                }
            }
            for (Map.Entry<String, String> v : p.variables().entrySet()) {
                String file = fileOf(v.getKey(), v.getValue());
                if (file != null && !Files.isReadable(Path.of(file))) {
                    out.add("plugin " + p.name() + " needs the file " + file + " (option " + v.getKey() + "), which is not readable");
                }
            }
            for (String s : p.secrets()) {
                out.add("plugin " + p.name() + " needs option " + s + ", a secret the backup does not record");
            }
        }
        return out;
    }

    /** The file a variable names: a {@code *_filename} value, or the path of a {@code FILE:} reference; else null. */
    private static String fileOf(String variable, String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.startsWith(KeyManagement.FILE_REFERENCE)) {
            return value.substring(KeyManagement.FILE_REFERENCE.length());
        }
        return variable.endsWith("_filename") ? value : null;
    }

    private static void checkDefaultsFile(Manifest m, KeyManagement km, Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new StrataException(ErrorCode.KEY_MANAGEMENT_MISSING, "--mariadbd-defaults-file " + file + " is not a readable file; nothing was written",
                    "name the option file (my.cnf) that loads the key management plugin" + (km == null || km.plugins().isEmpty() ? ""
                            : " " + km.plugins().get(0).name()) + " for crash recovery");
        }
        if (km == null) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.KEY_MANAGEMENT_MISSING, "cannot read --mariadbd-defaults-file " + file + ": " + e.getMessage(), null, e);
        }
        for (String line : lines) {
            int eq = line.indexOf('=');
            String t = line.strip();
            if (eq < 0 || t.startsWith("#") || t.startsWith(";")) {
                continue;
            }
            String name = line.substring(0, eq).strip().toLowerCase(Locale.ROOT).replace('-', '_').replaceFirst("^loose_", "");
            String value = line.substring(eq + 1).strip().replaceAll("^[\"']|[\"']$", "");
            for (KeyManagement.Plugin p : km.plugins()) {
                String f = name.startsWith(p.name() + "_") ? fileOf(name, value) : null;
                if (f != null && !Files.isReadable(Path.of(f))) {
                    throw new StrataException(ErrorCode.KEY_MANAGEMENT_MISSING, "backup " + m.id() + " needs plugin " + p.name() + ", but the file " + f
                            + " that --mariadbd-defaults-file " + file + " names (option " + name + ") is not readable; nothing was written",
                            "fix " + name + " in " + file + " or make the file readable by this user");
                }
            }
        }
    }

    /** mariadbd's compiled-in plugin directory ({@code plugin-dir} of {@code --no-defaults --verbose --help}). */
    static Path pluginDir(Path mariadbd) {
        try {
            Process p = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(mariadbd.toString(), "--no-defaults", "--verbose", "--help"))
                    .redirectErrorStream(true).start();
            String text;
            try (InputStream in = p.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            for (String line : text.split("\n")) {
                String[] w = line.strip().split("\\s+");
                if (w.length == 2 && w[0].equals("plugin-dir")) {
                    return Path.of(w[1]);
                }
            }
            throw new StrataException(ErrorCode.KEY_MANAGEMENT_MISSING, mariadbd + " --verbose --help names no plugin-dir, so strata cannot check that the key "
                    + "management plugin is there", "give the key configuration with --mariadbd-defaults-file FILE");
        } catch (IOException e) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "cannot run " + mariadbd + " --help: " + e.getMessage(), null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while running " + mariadbd + " --help", null, e);
        }
    }
}
