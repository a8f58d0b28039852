package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * MariaDB option files ("my.cnf") read the way the {@code mariadb} client and mariadb-backup
 * read them, for the groups strata uses.
 *
 * <p>Which files: with {@code --no-defaults} none; with {@code --defaults-file F} only F; else
 * /etc/my.cnf, /etc/mysql/my.cnf, $MARIADB_HOME/my.cnf (or $MYSQL_HOME/my.cnf), then the
 * {@code --defaults-extra-file}, then ~/.my.cnf. Files that do not exist are skipped; a
 * --defaults-file or --defaults-extra-file that cannot be read is a usage error (as for the
 * client).
 *
 * <p>Which groups, lowest priority first: [client], [client-server], [client-mariadb],
 * [mariadb-backup], [strata]; a group suffix S ({@code --defaults-group-suffix}, else the
 * environment variable MYSQL_GROUP_SUFFIX) adds [client-S], [client-server-S], ... each just
 * above its plain group. A key in a higher group wins wherever it appears; within one group the
 * value read last (file order, then line order) wins. (MariaDB itself lets the last line read
 * win whatever its group; we rank the groups so that a [mariadb-backup] or [strata] value always
 * beats a [client] one.)
 *
 * <p>Line syntax: blank lines and lines starting with {@code #} or {@code ;} are skipped;
 * {@code [group]} opens a group (names compare case-insensitively); {@code !include FILE} reads
 * FILE at that point and {@code !includedir DIR} reads DIR's {@code *.cnf} files in name order
 * (missing ones are skipped, nesting stops at depth 10); otherwise {@code key}, {@code key=value}
 * or {@code key = value}, where dashes and underscores in the key are the same and a
 * {@code loose-} prefix is dropped. A value in single or double quotes ends at the matching
 * quote; an unquoted value ends at a {@code #} that follows whitespace (an inline comment) and is
 * stripped. In both, backslash escapes {@code \n \t \r \b \s \\ \" \'} are replaced by newline,
 * tab, carriage return, backspace, space, backslash and the quote; any other backslash stays.
 */
public final class OptionFiles {
    /** The groups strata reads, lowest priority first. */
    public static final List<String> GROUPS = List.of("client", "client-server", "client-mariadb", "mariadb-backup", "strata");

    private static final int MAX_DEPTH = 10;

    /** Which option files to read: the client's --defaults-file, --defaults-extra-file, --defaults-group-suffix, --no-defaults. */
    public record Sources(Path defaultsFile, Path extraFile, String groupSuffix, boolean noDefaults) {
        /** The default files, no suffix. */
        public static final Sources DEFAULT = new Sources(null, null, null, false);
    }

    private OptionFiles() {
    }

    /**
     * The files read, in order, for {@code src}; {@code env} gives MARIADB_HOME/MYSQL_HOME and
     * {@code home} is the user's home directory (null: none).
     *
     * @throws StrataException USAGE when --defaults-file or --defaults-extra-file cannot be read
     */
    public static List<Path> files(Sources src, Function<String, String> env, String home) {
        List<Path> out = new ArrayList<>();
        if (src.noDefaults()) {
            return out;
        }
        if (src.defaultsFile() != null) {
            out.add(readable(src.defaultsFile(), "--defaults-file"));
            return out;
        }
        out.add(Path.of("/etc/my.cnf"));
        out.add(Path.of("/etc/mysql/my.cnf"));
        String mhome = env.apply("MARIADB_HOME") != null ? env.apply("MARIADB_HOME") : env.apply("MYSQL_HOME");
        if (mhome != null && !mhome.isEmpty()) {
            out.add(Path.of(mhome, "my.cnf"));
        }
        if (src.extraFile() != null) {
            out.add(readable(src.extraFile(), "--defaults-extra-file"));
        }
        if (home != null) {
            out.add(Path.of(home, ".my.cnf"));
        }
        return out;
    }

    private static Path readable(Path f, String option) {
        if (!Files.isReadable(f) || Files.isDirectory(f)) {
            throw new StrataException(ErrorCode.USAGE, option + " " + f + " does not exist or is not a readable file",
                    "give the path of an option file strata's user can read");
        }
        return f;
    }

    /**
     * The keys of the groups (with {@code suffix}, may be null or empty) in {@code files}, by
     * normalized key ({@link #key}); each value from the highest-priority group that has it.
     */
    public static Map<String, String> read(List<Path> files, String suffix) {
        List<String> ranked = new ArrayList<>();
        for (String g : GROUPS) {
            ranked.add(g);
            if (suffix != null && !suffix.isEmpty()) {
                ranked.add(g + suffix.toLowerCase(Locale.ROOT));
            }
        }
        Map<String, String> out = new HashMap<>();
        Map<String, Integer> rankOf = new HashMap<>();
        for (Path f : files) {
            readFile(f, ranked, out, rankOf, 0);
        }
        return out;
    }

    /** The key as strata looks it up: lower case, underscores for dashes, no "loose-" prefix. */
    public static String key(String raw) {
        String k = raw.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        if (k.startsWith("loose-")) {
            k = k.substring("loose-".length());
        }
        return k;
    }

    private static void readFile(Path f, List<String> ranked, Map<String, String> out, Map<String, Integer> rankOf, int depth) {
        if (depth > MAX_DEPTH || !Files.isReadable(f) || Files.isDirectory(f)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return;
        }
        int rank = -1;
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("!includedir") && (line.length() == 11 || Character.isWhitespace(line.charAt(11)))) {
                Path dir = Path.of(line.substring(11).strip());
                List<Path> cnfs;
                try (Stream<Path> s = Files.list(dir)) {
                    cnfs = s.filter(p -> p.getFileName().toString().endsWith(".cnf")).sorted().toList();
                } catch (IOException e) {
                    continue; // a missing directory is skipped, as by the client
                }
                for (Path p : cnfs) {
                    readFile(p, ranked, out, rankOf, depth + 1);
                }
                continue;
            }
            if (line.startsWith("!include") && line.length() > 8 && Character.isWhitespace(line.charAt(8))) {
                readFile(Path.of(line.substring(8).strip()), ranked, out, rankOf, depth + 1);
                continue;
            }
            if (line.startsWith("[")) {
                int close = line.indexOf(']');
                String group = line.substring(1, close > 0 ? close : line.length()).strip().toLowerCase(Locale.ROOT);
                rank = ranked.indexOf(group);
                continue;
            }
            if (rank < 0) {
                continue;
            }
            int eq = line.indexOf('=');
            String k = key(eq < 0 ? stripComment(line) : line.substring(0, eq));
            String v = eq < 0 ? "" : value(line.substring(eq + 1));
            Integer had = rankOf.get(k);
            if (had == null || had <= rank) {
                out.put(k, v);
                rankOf.put(k, rank);
            }
        }
    }

    private static String stripComment(String s) {
        for (int i = 1; i < s.length(); i++) {
            if (s.charAt(i) == '#' && Character.isWhitespace(s.charAt(i - 1))) {
                return s.substring(0, i).strip();
            }
        }
        return s.strip();
    }

    /** The value after "=": quotes removed, an inline comment dropped, escapes replaced. */
    static String value(String rest) {
        String s = rest.strip();
        if (!s.isEmpty() && (s.charAt(0) == '"' || s.charAt(0) == '\'')) {
            char q = s.charAt(0);
            for (int i = 1; i < s.length(); i++) {
                if (s.charAt(i) == '\\') {
                    i++;
                } else if (s.charAt(i) == q) {
                    return unescape(s.substring(1, i));
                }
            }
            // no closing quote: the client keeps the text as written
            return unescape(s);
        }
        return unescape(stripComment(s));
    }

    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                i++;
                escape(s.charAt(i), sb);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static void escape(char c, StringBuilder sb) {
        switch (c) {
            case 'n' -> sb.append('\n');
            case 't' -> sb.append('\t');
            case 'r' -> sb.append('\r');
            case 'b' -> sb.append('\b');
            case 's' -> sb.append(' ');
            case '\\', '"', '\'' -> sb.append(c);
            default -> sb.append('\\').append(c);
        }
    }
}
