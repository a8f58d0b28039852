package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The archived binary logs of one server in a repository, and the owner of their format
 * (docs/repository-format.md, "Binlog archive"): keys, JSON records, versions. Binlog files are
 * stored as segments: byte ranges {@code [start, end)} of one file, each a framed object whose raw
 * content is exactly those bytes, committed by the summary written after it. A file that grows is
 * stored as consecutive segments; a segment is never changed. Timelines separate binlog histories
 * of one server (a RESET MASTER, or another server's data in the same place); gap records say
 * where binlogs were lost before they were archived.
 *
 * <pre>
 * key                                                        content          record
 * binlogs/&lt;source&gt;/source                                    binlog-source    {@link Source}: which server
 * binlogs/&lt;source&gt;/tNNNN/timeline                            binlog-timeline  {@link Timeline}: a history, why it began
 * binlogs/&lt;source&gt;/tNNNN/&lt;file&gt;/SSSSSSSSSSSS-EEEEEEEEEEEE.binlog  binlog    the bytes [S, E) of the file
 * binlogs/&lt;source&gt;/tNNNN/&lt;file&gt;/SSSSSSSSSSSS-EEEEEEEEEEEE.sum     binlog-summary  {@link Segment}; written last
 * binlogs/&lt;source&gt;/gaps/&lt;time&gt;-tNNNN-&lt;file&gt;                     binlog-gap       {@link Gap}: binlogs lost after that file
 * binlogs/&lt;source&gt;/asof/&lt;time&gt;                                binlog-asof      {@link AsOf}: "nothing new until then"
 * </pre>
 * {@code <source>} is {@link #sourceDir}: host, port and the CRC-32C of the server key;
 * {@code NNNN} the timeline in 4 digits; {@code <file>} the binlog's name as SHOW BINARY LOGS
 * gives it; {@code S} and {@code E} decimal byte offsets in 12 digits; {@code <time>}
 * {@code yyyyMMddTHHmmssSSSZ} (UTC). A gap after no file ends in {@code start}.
 *
 * <pre>
 * record    JSON fields, in this order, each record beginning with formatVersion
 * Source    serverKey hostname port serverId logBinBasename created
 * Timeline  timeline firstFile started reason lineage prunedFrom pruned
 * Segment   timeline file start end boundaryEnd closed fileId fileCreated checksums events groups
 *           firstTime lastTime maxTime gtids [{domain minSeq maxSeq first last}] asOf crc32c archivedAt
 * Gap       timeline afterFile afterOffset nextTimeline nextFile lostFiles reason detected
 * AsOf      timeline file offset asOf
 * </pre>
 * Times named {@code *Time}, {@code fileCreated} and {@code asOf} are seconds since the epoch by
 * the server's clock; {@code created}, {@code started}, {@code detected} and {@code archivedAt}
 * are ISO-8601 instants; {@code crc32c} and {@code fileId} are 8 hex digits.
 *
 * <p>Readers take a file's bytes from the segments whose summaries exist, starting at 0 and always
 * continuing with the segment that reaches furthest ({@link ArchivedBinlog}), so overlapping
 * segments are harmless; a data object without a summary is not part of the archive. Every JSON
 * record carries {@code formatVersion}; a reader accepts [{@link #MIN_FORMAT_VERSION},
 * {@link #FORMAT_VERSION}] and refuses the archive otherwise ({@link FormatVersion}).
 *
 * <p>The operations live beside this class: {@link BinlogSegmentReader} reads a range
 * ({@link #open}), {@link BinlogSegmentWriter} stores a segment ({@link #createSegment}),
 * {@link BinlogCompaction} joins the segments of a complete file and tidies what an interrupted
 * archiver left.
 */
public final class BinlogArchive {
    public static final String PREFIX = "binlogs/";
    /** Version of the archive's JSON records that this build writes, and the newest it reads. */
    public static final int FORMAT_VERSION = 1;
    /** The oldest version of the archive's JSON records this build reads. */
    public static final int MIN_FORMAT_VERSION = 1;
    private static final DateTimeFormatter GAP_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'", java.util.Locale.ROOT).withZone(ZoneOffset.UTC);

    /** A JSON record of the archive: each carries the version of the archive format that wrote it. */
    interface Versioned {
        int formatVersion();
    }

    /** The server whose binlogs these are; serverKey is the same as in the manifests' source. */
    public record Source(int formatVersion, String serverKey, String hostname, int port, long serverId, String logBinBasename, String created)
            implements Versioned {}

    /**
     * One binlog history of the server, numbered from 1; a new one begins after a server reset or
     * when the server's data directory is of another lineage (restored; design rule 9).
     *
     * @param firstFile  the first binlog of the timeline the archive holds: the first one the archiver
     *                   stored, or after a prune the oldest one prune kept
     * @param lineage    the lineage id of the server's data directory ({@link Lineage}); null for the
     *                   origin and in records written before the field existed
     * @param prunedFrom the first binlog the archiver stored, once a prune moved {@code firstFile}; else null
     * @param pruned     when a prune last moved the archive's start to {@code firstFile} (ISO-8601); null
     *                   if never. The newest timeline with this set marks everything before its
     *                   {@code firstFile} as removed ({@link #prunedStart()})
     */
    public record Timeline(int formatVersion, int timeline, String firstFile, String started, String reason, String lineage,
                           String prunedFrom, String pruned) implements Versioned {
        /** A timeline of the origin lineage (never restored by strata). */
        public Timeline(int formatVersion, int timeline, String firstFile, String started, String reason) {
            this(formatVersion, timeline, firstFile, started, reason, null);
        }

        /** A timeline as the archiver starts it: never pruned. */
        public Timeline(int formatVersion, int timeline, String firstFile, String started, String reason, String lineage) {
            this(formatVersion, timeline, firstFile, started, reason, lineage, null, null);
        }

        /** This timeline after a prune removed everything before {@code file} (the archive's new start). */
        Timeline prunedTo(String file, String when) {
            return new Timeline(formatVersion, timeline, file, started, reason, lineage, prunedFrom != null ? prunedFrom : firstFile, when);
        }
    }

    /**
     * Summary of one stored segment.
     *
     * @param boundaryEnd the last transaction boundary at or before end (equal to end unless the file
     *                    ends inside an event group, as after a server crash)
     * @param closed      end is the file's final end: the server had moved on to a later file
     * @param fileId      CRC-32C of the file's format description event with the in-use flag cleared
     * @param fileCreated timestamp of that event: when the server created the file
     * @param firstTime   timestamp of the first GTID event in the segment (null: none)
     * @param maxTime     the latest GTID event timestamp in the segment
     * @param asOf        the server's clock minus one second, read just before the safe end of an
     *                    active file was read: transactions stamped up to then are in the archive
     * @param crc32c      content digest of the .binlog object
     */
    public record Segment(int formatVersion, int timeline, String file, long start, long end, long boundaryEnd, boolean closed,
                          String fileId, long fileCreated, boolean checksums, long events, long groups,
                          Long firstTime, Long lastTime, Long maxTime, List<DomainRange> gtids, long asOf, String crc32c,
                          String archivedAt) implements Versioned {
        public long length() { return end - start; }
    }

    /** GTIDs of one domain in a segment: lowest and highest sequence number, first and last GTID. */
    public record DomainRange(long domain, long minSeq, long maxSeq, String first, String last) {}

    /**
     * Binlogs that were never archived: everything after {@code afterFile} at {@code afterOffset}
     * (the end of what was archived of it) up to the start of {@code nextFile} in {@code nextTimeline}.
     */
    public record Gap(int formatVersion, int timeline, String afterFile, long afterOffset, int nextTimeline, String nextFile,
                      List<String> lostFiles, String reason, String detected) implements Versioned {}

    /**
     * Written by an archiver that found nothing new: up to {@code asOf} (server clock minus one
     * second), the server wrote nothing after {@code file:offset} of {@code timeline}.
     */
    public record AsOf(int formatVersion, int timeline, String file, long offset, long asOf) implements Versioned {}

    /** A place in the archive: timeline, file, byte offset. Ordered by timeline, file number, offset. */
    public record Pos(int timeline, String file, long offset) implements Comparable<Pos> {
        @Override
        public int compareTo(Pos o) {
            int c = Integer.compare(timeline, o.timeline);
            if (c == 0) {
                c = Long.compare(fileNumber(file), fileNumber(o.file));
            }
            if (c == 0) {
                c = file.compareTo(o.file);
            }
            return c != 0 ? c : Long.compare(offset, o.offset);
        }

        @Override
        public String toString() { return file + ":" + offset; }
    }

    private final Repository repo;
    private final String dir;
    private Source source;
    private final TreeMap<Integer, Timeline> timelines = new TreeMap<>();
    private final TreeMap<Integer, TreeMap<Long, ArchivedBinlog>> files = new TreeMap<>();
    private final List<Gap> gaps = new ArrayList<>();
    private final java.util.Map<Gap, String> gapKeys = new java.util.IdentityHashMap<>();
    private final java.util.Map<Integer, String> timelineKeys = new java.util.HashMap<>();
    private final List<String> prunedLeftovers = new ArrayList<>();
    private final List<String> orphanData = new ArrayList<>();
    private final List<String> asOfKeys = new ArrayList<>();
    private AsOf asOf;
    private RepoLock guard;

    private BinlogArchive(Repository repo, String dir) {
        this.repo = repo;
        this.dir = dir;
    }

    // ---- naming ----------------------------------------------------------------------------

    /**
     * Directory name of a server's archive: host and port for people, and a CRC-32C of the full
     * server key (host:port:datadir) so that two servers on one host stay apart.
     */
    public static String sourceDir(String serverKey, String hostname, int port) {
        CRC32C c = new CRC32C();
        c.update(serverKey.getBytes(StandardCharsets.UTF_8));
        String host = hostname == null ? "server" : hostname.replaceAll("[^A-Za-z0-9._-]", "_");
        return String.format(java.util.Locale.ROOT, "%s-%d-%08x", host, port, c.getValue());
    }

    /** The number at the end of a binlog's name ({@code binlog.000042}: 42), -1 without one. */
    public static long fileNumber(String name) {
        int dot = name.lastIndexOf('.');
        try {
            return dot < 0 ? -1 : Long.parseLong(name.substring(dot + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The name of file number {@code n} in the same series as {@code name} (same base and digit count). */
    public static String sibling(String name, long n) {
        int dot = name.lastIndexOf('.');
        int digits = name.length() - dot - 1;
        return name.substring(0, dot + 1) + String.format(java.util.Locale.ROOT, "%0" + digits + "d", n);
    }

    public String dir() { return dir; }

    public String prefix() { return PREFIX + dir + "/"; }

    /** How messages name the archive: its folder in the repository (a path or an s3:// URL). */
    public String describe() { return repo.store().describe(prefix()); }

    private String timelineDir(int t) { return prefix() + String.format(java.util.Locale.ROOT, "t%04d/", t); }

    /**
     * Name of the archiver's lock of archive directory {@code dir} ({@link Repository#lock(String, String, String)}):
     * the archiver holds it for its whole run, prune takes it while it removes archived binlogs.
     */
    public static String lockName(String dir) {
        return "binlog-" + dir + ".lock";
    }

    public String segmentKey(int t, String file, long start, long end) {
        return timelineDir(t) + file + "/" + String.format(java.util.Locale.ROOT, "%012d-%012d", start, end) + ".binlog";
    }

    /** The summary's key of a segment's data object: {@code .binlog} replaced by {@code .sum}. */
    static String sumKeyOf(String dataKey) {
        return dataKey.substring(0, dataKey.length() - ".binlog".length()) + ".sum";
    }

    public String describe(Segment s) {
        return repo.store().describe(segmentKey(s.timeline(), s.file(), s.start(), s.end()));
    }

    // ---- reading ---------------------------------------------------------------------------

    /** Names of the archive directories in the repository. */
    public static List<String> sourceDirs(Repository repo) {
        Set<String> out = new java.util.TreeSet<>();
        for (String k : repo.store().list(PREFIX)) {
            String[] p = k.split("/");
            if (p.length >= 3) {
                out.add(p[1]);
            }
        }
        return new ArrayList<>(out);
    }

    /** The archive of the server with this key, or null when the repository has none. */
    public static BinlogArchive forServer(Repository repo, String serverKey) {
        for (String d : sourceDirs(repo)) {
            BinlogArchive a = load(repo, d);
            if (a.source != null && a.source.serverKey().equals(serverKey)) {
                return a;
            }
        }
        return null;
    }

    /**
     * Reads every summary, timeline and gap record of one archive directory (never the binlog bytes).
     *
     * @throws StrataException {@link ErrorCode#FORMAT_TOO_NEW} when a record was written by a newer strata;
     *         corrupt-data for a damaged record
     */
    public static BinlogArchive load(Repository repo, String dir) {
        return load(repo, dir, null);
    }

    /**
     * As {@link #load(Repository, String)}; with {@code damaged} (verify), a record that cannot be
     * read (corrupt-data) is named there and left out, so that the rest can still be checked: a
     * summary left out leaves its data object orphaned, and the file's coverage short of it.
     */
    public static BinlogArchive load(Repository repo, String dir, List<String> damaged) {
        BinlogArchive a = new BinlogArchive(repo, dir);
        List<String> keys;
        keys = repo.store().list(a.prefix());
        Set<String> keySet = new HashSet<>(keys);
        for (String k : keys) {
            String rest = k.substring(a.prefix().length());
            if (damaged != null) {
                try {
                    a.loadOne(k, rest, keySet);
                } catch (StrataException e) {
                    if (e.code() != ErrorCode.CORRUPT_DATA) {
                        throw e;
                    }
                    damaged.add(e.getMessage());
                    if (rest.endsWith(".sum")) {
                        a.orphanData.add(k.substring(0, k.length() - ".sum".length()) + ".binlog");
                    }
                }
                continue;
            }
            a.loadOne(k, rest, keySet);
        }
        a.allFiles().forEach(ArchivedBinlog::resolve);
        a.gaps.sort(Comparator.comparing(Gap::detected));
        a.dropPruned();
        if (!a.asOfKeys.isEmpty()) {
            a.asOf = readRecord(repo, a.asOfKeys.get(a.asOfKeys.size() - 1), "binlog-asof", AsOf.class);
        }
        return a;
    }

    /** Reads one listed key of the archive into this index. */
    private void loadOne(String k, String rest, Set<String> keySet) {
        if (rest.equals("source")) {
            source = readRecord(repo, k, "binlog-source", Source.class);
        } else if (rest.startsWith("asof/")) {
            asOfKeys.add(k);
        } else if (rest.startsWith("gaps/")) {
            Gap g = readRecord(repo, k, "binlog-gap", Gap.class);
            gaps.add(g);
            gapKeys.put(g, k);
        } else if (rest.matches("t\\d{4}/timeline")) {
            Timeline t = readRecord(repo, k, "binlog-timeline", Timeline.class);
            timelines.put(t.timeline(), t);
            timelineKeys.put(t.timeline(), k);
        } else if (rest.endsWith(".sum")) {
            Segment s = readRecord(repo, k, "binlog-summary", Segment.class);
            fileOrNew(s.timeline(), s.file()).add(s, keySet.contains(segmentKey(s.timeline(), s.file(), s.start(), s.end())));
        } else if (rest.endsWith(".binlog") && !keySet.contains(sumKeyOf(k))) {
            orphanData.add(k);
        }
    }

    /**
     * Reads one JSON record and checks its format version.
     *
     * @throws StrataException {@link ErrorCode#FORMAT_TOO_NEW} above {@link #FORMAT_VERSION}, corrupt-data below
     *         {@link #MIN_FORMAT_VERSION}; the message names the record by its content name and key
     */
    private static <T extends Versioned> T readRecord(Repository repo, String key, String content, Class<T> type) {
        T r = repo.readJson(key, content, type);
        FormatVersion.check(content, repo.store().describe(key), r.formatVersion(), MIN_FORMAT_VERSION, FORMAT_VERSION);
        return r;
    }

    /**
     * Where the archive starts after a prune: the {@code firstFile} of the newest timeline whose
     * record was pruned (offset 0), or null when the archive was never pruned. Everything before
     * it is removed, or being removed by a prune that was interrupted; it is not part of the
     * archive ({@link #prunedLeftovers()}).
     */
    public Pos prunedStart() {
        for (Timeline t : timelines.descendingMap().values()) {
            if (t.pruned() != null && t.firstFile() != null) {
                return new Pos(t.timeline(), t.firstFile(), 0);
            }
        }
        return null;
    }

    /** Leaves out of the index what lies before {@link #prunedStart()}, remembering its keys for the next prune. */
    private void dropPruned() {
        Pos start = prunedStart();
        if (start != null) {
            prunedLeftovers.addAll(takeBefore(start));
        }
    }

    /**
     * Removes from this index everything before {@code cut} (files of earlier timelines and earlier
     * files of its timeline, the gap records after them, the records of earlier timelines) and
     * returns the keys of their objects in the order prune deletes them: file by file, oldest
     * first, each segment's summary before its data, data objects without a summary after them;
     * then the gap records, then the timeline records.
     */
    private List<String> takeBefore(Pos cut) {
        List<String> keys = new ArrayList<>();
        for (ArchivedBinlog f : allFiles()) {
            if (before(f.timeline(), f.name(), cut)) {
                String dirKey = timelineDir(f.timeline()) + f.name() + "/";
                for (Segment s : f.segments()) {
                    String data = segmentKey(s.timeline(), s.file(), s.start(), s.end());
                    keys.add(sumKeyOf(data));
                    keys.add(data);
                }
                for (java.util.Iterator<String> it = orphanData.iterator(); it.hasNext(); ) {
                    String k = it.next();
                    if (k.startsWith(dirKey)) {
                        keys.add(k);
                        it.remove();
                    }
                }
                files.get(f.timeline()).remove(f.number());
            }
        }
        files.values().removeIf(java.util.Map::isEmpty);
        for (java.util.Iterator<Gap> it = gaps.iterator(); it.hasNext(); ) {
            Gap g = it.next();
            if (g.timeline() < cut.timeline() || g.afterFile() != null && before(g.timeline(), g.afterFile(), cut)) {
                keys.add(gapKeys.remove(g));
                it.remove();
            }
        }
        for (int t : new ArrayList<>(timelines.headMap(cut.timeline()).keySet())) {
            timelines.remove(t);
            keys.add(timelineKeys.remove(t));
        }
        keys.removeIf(java.util.Objects::isNull);
        return keys;
    }

    private static boolean before(int timeline, String file, Pos cut) {
        return timeline < cut.timeline() || timeline == cut.timeline() && fileNumber(file) < fileNumber(cut.file());
    }

    /** Keys of what an interrupted prune left before {@link #prunedStart()}: to be deleted, never read. */
    public List<String> prunedLeftovers() { return prunedLeftovers; }

    /**
     * Prune, holding the writer lock and (unless an archiver runs) the archiver's lock: moves the
     * archive's start to {@code cut} (a file's offset 0) and deletes everything before it.
     * Order (docs/repository-format.md, "Binlog archive", rule 7): first the record of the cut's
     * timeline names the cut as its {@code firstFile} (from then on readers leave out what lies
     * before it), then the objects go, oldest first, summaries before data, then the gap and
     * timeline records before the cut. An interrupted prune leaves objects readers ignore and the
     * next prune deletes.
     *
     * @throws StrataException corrupt-data when the cut's timeline has no record
     */
    void pruneBefore(Pos cut, String when) {
        Timeline t = timelines.get(cut.timeline());
        if (t == null) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "binlog archive " + describe() + " has files of timeline " + cut.timeline()
                    + " but no record of that timeline", "run \"strata verify\"; prune leaves this archive alone until it is repaired");
        }
        List<String> keys = new ArrayList<>(prunedLeftovers);
        keys.addAll(takeBefore(cut));
        writeTimeline(t.prunedTo(cut.file(), when));
        for (String k : keys) {
            repo.store().delete(k);
        }
        prunedLeftovers.clear();
    }

    /**
     * A backup's binlog position in this archive: in the newest timeline whose file of that name
     * the server created at or before the backup ended ({@code endSecond}, seconds since the
     * epoch; after a reset, names repeat). Timeline 0 when no timeline holds such a file, and when
     * the answer is not certain: the file was created in the very second the backup ended, on a
     * timeline after the archive's first (a RESET MASTER in that second; the creation time has
     * whole seconds only, so the backup's position may be in the file of the history before it).
     * Placed on the newer timeline, its offset would name bytes of another file, which a replay
     * would start from once that file grew past it; at timeline 0 it is no starting point.
     */
    public Pos place(String binlogFile, long position, long endSecond) {
        int t = newestCreatedBy(binlogFile, endSecond);
        return new Pos(t == 0 || createdInTheSecondOfAReset(binlogFile, endSecond) ? 0 : t, binlogFile, position);
    }

    /**
     * Whether {@link #place} leaves a backup that ended at {@code endSecond} in {@code binlogFile}
     * at timeline 0 because a later timeline's file of that name was created in that very second.
     */
    public boolean createdInTheSecondOfAReset(String binlogFile, long endSecond) {
        int t = newestCreatedBy(binlogFile, endSecond);
        return t != 0 && t != timelines.firstKey() && file(t, binlogFile).created() == endSecond;
    }

    /** The newest timeline whose file {@code binlogFile} was created at or before {@code endSecond}; 0 when none. */
    private int newestCreatedBy(String binlogFile, long endSecond) {
        for (int t : timelines.descendingKeySet()) {
            ArchivedBinlog f = file(t, binlogFile);
            if (f != null && f.created() <= endSecond) {
                return t;
            }
        }
        return 0;
    }

    public Source source() { return source; }

    public java.util.NavigableMap<Integer, Timeline> timelines() { return timelines; }

    /** Files of a timeline by file number. */
    public List<ArchivedBinlog> files(int timeline) {
        TreeMap<Long, ArchivedBinlog> m = files.get(timeline);
        return m == null ? List.of() : new ArrayList<>(m.values());
    }

    public ArchivedBinlog file(int timeline, String name) {
        TreeMap<Long, ArchivedBinlog> m = files.get(timeline);
        return m == null ? null : m.get(fileNumber(name));
    }

    public List<Gap> gaps() { return gaps; }

    /** The newest "nothing new until then" record, or null. */
    public AsOf asOf() { return asOf; }

    /** Data objects whose summary was never written (an interrupted archiver); not part of the archive. */
    public List<String> orphanData() { return orphanData; }

    /** Every timeline that has a timeline record or archived files, ascending. */
    public java.util.SortedSet<Integer> storedTimelines() {
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>(timelines.keySet());
        out.addAll(files.keySet());
        return out;
    }

    public int newestTimeline() { return timelines.isEmpty() ? 0 : timelines.lastKey(); }

    /**
     * The bytes {@code [from, to)} of an archived file, read from its segments; every chunk is
     * checked, and each segment read to its end is checked against its summary's length and digest.
     */
    public InputStream open(ArchivedBinlog f, long from, long to) {
        if (to > f.coveredEnd()) {
            throw new IllegalArgumentException("reading " + f.name() + " to " + to + " beyond its archived end " + f.coveredEnd());
        }
        return new BinlogSegmentReader(this, repo, f, from, to);
    }

    /**
     * Reads one segment's data object to its end (verify): frame and chunk CRCs, then its length
     * and content digest against its summary.
     *
     * @throws StrataException binlog-missing when the object is gone, corrupt-data naming it when
     *         it is damaged or is another segment's object
     */
    public void checkSegment(Segment s) {
        String key = segmentKey(s.timeline(), s.file(), s.start(), s.end());
        String where = repo.store().describe(key);
        try (InputStream in = repo.store().open(key); ChunkedReader r = new ChunkedReader(in, "binlog", where, repo.readCodec())) {
            BinlogSegmentReader.checkToEnd(r, s, this);
        } catch (io.strata.store.ObjectStore.NoSuchObjectException e) {
            throw missing(s, where);
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    /** Whether a segment listed before still has its summary (compaction deletes summaries, then data, while others read). */
    public boolean summaryExists(Segment s) {
        return repo.store().exists(sumKeyOf(segmentKey(s.timeline(), s.file(), s.start(), s.end())));
    }

    /** The error for a segment whose data object is gone. */
    public StrataException missing(Segment s, String where) {
        return new StrataException(ErrorCode.BINLOG_MISSING, "archived binlog " + s.file() + " bytes [" + s.start() + ", " + s.end()
                + ") are missing from the repository (resource=" + where + ")",
                "the archive is damaged; restore to a point before " + s.file() + ", or from a backup taken after it");
    }

    // ---- writing (the archiver holds the archive lock) --------------------------------------

    /**
     * Makes every record written through this archive (source, timeline, gap, as-of, and each
     * segment's summary, which commits it) first check that {@code lock} is still held: in object
     * storage the archiver's lock is a lease, which a holder can lose ({@link RepoLock#check()}).
     */
    public void guardWrites(RepoLock lock) {
        this.guard = lock;
    }

    /** Fails with repo-locked when the archiver may have lost its lock; before each record it writes. */
    void checkLock() {
        if (guard != null) {
            guard.check();
        }
    }

    /**
     * Discards unfinished writes below this archive (a multipart upload of a killed archiver), which
     * readers never see. Only the archiver, holding the archive's lock, writes there.
     *
     * @return how many were discarded
     */
    int discardUnfinished() {
        return repo.store().discardUnfinished(prefix());
    }

    public void writeSource(Source s) {
        checkLock();
        repo.writeJson(prefix() + "source", "binlog-source", s);
        this.source = s;
    }

    public void writeTimeline(Timeline t) {
        checkLock();
        repo.writeJson(timelineDir(t.timeline()) + "timeline", "binlog-timeline", t);
        timelines.put(t.timeline(), t);
    }

    public void writeGap(Gap g) {
        checkLock();
        String key = prefix() + "gaps/" + GAP_TIME.format(Instant.parse(g.detected())) + String.format(java.util.Locale.ROOT, "-t%04d-", g.timeline())
                + (g.afterFile() == null ? "start" : g.afterFile());
        repo.writeJson(key, "binlog-gap", g);
        gaps.add(g);
    }

    /** Records that nothing was written after {@code a}'s position until its time, and drops older such records. */
    public void writeAsOf(AsOf a) {
        String key = prefix() + "asof/" + GAP_TIME.format(Instant.ofEpochSecond(a.asOf()));
        if (asOfKeys.contains(key)) {
            return;
        }
        checkLock();
        repo.writeJson(key, "binlog-asof", a);
        for (String old : asOfKeys) {
            repo.store().delete(old);
        }
        asOfKeys.clear();
        asOfKeys.add(key);
        asOf = a;
    }

    /**
     * Starts storing the bytes {@code [start, end)} of a binlog file of {@code timeline} as a
     * segment; nothing is part of the archive until {@link BinlogSegmentWriter#commit}.
     *
     * @throws StorageException when the store cannot create the object
     */
    public BinlogSegmentWriter createSegment(int timeline, String file, long start, long end) {
        String key = segmentKey(timeline, file, start, end);
        try {
            return new BinlogSegmentWriter(this, repo, key);
        } catch (IOException e) {
            throw StorageException.local("write", repo.store().describe(key), e);
        }
    }

    /** Adds a segment just committed to the index. */
    void committed(Segment s) {
        ArchivedBinlog f = fileOrNew(s.timeline(), s.file());
        f.add(s, true);
        f.reresolve();
    }

    private ArchivedBinlog fileOrNew(int timeline, String name) {
        return files.computeIfAbsent(timeline, x -> new TreeMap<>()).computeIfAbsent(fileNumber(name), x -> new ArchivedBinlog(timeline, name));
    }

    /** Every file of every timeline, oldest timeline and file first. */
    List<ArchivedBinlog> allFiles() {
        List<ArchivedBinlog> out = new ArrayList<>();
        files.values().forEach(tl -> out.addAll(tl.values()));
        return out;
    }

    /** Deletes one object of the archive (compaction and tidying). */
    void delete(String key) {
        repo.store().delete(key);
    }

    /** How messages name an object of the archive. */
    String where(String key) {
        return repo.store().describe(key);
    }
}
