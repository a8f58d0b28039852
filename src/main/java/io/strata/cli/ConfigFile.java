package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration file ({@code /etc/strata/strata.conf}, {@code --config FILE} or
 * {@code STRATA_CONFIG}): INI sections of option defaults.
 *
 * <pre>
 * # a comment; "; a comment" too, also after a value when preceded by a space
 * [global]                     defaults for every server
 * repo = /backups/main
 * compress = zstd:3
 *
 * [db1]                        chosen with --server db1 (or STRATA_SERVER=db1)
 * repo = /backups/db1
 * socket = /run/mysqld/db1.sock
 * encrypt-key-file = /etc/strata/db1.key
 * </pre>
 * A key is a long option name without its dashes ({@code encrypt_key_file} is read as
 * {@code encrypt-key-file}); a value may be quoted with {@code "} to keep a {@code #} or spaces.
 * A flag takes {@code true} or {@code false}. Keys before the first section belong to
 * {@code [global]}. Which keys are options is checked by {@link ConfigDefaults}; this class
 * only reads the file.
 *
 * @param path     the file, as named in messages
 * @param sections section name (lower case) to its entries in file order
 */
record ConfigFile(Path path, Map<String, Map<String, Entry>> sections) {
    /** The section whose values apply whatever server is chosen. */
    static final String GLOBAL = "global";

    /** One {@code key = value} line; {@code line} is 1-based. */
    record Entry(String key, String value, int line) {}

    /** The entries of {@code section}, empty when the file has no such section. */
    Map<String, Entry> section(String section) {
        return sections.getOrDefault(section.toLowerCase(java.util.Locale.ROOT), Map.of());
    }

    boolean hasSection(String section) {
        return sections.containsKey(section.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Reads {@code path}.
     *
     * @throws StrataException usage: the file is missing or unreadable, or a line is neither a
     *                         comment, a section header nor {@code key = value} (naming file:line)
     */
    static ConfigFile read(Path path) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new StrataException(ErrorCode.USAGE, "configuration file " + path + " does not exist",
                    "create it, or name another with --config FILE or STRATA_CONFIG");
        } catch (IOException e) {
            throw new StrataException(ErrorCode.USAGE, "cannot read the configuration file " + path + ": " + e.getMessage(), null);
        }
        warnIfOthersWrite(path);
        Map<String, Map<String, Entry>> sections = new LinkedHashMap<>();
        Map<String, Entry> current = sections.computeIfAbsent(GLOBAL, s -> new LinkedHashMap<>());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            int no = i + 1;
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[")) {
                int close = line.indexOf(']');
                String name = close < 0 ? "" : line.substring(1, close).strip();
                if (name.isEmpty() || !stripComment(line.substring(close + 1)).isEmpty()) {
                    throw bad(path, no, "\"" + line + "\" is not a section header [NAME]");
                }
                current = sections.computeIfAbsent(name.toLowerCase(java.util.Locale.ROOT), s -> new LinkedHashMap<>());
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw bad(path, no, "\"" + line + "\" is not KEY = VALUE");
            }
            String key = line.substring(0, eq).strip().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
            if (key.startsWith("--")) {
                key = key.substring(2);
            }
            current.put(key, new Entry(key, value(path, no, line.substring(eq + 1)), no));
        }
        sections.replaceAll((k, v) -> Collections.unmodifiableMap(v));
        return new ConfigFile(path, Collections.unmodifiableMap(sections));
    }

    /** The value after '=': quoted, or up to a comment that follows a space. */
    private static String value(Path path, int no, String raw) {
        String v = raw.strip();
        if (v.startsWith("\"")) {
            int end = v.indexOf('"', 1);
            if (end < 0 || !stripComment(v.substring(end + 1)).isEmpty()) {
                throw bad(path, no, "unbalanced quotes in " + v);
            }
            return v.substring(1, end);
        }
        return stripComment(" " + v);
    }

    /** Text with a trailing " #..." or " ;..." comment removed, stripped. */
    private static String stripComment(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c == '#' || c == ';') && (i == 0 || Character.isWhitespace(s.charAt(i - 1)))) {
                return s.substring(0, i).strip();
            }
        }
        return s.strip();
    }

    static StrataException bad(Path path, int line, String what) {
        return new StrataException(ErrorCode.USAGE, path + ":" + line + ": " + what, "fix or remove that line of the configuration file");
    }

    /** A file anyone may change could point backups at another repository or key: say so. */
    private static void warnIfOthersWrite(Path path) {
        try {
            if (Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_WRITE)) {
                System.err.println("WARNING: configuration file " + path + " is writable by every user of this host; chmod o-w " + path);
            }
        } catch (UnsupportedOperationException | IOException e) {
            // no POSIX modes to judge by
        }
    }
}
