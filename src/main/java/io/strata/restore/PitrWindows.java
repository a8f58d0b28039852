package io.strata.restore;

import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.repo.Chain;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What one server can be restored to: its completed backups and the archived binlogs, cut into
 * spans of uninterrupted archive. A window is a span from its oldest backup to its end: every
 * point in it can be restored by that backup (or a newer one) plus the binlogs after it.
 * Between spans lie breaks: a recorded gap (binlogs purged before they were archived), a server
 * reset, or archived data that is missing from the repository (no gap was recorded: damage).
 *
 * <p>Times are binlog timestamps (the server's clock, whole seconds). A window starts no later
 * than its first backup's end time (every transaction in the backup committed before that) and
 * ends at the archive's "as of" time: the server's clock, minus one second, when the safe end of
 * the archive was read. {@link WindowReport} tells the windows in messages and JSON.
 *
 * <p>Windows trust every replay until {@link #checkReplays()} has read the archived binlogs after
 * the backup points ({@link TempTables}): a replay known to fail ends its window before the failing
 * transaction, and the next window starts at the next backup.
 */
public final class PitrWindows {

    /** A completed backup with a resolvable chain, placed in the archive by its binlog position; {@code manifest} without its file list. */
    public record BackupPoint(String id, Manifest manifest, Pos pos, long time) {
        public String gtid() { return manifest.gtidBinlogPos(); }
    }

    public enum Kind { GAP, RESET, MISSING }

    /** What separates two spans (or precedes the first one, when its leading files are missing). */
    public record Break(Span before, Span after, Kind kind, String description) {}

    /** Binlogs archived without interruption: whole files, the last one up to its usable end. */
    public static final class Span {
        final List<ArchivedBinlog> files = new ArrayList<>();
        final List<BackupPoint> backups = new ArrayList<>();
        long endTime;

        public List<ArchivedBinlog> files() { return files; }

        /** Completed backups whose binlog position lies in the span, oldest position first. */
        public List<BackupPoint> backups() { return backups; }

        public Pos start() { return new Pos(files.get(0).timeline(), files.get(0).name(), 0); }

        public Pos end() { return files.get(files.size() - 1).end(); }

        /** The cover segments of every file in order. */
        public List<Segment> segments() {
            List<Segment> out = new ArrayList<>();
            for (ArchivedBinlog f : files) {
                out.addAll(f.cover());
            }
            return out;
        }

        /** Timestamp of the first transaction in the span, or null. */
        public Long firstTime() {
            for (Segment s : segments()) {
                if (s.firstTime() != null) {
                    return s.firstTime();
                }
            }
            return null;
        }

        /** Until when the span is known to hold every transaction the server committed. */
        public long endTime() { return endTime; }

        /** The last GTID of each domain in the span, as a gtid_binlog_pos-like list. */
        public String endGtids(String base) {
            Map<Long, String> m = parseGtidList(base);
            for (Segment s : segments()) {
                for (BinlogArchive.DomainRange r : s.gtids()) {
                    m.put(r.domain(), r.last());
                }
            }
            return String.join(",", m.values());
        }

        public boolean contains(Pos p) {
            if (p.timeline() != files.get(0).timeline()) {
                return false;
            }
            for (ArchivedBinlog f : files) {
                if (f.name().equals(p.file())) {
                    return p.offset() <= f.usableEnd();
                }
            }
            return false;
        }

        ArchivedBinlog file(String name) {
            for (ArchivedBinlog f : files) {
                if (f.name().equals(name)) {
                    return f;
                }
            }
            return null;
        }
    }

    /**
     * From a backup of a span to the span's end, or to where a replay is known to fail
     * ({@code cut}): the transaction before which the replay from the window's last backup stops
     * working. The next window of the span then starts at the next backup after the cut.
     *
     * @param backups the backups whose points lie in the window, by position
     */
    public record Window(Span span, BackupPoint from, List<BackupPoint> backups, TempTables.Hazard cut) {
        public long fromTime() { return from.time(); }

        public Pos to() { return cut == null ? span.end() : cut.before(); }

        /** The latest restorable time: before the failing transaction's timestamp when cut. */
        public long toTime() { return Math.max(cut == null ? span.endTime() : cut.time() - 1, from.time()); }

        public String toGtid() { return cut == null ? span.endGtids(from.gtid()) : cut.gtids(); }
    }

    private final String serverKey;
    private final BinlogArchive archive;
    private final List<BackupPoint> backups = new ArrayList<>();
    private final List<BackupPoint> outside = new ArrayList<>();
    private final List<Span> spans = new ArrayList<>();
    private final List<Break> breaks = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();
    private final Map<BackupPoint, TempTables.Hazard> hazards = new java.util.IdentityHashMap<>();
    private final List<String> unchecked = new ArrayList<>();

    private PitrWindows(String serverKey, BinlogArchive archive) {
        this.serverKey = serverKey;
        this.archive = archive;
    }

    /** Servers with completed backups or an archive in the repository, by server key. */
    public static List<String> servers(Repository repo) {
        Set<String> out = new LinkedHashSet<>();
        for (Manifest m : completedManifests(repo)) {
            out.add(m.source().serverKey());
        }
        for (String d : BinlogArchive.sourceDirs(repo)) {
            BinlogArchive a = BinlogArchive.load(repo, d);
            if (a.source() != null) {
                out.add(a.source().serverKey());
            }
        }
        return new ArrayList<>(out);
    }

    private static List<Manifest> completedManifests(Repository repo) {
        return completedManifests(repo, new HashMap<>());
    }

    /**
     * The completed backups' manifests, without their file lists: every completed backup is held
     * at once here (a 50,000-table manifest is tens of MB of heap); a restore from the chosen one
     * reads it again whole. {@code heads} gets each one read, by the id it was read as.
     */
    private static List<Manifest> completedManifests(Repository repo, Map<String, Manifest> heads) {
        List<Manifest> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String id : repo.history().completedIds()) {
            try {
                Manifest m = head(repo, heads, id);
                if (seen.add(m.id())) {
                    out.add(m);
                }
            } catch (StrataException e) {
                // a damaged or vanished backup is not a restore point
            }
        }
        return out;
    }

    /** Backup {@code id}'s manifest without its files, read once into {@code heads}. */
    private static Manifest head(Repository repo, Map<String, Manifest> heads, String id) {
        Manifest m = heads.get(id);
        if (m == null) {
            m = repo.manifestHead(id);
            heads.put(id, m);
        }
        return m;
    }

    public static PitrWindows of(Repository repo, String serverKey) {
        PitrWindows w = new PitrWindows(serverKey, BinlogArchive.forServer(repo, serverKey));
        Map<String, Manifest> heads = new HashMap<>();
        for (Manifest m : completedManifests(repo, heads)) {
            if (!m.source().serverKey().equals(serverKey) || m.binlogFile() == null || m.binlogPosition() == null) {
                continue;
            }
            if (m.scope() != null) {
                // the archived binlogs name the tables it left out too: replaying them onto it would fail
                w.skipped.add(m.id() + ": a partial backup (" + m.scope().describe() + ") is no starting point for a point-in-time restore");
                continue;
            }
            try {
                Chain.ids(repo, m.id(), id -> head(repo, heads, id)); // the chain's checks, each manifest read once
            } catch (StrataException e) {
                w.skipped.add(m.id() + ": " + e.getMessage());
                continue;
            }
            long time = Instant.parse(m.endTime()).getEpochSecond();
            if (w.archive != null && w.archive.createdInTheSecondOfAReset(m.binlogFile(), time)) {
                w.skipped.add(m.id() + ": it ended in the second its binlog " + m.binlogFile() + " was created anew (RESET MASTER), so whether its"
                        + " position " + m.binlogFile() + ":" + m.binlogPosition() + " is in the old file or the new one is not known: no starting"
                        + " point for a point-in-time restore (a backup taken a second later is)");
                continue;
            }
            w.backups.add(new BackupPoint(m.id(), m, w.place(m, time), time));
        }
        w.backups.sort(Comparator.comparing(BackupPoint::time).thenComparing(BackupPoint::id));
        if (w.archive != null) {
            w.buildSpans();
        }
        for (BackupPoint b : w.backups) {
            Span s = w.spanOf(b.pos());
            if (s == null) {
                w.outside.add(b);
            } else {
                s.backups.add(b);
            }
        }
        for (Span s : w.spans) {
            s.backups.sort(Comparator.comparing(BackupPoint::pos).thenComparing(BackupPoint::time).thenComparing(BackupPoint::id));
        }
        return w;
    }

    /**
     * A backup's binlog position, in the newest timeline whose file of that name the server
     * created before the backup ended (after a reset, names repeat).
     */
    private Pos place(Manifest m, long time) {
        return archive != null ? archive.place(m.binlogFile(), m.binlogPosition(), time) : new Pos(0, m.binlogFile(), m.binlogPosition());
    }

    private void buildSpans() {
        Span cur = null;
        Span last = null;
        ArchivedBinlog prev = null;
        for (int t : archive.timelines().keySet()) {
            for (ArchivedBinlog f : archive.files(t)) {
                boolean usable = !f.cover().isEmpty();
                boolean continues = cur != null && prev != null && prev.timeline() == t && prev.closed() && !prev.damaged()
                        && f.number() == prev.number() + 1;
                if (continues && usable) {
                    cur.files.add(f);
                } else {
                    if (cur != null) {
                        closeSpan(cur);
                        last = cur;
                        cur = null;
                    }
                    if (usable) {
                        cur = new Span();
                        cur.files.add(f);
                        Break b = breakBefore(last, f);
                        if (b != null) {
                            breaks.add(new Break(last, cur, b.kind(), b.description()));
                        }
                    }
                }
                prev = f;
            }
        }
        if (cur != null) {
            closeSpan(cur);
        }
    }

    private static final String DAMAGED = " (no gap was recorded for it, so the archive is damaged)";

    /** Why the archive does not continue from the end of {@code last} (null: the start) to file {@code f}; null if it is the archive's start. */
    private Break breakBefore(Span last, ArchivedBinlog f) {
        if (last == null) {
            BinlogArchive.Timeline first = archive.timelines().get(f.timeline());
            if (f.timeline() == archive.timelines().firstKey() && first != null && f.name().equals(first.firstFile())) {
                return null;
            }
            String from = first == null ? "the first archived file" : first.firstFile();
            return new Break(null, null, Kind.MISSING, "archived binlog " + from + (from.equals(BinlogArchive.sibling(f.name(), f.number() - 1)) ? "" : " to " + BinlogArchive.sibling(f.name(), f.number() - 1))
                    + " is missing from the repository" + DAMAGED);
        }
        ArchivedBinlog l = last.files.get(last.files.size() - 1);
        BinlogArchive.Gap gap = null;
        for (BinlogArchive.Gap g : archive.gaps()) {
            if (g.timeline() == l.timeline() && l.name().equals(g.afterFile())) {
                gap = g;
            }
        }
        if (gap != null && (gap.nextTimeline() != f.timeline() || gap.nextFile() == null || gap.nextFile().equals(f.name()))) {
            Kind k = gap.nextTimeline() != gap.timeline() ? Kind.RESET : Kind.GAP;
            return new Break(null, null, k, "binlogs after " + gap.afterFile() + ":" + gap.afterOffset() + " were not archived: " + gap.reason()
                    + " (detected " + gap.detected() + ")");
        }
        if (l.damaged() || !l.closed() && f.timeline() == l.timeline() && f.number() > l.number()) {
            return new Break(null, null, Kind.MISSING, "archived binlog " + l.name() + " is missing from byte " + l.coveredEnd() + " on" + DAMAGED);
        }
        if (f.timeline() == l.timeline() && f.number() > l.number() + 1) {
            long a = l.number() + 1;
            long b = f.number() - 1;
            return new Break(null, null, Kind.MISSING, "archived binlog " + BinlogArchive.sibling(l.name(), a) + (a == b ? "" : " to " + BinlogArchive.sibling(l.name(), b))
                    + " is missing from the repository" + DAMAGED);
        }
        return new Break(null, null, Kind.MISSING, "the archive does not continue from " + l.name() + " to " + f.name() + " of timeline " + f.timeline() + DAMAGED);
    }

    private void closeSpan(Span s) {
        List<Segment> segs = s.segments();
        long end = segs.isEmpty() ? 0 : segs.get(segs.size() - 1).asOf();
        BinlogArchive.AsOf a = archive.asOf();
        if (a != null && s.end().equals(new Pos(a.timeline(), a.file(), a.offset()))) {
            end = Math.max(end, a.asOf());
        }
        s.endTime = end;
        spans.add(s);
    }

    /** The span holding a position, or null. */
    public Span spanOf(Pos p) {
        for (Span s : spans) {
            if (s.contains(p)) {
                return s;
            }
        }
        return null;
    }

    public String serverKey() { return serverKey; }

    public BinlogArchive archive() { return archive; }

    public List<Span> spans() { return spans; }

    public List<Break> breaks() { return breaks; }

    /** Completed backups of this server with a binlog position and a resolvable chain, by end time. */
    public List<BackupPoint> backups() { return backups; }

    /** Backups whose binlog position is not in the archive: restorable to their own point only. */
    public List<BackupPoint> outside() { return outside; }

    /** Backups left out because their chain does not resolve, with the reason. */
    public List<String> skipped() { return skipped; }

    /**
     * Reads the archived binlogs after the backup points ({@link TempTables}) and cuts the windows
     * where a replay is known to fail; without this call, {@link #windows()} trusts every replay.
     * A span whose binlogs cannot be read (damage a restore would meet too) keeps its windows, and
     * {@link #unchecked()} says why it was not checked.
     */
    public PitrWindows checkReplays() {
        for (Span s : spans) {
            try {
                hazards.putAll(TempTables.scan(archive, s));
            } catch (StrataException e) {
                unchecked.add("archived binlogs from " + s.start() + " to " + s.end() + ": " + e.getMessage());
            }
        }
        return this;
    }

    /** Spans whose replays {@link #checkReplays()} could not check, with the reason. */
    public List<String> unchecked() { return unchecked; }

    /** Backup points whose replay fails before the next backup point (after {@link #checkReplays()}), by position. */
    public List<TempTables.Hazard> hazards() {
        List<TempTables.Hazard> out = new ArrayList<>(hazards.values());
        out.sort(Comparator.comparing(TempTables.Hazard::before));
        return out;
    }

    public List<Window> windows() {
        List<Window> out = new ArrayList<>();
        for (Span s : spans) {
            List<BackupPoint> in = new ArrayList<>();
            for (BackupPoint b : s.backups) {
                in.add(b);
                TempTables.Hazard h = hazards.get(b);
                if (h != null) {
                    out.add(new Window(s, in.get(0), List.copyOf(in), h));
                    in.clear();
                }
            }
            if (!in.isEmpty()) {
                out.add(new Window(s, in.get(0), List.copyOf(in), null));
            }
        }
        return out;
    }

    /** The breaks between two spans (inclusive of the later one's leading break). */
    public List<Break> breaksBetween(Span from, Span to) {
        List<Break> out = new ArrayList<>();
        int a = from == null ? -1 : spans.indexOf(from);
        int b = spans.indexOf(to);
        for (Break k : breaks) {
            int i = k.after() == null ? Integer.MAX_VALUE : spans.indexOf(k.after());
            if (i > a && i <= b) {
                out.add(k);
            }
        }
        return out;
    }

    /** Parses a gtid_binlog_pos value ("0-1-5,1-2-9") into domain → GTID text, in domain order. */
    static Map<Long, String> parseGtidList(String list) {
        Map<Long, String> m = new TreeMap<>();
        if (list == null) {
            return m;
        }
        for (String g : list.split(",")) {
            String t = g.trim();
            if (!t.isEmpty()) {
                int dash = t.indexOf('-');
                try {
                    m.put(Long.parseLong(t.substring(0, dash)), t);
                } catch (RuntimeException e) {
                    // not a GTID: ignored
                }
            }
        }
        return m;
    }
}
