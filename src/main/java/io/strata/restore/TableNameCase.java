package io.strata.restore;

import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * How {@code restore --table DB.T} finds a table of a backup: by the source server's
 * {@code lower_case_table_names} (manifest {@code lowerCaseTableNames}; docs/repository-format.md),
 * as the server itself would resolve the name.
 * <ul>
 * <li>0 (case-sensitive file systems, the Linux default; also a manifest written before the field
 *     existed): the name as written; {@code Db.T} is the files {@code Db/T.*} only;</li>
 * <li>1: the server stores every database and table name in lower case, so {@code Db.T} is
 *     {@code db.t};</li>
 * <li>2: names are stored as created and compared in lower case: {@code Db.T} is the table of the
 *     backup whose definition ({@code db/t.frm}) equals it ignoring case, under its stored name;
 *     a name no definition matches (a table a point-in-time replay creates) stays as written.</li>
 * </ul>
 * Table and database names here are plain ({@link TableRestore.TableName}: letters, digits, _
 * and $), whose lower case is the same in every locale and whose file names equal the names.
 */
final class TableNameCase {
    private TableNameCase() {}

    /** The manifest's {@code lowerCaseTableNames}, 0 when the manifest predates the field. */
    static int of(Manifest m) {
        return m.lowerCaseTableNames() == null ? 0 : m.lowerCaseTableNames();
    }

    /**
     * {@code t} as the backup {@code m} names it under the rule of its {@code lowerCaseTableNames}
     * (see the class comment).
     */
    static TableRestore.TableName stored(TableRestore.TableName t, Manifest m) {
        int rule = of(m);
        if (rule == 1) {
            return new TableRestore.TableName(t.db().toLowerCase(Locale.ROOT), t.table().toLowerCase(Locale.ROOT));
        }
        if (rule == 2) {
            String wanted = (t.db() + "/" + t.table() + ".frm");
            for (FileEntry f : m.files()) {
                if (f.home() == null && f.path().equalsIgnoreCase(wanted)) {
                    int slash = f.path().indexOf('/');
                    return new TableRestore.TableName(f.path().substring(0, slash), f.path().substring(slash + 1, f.path().length() - ".frm".length()));
                }
            }
        }
        return t;
    }

    /**
     * {@link #stored} of each of {@code tables}; logs each name that changes, with the rule.
     */
    static List<TableRestore.TableName> stored(List<TableRestore.TableName> tables, Manifest m, Consumer<String> log) {
        List<TableRestore.TableName> out = new ArrayList<>();
        for (TableRestore.TableName t : tables) {
            TableRestore.TableName s = stored(t, m);
            if (!s.equals(t)) {
                log.accept("table restore: " + t + " is " + s + " in backup " + m.id() + " (its server ran with lower_case_table_names=" + of(m) + ")");
            }
            out.add(s);
        }
        return out;
    }
}
