package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The tables a partial backup holds, as the user filtered them (docs/repository-format.md,
 * "Partial backups"); the manifest's {@code scope}, null for a backup of the whole server. The
 * four filters mean what mariadb-backup's options of the same names mean:
 *
 * <pre>
 * filter            option               entries                            a table db.t passes when
 * databases         --databases          "db" or "db.table", space-separated  db or db.t is listed
 * databasesExclude  --databases-exclude  same                                 (excluded) db or db.t is listed
 * tables            --tables             regular expressions, comma-separated one finds a match in "db.t"
 * tablesExclude     --tables-exclude     same                                 (excluded) one finds a match in "db.t"
 * </pre>
 *
 * A table is in scope when no exclude filter names it and every include filter given names it:
 * an exclusion wins. The regular expressions are not anchored (as regexec in mariadb-backup):
 * {@code ^shop\.} names the tables of database shop. The schema {@code mysql} is always in scope
 * whatever the filters say: a restored server needs it to start. The system tablespace, the undo
 * tablespaces and the redo log are no tables and are always stored.
 *
 * <p>Names are compared as SQL names: the file name encoding of the data directory (a character
 * outside [A-Za-z0-9_] as {@code @XXXX}, four hex digits) is decoded first.
 *
 * @param databases        --databases entries, in the given order; empty: no such filter
 * @param databasesExclude --databases-exclude entries
 * @param tables           --tables expressions
 * @param tablesExclude    --tables-exclude expressions
 */
public record Scope(List<String> databases, List<String> databasesExclude, List<String> tables, List<String> tablesExclude) {
    /** Always in scope: a server cannot start without it. */
    public static final String ALWAYS = "mysql";
    /** The tablespaces of a full-text index (FTS_ + the table id in 16 hex digits + _), named after no table. */
    private static final Pattern FTS_AUX = Pattern.compile("FTS_[0-9a-fA-F]{16}_");

    public Scope {
        databases = databases == null ? List.of() : List.copyOf(databases);
        databasesExclude = databasesExclude == null ? List.of() : List.copyOf(databasesExclude);
        tables = tables == null ? List.of() : List.copyOf(tables);
        tablesExclude = tablesExclude == null ? List.of() : List.copyOf(tablesExclude);
    }

    /**
     * The scope of the four options' values as given on the command line (null where not given);
     * null when none is given (the whole server).
     *
     * @throws StrataException USAGE for an empty list or a regular expression that does not compile
     */
    public static Scope parse(String databases, String databasesExclude, String tables, String tablesExclude) {
        if (databases == null && databasesExclude == null && tables == null && tablesExclude == null) {
            return null;
        }
        Scope s = new Scope(names("--databases", databases), names("--databases-exclude", databasesExclude),
                patterns("--tables", tables), patterns("--tables-exclude", tablesExclude));
        s.compiled(s.tables);
        s.compiled(s.tablesExclude);
        return s;
    }

    private static List<String> names(String option, String value) {
        if (value == null) {
            return List.of();
        }
        List<String> out = Arrays.stream(value.trim().split("[\\s]+")).filter(x -> !x.isEmpty()).distinct().toList();
        if (out.isEmpty()) {
            throw new StrataException(ErrorCode.USAGE, option + " names no database", "give database names or db.table names, separated by spaces");
        }
        return out;
    }

    private static List<String> patterns(String option, String value) {
        if (value == null) {
            return List.of();
        }
        List<String> out = Arrays.stream(value.split(",")).map(String::trim).filter(x -> !x.isEmpty()).distinct().toList();
        if (out.isEmpty()) {
            throw new StrataException(ErrorCode.USAGE, option + " holds no regular expression", "give regular expressions on db.table, separated by commas");
        }
        return out;
    }

    private List<Pattern> compiled(List<String> regexes) {
        List<Pattern> out = new ArrayList<>();
        for (String r : regexes) {
            try {
                out.add(Pattern.compile(r));
            } catch (PatternSyntaxException e) {
                throw new StrataException(ErrorCode.USAGE, "\"" + r + "\" is no regular expression: " + e.getDescription(),
                        "write the filter as a Java regular expression on db.table, for example ^shop\\.orders$");
            }
        }
        return out;
    }

