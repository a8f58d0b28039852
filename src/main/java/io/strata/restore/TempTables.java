package io.strata.restore;

import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.restore.PitrWindows.BackupPoint;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds replays that are known to fail because of a temporary table spanning a backup point.
 *
 * <p>A physical backup holds no temporary tables: they live in the sessions of the source server.
 * With binlog_format STATEMENT or MIXED the server logs statements on temporary tables as Query
 * events flagged {@link BinlogEvent#THREAD_SPECIFIC_F}, carrying the connection's id, and
 * mariadb-binlog replays each under that pseudo thread id. A statement after a backup's binlog
 * position that reads or writes a temporary table its connection created before that position
 * fails in the replay ("table doesn't exist"), and the restore with it (replay-failed). With ROW
 * logging such statements reach the binlog as row events on real tables and replay fine.
 *
 * <p>The scan follows, per connection, the temporary tables it has open: CREATE TEMPORARY TABLE
 * opens one, DROP [TEMPORARY] TABLE closes those it names (the server logs such a DROP for every
 * table still open when a connection ends), and the first file after a server start
 * ({@link BinlogScanner#serverStart()}) closes all. It starts at offset 0 of the file holding the
 * first backup point, so a table created in an earlier file is unknown to it; it is then
 * conservative: after a backup point, a connection's flagged statement is taken as failing when
 * it names a table the connection had open at the point, and also, while the tables open at the
 * point are not fully known, when it names no table the connection created after the point (only
 * a CREATE TEMPORARY TABLE without SELECT or LIKE, a DROP ... IF EXISTS and transaction control such as
 * BEGIN or COMMIT never fail). Names are
 * matched as words in the statement text, without the database qualifier, case-insensitively.
 *
 * <p>Each backup point is watched from its position to the next backup point's (or to the end
 * of the scan): a target at or after the next point is restored from that one. Only the first
 * failing statement after a point matters: every target from its transaction on fails from that
 * backup.
 */
public final class TempTables {

    /**
     * A replay from {@code backup} that fails at the transaction starting at {@code before}.
     *
     * @param connection the connection (thread id) whose statement fails
     * @param table      the temporary table it uses, or null when it is not known which
     * @param before     the failing transaction's start: targets up to here replay fine
     * @param time       that transaction's timestamp (seconds, server clock)
     * @param gtids      the GTID state at {@code before}, as a gtid_binlog_pos list
     */
    public record Hazard(BackupPoint backup, long connection, String table, Pos before, long time, String gtids) {
        /**
         * "not restorable from backup ID: temporary table T of connection N spans the backup point"
         * and the latest targets that replay: the position, and the second before the failing
         * transaction's timestamp ({@code --until} includes its second).
         */
        public String description() {
            String what = table != null ? "temporary table " + table + " of connection " + connection + " spans the backup point"
                    : "connection " + connection + " uses a temporary table at " + before + " that may predate the backup point"
                    + " (its creation is not in the archived binlogs read)";
            return "not restorable from backup " + backup.id() + ": " + what + "; restore from a later backup, or to " + before
                    + " at the latest (--until-position " + before + ", or --until " + WindowReport.iso(time - 1) + ")";
        }
    }

    private final List<BackupPoint> points;
    private final Map<Long, Set<String>> open = new HashMap<>();
    private final Map<BackupPoint, Hazard> hazards = new IdentityHashMap<>();
    private boolean complete;
    private int next;
    private Watch watch;
    private long groupStart;
    private long groupTime;
    private String groupGtids;

    /** What one backup point's replay has met so far. */
    private static final class Watch {
        final BackupPoint point;
        final Map<Long, Set<String>> old = new HashMap<>();
        final Map<Long, Set<String>> created = new HashMap<>();
        final Map<Long, String> gtids;
        final boolean complete;
        boolean done;

        Watch(BackupPoint point, Map<Long, Set<String>> open, boolean complete) {
            this.point = point;
            open.forEach((k, v) -> {
                if (!v.isEmpty()) {
                    old.put(k, new LinkedHashSet<>(v));
                }
            });
            this.complete = complete;
            this.gtids = PitrWindows.parseGtidList(point.gtid());
            this.done = complete && old.isEmpty();
        }
    }

    /** @param points backup points of one span, by binlog position */
    TempTables(List<BackupPoint> points) {
        this.points = points;
    }

    /**
     * Reads the span's archived binlogs from the file of its first backup point until every
     * point's watch is decided, and says which points' replays fail.
     *
     * @throws StrataException io-error or corrupt-data when an archived binlog cannot be read
     */
    static Map<BackupPoint, Hazard> scan(BinlogArchive a, PitrWindows.Span span) {
        TempTables t = new TempTables(span.backups());
        for (ArchivedBinlog f : from(span, null)) {
            if (t.read(a, f)) {
                break;
            }
        }
        return t.hazards;
    }

    /**
     * The files a scan reads, in order: those of the span from the file of its first backup point
     * on, or with {@code before} only those before the file of that name. Every replay check of a
     * span starts at the same file, so that {@code list} and {@code restore} judge a point alike.
     */
    static List<ArchivedBinlog> from(PitrWindows.Span span, String before) {
        List<ArchivedBinlog> out = new ArrayList<>();
        if (span.backups().isEmpty()) {
            return out;
        }
        long first = BinlogArchive.fileNumber(span.backups().get(0).pos().file());
        for (ArchivedBinlog f : span.files()) {
            if (before != null && f.name().equals(before)) {
                break;
            }
            if (f.number() >= first) {
                out.add(f);
            }
        }
        return out;
    }

    /**
     * Takes every event of an archived file, from offset 0 to its usable end; stops early, and
     * returns true, once {@link #decided()}.
     *
     * @throws StrataException io-error or corrupt-data when it cannot be read
     */
    boolean read(BinlogArchive a, ArchivedBinlog f) {
        try (InputStream in = new java.io.BufferedInputStream(a.open(f, 0, f.usableEnd()), 1 << 16)) {
            BinlogScanner sc = new BinlogScanner(f.name(), 0, null);
            BinlogEvent e;
            while ((e = sc.next(in, f.usableEnd(), null)) != null) {
                event(f.timeline(), f.name(), e, sc);
                if (decided()) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "reading the archived " + f.name() + " failed: " + e.getMessage(), null, e);
        }
    }

    /** Hazards found so far, by backup point. */
    Map<BackupPoint, Hazard> hazards() { return hazards; }

    /** Whether every point was reached and its watch decided: reading further changes nothing. */
    boolean decided() {
        return next >= points.size() && (watch == null || watch.done);
    }

    /** Takes the next event of the files read in order, each from offset 0. */
    void event(int timeline, String file, BinlogEvent e, BinlogScanner sc) {
        if (e.type() == BinlogEvent.FORMAT_DESCRIPTION && sc.serverStart()) {
            // a server start ends every session: nothing open before it can be used after it
            open.clear();
            complete = true;
            if (watch != null) {
                watch.done = true;
            }
        }
        if (e.boundaryBefore()) {
            Pos here = new Pos(timeline, file, e.offset());
            while (next < points.size() && points.get(next).pos().compareTo(here) <= 0) {
                if (watch != null) {
                    watch.done = true;
                }
                watch = new Watch(points.get(next++), open, complete);
            }
            groupStart = e.offset();
            groupTime = e.timestamp();
            groupGtids = watch == null ? null : String.join(",", watch.gtids.values());
        }
        if (watch != null && e.gtid() != null) {
            watch.gtids.put(e.gtid().domain(), e.gtid().toString());
        }
        if (!e.threadSpecific()) {
            return;
        }
        long n = e.query().threadId();
        Statement s = Statement.of(e.query());
        if (watch != null && !watch.done) {
            String failing = check(watch, n, s, e.query());
            if (failing != null) {
                hazards.put(watch.point, new Hazard(watch.point, n, failing.isEmpty() ? null : failing, new Pos(timeline, file, groupStart), groupTime, groupGtids));
                watch.done = true;
            }
        }
        Set<String> mine = open.computeIfAbsent(n, k -> new LinkedHashSet<>());
        if (s.created != null) {
            mine.add(s.created);
        }
        mine.removeAll(s.dropped);
    }

    /** The table a flagged statement of connection {@code n} fails on: a name, "" when unknown, null when it does not fail. */
    private static String check(Watch w, long n, Statement s, BinlogEvent.Query q) {
        Set<String> old = w.old.computeIfAbsent(n, k -> new LinkedHashSet<>());
        Set<String> mine = w.created.computeIfAbsent(n, k -> new LinkedHashSet<>());
        String failing = null;
        for (String t : old) {
            if (!mine.contains(t) && s.uses(t)) {
                failing = t;
                break;
            }
        }
        if (failing == null && (q.text() == null || q.truncated()) && !old.isEmpty()) {
            failing = old.iterator().next(); // the statement may name it where we cannot read
        }
        if (failing == null && !w.complete && !s.safe) {
            boolean usesNew = false;
            for (String t : mine) {
                usesNew |= s.uses(t);
            }
            failing = usesNew ? null : "";
        }
        if (s.created != null) {
            mine.add(s.created);
        }
        for (String t : s.dropped) {
            mine.remove(t);
            if (s.ifExists) {
                old.remove(t); // IF EXISTS never fails, and afterwards the table is gone on the source too
            }
        }
        return failing;
    }

    private static final String NAME = "(?:`[^`]+`|[\\w$]+)";
    private static final Pattern CREATE = Pattern.compile("^create\\s+(?:or\\s+replace\\s+)?temporary\\s+table\\s+(?:if\\s+not\\s+exists\\s+)?((?:" + NAME + "\\s*\\.\\s*)?" + NAME + ")(.*)$",
            Pattern.DOTALL);
    private static final Pattern DROP = Pattern.compile("^drop\\s+(?:temporary\\s+)?tables?\\s+(if\\s+exists\\s+)?(.*)$", Pattern.DOTALL);
    /** Statements that name no table: transaction control. */
    private static final Pattern CONTROL = Pattern.compile("^(begin|start\\s+transaction|commit|rollback|savepoint|release\\s+savepoint|xa)\\b.*", Pattern.DOTALL);
    private static final Pattern COMMENT = Pattern.compile("/\\*!\\d*|/\\*M!\\d*|\\*/");
    private static final Pattern PLAIN_COMMENT = Pattern.compile("/\\*[^!M].*?\\*/", Pattern.DOTALL);

    /** A flagged statement as far as temporary tables go. */
    static final class Statement {
        /** The part that may use existing tables: all of it, the part after the new name of a CREATE, nothing of a DROP ... IF EXISTS. */
        String uses;
        String created;
        final List<String> dropped = new ArrayList<>();
        boolean ifExists;
        /** Never fails in a replay whatever was open before the backup point. */
        boolean safe;

        private Statement(String text) {
            this.uses = text;
        }

        /** The statement's text lower-cased, its plain comments removed and its executable comments' text kept ("" when unknown). */
        static String normalized(BinlogEvent.Query q) {
            String t = q.text() == null ? "" : q.text().toLowerCase(Locale.ROOT);
            // executable comments (/*!40005 TEMPORARY */) count as text; other comments do not
            return COMMENT.matcher(PLAIN_COMMENT.matcher(t).replaceAll(" ")).replaceAll(" ").strip();
        }

        /** Whether {@code normalized} is transaction control (BEGIN, COMMIT, XA ...), which names no table. */
        static boolean control(String normalized) {
            return CONTROL.matcher(normalized).matches();
        }

        static Statement of(BinlogEvent.Query q) {
            String t = normalized(q);
            Statement s = new Statement(t);
            if (q.text() == null) {
                return s;
            }
            Matcher c = CREATE.matcher(t);
            Matcher d = DROP.matcher(t);
            if (control(t)) {
                s.safe = true;
                s.uses = "";
            } else if (c.matches()) {
                s.created = unqualified(c.group(1));
                String rest = c.group(2);
                s.uses = rest;
                s.safe = !Pattern.compile("\\b(select|like)\\b").matcher(rest).find();
            } else if (d.matches()) {
                s.ifExists = d.group(1) != null;
                for (String part : d.group(2).split(",")) {
                    String p = part.strip().replaceAll("\\s+(restrict|cascade)\\s*$", "").replaceAll(";\\s*$", "").strip();
                    if (!p.isEmpty()) {
                        s.dropped.add(unqualified(p));
                    }
                }
                s.safe = s.ifExists;
                if (s.ifExists) {
                    s.uses = "";
                }
            }
            return s;
        }

        /** Whether the statement may use {@code table}: its name appears as a word (quoted or not) where existing tables are read. */
        boolean uses(String table) {
            return Pattern.compile("(?<![\\w$])" + Pattern.quote(table) + "(?![\\w$])").matcher(uses).find();
        }

        private static String unqualified(String name) {
            String n = name.strip();
            if (n.endsWith("`")) {
                int open = n.lastIndexOf('`', n.length() - 2);
                return n.substring(open + 1, n.length() - 1);
            }
            int dot = n.lastIndexOf('.');
            return (dot < 0 ? n : n.substring(dot + 1)).strip().replace("`", "");
        }
    }
}
