package io.strata.restore;

import java.util.ArrayList;
import java.util.List;
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
 * work table keeps every index of the imported tablespace).
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