    /** Whether table {@code table} of database {@code db} (SQL names) is in scope. */
    public boolean includes(String db, String table) {
        if (ALWAYS.equals(db)) {
            return true;
        }
        String full = db + "." + table;
        if (databasesExclude.contains(db) || databasesExclude.contains(full) || compiled(tablesExclude).stream().anyMatch(p -> p.matcher(full).find())) {
            return false;
        }
        if (!databases.isEmpty() && !databases.contains(db) && !databases.contains(full)) {
            return false;
        }
        return tables.isEmpty() || compiled(tables).stream().anyMatch(p -> p.matcher(full).find());
    }

    /**
     * Whether database {@code db} is in scope as a whole directory (its db.opt and the directory
     * itself): it is not excluded whole, and --databases, when given, names it or one of its tables.
     */
    public boolean includesDatabase(String db) {
        if (ALWAYS.equals(db)) {
            return true;
        }
        if (databasesExclude.contains(db)) {
            return false;
        }
        return databases.isEmpty() || databases.stream().anyMatch(d -> d.equals(db) || d.startsWith(db + "."));
    }

    /**
     * Whether the file at data-directory-relative path {@code rel} ("db/t.ibd", "db/t#P#p0.ibd",
     * "db/t.frm", "db/db.opt", "db/trigger.TRN") belongs to the scope. A trigger's .TRN and a full-text
     * index's FTS_ tablespaces name no table and go with their database ({@link #includesDatabase}). Files at the top of the data directory and
     * those of the system and undo tablespaces are not judged here (always true).
     */
    public boolean includesPath(String rel) {
        int slash = rel.indexOf('/');
        if (slash < 0 || rel.indexOf('/', slash + 1) >= 0) {
            return true;
        }
        String db = decode(rel.substring(0, slash));
        String name = rel.substring(slash + 1);
        if (name.equals("db.opt")) {
            return includesDatabase(db);
        }
        int dot = name.lastIndexOf('.');
        String base = dot < 0 ? name : name.substring(0, dot);
        if (dot >= 0 && name.substring(dot + 1).equalsIgnoreCase("TRN")) {
            // db/trigger.TRN is named after a trigger, not its table: kept with its database
            return includesDatabase(db);
        }
        if (FTS_AUX.matcher(base).lookingAt()) {
            // a full-text index's own tablespace names its table by id, not by name: kept with its database
            return includesDatabase(db);
        }
        int part = base.indexOf("#P#");
        if (part < 0) {
            part = base.indexOf("#p#");
        }
        if (part >= 0) {
            base = base.substring(0, part);
        }
        return includes(db, decode(base));
    }

    /**
     * A name of the data directory's file name encoding as its SQL name: each {@code @XXXX} (four
     * hex digits, a UTF-16 code unit) decoded; anything else kept.
     */
    public static String decode(String fileName) {
        StringBuilder sb = new StringBuilder(fileName.length());
        for (int i = 0; i < fileName.length(); i++) {
            char c = fileName.charAt(i);
            if (c == '@' && i + 4 < fileName.length() && fileName.substring(i + 1, i + 5).matches("[0-9a-fA-F]{4}")) {
                sb.append((char) Integer.parseInt(fileName.substring(i + 1, i + 5), 16));
                i += 4;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * The filters as the options that give them, in a fixed order (for messages, list and show):
     * {@code --databases='a b' --tables='^a\.t'}.
     */
    public String describe() {
        List<String> parts = new ArrayList<>();
        add(parts, "--databases", String.join(" ", databases));
        add(parts, "--databases-exclude", String.join(" ", databasesExclude));
        add(parts, "--tables", String.join(",", tables));
        add(parts, "--tables-exclude", String.join(",", tablesExclude));
        return String.join(" ", parts);
    }

    private static void add(List<String> parts, String option, String value) {
        if (!value.isEmpty()) {
            parts.add(option + "='" + value + "'");
        }
    }

    /** {@link #describe()} of {@code s}, or "the whole server" for null. */
    public static String describe(Scope s) {
        return s == null ? "the whole server" : s.describe();
    }

    /** Whether two scopes (null: the whole server) hold the same filters, each compared as a set of entries. */
    public static boolean same(Scope a, Scope b) {
        if (a == null || b == null) {
            return a == b;
        }
        // a table passes a filter when any entry names it: the order of the entries means nothing
        return java.util.Set.copyOf(a.databases).equals(java.util.Set.copyOf(b.databases))
                && java.util.Set.copyOf(a.databasesExclude).equals(java.util.Set.copyOf(b.databasesExclude))
                && java.util.Set.copyOf(a.tables).equals(java.util.Set.copyOf(b.tables))
                && java.util.Set.copyOf(a.tablesExclude).equals(java.util.Set.copyOf(b.tablesExclude));
    }
}
