package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The change sets and coverage gaps that {@code strata track} keeps for one server, below
 * {@code tracking/<identity>/} (docs/repository-format.md, "Change tracking"):
 * <pre>
 * tracking/&lt;identity&gt;/server                 {"serverKey": ..., "created": ...}   (content "tracking-server")
 * tracking/&lt;identity&gt;/sets/&lt;from&gt;-&lt;to&gt;      pages named by the redo log in [from, to)  (content "change-set")
 * tracking/&lt;identity&gt;/gaps/&lt;from&gt;-&lt;to&gt;      LSNs the tracker could not read, and why  (content "tracking-gap")
 * tracking/&lt;identity&gt;/lock                   OS file lock held by the running tracker (local repository)
 * leases/tracking/&lt;identity&gt;/lock/&lt;token&gt;   its lease instead, in object storage ({@link LeaseLock})
 * </pre>
 * LSNs in names are 20 decimal digits, so names sort by LSN. The identity is the first 16 hex
 * digits of the SHA-256 of the server key (hostname:port:datadir), which backups record as
 * {@code source.serverKey}.
 */
public final class Tracking {
    private static final String SETS = "sets/";
    private static final String GAPS = "gaps/";

    private final Repository repo;
    private final String serverKey;
    private final String prefix;

    public Tracking(Repository repo, String serverKey) {
        this(repo, serverKey, "tracking/" + identity(serverKey) + "/");
    }

    private Tracking(Repository repo, String serverKey, String prefix) {
        this.repo = repo;
        this.serverKey = serverKey;
        this.prefix = prefix;
    }

    /** The identities (directory names below {@code tracking/}) the repository holds tracking data of. */
    public static List<String> identities(Repository repo) {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        for (String k : repo.store().list("tracking/")) {
            String[] p = k.split("/");
            if (p.length >= 3) {
                out.add(p[1]);
            }
        }
        return new ArrayList<>(out);
    }

    /**
     * The tracking data stored under one identity, for verify: nothing is read yet, and
     * {@link #serverKey()} is null until {@link #readServerKey()} has read the server record.
     */
    public static Tracking atIdentity(Repository repo, String identity) {
        return new Tracking(repo, null, "tracking/" + identity + "/");
    }

