package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The archived binary logs of one server in a repository (docs/repository-format.md, "Binlog
 * archive"). Binlog files are stored as segments: byte ranges {@code [start, end)} of one file, each
 * a framed object ({@code .binlog}, content "binlog") committed by the summary written after it
 * ({@code .sum}, content "binlog-summary"). A file that grows is stored as consecutive segments; a
 * segment is never changed. Timelines separate binlog histories of one server (a RESET MASTER, or
 * another server's data in the same place); gap records say where binlogs were lost before they
 * were archived.
 *
 * <pre>
 * binlogs/&lt;source&gt;/source                                 which server (serverKey as in manifests)
 * binlogs/&lt;source&gt;/tNNNN/timeline                         a binlog history: its first file, why it began
 * binlogs/&lt;source&gt;/tNNNN/&lt;file&gt;/SSSSSSSSSSSS-EEEEEEEEEEEE.binlog   bytes [S, E) of the file
 * binlogs/&lt;source&gt;/tNNNN/&lt;file&gt;/SSSSSSSSSSSS-EEEEEEEEEEEE.sum     its summary; written last
 * binlogs/&lt;source&gt;/gaps/&lt;time&gt;-tNNNN-&lt;file&gt;                  binlogs lost after that file
 * binlogs/&lt;source&gt;/asof/&lt;time&gt;                             an idle archiver's "nothing new until then"
 * </pre>
 * Readers take a file's bytes from the segments whose summaries exist, starting at 0 and always
 * continuing with the segment that reaches furthest, so overlapping segments are harmless. Every
 * JSON record carries {@code formatVersion}; a reader accepts [{@link #MIN_FORMAT_VERSION},
 * {@link #FORMAT_VERSION}] and refuses the archive otherwise ({@link FormatVersion}).
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

    /** One binlog history of the server, numbered from 1; a new one begins after a server reset. */
    public record Timeline(int formatVersion, int timeline, String firstFile, String started, String reason) implements Versioned {}

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

    /** One binlog file of a timeline as the archive holds it. */
    public static final class ArchivedFile {
        private final int timeline;
        private final String name;
        private final List<Segment> segments = new ArrayList<>();
        private final List<Segment> cover = new ArrayList<>();
        private final List<Segment> withoutData = new ArrayList<>();
        private long coveredEnd;
        private long usableEnd;
        private boolean closed;
        private boolean hole;

        ArchivedFile(int timeline, String name) {
            this.timeline = timeline;
            this.name = name;
        }

        public int timeline() { return timeline; }

        public String name() { return name; }

        public long number() { return fileNumber(name); }

        /** Every segment with a summary, by start offset. */
        public List<Segment> segments() { return segments; }

        /** The segments a reader uses, in order, from offset 0 to {@link #coveredEnd()}. */
        public List<Segment> cover() { return cover; }

        /** Segments whose summary exists but whose data object does not. */
        public List<Segment> withoutData() { return withoutData; }

        /** End of the bytes archived without interruption from offset 0. */
        public long coveredEnd() { return coveredEnd; }

        /** The last transaction boundary within the covered bytes: where a replay of this file may end. */
        public long usableEnd() { return usableEnd; }

        /** Whether the covered bytes reach the file's final end. */
        public boolean closed() { return closed; }

        /** Whether segments exist beyond a missing range, or a segment's data object is missing. */
        public boolean damaged() { return hole || !withoutData.isEmpty(); }

        public String fileId() { return cover.isEmpty() ? (segments.isEmpty() ? null : segments.get(0).fileId()) : cover.get(0).fileId(); }

        public long created() { return segments.isEmpty() ? 0 : segments.get(0).fileCreated(); }

        public boolean checksums() { return !segments.isEmpty() && segments.get(0).checksums(); }

        public Pos end() { return new Pos(timeline, name, usableEnd); }

        void reresolve() {
            cover.clear();
            closed = false;
            hole = false;
            resolve();
        }

        void resolve() {
            segments.sort(Comparator.comparingLong(Segment::start).thenComparing(Comparator.comparingLong(Segment::end).reversed()));
            long p = 0;
            while (true) {
                Segment best = null;
                for (Segment s : segments) {
                    if (!withoutData.contains(s) && s.start() <= p && s.end() > p && (best == null || s.end() > best.end())) {
                        best = s;
                    }
                }
                if (best == null) {
                    break;
                }
                cover.add(best);
                p = best.end();
            }
            coveredEnd = p;
            usableEnd = 0;
            if (!cover.isEmpty()) {
                // the segments ending where coverage ends (a zero-length one may close the file)
                for (Segment s : segments) {
                    if (!withoutData.contains(s) && s.end() == p) {
                        closed |= s.closed();
                        usableEnd = Math.max(usableEnd, Math.min(s.boundaryEnd(), p));
                    }
                }
            }
            for (Segment s : segments) {
                if (s.start() > p) {
                    hole = true;
                }
            }
        }
    }

    private final Repository repo;
    private final String dir;
    private Source source;
    private final TreeMap<Integer, Timeline> timelines = new TreeMap<>();
    private final TreeMap<Integer, TreeMap<Long, ArchivedFile>> files = new TreeMap<>();
    private final List<Gap> gaps = new ArrayList<>();
    private final List<String> orphanData = new ArrayList<>();
    private final List<String> asOfKeys = new ArrayList<>();
    private AsOf asOf;

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

    public static long fileNumber(String name) {
        int dot = name.lastIndexOf('.');
        try {
            return dot < 0 ? -1 : Long.parseLong(name.substring(dot + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public String dir() { return dir; }

    public String prefix() { return PREFIX + dir + "/"; }

    /** How messages name the archive: its folder in the repository (a path or an s3:// URL). */
    public String describe() { return repo.store().describe(prefix()); }

    private String timelineDir(int t) { return prefix() + String.format(java.util.Locale.ROOT, "t%04d/", t); }

    public String segmentKey(int t, String file, long start, long end) {
        return timelineDir(t) + file + "/" + String.format(java.util.Locale.ROOT, "%012d-%012d", start, end) + ".binlog";
    }

    private static String sumKeyOf(String dataKey) {
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
        BinlogArchive a = new BinlogArchive(repo, dir);
        List<String> keys;
        keys = repo.store().list(a.prefix());
        Set<String> keySet = new HashSet<>(keys);
        for (String k : keys) {
            String rest = k.substring(a.prefix().length());
            if (rest.equals("source")) {
                a.source = readRecord(repo, k, "binlog-source", Source.class);
            } else if (rest.startsWith("asof/")) {
                a.asOfKeys.add(k);
            } else if (rest.startsWith("gaps/")) {
                a.gaps.add(readRecord(repo, k, "binlog-gap", Gap.class));
            } else if (rest.matches("t\\d{4}/timeline")) {
                Timeline t = readRecord(repo, k, "binlog-timeline", Timeline.class);
                a.timelines.put(t.timeline(), t);
            } else if (rest.endsWith(".sum")) {
                Segment s = readRecord(repo, k, "binlog-summary", Segment.class);
                ArchivedFile f = a.files.computeIfAbsent(s.timeline(), x -> new TreeMap<>())
                        .computeIfAbsent(fileNumber(s.file()), x -> new ArchivedFile(s.timeline(), s.file()));
                f.segments.add(s);
                if (!keySet.contains(a.segmentKey(s.timeline(), s.file(), s.start(), s.end()))) {
                    f.withoutData.add(s);
                }
            } else if (rest.endsWith(".binlog") && !keySet.contains(sumKeyOf(k))) {
                a.orphanData.add(k);
            }
        }
        for (var tl : a.files.values()) {
            for (ArchivedFile f : tl.values()) {
                f.resolve();
            }
        }
        a.gaps.sort(Comparator.comparing(Gap::detected));
        if (!a.asOfKeys.isEmpty()) {
            a.asOf = readRecord(repo, a.asOfKeys.get(a.asOfKeys.size() - 1), "binlog-asof", AsOf.class);
        }
        return a;
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

    public Source source() { return source; }

    public java.util.NavigableMap<Integer, Timeline> timelines() { return timelines; }

    /** Files of a timeline by file number. */
    public List<ArchivedFile> files(int timeline) {
        TreeMap<Long, ArchivedFile> m = files.get(timeline);
        return m == null ? List.of() : new ArrayList<>(m.values());
    }

    public ArchivedFile file(int timeline, String name) {
        TreeMap<Long, ArchivedFile> m = files.get(timeline);
        return m == null ? null : m.get(fileNumber(name));
    }

    public List<Gap> gaps() { return gaps; }

    /** The newest "nothing new until then" record, or null. */
    public AsOf asOf() { return asOf; }

    /** Data objects whose summary was never written (an interrupted archiver); not part of the archive. */
    public List<String> orphanData() { return orphanData; }

    public int newestTimeline() { return timelines.isEmpty() ? 0 : timelines.lastKey(); }

    /**
     * The bytes {@code [from, to)} of an archived file, read from its segments; every chunk is
     * checked, and each segment read to its end is checked against its summary's length and digest.
     */
    public InputStream open(ArchivedFile f, long from, long to) {
        if (to > f.coveredEnd()) {
            throw new IllegalArgumentException("reading " + f.name() + " to " + to + " beyond its archived end " + f.coveredEnd());
        }
        return new SegmentStream(f, from, to);
    }

    private final class SegmentStream extends InputStream {
        private final List<Segment> segs;
        private final long to;
        private long pos;
        private int idx = -1;
        private InputStream cur;
        private ChunkedReader reader;
        private long curEnd;

        SegmentStream(ArchivedFile f, long from, long to) {
            this.segs = f.cover();
            this.pos = from;
            this.to = to;
        }

        private boolean advance() throws IOException {
            closeCurrent();
            while (pos < to) {
                idx++;
                if (idx >= segs.size()) {
                    return false;
                }
                Segment s = segs.get(idx);
                if (s.end() <= pos) {
                    continue;
                }
                String key = segmentKey(s.timeline(), s.file(), s.start(), s.end());
                String where = repo.store().describe(key);
                try {
                    cur = repo.store().open(key);
                } catch (ObjectStore.NoSuchObjectException e) {
                    throw missing(s, where);
                }
                reader = new ChunkedReader(cur, "binlog", where, repo.readCodec());
                reader.skipNBytes(pos - s.start());
                curEnd = s.end();
                return true;
            }
            return false;
        }

        private void closeCurrent() throws IOException {
            if (reader != null) {
                Segment s = segs.get(idx);
                if (pos == s.end()) {
                    // read to the end: the footer and the summary must agree
                    int crc = reader.drainAndCheck();
                    if (reader.rawBytes() != s.length() || !String.format(java.util.Locale.ROOT, "%08x", crc).equals(s.crc32c())) {
                        throw new CorruptDataException(String.format(java.util.Locale.ROOT, "archived binlog segment holds %d bytes with digest %08x, its summary says %d bytes with digest %s (resource=%s)",
                                reader.rawBytes(), crc, s.length(), s.crc32c(), describe(s)), "the archive is damaged; restore to a point before this binlog");
                    }
                }
                reader.close();
                reader = null;
                cur = null;
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos >= to) {
                closeCurrent();
                return -1;
            }
            while (reader == null || pos >= curEnd) {
                if (pos >= to || !advance()) {
                    closeCurrent();
                    return -1;
                }
            }
            int want = (int) Math.min(len, Math.min(curEnd, to) - pos);
            int n = reader.read(b, off, want);
            if (n < 0) {
                Segment s = segs.get(idx);
                throw new CorruptDataException("archived binlog segment ends at " + pos + ", its summary says " + s.end() + " (resource=" + describe(s) + ")",
                        "the archive is damaged");
            }
            pos += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            if (reader != null) {
                reader.close();
                reader = null;
            }
        }
    }

    /** The error for a segment whose data object is gone. */
    public StrataException missing(Segment s, String where) {
        return new StrataException(ErrorCode.BINLOG_MISSING, "archived binlog " + s.file() + " bytes [" + s.start() + ", " + s.end()
                + ") are missing from the repository (resource=" + where + ")",
                "the archive is damaged; restore to a point before " + s.file() + ", or from a backup taken after it");
    }

    // ---- writing (the archiver holds the archive lock) --------------------------------------

    public void writeSource(Source s) {
        repo.writeJson(prefix() + "source", "binlog-source", s);
        this.source = s;
    }

    public void writeTimeline(Timeline t) {
        repo.writeJson(timelineDir(t.timeline()) + "timeline", "binlog-timeline", t);
        timelines.put(t.timeline(), t);
    }

    public void writeGap(Gap g) {
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
        repo.writeJson(key, "binlog-asof", a);
        for (String old : asOfKeys) {
            repo.store().delete(old);
        }
        asOfKeys.clear();
        asOfKeys.add(key);
        asOf = a;
    }

    /** A segment being written: stream its bytes, then {@link #commit} with its summary. */
    public final class SegmentWriter implements AutoCloseable {
        private final ObjectStore.Writer writer;
        private final ChunkedWriter chunks;
        private final String key;

        private SegmentWriter(String key) throws IOException {
            this.key = key;
            this.writer = repo.store().create(key);
            this.chunks = new ChunkedWriter(writer.stream(), "binlog", repo.writeCodec(io.strata.codec.Compression.NONE));
        }

        public OutputStream stream() { return chunks; }

        /** Stores the data durably, then the summary (with this object's digest), which commits the segment. */
        public Segment commit(Segment s) {
            try {
                chunks.finish();
                writer.commit();
            } catch (IOException e) {
                throw StorageException.local("io", repo.store().describe(key), e);
            }
            if (chunks.rawBytes() != s.length()) {
                throw new IllegalStateException("segment " + key + " has " + chunks.rawBytes() + " bytes, expected " + s.length());
            }
            Segment done = new Segment(s.formatVersion(), s.timeline(), s.file(), s.start(), s.end(), s.boundaryEnd(), s.closed(), s.fileId(),
                    s.fileCreated(), s.checksums(), s.events(), s.groups(), s.firstTime(), s.lastTime(), s.maxTime(), s.gtids(), s.asOf(),
                    String.format(java.util.Locale.ROOT, "%08x", chunks.rawCrc()), s.archivedAt());
            repo.writeJson(sumKeyOf(key), "binlog-summary", done);
            ArchivedFile f = files.computeIfAbsent(s.timeline(), x -> new TreeMap<>())
                    .computeIfAbsent(fileNumber(s.file()), x -> new ArchivedFile(s.timeline(), s.file()));
            f.segments.add(done);
            f.reresolve();
            return done;
        }

        @Override
        public void close() throws IOException {
            writer.close();
        }
    }

    public SegmentWriter createSegment(int timeline, String file, long start, long end) {
        try {
            return new SegmentWriter(segmentKey(timeline, file, start, end));
        } catch (IOException e) {
            throw StorageException.local("io", repo.store().describe(segmentKey(timeline, file, start, end)), e);
        }
    }

    /**
     * Replaces the segments of a complete file by one segment {@code [0, end)}: the new segment is
     * stored (data, then summary) before the old ones are deleted (summary, then data), so a reader
     * finds the file whole at every moment; readers never mind overlapping segments.
     */
    public Segment compact(ArchivedFile f) {
        if (!f.closed() || f.damaged() || f.cover().size() < 2) {
            return null;
        }
        List<Segment> old = new ArrayList<>(f.cover());
        Segment first = old.get(0);
        Segment last = old.get(old.size() - 1);
        long events = 0;
        long groups = 0;
        Long firstTime = null;
        Long lastTime = null;
        Long maxTime = null;
        Map<Long, DomainRange> ranges = new TreeMap<>();
        for (Segment s : old) {
            events += s.events();
            groups += s.groups();
            firstTime = firstTime == null ? s.firstTime() : firstTime;
            lastTime = s.lastTime() == null ? lastTime : s.lastTime();
            maxTime = maxTime == null ? s.maxTime() : s.maxTime() == null ? maxTime : Math.max(maxTime, s.maxTime());
            for (DomainRange r : s.gtids()) {
                DomainRange x = ranges.get(r.domain());
                ranges.put(r.domain(), x == null ? r : new DomainRange(r.domain(), Math.min(x.minSeq(), r.minSeq()), Math.max(x.maxSeq(), r.maxSeq()), x.first(), r.last()));
            }
        }
        Segment merged;
        try (SegmentWriter w = createSegment(f.timeline(), f.name(), 0, f.coveredEnd()); InputStream in = open(f, 0, f.coveredEnd())) {
            in.transferTo(w.stream());
            merged = w.commit(new Segment(FORMAT_VERSION, f.timeline(), f.name(), 0, f.coveredEnd(), last.boundaryEnd(), true, first.fileId(),
                    first.fileCreated(), first.checksums(), events, groups, firstTime, lastTime, maxTime, new ArrayList<>(ranges.values()), last.asOf(), null,
                    Instant.now().toString()));
        } catch (IOException e) {
            throw StorageException.local("io", repo.store().describe(segmentKey(f.timeline(), f.name(), 0, f.coveredEnd())), e);
        }
        deleteCovered(file(f.timeline(), f.name()));
        return merged;
    }

    /** Deletes the segments of a file that another segment with data covers entirely (left by a compaction). */
    public void deleteCovered(ArchivedFile f) {
        List<Segment> gone = new ArrayList<>();
        for (Segment s : f.segments()) {
            for (Segment o : f.segments()) {
                if (o != s && !f.withoutData().contains(o) && o.start() <= s.start() && o.end() >= s.end() && o.length() > s.length()
                        && (o.closed() || !s.closed())) {
                    gone.add(s);
                    break;
                }
            }
        }
        for (Segment s : gone) {
            String key = segmentKey(s.timeline(), s.file(), s.start(), s.end());
            repo.store().delete(sumKeyOf(key));
            repo.store().delete(key);
        }
        if (!gone.isEmpty()) {
            f.segments.removeAll(gone);
            f.withoutData.removeAll(gone);
            f.reresolve();
        }
    }

    /** Finishes what an interrupted archiver left: covered segments deleted, complete files compacted. */
    public void tidy() {
        for (var tl : files.values()) {
            for (ArchivedFile f : tl.values()) {
                deleteCovered(f);
                compact(f);
            }
        }
    }

    /** Removes data objects that never got a summary (left by an interrupted archiver). */
    public void deleteOrphans() {
        for (String k : orphanData) {
            repo.store().delete(k);
        }
        orphanData.clear();
    }
}
