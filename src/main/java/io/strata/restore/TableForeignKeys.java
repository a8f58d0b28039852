package io.strata.restore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The FOREIGN KEY constraints of a table that {@code restore --table} imports. Their names are
 * unique per database (InnoDB keeps them as {@code db/name}), so a work table created with the
 * backup's definition repeats the names of the table it is to replace, or of the original beside
 * an {@code --as} copy in the same database, and the server refuses it ("errno: 121 Duplicate
 * key"). So the work table is created without them ({@link #createWithout}), gets them under
 * names of its own once its rows are in ({@link #addTemporary}: still before anything the user
 * sees changes, so a constraint the live server refuses fails the restore there), and after the
 * rename gets their final names ({@link #finalNames}) in one ALTER TABLE.
 *
 * <p>SHOW CREATE TABLE prints each constraint on a line of its own,
 * {@code   CONSTRAINT `name` FOREIGN KEY (`c`) REFERENCES `parent` (`id`) ON DELETE CASCADE,},
 * after the indexes (the index a foreign key needs is printed as a KEY line of its own, so the
 * work table keeps every index of the imported tablespace). The referenced table is printed
 * unqualified when it is in the table's own database ({@code REFERENCES `parent`}), else as
 * {@code REFERENCES `db`.`parent`}; {@link #retarget} makes the clauses right for where the
 * table is imported.
 *
 * @param createWithout the CREATE TABLE statement without its FOREIGN KEY lines (a comma that
 *                      would then end the last clause removed)
 * @param names         the constraints' names as the backup has them, in order
 * @param clauses       their clauses after the name, in order ("FOREIGN KEY (`c`) REFERENCES ...")
 */
record TableForeignKeys(String createWithout, List<String> names, List<String> clauses) {
    private static final Pattern LINE = Pattern.compile("CONSTRAINT `((?:[^`]|``)+)` (FOREIGN KEY .*?),?");

    /** Splits SHOW CREATE TABLE's {@code create}. */
    static TableForeignKeys of(String create) {
        List<String> kept = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<String> clauses = new ArrayList<>();
        for (String line : create.split("\n", -1)) {
            Matcher m = LINE.matcher(line.strip());
            if (m.matches()) {
                names.add(m.group(1).replace("``", "`"));
                clauses.add(m.group(2));
            } else {
                if (line.startsWith(")") && !kept.isEmpty() && !names.isEmpty()) {
                    String last = kept.get(kept.size() - 1);
                    if (last.endsWith(",")) {
                        kept.set(kept.size() - 1, last.substring(0, last.length() - 1));
                    }
                }
                kept.add(line);
            }
        }
        return new TableForeignKeys(String.join("\n", kept), List.copyOf(names), List.copyOf(clauses));
    }

    boolean isEmpty() {
        return names.isEmpty();
    }

    /**
     * These constraints with their REFERENCES made right for the table {@code fromDb.fromTable}
     * of the backup imported into the database {@code toDb}: a reference to the table itself
     * (a self-referencing key) names {@code self}, the table in {@code toDb} the ALTER runs on
     * (the work table, later the destination), not the original; an unqualified reference to
     * another table, when {@code toDb} is not {@code fromDb}, is qualified with {@code fromDb},
     * the database the backup's table meant (unqualified, it would name a table of {@code toDb}).
     */
    TableForeignKeys retarget(String fromDb, String fromTable, String toDb, String self) {
        return retarget(fromDb, fromTable, toDb, self, Map.of());
    }

    /**
     * {@link #retarget(String, String, String, String)}, where the same restore also imports other
     * tables of the backup under other names: {@code moved} maps each such table as the backup
     * names it to where it is imported, and a reference to one of them names its new place (the
     * copies restored together refer to each other, as the originals did).
     */
    TableForeignKeys retarget(String fromDb, String fromTable, String toDb, String self, Map<TableRestore.TableName, TableRestore.TableName> moved) {
        List<String> out = new ArrayList<>();
        for (String c : clauses) {
            out.add(retargetClause(c, fromDb, fromTable, toDb, self, moved));
        }
        return new TableForeignKeys(createWithout, names, List.copyOf(out));
    }

    static String retargetClause(String clause, String fromDb, String fromTable, String toDb, String self) {
        return retargetClause(clause, fromDb, fromTable, toDb, self, Map.of());
    }

    /** {@link #retarget} of one clause, {@code FOREIGN KEY (`a`, ...) REFERENCES [`db`.]`t` (...) ...}; a clause of another shape is kept as it is. */
    static String retargetClause(String clause, String fromDb, String fromTable, String toDb, String self, Map<TableRestore.TableName, TableRestore.TableName> moved) {
        Parsed p = parse(clause);
        if (p == null) {
            return clause;
        }
        Reference r = p.reference();
        TableRestore.TableName parent = r.in(fromDb);
        TableRestore.TableName to = moved.get(parent);
        String target;
        if (parent.equals(new TableRestore.TableName(fromDb, fromTable))) {
            target = quote(self);
        } else if (to != null) {
            target = quote(to.db()) + "." + quote(to.table());
        } else if (r.db() == null && !fromDb.equals(toDb)) {
            target = quote(fromDb) + "." + quote(r.table());
        } else {
            return clause;
        }
        return clause.substring(0, p.tableStart()) + target + clause.substring(p.tableEnd());
    }

    /**
     * What the clause {@code FOREIGN KEY (`a`, ...) REFERENCES [`db`.]`t` (`x`, ...) ...} joins:
     * {@code columns} of the table to {@code refColumns} of {@code db.table} ({@code db} null when
     * unqualified: the table's own database).
     */
    record Reference(List<String> columns, String db, String table, List<String> refColumns) {
        /** The table referenced, for a clause of a table of database {@code ownDb} (an unqualified reference names a table of it). */
        TableRestore.TableName in(String ownDb) {
            return new TableRestore.TableName(db == null ? ownDb : db, table);
        }
    }

    /** The {@link Reference} of {@code clause}, or null for a clause of another shape. */
    static Reference reference(String clause) {
        Parsed p = parse(clause);
        return p == null ? null : p.reference();
    }

    /** A clause's reference, and where its referenced table ({@code [`db`.]`t`}) is in it. */
    private record Parsed(Reference reference, int tableStart, int tableEnd) {}

    private static Parsed parse(String clause) {
        String head = "FOREIGN KEY (";
        if (!clause.startsWith(head)) {
            return null;
        }
        List<String> cols = new ArrayList<>();
        int at = identifierList(clause, head.length(), cols);
        String refs = " REFERENCES ";
        if (at < 0 || !clause.startsWith(refs, at)) {
            return null;
        }
        int start = at + refs.length();
        int end = identifierEnd(clause, start);
        if (end < 0) {
            return null;
        }
        String db = null;
        String table = unquote(clause.substring(start, end));
        if (clause.startsWith(".`", end)) {
            int second = identifierEnd(clause, end + 1);
            if (second < 0) {
                return null;
            }
            db = table;
            table = unquote(clause.substring(end + 1, second));
            end = second;
        }
        List<String> refCols = new ArrayList<>();
        if (!clause.startsWith(" (", end) || identifierList(clause, end + 2, refCols) < 0 || refCols.size() != cols.size()) {
            return null;
        }
        return new Parsed(new Reference(List.copyOf(cols), db, table, List.copyOf(refCols)), start, end);
    }

    /** Reads {@code `a`, `b`, ...)} from {@code at} into {@code out}; where it ends (after the parenthesis), or -1. */
    private static int identifierList(String s, int at, List<String> out) {
        while (true) {
            int end = identifierEnd(s, at);
            if (end < 0) {
                return -1;
            }
            out.add(unquote(s.substring(at, end)));
            if (s.startsWith(", ", end)) {
                at = end + 2;
            } else if (s.startsWith(")", end)) {
                return end + 1;
            } else {
                return -1;
            }
        }
    }

    /** Where the backquoted identifier starting at {@code at} ends (after its closing backquote), or -1. */
    private static int identifierEnd(String s, int at) {
        if (at >= s.length() || s.charAt(at) != '`') {
            return -1;
        }
        for (int i = at + 1; i < s.length(); i++) {
            if (s.charAt(i) == '`') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '`') {
                    i++;
                } else {
                    return i + 1;
                }
            }
        }
        return -1;
    }

    private static String unquote(String quoted) {
        return quoted.substring(1, quoted.length() - 1).replace("``", "`");
    }

    /** The temporary name of constraint {@code i} on the work table {@code work}: {@code <work>_fk<i+1>}. */
    static String temporaryName(String work, int i) {
        return work + "_fk" + (i + 1);
    }

    /** The ALTER TABLE specification that adds every constraint to the work table {@code work} under its temporary name. */
    String addTemporary(String work) {
        List<String> adds = new ArrayList<>();
        for (int i = 0; i < clauses.size(); i++) {
            adds.add("ADD CONSTRAINT " + quote(temporaryName(work, i)) + " " + clauses.get(i));
        }
        return String.join(", ", adds);
    }

    /**
     * The ALTER TABLE specification that gives the constraints of the imported table (renamed from
     * {@code work}, restored from the backup's {@code fromTable}) their final names: the backup's
     * name when no other constraint of the database has it ({@code taken}, lower case: InnoDB
     * compares them so); otherwise, and for a name the server made for {@code fromTable}
     * ({@code <fromTable>_ibfk_<n>}), none, so that the server names it after the table
     * ({@code <table>_ibfk_<n>}).
     */
    String finalNames(String work, String fromTable, Set<String> taken) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < clauses.size(); i++) {
            parts.add("DROP FOREIGN KEY " + quote(temporaryName(work, i)));
        }
        Pattern generated = Pattern.compile(Pattern.quote(fromTable) + "_ibfk_\\d+", Pattern.CASE_INSENSITIVE);
        for (int i = 0; i < clauses.size(); i++) {
            String name = names.get(i);
            boolean keep = !generated.matcher(name).matches() && !taken.contains(name.toLowerCase(Locale.ROOT));
            parts.add("ADD " + (keep ? "CONSTRAINT " + quote(name) + " " : "") + clauses.get(i));
        }
        return String.join(", ", parts);
    }

    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