    /**
     * Reads the {@code server} record and checks that it belongs to this directory.
     *
     * @throws StrataException corrupt-data when it is missing, damaged, or names a server of another identity
     */
    public String readServerKey() {
        String key = prefix + "server";
        Map<?, ?> m = repo.readJson(key, "tracking-server", Map.class);
        Object k = m.get("serverKey");
        if (!(k instanceof String sk) || !prefix.equals("tracking/" + identity(sk) + "/")) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "tracking record " + repo.store().describe(key) + " names server " + k
                    + ", whose change sets are kept elsewhere", "the record was moved or edited; delete the directory, \"strata track\" starts it again");
        }
        return sk;
    }

    /** How messages name this server's directory of change sets (a path or an s3:// URL). */
    public String describeDir() { return repo.store().describe(prefix + SETS); }

    /** How messages name one stored change set (a path or an s3:// URL). */
    public String describe(SetRef s) { return repo.store().describe(s.key()); }

    /**
     * Reads one change set to its end: frame, chunk CRCs and content digest, its grammar, and its
     * range against its name.
     *
     * @throws StrataException corrupt-data naming it; method-unavailable when it is gone
     */
    public void check(SetRef s) {
        header(s, new ChangedPages());
    }

    /** Whether a change set listed before is still stored (the tracker prunes old ones while others read). */
    public boolean exists(SetRef s) { return repo.store().exists(s.key()); }

    public static String identity(String serverKey) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(serverKey.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    public String prefix() { return prefix; }

    public String serverKey() { return serverKey; }

    /** A stored change set, as named by its key. */
    public record SetRef(long from, long to, String key, long bytes) {}

    /** A range of LSNs that no change set covers, and why. */
    public record Gap(long from, long to, String reason, String detected, Long serverStarted) {}

    /** Where stored coverage ends, and when the server that the tracker followed there had started. */
    public record End(long lsn, Long serverStarted) {}

    private static String range(long from, long to) {
        return String.format(Locale.ROOT, "%020d-%020d", from, to);
    }

    private static long[] parseRange(String name) {
        String[] p = name.split("-");
        if (p.length != 2 || p[0].length() != 20 || p[1].length() != 20) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private List<String> list(String sub) {
        return repo.store().list(prefix + sub);
    }

    /** Stored change sets, by ascending start LSN (one listing with sizes: one paged LIST in object storage, no request per set). */
    public List<SetRef> sets() {
        java.util.SortedMap<String, Long> sized;
        try {
            sized = repo.store().listSizes(prefix + SETS);
        } catch (ObjectStore.NoSuchObjectException e) {
            sized = sizesOneByOne(); // a local set pruned between the listing and its size
        }
        List<SetRef> out = new ArrayList<>();
        sized.forEach((k, bytes) -> {
            long[] r = parseRange(k.substring(k.lastIndexOf('/') + 1));
            if (r != null) {
                out.add(new SetRef(r[0], r[1], k, bytes));
            }
        });
        out.sort(Comparator.comparingLong(SetRef::from).thenComparingLong(SetRef::to));
        return out;
    }

    private java.util.SortedMap<String, Long> sizesOneByOne() {
        java.util.SortedMap<String, Long> out = new TreeMap<>();
        for (String k : list(SETS)) {
            try {
                out.put(k, repo.store().size(k));
            } catch (ObjectStore.NoSuchObjectException e) {
                // pruned while we looked
            }
        }
        return out;
    }

    /** Recorded gaps, by ascending start LSN. */
    public List<Gap> gaps() {
        List<Gap> out = new ArrayList<>();
        for (String k : list(GAPS)) {
            if (parseRange(k.substring(k.lastIndexOf('/') + 1)) == null) {
                continue;
            }
            Map<?, ?> m;
            try {
                m = repo.readJson(k, "tracking-gap", Map.class);
            } catch (StrataException e) {
                if (!repo.store().exists(k)) {
                    continue; // pruned while we looked
                }
                throw e;
            }
            Object started = m.get("serverStarted");
            out.add(new Gap(((Number) m.get("from")).longValue(), ((Number) m.get("to")).longValue(), (String) m.get("reason"), (String) m.get("detected"),
                    started instanceof Number n ? n.longValue() : null));
        }
        out.sort(Comparator.comparingLong(Gap::from));
        return out;
    }

    /** Where the stored coverage (change sets and gaps) ends, or null when there is none. */
    public End end() {
        SetRef lastSet = null;
        for (SetRef s : sets()) {
            if (lastSet == null || s.to() >= lastSet.to()) {
                lastSet = s;
            }
        }
        Gap lastGap = null;
        for (Gap g : gaps()) {
            if (lastGap == null || g.to() >= lastGap.to()) {
                lastGap = g;
            }
        }
        if (lastSet == null && lastGap == null) {
            return null;
        }
        if (lastSet == null || (lastGap != null && lastGap.to() > lastSet.to())) {
            return new End(lastGap.to(), lastGap.serverStarted());
        }
        ChangedPages ignored = new ChangedPages();
        return new End(lastSet.to(), header(lastSet, ignored).serverStarted());
    }

    private ChangeSetFormat.Header header(SetRef s, ChangedPages into) {
        String where = repo.store().describe(s.key());
        try (ChunkedReader r = repo.reader(s.key(), ChangeSetFormat.CONTENT)) {
            ChangeSetFormat.Header h = ChangeSetFormat.read(r, into, where);
            if (h.fromLsn() != s.from() || h.toLsn() != s.to()) {
                throw new StrataException(ErrorCode.CORRUPT_DATA, "change set " + where + " holds [" + h.fromLsn() + ", " + h.toLsn()
                        + ") but is named [" + s.from() + ", " + s.to() + ")", "delete it; incrementals then read the redo log or every page");
            }
            return h;
        } catch (ObjectStore.NoSuchObjectException e) {
            throw new StrataException(ErrorCode.METHOD_UNAVAILABLE, "change set " + where + " was removed while it was read", null);
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    /** Writes the server description once. */
    public void describeServer() {
        String key = prefix + "server";
        if (!repo.store().exists(key)) {
            Map<String, Object> m = new TreeMap<>();
            m.put("serverKey", serverKey);
            m.put("created", Instant.now().toString());
            repo.writeJson(key, "tracking-server", m);
        }
    }

    /** The key of the lineage record: which history the stored change sets follow. */
    private String lineageKey() {
        return prefix + "lineage";
    }

    /**
     * The lineage id the stored change sets follow ({@code tracking/<identity>/lineage}, content
     * "tracking-lineage"): null for the origin, which is also what an absent record means.
     */
    public String lineage() {
        if (!repo.store().exists(lineageKey())) {
            return null;
        }
        return (String) repo.readJson(lineageKey(), "tracking-lineage", Map.class).get("lineage");
    }

    /**
     * Records that the change sets from now on follow lineage {@code id} (null: the origin). The
     * tracker writes it after it dropped the sets of another lineage, never before.
     */
    public void recordLineage(String id) {
        Map<String, Object> m = new TreeMap<>();
        m.put("lineage", id);
        m.put("recorded", Instant.now().toString());
        repo.writeJson(lineageKey(), "tracking-lineage", m);
    }

    /** Stores a change set for [h.fromLsn, h.toLsn); returns its size in bytes. */
    public long storeSet(ChangeSetFormat.Header h, ChangedPages pages) {
        String key = prefix + SETS + range(h.fromLsn(), h.toLsn());
        ObjectStore store = repo.store();
        try (ObjectStore.Writer w = store.create(key)) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), ChangeSetFormat.CONTENT, repo.writeCodec(io.strata.codec.Compression.NONE));
            ChangeSetFormat.write(cw, h, pages);
            cw.finish();
            w.commit();
            return store.size(key);
        } catch (IOException e) {
            throw StorageException.local("write", store.describe(key), e);
        }
    }

    /** Records that [from, to) is not covered. */
    public void recordGap(long from, long to, String reason, Long serverStarted) {
        Map<String, Object> m = new TreeMap<>();
        m.put("from", from);
        m.put("to", to);
        m.put("reason", reason);
        m.put("serverStarted", serverStarted);
        m.put("detected", Instant.now().toString());
        repo.writeJson(prefix + GAPS + range(from, to), "tracking-gap", m);
    }

    /** Reads change sets into {@code into}; returns the number of mini-transactions they summarise. */
    public long load(List<SetRef> sets, ChangedPages into) {
        long mtrs = 0;
        for (SetRef s : sets) {
            mtrs += header(s, into).mtrCount();
        }
        return mtrs;
    }

    /**
     * What the stored change sets say about [from, to).
     *
     * @param sets      the sets that cover from {@code from} onward without a hole (may be empty)
     * @param coveredTo where that coverage ends ({@code from} when no set covers {@code from})
     * @param problem   why the sets cannot be used for [from, to) at all, or null
     */
    public record Coverage(List<SetRef> sets, long coveredTo, String problem) {}

    /**
     * Finds the change sets that cover [from, to). Coverage may end before {@code to} (the
     * tracker has not stored the newest range yet); the caller reads the rest from the live log.
     * A recorded gap that overlaps [from, to), or change sets that begin after {@code from} or
     * leave a hole, make the sets unusable; so do sets recorded for another lineage than the
     * server's (design rule 9).
     *
     * @param lineage the lineage id of the server's data directory (null: the origin)
     */
    public Coverage coverage(long from, long to, String lineage) {
        String recorded = lineage();
        if (!java.util.Objects.equals(recorded, lineage)) {
            return new Coverage(List.of(), from, "the change sets follow lineage " + Lineage.shortId(recorded) + ", but the server's data directory is of lineage "
                    + Lineage.shortId(lineage) + " (it was restored since): they describe another history until \"strata track\" starts following this one");
        }
        if (from >= to) {
            return new Coverage(List.of(), from, null); // nothing to cover: no checkpoint since the parent began
        }
        for (Gap g : gaps()) {
            if (g.from() < to && g.to() > from) {
                return new Coverage(List.of(), from, "change tracking has a gap at LSN " + g.from() + ".." + g.to() + " (" + g.reason()
                        + ", detected " + g.detected() + "), inside the range " + from + ".." + to + " this backup needs");
            }
        }
        List<SetRef> all = sets();
        if (all.isEmpty()) {
            return new Coverage(List.of(), from, "the repository holds no change sets of this server (" + serverKey
                    + "); run \"strata track\" to collect them");
        }
        List<SetRef> used = new ArrayList<>();
        long covered = from;
        for (SetRef s : all) {
            if (s.to() <= from) {
                continue;
            }
            if (s.from() > covered) {
                String why = used.isEmpty()
                        ? "the change sets begin at LSN " + s.from() + ", after LSN " + from + " where this backup's changes begin (the tracker was not following the log yet)"
                        : "the change sets leave LSN " + covered + ".." + s.from() + " uncovered";
                return new Coverage(List.of(), from, why);
            }
            used.add(s);
            covered = Math.max(covered, s.to());
            if (covered >= to) {
                break;
            }
        }
        if (used.isEmpty()) {
            long last = all.stream().mapToLong(SetRef::to).max().orElseThrow();
            return new Coverage(List.of(), from, "the change sets end at LSN " + last + ", before LSN " + from
                    + " where this backup's changes begin (is strata track running?)");
        }
        return new Coverage(used, covered, null);
    }

    /**
     * Deletes change sets and gaps that end at or before {@code horizon}; returns how many. The
     * one that ends last stays: it says where the tracker resumes.
     */
    public int prune(long horizon) {
        return prune(horizon, true);
    }

    private int prune(long horizon, boolean keepNewest) {
        int n = 0;
        List<SetRef> sets = sets();
        List<long[]> gaps = new ArrayList<>();
        for (String k : list(GAPS)) {
            long[] r = parseRange(k.substring(k.lastIndexOf('/') + 1));
            if (r != null) {
                gaps.add(r);
            }
        }
        // the set or gap that ends last says where the tracker resumes
        long resume = Math.max(sets.stream().mapToLong(SetRef::to).max().orElse(Long.MIN_VALUE),
                gaps.stream().mapToLong(r -> r[1]).max().orElse(Long.MIN_VALUE));
        for (SetRef s : sets) {
            if (s.to() <= horizon && !(keepNewest && s.to() == resume)) {
                repo.store().delete(s.key());
                n++;
            }
        }
        for (long[] r : gaps) {
            if (r[1] <= horizon && !(keepNewest && r[1] == resume)) {
                repo.store().delete(prefix + GAPS + range(r[0], r[1]));
                n++;
            }
        }
        return n;
    }

    /** Deletes every change set and gap (when the server's history was replaced and they describe another one). */
    public int dropAllSets() {
        return prune(Long.MAX_VALUE, false);
    }

    /**
     * Takes the tracker lock of this server (a lock file of a local repository, a lease in object
     * storage), or fails with repo-locked naming the holder.
     */
    public RepoLock lock() {
        return repo.lock(prefix + "lock", "a strata tracker already follows server " + serverKey + " into repository " + repo.root(),
                "stop it first; one tracker per server is enough");
    }
}
