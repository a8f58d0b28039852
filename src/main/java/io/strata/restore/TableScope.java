package io.strata.restore;

import io.strata.binlog.BinlogEvent;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Chain;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.Scope;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerSession;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * What a table restore ({@link TableRestore}) writes into its scratch directory, and when its
 * point-in-time replay may apply the named tables' changes alone.
 *
 * <p>Files: the backup's restore is narrowed to a {@link Scope} built from the table names
 * ({@link #scope}): the databases of the named tables ({@code --databases}) and each table by an
 * anchored expression ({@code --tables}), so the scratch receives the system and undo tablespaces,
 * the redo log, the {@code mysql} schema, the named tables' files (.frm, .ibd, partitions
 * {@code #P#}, .par, .TRG, Aria and MyISAM files) and, of their databases, db.opt, the trigger name
 * files (.TRN) and full-text index tablespaces ({@code FTS_}, which name their table by id only).
 * Other tables' files, their definitions (.frm) included, are left out: a definition without its
 * data would make the scratch server see a table it cannot open, and {@link PartialRestore} drops a
 * left-out InnoDB table's dictionary entry by the absence of its .frm. The scratch also receives
 * the InnoDB files of other tables whose tablespaces a file record of the restored backup's redo
 * log creates, renames or deletes ({@link RedoFileOps}; without their .frm, so that they are
 * dropped after recovery like any left-out table). Recovery is then that of a
 * partial backup ({@link PartialRestore}): innodb_force_recovery=1, the left-out tables' dictionary
 * entries dropped (other databases whole), and a failure when recovery skipped the redo log of a
 * kept tablespace.
 *
 * <p>Filtered replay ({@link ReplayOptions#tables}, the applier's replicate_wild_do_table): the
 * filter sees the tables a binlog event names, not those it changes through a trigger, a stored
 * function, a view or a foreign key's ON DELETE/UPDATE action. The rule, checked before anything
 * is restored ({@link #unsafe}, over every Query event of the replayed range) and on the scratch
 * server before the replay ({@link #checkForeignKeys}):
 * <ul>
 * <li>every data change of the range is in row format: a row event names the table it changes,
 *     also when a trigger, function or view made the change, and the applier does not run triggers
 *     for row events. An allowlist decides: a Query event passes only when it is transaction
 *     control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, XA ...) or, after leading comments, DDL of a
 *     table, index or view, TRUNCATE, GRANT, REVOKE, ANALYZE, OPTIMIZE, REPAIR or FLUSH, with no
 *     SELECT in it (outside GRANT and REVOKE); any other statement, one whose text cannot be
 *     read, and an Intvar, Rand, User_var, Begin_load_query or Execute_load_query event are
 *     unsafe;</li>
 * <li>no statement of the range renames a table ({@code RENAME TABLE}, {@code ALTER TABLE ...
 *     RENAME}: rows changed under the other name are skipped by the filter), defines a foreign key
 *     ({@code REFERENCES}) or drops or alters a database (other databases are not in the
 *     scratch);</li>
 * <li>no named table has a foreign key to a table not named (the parent's ON DELETE/UPDATE
 *     actions are not in the binlog: the applier redoes them from the parent's row events, which
 *     the filter skips).</li>
 * </ul>
 * An allowed DDL statement is applied when it names a named table and skipped otherwise; one that
 * names a named table and needs a table the scratch does not hold ({@code CREATE TABLE t LIKE
 * other}) stops the applier with an error. When the rule does not hold,
 * or the filtered replay fails, the table restore logs why and restores the whole backup and
 * replays every table, as without a filter.
 */
final class TableScope {
    /** First words of statements that change rows (or may, through a routine) when logged as statements. */
    private static final Pattern STATEMENT_DML = Pattern.compile(
            "^(insert|update|delete|replace|load|call|do|select|with|set|handler|execute)\\b.*", Pattern.DOTALL);
    /**
     * The allowlist: DDL on a table, index or view (optionally OR REPLACE, TEMPORARY, ONLINE,
     * IGNORE, UNIQUE/FULLTEXT/SPATIAL, or view attributes before VIEW), TRUNCATE, GRANT, REVOKE, and
     * the table maintenance statements; with no SELECT in them (a CREATE ... SELECT copies rows)
     * except in GRANT and REVOKE, where SELECT names a privilege.
     */
    private static final Pattern HARMLESS_DDL = Pattern.compile("^(("
            + "(create|alter|drop)\\s+(or\\s+replace\\s+)?(temporary\\s+|online\\s+|ignore\\s+|unique\\s+|fulltext\\s+|spatial\\s+)*(table|index)"
            + "|(create|alter)\\s+(or\\s+replace\\s+)?((algorithm|definer|sql\\s+security)\\b[^;]*?\\s+)?view"
            + "|drop\\s+view|truncate|analyze|optimize|repair|flush)\\b.*"
            + "|(grant|revoke)\\b.*)", Pattern.DOTALL);
    private static final Pattern GRANT = Pattern.compile("^(grant|revoke)\\b.*", Pattern.DOTALL);
    private static final Pattern SELECT = Pattern.compile("\\bselect\\b");
    /** RENAME TABLE, and ALTER TABLE ... RENAME (any RENAME in an ALTER TABLE). */
    private static final Pattern RENAME = Pattern.compile("^(rename\\s+tables?\\b.*|alter\\b.*\\brename\\b.*)", Pattern.DOTALL);
    /** Comments before the first word: {@code -- ...} and {@code # ...} to the end of the line (the /* *&#47; ones are gone already). */
    private static final Pattern LEADING_COMMENTS = Pattern.compile("^(\\s*(--|#)[^\\n]*(\\n|$))+");
    private static final Pattern REFERENCES = Pattern.compile("\\breferences\\b");
    private static final Pattern DATABASE_DDL = Pattern.compile("^(drop|alter)\\s+(database|schema)\\b.*", Pattern.DOTALL);

    private final List<String> tables;
    private volatile boolean filtered;
    private volatile boolean recovering;
    private final List<Path> runDirectories = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** @param tables "db.table" names, both parts plain ([A-Za-z0-9_$]; {@link TableRestore.TableName}) */
    TableScope(List<String> tables) {
        this.tables = List.copyOf(tables);
    }

    /** The "db.table" names. */
    List<String> tables() {
        return tables;
    }

    /** Marks that the point-in-time replay applies the named tables' changes alone ({@link PitrRun}). */
    void markFiltered() {
        filtered = true;
    }

    /** Whether {@link #markFiltered()} was called: a failed replay was a filtered one. */
    boolean filtered() {
        return filtered;
    }

    /**
     * Marks the start ({@code true}) and the end ({@code false}) of the crash recovery of the
     * narrowed scratch directory ({@link RestoreRun}, {@link PitrReplay}): a failure meanwhile is
     * answered by restoring the whole backup ({@link TableRestore}), since the narrowed directory
     * lacks the tablespaces of other tables that the stored redo log creates, renames or
     * re-initialises (tables created or rebuilt between the backup's checkpoint and its end).
     */
    void recovering(boolean on) {
        recovering = on;
    }

    /** Whether the narrowed recovery started and did not end: a failure now is one of that recovery. */
    boolean recovering() {
        return recovering;
    }

    /** Remembers a server run directory of the narrowed attempt (strata-recover-*, strata-pitr-*; kept on failure for its log), removed when the whole backup is restored instead. */
    void runDirectory(Path run) {
        runDirectories.add(run);
    }

    /** The run directories {@link #runDirectory} remembered. */
    List<Path> runDirectories() {
        return List.copyOf(runDirectories);
    }

    /** The scope of the named tables: their databases, and each table by an anchored expression on "db.table". */
    Scope scope() {
        Set<String> dbs = new LinkedHashSet<>();
        List<String> exprs = new ArrayList<>();
        for (String t : tables) {
            dbs.add(t.substring(0, t.indexOf('.')));
            exprs.add("^" + t.replace(".", "\\.").replace("$", "\\$") + "$");
        }
        return new Scope(new ArrayList<>(dbs), List.of(), exprs, List.of());
    }

    /**
     * {@code chain} with its target's files narrowed to {@link #scope()} and the scope set in its
     * manifest (so that recovery is that of a partial backup), plus the InnoDB files of other
     * tables whose tablespaces the target's stored redo log creates, renames or deletes
     * ({@link RedoFileOps}: recovery repeats those operations and fails on some of them without the
     * file). The target's log is the only one a restore of the chain applies ({@link RestoreRun}
     * writes it alone into ib_logfile0). Logs how many files and bytes the scratch receives, the
     * InnoDB tablespaces it receives outside the mysql schema and the system and undo tablespaces
     * (the named tables', full-text indexes' and those the log's file records need), and which of
     * them are there for the log.
     *
     * @throws io.strata.error.CorruptDataException the stored redo log is missing or damaged
     */
    Chain narrow(Repository repo, Chain chain, Consumer<String> log) {
        Manifest m = chain.target();
        Scope s = scope();
        RedoFileOps ops = RedoFileOps.read(repo, m);
        List<FileEntry> kept = new ArrayList<>();
        long bytes = 0;
        long all = 0;
        TreeSet<String> tablespaces = new TreeSet<>();
        TreeSet<String> forLog = new TreeSet<>();
        int leftOutTablespaces = 0;
        for (FileEntry fe : m.files()) {
            all += fe.size();
            boolean inTableDir = fe.home() == null && fe.path().indexOf('/') > 0 && fe.path().indexOf('/') == fe.path().lastIndexOf('/');
            boolean ibd = fe.path().endsWith(".ibd");
            boolean inScope = s.includesPath(fe.path());
            if (inScope || ops.touches(fe)) {
                kept.add(fe);
                bytes += fe.size();
                if (ibd && inTableDir && !fe.path().startsWith(Scope.ALWAYS + "/")) {
                    tablespaces.add(fe.path());
                }
                if (!inScope) {
                    forLog.add(fe.path());
                }
            } else if (ibd) {
                leftOutTablespaces++;
            }
        }
        log.accept("table restore: the scratch directory receives " + kept.size() + " of the " + m.files().size() + " files of backup " + m.id()
                + " (" + (bytes >> 20) + " of " + (all >> 20) + " MiB): the system and undo tablespaces, the mysql schema and the files of "
                + String.join(", ", tables) + "; " + leftOutTablespaces + " .ibd file(s) of other tables left out");
        if (m.redoLogCrypt() != null) {
            log.accept("table restore: the stored redo log of backup " + m.id() + " is encrypted; its file records (tablespaces created, renamed or deleted) cannot be read");
        } else {
            log.accept("table restore: the stored redo log of backup " + m.id() + " holds " + ops.records() + " file record(s) (tablespaces created, renamed"
                    + " or deleted); " + forLog.size() + " file(s) of other tables kept for its recovery" + (forLog.isEmpty() ? "" : ": " + String.join(" ", forLog)));
        }
        log.accept("table restore: tablespaces restored outside the mysql schema: " + String.join(" ", tablespaces));
        Manifest narrowed = m.toBuilder().files(kept).scope(s).build();
        return chain.withTarget(narrowed);
    }

    /**
     * Why a table-filtered replay of a range holding Query event {@code q} could be wrong (see the
     * class comment), or null when it cannot. An allowlist: only transaction control (BEGIN,
     * COMMIT, ROLLBACK, SAVEPOINT, XA ...) and the DDL of {@link #HARMLESS_DDL} pass, once leading
     * comments are stripped; a RENAME (rows changed under the other name are skipped by the
     * filter), a foreign key or a statement not read is unsafe, as is anything else.
     */
    static String unsafe(BinlogEvent.Query q) {
        if (q.text() == null || q.truncated()) {
            return "a statement strata cannot read (compressed or too long)";
        }
        String t = LEADING_COMMENTS.matcher(TempTables.Statement.normalized(q)).replaceFirst("").strip();
        if (t.isEmpty() || TempTables.Statement.control(t)) {
            return null;
        }
        String head = t.length() > 60 ? t.substring(0, 60) + "..." : t;
        if (STATEMENT_DML.matcher(t).matches()) {
            return "a change logged as a statement (\"" + head + "\"), which a trigger, stored function or view can make write a named table";
        }
        if (REFERENCES.matcher(t).find()) {
            return "a statement defining a foreign key (\"" + head + "\")";
        }
        if (DATABASE_DDL.matcher(t).matches()) {
            return "a statement dropping or altering a database (\"" + head + "\")";
        }
        if (RENAME.matcher(t).matches()) {
            return "a statement renaming a table (\"" + head + "\"), whose rows changed under the other name the filter would skip";
        }
        if (!HARMLESS_DDL.matcher(t).matches() || (!GRANT.matcher(t).matches() && SELECT.matcher(t).find())) {
            return "a statement not known to be harmless to a replay of only the named tables (\"" + head + "\")";
        }
        return null;
    }

    /**
     * Why a table-filtered replay of a range holding an event of {@code type} could be wrong, or
     * null: the events that carry the context of a statement-logged change (Intvar 5, Rand 13,
     * User_var 14) or a LOAD DATA file (Begin_load_query 17, Execute_load_query 18).
     */
    static String unsafe(int type) {
        return switch (type) {
            case 5 -> "an Intvar event (a change logged as a statement)";
            case 13 -> "a Rand event (a change logged as a statement)";
            case 14 -> "a User_var event (a change logged as a statement)";
            case 17 -> "a Begin_load_query event (LOAD DATA logged as a statement)";
            case 18 -> "an Execute_load_query event (LOAD DATA logged as a statement)";
            default -> null;
        };
    }

    /**
     * Refuses the filtered replay (replay-applier-failed, which {@link TableRestore} answers by
     * replaying every table) when a named table has a foreign key to a table not named: read from
     * {@code information_schema.INNODB_SYS_FOREIGN} of the scratch server on {@code socket}
     * (FOR_NAME and REF_NAME are "db/table" in the file name encoding, equal to the plain names).
     */
    void checkForeignKeys(Path socket) {
        Set<String> named = new java.util.HashSet<>();
        tables.forEach(t -> named.add(t.replace('.', '/')));
        try (ServerSession s = ServerSession.connect(new ConnectionOptions(socket.toString(), null, null, "root", null))) {
            for (Map<String, String> r : s.queryRows("SELECT FOR_NAME, REF_NAME FROM information_schema.INNODB_SYS_FOREIGN")) {
                String child = r.get("for_name");
                String parent = r.get("ref_name");
                if (named.contains(child) && !named.contains(parent)) {
                    throw new StrataException(ErrorCode.REPLAY_APPLIER_FAILED, "table " + child.replace('/', '.') + " has a foreign key to "
                            + parent.replace('/', '.') + ", whose ON DELETE/UPDATE actions a replay of only the named tables would miss", null);
                }
            }
        }
    }
}
