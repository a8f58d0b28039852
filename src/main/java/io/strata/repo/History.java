package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The history of a repository: one record set per attempt below {@code history/<id>/}
 * (docs/repository-format.md, "History").
 *
 * <pre>
 * key                     content    written
 * history/&lt;id&gt;/begin      history    when the attempt starts ({@link HistoryRecord}, state running)
 * history/&lt;id&gt;/end        history    when it ends: completed, or failed with the reason
 * history/&lt;id&gt;/progress   progress   plain JSON, rewritten while a backup runs (no key needed to read)
 * history/&lt;id&gt;/merged     history    {"id", "kind", "mergedInto", "time"}: merge moved the backup's state
 *                                    (kind same-state) or folded it away (kind folded), see {@link Merge}
 * history/&lt;id&gt;/pruned     history    {"id", "time", "reason"}: prune removed the backup
 * history/retired         history    {"records": [HistoryRecord...]}: the final records of failed and pruned
 *                                    attempts whose own records were removed ({@link #retire})
 * </pre>
 * History is rebuilt from the manifests: an id whose manifest is stored is a completed backup
 * whatever its records say (begin or end missing, the process stopped between the manifest and
 * the end record), unless a pruned marker says prune is removing it. An attempt with a begin
 * record and neither an end record, a manifest nor a live writer (the writer lock's holder is
 * another pid) failed: its process ended before it completed. A begin or end record holding
 * another id than its place names is ignored. An id without a manifest whose merged marker is
 * folded, or whose same-state markers lead to a folded one, is {@link HistoryRecord#FOLDED}.
 */
public final class History {
    private final ObjectIo io;
    private final RepoConfig config;
    private final RepoLocks locks;

    History(ObjectIo io, RepoConfig config, RepoLocks locks) {
        this.io = io;
        this.config = config;
        this.locks = locks;
    }

    /**
     * The attempts this process began and has not ended, by id: a begin record without an end
     * record whose pid is this process's is running only when it is one of these. A process that
     * runs many backups (the agent, {@code strata agent}) keeps its pid, so an attempt of its
     * whose end record could not be written (the storage failing at the end) must not count as
     * running during its later backups, nor be spared by {@link Repository#cleanupIncomplete()}.
     */
    private static final java.util.Set<String> UNENDED_HERE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The order of attempts: by begin time (ids sort by second only), then by id. */
    private static final Comparator<HistoryRecord> ORDER = Comparator.comparing(History::beginOf).thenComparing(HistoryRecord::id);

    /** Stores the begin record of an attempt. */
    public void begin(HistoryRecord r) {
        UNENDED_HERE.add(r.id());
        try {
            write(Keys.history(r.id(), Keys.BEGIN), r);
        } catch (RuntimeException e) {
            UNENDED_HERE.remove(r.id());
            throw e;
        }
    }

    /**
     * Stores the end record of an attempt (completed, or failed with its reason). The attempt has
     * ended for this process even when the write fails: the missing end record then reads as failed.
     */
    public void end(HistoryRecord r) {
        try {
            write(Keys.history(r.id(), Keys.END), r);
        } finally {
            UNENDED_HERE.remove(r.id());
        }
    }

    /** Rewrites a running backup's progress record (plain JSON: {@code strata status} reads it without the key). */
    public void writeProgress(String id, Object snapshot) {
        io.writeJson(Keys.history(id, Keys.PROGRESS), "progress", snapshot, ObjectCodec.PLAIN);
    }

    /** A backup's last progress record, or null when it wrote none. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> progress(String id) {
        String key = Keys.history(id, Keys.PROGRESS);
        return io.store().exists(key) ? io.readJson(key, "progress", Map.class, ObjectCodec.PLAIN) : null;
    }

    /**
     * The newest attempt that wrote a progress record, or null: by id, that is by start second;
     * attempts that began in the same second (a failed one and the next, say) by their progress
     * records' last update, since the random part of an id says nothing of their order.
     */
    public String newestWithProgress() {
        String newest = null;
        for (String k : io.store().list(Keys.HISTORY)) {
            if (k.endsWith("/" + Keys.PROGRESS)) {
                String id = k.split("/")[1];
                if (newest == null) {
                    newest = id;
                    continue;
                }
                int bySecond = secondOf(id).compareTo(secondOf(newest));
                if (bySecond > 0 || bySecond == 0 && lastUpdate(id).compareTo(lastUpdate(newest)) > 0) {
                    newest = id;
                }
            }
        }
        return newest;
    }

    /** The start second of a backup id ("yyyyMMddTHHmmssZ"), the whole id when it has no random part. */
    private static String secondOf(String id) {
        int dash = id.lastIndexOf('-');
        return dash < 0 ? id : id.substring(0, dash);
    }

    /** When the attempt's progress record was last written; the epoch when it cannot be read. */
    private java.time.Instant lastUpdate(String id) {
        try {
            Map<String, Object> p = progress(id);
            return p != null && p.get("updated") instanceof String u ? java.time.Instant.parse(u) : java.time.Instant.EPOCH;
        } catch (RuntimeException unreadable) {
            return java.time.Instant.EPOCH;
        }
    }

    /**
     * What a merge did to a backup id: its {@code history/<id>/merged} marker.
     *
     * @param id     the merged-away backup
     * @param into   the merge's result M
     * @param time   when the marker was written (ISO-8601 UTC)
     * @param folded false for the merged backup B, whose exact state M holds (its id resolves to
     *               M); true for the parent P the merge removed, whose own state is stored
     *               nowhere any more (its id restores nothing)
     */
    public record Merge(String id, String into, String time, boolean folded) {
        /** The one-line reason a folded id restores nothing, as errors and list show it. */
        public String foldedReason() {
            return "folded into " + into + " by a merge at " + time + "; its own state is no longer stored";
        }
    }

    /** Marker kinds (docs/repository-format.md, "History records"). */
    static final String SAME_STATE = "same-state";
    static final String FOLDED = "folded";

    /** The backup that took over a merged backup's state, or null; also for a folded id (see {@link #merge}). */
    public String mergedInto(String id) {
        Merge m = merge(id);
        return m == null ? null : m.into();
    }

    /**
     * The merged marker of {@code id}, or null when there is none. A marker without {@code kind}
     * (written before kinds existed) is folded when another id merged into the same successor
     * names {@code id} as its parent in its history record, else same-state.
     */
    public Merge merge(String id) {
        String key = Keys.history(id, Keys.MERGED);
        if (!io.store().exists(key)) {
            return null;
        }
        Map<String, Object> raw = read(key);
        if (raw.get("kind") != null) {
            return toMerge(id, raw, FOLDED.equals(raw.get("kind")));
        }
        Scan s = scan();
        return s.merged.get(id);
    }

    /** Records that {@code id}'s exact state is now held by {@code successor} (written before id is deleted). */
    public void markMerged(String id, String successor) {
        writeMerged(id, successor, SAME_STATE);
    }

    /** Records that a merge into {@code successor} removes {@code id} and its own state (written before id is deleted). */
    public void markFolded(String id, String successor) {
        writeMerged(id, successor, FOLDED);
    }

    private void writeMerged(String id, String successor, String kind) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("kind", kind);
        m.put("mergedInto", successor);
        m.put("time", Instant.now().toString());
        write(Keys.history(id, Keys.MERGED), m);
    }

    private static Merge toMerge(String id, Map<String, Object> raw, boolean folded) {
        return new Merge(id, (String) raw.get("mergedInto"), (String) raw.get("time"), folded);
    }

    /**
     * Why {@code id}, which has no manifest, restores nothing because of merges, or null when its
     * merged markers lead to a stored manifest (or it has none): its own marker is folded, or a
     * same-state marker leads to an id that was folded.
     */
    private static String foldedReason(String id, Map<String, Merge> merged, Set<String> manifests) {
        Merge folding = foldingMerge(id, merged, manifests);
        if (folding == null) {
            return null;
        }
        return folding.id().equals(id) ? folding.foldedReason()
                : "merged into " + merged.get(id).into() + ", and " + folding.id() + " was " + folding.foldedReason();
    }

    /** The folded marker that {@code id}'s merged markers lead to before any stored manifest, or null. */
    private static Merge foldingMerge(String id, Map<String, Merge> merged, Set<String> manifests) {
        String cur = id;
        for (int hops = 0; hops <= merged.size() && !manifests.contains(cur); hops++) {
            Merge m = merged.get(cur);
            if (m == null || m.folded()) {
                return m;
            }
            cur = m.into();
        }
        return null;
    }

    /** Records that a backup is being removed by prune, and why (written before anything is removed). */
    public void markPruned(String id, String reason) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("time", Instant.now().toString());
        m.put("reason", reason);
        write(Keys.history(id, Keys.PRUNED), m);
    }

    /**
     * Whether a prune or a merge is removing (or has removed) backup {@code id}: its pruned or
     * merged marker is stored. Both write the marker before they delete the manifest.
     */
    public boolean removing(String id) {
        if (io.store().exists(Keys.history(id, Keys.PRUNED)) || io.store().exists(Keys.history(id, Keys.MERGED))) {
            return true;
        }
        HistoryRecord r = retired().records.get(id);
        return r != null && HistoryRecord.PRUNED.equals(r.state());
    }

    /** The attempt {@code id} as {@link #attempts()} shows it, if there is one. */
    public Optional<HistoryRecord> find(String id) {
        return attempts().stream().filter(x -> x.id().equals(id)).findFirst();
    }

    /** Completed backups, oldest first. */
    public List<String> completedIds() {
        List<String> out = new ArrayList<>();
        for (HistoryRecord h : liveAttempts()) {
            if (HistoryRecord.COMPLETED.equals(h.state())) {
                out.add(h.id());
            }
        }
        return out;
    }

    /**
     * Every attempt, oldest first, with its state as described in the class comment. History is
     * rebuilt from the manifests: a stored manifest is a completed backup whatever the records say
     * (begin or end missing, or an end that says failed), unless a prune marked it. A record that
     * names another id than its place is ignored ({@link #misplacedRecords()} names it).
     */
    public List<HistoryRecord> attempts() {
        Scan s = scan();
        List<HistoryRecord> out = derive(s);
        Map<String, HistoryRecord> retired = retired().records;
        if (!retired.isEmpty()) {
            // a retired attempt's final record wins over what is left of its own records (a
            // reader that listed them just before retire removed them), never over a manifest
            out.removeIf(h -> retired.containsKey(h.id()) && !s.manifests.contains(h.id()));
            for (HistoryRecord h : retired.values()) {
                if (!s.manifests.contains(h.id())) {
                    out.add(h);
                }
            }
            out.sort(ORDER);
        }
        return out;
    }

    /**
     * {@link #attempts()} without the retired ones: every completed, running or folded attempt and
     * the failed and pruned ones not yet retired. What a writer needs (the completed backups, the
     * leftovers to remove), read without the retired records, whose number grows with the age of
     * the repository.
     */
    public List<HistoryRecord> liveAttempts() {
        return derive(scan());
    }

    private List<HistoryRecord> derive(Scan s) {
        Long writer = null;
        boolean writerKnown = false;
        long self = ProcessHandle.current().pid();
        // another process holding the writer lock runs one attempt: its newest begin record without an end
        Map<Long, HistoryRecord> newestUnended = new java.util.HashMap<>();
        for (Map.Entry<String, HistoryRecord> e : s.begins.entrySet()) {
            HistoryRecord b = e.getValue();
            String id = e.getKey();
            if (b.pid() != null && !s.ends.containsKey(id) && !s.manifests.contains(id) && !s.pruned.containsKey(id) && !s.merged.containsKey(id)) {
                newestUnended.merge(b.pid(), b, (x, y) -> ORDER.compare(x, y) >= 0 ? x : y);
            }
        }
        List<HistoryRecord> out = new ArrayList<>();
        Set<String> ids = new TreeSet<>(s.begins.keySet());
        ids.addAll(s.ends.keySet());
        ids.addAll(s.manifests);
        for (String id : ids) {
            HistoryRecord end = s.ends.get(id);
            HistoryRecord b = s.begins.get(id);
            Map<String, Object> p = s.pruned.get(id);
            boolean manifest = s.manifests.contains(id);
            String folded = manifest || p != null ? null : foldedReason(id, s.merged, s.manifests);
            if (folded != null) {
                HistoryRecord base = end != null ? end : b;
                out.add(base.withState(HistoryRecord.FOLDED, base.endTime(), folded));
            } else if (p != null) {
                HistoryRecord base = end != null ? end : b != null ? b : fromManifest(id, null, null);
                out.add(base.withState(HistoryRecord.PRUNED, base.endTime(), "removed by strata prune at " + p.get("time") + ": " + p.get("reason")));
            } else if (manifest) {
                // the manifest decides: a missing or failed end record (the process stopped between
                // storing the manifest and the end record, or the record was lost) changes nothing
                out.add(end != null && HistoryRecord.COMPLETED.equals(end.state()) ? end : fromManifest(id, b, end));
            } else if (end != null) {
                out.add(end);
            } else {
                if (!writerKnown) {
                    writer = locks.writerPid();
                    writerKnown = true;
                }
                boolean running = b.pid() != null && b.pid() == self ? UNENDED_HERE.contains(id)
                        : writer != null && writer.equals(b.pid()) && newestUnended.get(b.pid()) == b;
                if (running) {
                    out.add(b);
                } else {
                    out.add(b.withState(HistoryRecord.FAILED, null,
                            "interrupted: the backup process (pid " + b.pid() + ") ended before the backup completed (killed, crashed or machine stopped)"));
                }
            }
        }
        // ids sort by second only; the begin time orders attempts started within one second
        out.sort(ORDER);
        return out;
    }

    /**
     * History records stored under another id's place ({@code history/A/end} holding B's record):
     * {@link #attempts()} ignores them; verify reports them.
     */
    public List<String> misplacedRecords() {
        return scan(true).misplaced;
    }

    /**
     * What verify says of the history records, beside {@link #misplacedRecords()}: {@code damaged}
     * names each record that cannot be read (its frame or JSON is damaged; {@link #attempts()}
     * goes on without it, the manifests decide), {@code lost} each begin or end record missing
     * for a completed backup (a lost record, or a writer stopped between its manifest and its end
     * record: not damage).
     */
    public record Findings(List<String> damaged, List<String> lost) {}

    /** Reads every history record once and says which are damaged or lost (see {@link Findings}). */
    public Findings findings() {
        Scan s = scan(true);
        List<String> lost = new ArrayList<>();
        for (String id : s.manifests) {
            if (s.pruned.containsKey(id)) {
                continue;
            }
            for (String part : List.of(Keys.BEGIN, Keys.END)) {
                Map<String, HistoryRecord> have = Keys.BEGIN.equals(part) ? s.begins : s.ends;
                if (!have.containsKey(id) && !s.unreadable.contains(Keys.history(id, part))) {
                    lost.add("history record " + Keys.history(id, part) + " of completed backup " + id + " is missing (the manifest decides)");
                }
            }
        }
        List<String> damaged = new ArrayList<>(s.damaged);
        String retiredDamage = retired().damage();
        if (retiredDamage != null) {
            damaged.add(retiredDamage);
        }
        return new Findings(damaged, lost);
    }

    /** Where the retired records are kept: {@code history/retired} (docs/repository-format.md, "Retired records"). */
    static final String RETIRED_KEY = Keys.HISTORY + "retired";

    /** The attempts the newest of which are never retired: {@code strata status} and a DBA's first look find their own records. */
    static final int KEEP_NEWEST = 16;

    /** The JSON of {@code history/retired}: the records, oldest first. */
    record RetiredJson(List<HistoryRecord> records) {}

    /**
     * The retired records by id; {@code damage} says why they could not be read (the object is
     * damaged: the attempts it held are then missing from the history, nothing else).
     */
    private record Retired(Map<String, HistoryRecord> records, String damage) {}

    private Retired retired() {
        try {
            if (!io.store().exists(RETIRED_KEY)) {
                return new Retired(Map.of(), null);
            }
            RetiredJson j = io.readJson(RETIRED_KEY, "history", RetiredJson.class, config.readCodec());
            Map<String, HistoryRecord> byId = new TreeMap<>();
            for (HistoryRecord r : j.records() == null ? List.<HistoryRecord>of() : j.records()) {
                if (r != null && r.id() != null) {
                    byId.put(r.id(), r);
                }
            }
            return new Retired(byId, null);
        } catch (StrataException e) {
            if (e.code() != ErrorCode.CORRUPT_DATA) {
                throw e;
            }
            return new Retired(Map.of(), "history record " + RETIRED_KEY + " is damaged: " + e.getMessage()
                    + " (the failed and pruned attempts it held are missing from the history; no backup depends on it)");
        }
    }

    /**
     * Moves the final records of settled attempts into {@code history/retired} and removes their
     * own records ({@code history/<id>/}), so that the history a writer reads stays as long as the
     * repository's retention, not as long as its life: every backup read every record of every
     * attempt ever made, three files (three requests in object storage) per pruned backup, and
     * removed the objects of every failed attempt again.
     *
     * <p>Settled: failed or pruned, no manifest, no merged marker (lookups of merged ids read those
     * markers), and not among the {@value #KEEP_NEWEST} newest attempts. Nothing is moved until
     * {@code batch} attempts are settled (the object is rewritten whole, some 600 bytes per
     * attempt). The object is written before any record is removed; a reader in between sees
     * both, and the retired record wins. Only under the writer lock, after
     * {@link Repository#cleanupIncomplete()} removed the attempts' objects. A damaged
     * {@code history/retired} is left as it is (verify reports it) and nothing is retired.
     *
     * @return how many attempts were retired (0 when fewer than {@code batch} were settled)
     */
    public int retire(int batch) {
        Scan s = scan();
        List<HistoryRecord> all = derive(s);
        List<HistoryRecord> settled = new ArrayList<>();
        for (int i = 0; i < all.size() - KEEP_NEWEST; i++) {
            HistoryRecord h = all.get(i);
            boolean done = HistoryRecord.FAILED.equals(h.state()) || HistoryRecord.PRUNED.equals(h.state());
            if (done && !s.manifests.contains(h.id()) && !s.merged.containsKey(h.id()) && Keys.isBackupId(h.id())) {
                settled.add(h);
            }
        }
        if (settled.size() < Math.max(1, batch)) {
            return 0;
        }
        Retired before = retired();
        if (before.damage() != null) {
            return 0;
        }
        Map<String, HistoryRecord> next = new TreeMap<>(before.records());
        boolean added = false;
        for (HistoryRecord h : settled) {
            // an id retired before whose removal was cut short keeps its record: what is left of its own records says less
            added |= next.putIfAbsent(h.id(), h) == null;
        }
        if (added) {
            List<HistoryRecord> ordered = new ArrayList<>(next.values());
            ordered.sort(ORDER);
            write(RETIRED_KEY, new RetiredJson(ordered));
        }
        for (HistoryRecord h : settled) {
            // the pruned marker last: cut short before it, what is left still reads as pruned (or, begin alone, failed),
            // never as a completed backup whose manifest is missing, and the next retire removes it
            for (String part : List.of(Keys.BEGIN, Keys.PROGRESS, Keys.END, Keys.PRUNED)) {
                io.store().delete(Keys.history(h.id(), part));
            }
            io.store().deletePrefix(Keys.HISTORY + h.id() + "/");
        }
        return settled.size();
    }

    private record Scan(Map<String, HistoryRecord> begins, Map<String, HistoryRecord> ends, Map<String, Map<String, Object>> pruned,
                        Map<String, Merge> merged, Set<String> manifests, List<String> misplaced, List<String> damaged, Set<String> unreadable) {}

    /** {@link #scan(boolean)} as the states need it: a begin record is read only when its attempt's end record is not stored or not readable. */
    private Scan scan() {
        return scan(false);
    }

    /**
     * Reads the history records and lists the manifests.
     *
     * @param whole every record, also the begin records of ended attempts (which the derived
     *              states do not use): what verify's findings need to name a misplaced or damaged one.
     *              Otherwise those are skipped: one read (one request in object storage) per
     *              ended attempt instead of two.
     */
    private Scan scan(boolean whole) {
        Map<String, HistoryRecord> begins = new TreeMap<>();
        Map<String, HistoryRecord> ends = new TreeMap<>();
        Map<String, Map<String, Object>> pruned = new TreeMap<>();
        Map<String, Map<String, Object>> rawMerged = new TreeMap<>();
        List<String> misplaced = new ArrayList<>();
        List<String> damaged = new ArrayList<>();
        Set<String> unreadable = new TreeSet<>();
        List<String> keys = io.store().list(Keys.HISTORY);
        Set<String> ended = new java.util.HashSet<>();
        for (String k : keys) {
            if (k.endsWith("/" + Keys.END)) {
                ended.add(k);
            }
        }
        List<String> deferred = new ArrayList<>();
        for (String k : keys) {
            String[] parts = k.split("/");
            if (parts.length != 3) {
                continue;
            }
            if (!whole && Keys.BEGIN.equals(parts[2]) && ended.contains(Keys.history(parts[1], Keys.END))) {
                deferred.add(k);
                continue;
            }
            readRecord(k, parts, begins, ends, pruned, rawMerged, misplaced, damaged, unreadable);
        }
        for (String k : deferred) {
            String[] parts = k.split("/");
            if (!ends.containsKey(parts[1])) {
                // the end record is damaged, misplaced or gone since the listing: the begin record stands in for it
                readRecord(k, parts, begins, ends, pruned, rawMerged, misplaced, damaged, unreadable);
            }
        }
        Map<String, Merge> merged = new TreeMap<>();
        for (var e : rawMerged.entrySet()) {
            Object kind = e.getValue().get("kind");
            boolean folded = kind != null ? FOLDED.equals(kind) : legacyFolded(e.getKey(), e.getValue(), rawMerged, begins, ends);
            merged.put(e.getKey(), toMerge(e.getKey(), e.getValue(), folded));
        }
        Set<String> manifests = new TreeSet<>();
        // backups/ID/manifest only: not a walk over every object of every backup (10,000 per backup at 5,000 tables)
        for (String k : io.store().list(Keys.BACKUPS, 2)) {
            String[] parts = k.split("/");
            if (parts.length == 3 && k.equals(Keys.manifest(parts[1]))) {
                manifests.add(parts[1]);
            }
        }
        return new Scan(begins, ends, pruned, merged, manifests, misplaced, damaged, unreadable);
    }

    /** Reads one record into its map; a damaged one is named in {@code damaged}, one removed since the listing is skipped. */
    private void readRecord(String k, String[] parts, Map<String, HistoryRecord> begins, Map<String, HistoryRecord> ends,
                            Map<String, Map<String, Object>> pruned, Map<String, Map<String, Object>> rawMerged,
                            List<String> misplaced, List<String> damaged, Set<String> unreadable) {
        try {
            switch (parts[2]) {
                case Keys.BEGIN, Keys.END -> {
                    HistoryRecord r = io.readJson(k, "history", HistoryRecord.class, config.readCodec());
                    if (!parts[1].equals(r.id())) {
                        misplaced.add("history record " + k + " names backup " + r.id() + ", not " + parts[1] + ": ignored (the manifests decide)");
                    } else {
                        (Keys.BEGIN.equals(parts[2]) ? begins : ends).put(parts[1], r);
                    }
                }
                case Keys.PRUNED -> pruned.put(parts[1], read(k));
                case Keys.MERGED -> rawMerged.put(parts[1], read(k));
                default -> { }
            }
        } catch (StrataException e) {
            if (e.code() != ErrorCode.CORRUPT_DATA) {
                throw e; // a wrong or missing key, a newer format: not damage
            }
            if (!io.store().exists(k)) {
                return; // retired (or pruned with its attempt) since the listing: history/retired holds it
            }
            // the manifests decide; a damaged pruned marker still says prune is removing the backup
            damaged.add("history record " + k + " is damaged: " + e.getMessage());
            unreadable.add(k);
            if (Keys.PRUNED.equals(parts[2])) {
                pruned.put(parts[1], Map.of("time", "(unknown)", "reason", "(its pruned marker is damaged)"));
            }
        }
    }

    /**
     * A marker without kind: folded when another id merged into the same successor names
     * {@code id} as its parent (that one was B, the merge's newer member; {@code id} was P).
     */
    private static boolean legacyFolded(String id, Map<String, Object> marker, Map<String, Map<String, Object>> all,
                                        Map<String, HistoryRecord> begins, Map<String, HistoryRecord> ends) {
        Object into = marker.get("mergedInto");
        for (var e : all.entrySet()) {
            if (e.getKey().equals(id) || into == null || !into.equals(e.getValue().get("mergedInto"))) {
                continue;
            }
            HistoryRecord other = ends.get(e.getKey()) != null ? ends.get(e.getKey()) : begins.get(e.getKey());
            if (other != null && id.equals(other.parent())) {
                return true;
            }
        }
        return false;
    }

    /** A completed backup's record built from its manifest (begin, end: what history still holds, maybe null). */
    private HistoryRecord fromManifest(String id, HistoryRecord begin, HistoryRecord end) {
        HistoryRecord known = begin != null ? begin : end;
        try {
            return HistoryRecord.completed(known, Manifest.read(io, config.readCodec(), id));
        } catch (StrataException e) {
            // an unreadable manifest still names a backup: list and verify show it, prune keeps it
            String beginTime = known != null ? known.beginTime() : null;
            return new HistoryRecord(id, known == null ? null : known.type(), HistoryRecord.COMPLETED, known == null ? null : known.parent(),
                    beginTime, null, known == null ? null : known.source(), null, null, null, null, null, null, null, null,
                    "manifest unreadable: " + e.getMessage(), known == null ? null : known.pid());
        }
    }

    /** When an attempt began: its record's beginTime, else the start second its id carries. */
    private static Instant beginOf(HistoryRecord h) {
        if (h.beginTime() != null) {
            return Instant.parse(h.beginTime());
        }
        try {
            return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX", java.util.Locale.ROOT).parse(h.id().substring(0, 16), Instant::from);
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    /** Fails with backup-not-found saying why {@code id} has no manifest: pruned, never completed, or unknown. */
    StrataException notFound(String id, String repoName) {
        Optional<HistoryRecord> h = find(id);
        String hint = "run \"strata list --repo " + repoName + "\" to see the backups";
        if (h.isPresent() && HistoryRecord.FOLDED.equals(h.get().state())) {
            Scan s = scan();
            Merge folding = foldingMerge(id, s.merged, s.manifests);
            String later = folding == null ? "the merge's result" : folding.into();
            return new StrataException(ErrorCode.BACKUP_NOT_FOUND, "backup " + id + " was " + h.get().error(),
                    "restore " + later + " for the later state it holds, or run \"strata list --repo " + repoName + "\" to see what remains");
        }
        if (h.isPresent() && HistoryRecord.PRUNED.equals(h.get().state())) {
            return new StrataException(ErrorCode.BACKUP_NOT_FOUND, "backup " + id + " was " + h.get().error(), hint);
        }
        if (h.isPresent()) {
            return new StrataException(ErrorCode.BACKUP_NOT_FOUND, "backup " + id + " did not complete (state " + h.get().state()
                    + (h.get().error() == null ? "" : ": " + h.get().error()) + ") and cannot be used",
                    "run \"strata list --repo " + repoName + "\" to see the completed backups");
        }
        return new StrataException(ErrorCode.BACKUP_NOT_FOUND, "no backup with id " + id + " in " + repoName, hint);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> read(String key) {
        return io.readJson(key, "history", Map.class, config.readCodec());
    }

    private void write(String key, Object value) {
        io.writeJson(key, "history", value, config.writeCodec(Compression.NONE));
    }
}
