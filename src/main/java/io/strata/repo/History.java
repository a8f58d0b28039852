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
import java.util.TreeMap;

/**
 * The history of a repository: one record set per attempt below {@code history/<id>/}
 * (docs/repository-format.md, "History").
 *
 * <pre>
 * key                     content    written
 * history/&lt;id&gt;/begin      history    when the attempt starts ({@link HistoryRecord}, state running)
 * history/&lt;id&gt;/end        history    when it ends: completed, or failed with the reason
 * history/&lt;id&gt;/progress   progress   plain JSON, rewritten while a backup runs (no key needed to read)
 * history/&lt;id&gt;/merged     history    {"id", "mergedInto", "time"}: merge moved the backup's state
 * history/&lt;id&gt;/pruned     history    {"id", "time", "reason"}: prune removed the backup
 * </pre>
 * An attempt with a begin record and neither an end record nor a live writer (the writer lock's
 * holder is another pid) failed: its process ended before it completed. One whose manifest is
 * stored but whose end record is missing completed (the process stopped in between).
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

    /** Stores the begin record of an attempt. */
    public void begin(HistoryRecord r) {
        write(Keys.history(r.id(), Keys.BEGIN), r);
    }

    /** Stores the end record of an attempt (completed, or failed with its reason). */
    public void end(HistoryRecord r) {
        write(Keys.history(r.id(), Keys.END), r);
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

    /** The newest attempt (by id, i.e. start time) that wrote a progress record, or null. */
    public String newestWithProgress() {
        String newest = null;
        for (String k : io.store().list(Keys.HISTORY)) {
            if (k.endsWith("/" + Keys.PROGRESS)) {
                String id = k.split("/")[1];
                newest = newest == null || id.compareTo(newest) > 0 ? id : newest;
            }
        }
        return newest;
    }

    /** The backup that took over a merged backup's state, or null. */
    public String mergedInto(String id) {
        String key = Keys.history(id, Keys.MERGED);
        if (!io.store().exists(key)) {
            return null;
        }
        return (String) read(key).get("mergedInto");
    }

    /** Records that {@code id}'s state is now held by {@code successor} (written before id is deleted). */
    public void markMerged(String id, String successor) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("mergedInto", successor);
        m.put("time", Instant.now().toString());
        write(Keys.history(id, Keys.MERGED), m);
    }

    /** Records that a backup is being removed by prune, and why (written before anything is removed). */
    public void markPruned(String id, String reason) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("time", Instant.now().toString());
        m.put("reason", reason);
        write(Keys.history(id, Keys.PRUNED), m);
    }

    /** The attempt {@code id} as {@link #attempts()} shows it, if there is one. */
    public Optional<HistoryRecord> find(String id) {
        return attempts().stream().filter(x -> x.id().equals(id)).findFirst();
    }

    /** Completed backups, oldest first. */
    public List<String> completedIds() {
        List<String> out = new ArrayList<>();
        for (HistoryRecord h : attempts()) {
            if (HistoryRecord.COMPLETED.equals(h.state())) {
                out.add(h.id());
            }
        }
        return out;
    }

    /** Every attempt, oldest first, with its state as described in the class comment. */
    public List<HistoryRecord> attempts() {
        Map<String, HistoryRecord> begins = new TreeMap<>();
        Map<String, HistoryRecord> ends = new TreeMap<>();
        Map<String, Map<String, Object>> pruned = new TreeMap<>();
        for (String k : io.store().list(Keys.HISTORY)) {
            String[] parts = k.split("/");
            if (parts.length != 3) {
                continue;
            }
            switch (parts[2]) {
                case Keys.BEGIN -> begins.put(parts[1], io.readJson(k, "history", HistoryRecord.class, config.readCodec()));
                case Keys.END -> ends.put(parts[1], io.readJson(k, "history", HistoryRecord.class, config.readCodec()));
                case Keys.PRUNED -> pruned.put(parts[1], read(k));
                default -> { }
            }
        }
        Long writer = null;
        boolean writerKnown = false;
        List<HistoryRecord> out = new ArrayList<>();
        for (var e : begins.entrySet()) {
            HistoryRecord end = ends.get(e.getKey());
            HistoryRecord b = e.getValue();
            Map<String, Object> p = pruned.get(e.getKey());
            if (!writerKnown && end == null && p == null) {
                writer = locks.writerPid();
                writerKnown = true;
            }
            if (p != null) {
                HistoryRecord base = end != null ? end : b;
                out.add(base.withState(HistoryRecord.PRUNED, base.endTime(), "removed by strata prune at " + p.get("time") + ": " + p.get("reason")));
            } else if (end != null) {
                out.add(end);
            } else if (io.store().exists(Keys.manifest(b.id()))) {
                // the process stopped between storing the manifest and the end record: complete
                out.add(HistoryRecord.completed(b, Manifest.read(io, config.readCodec(), b.id())));
            } else if (writer != null && writer.equals(b.pid())) {
                out.add(b);
            } else {
                out.add(b.withState(HistoryRecord.FAILED, null,
                        "interrupted: the backup process (pid " + b.pid() + ") ended before the backup completed (killed, crashed or machine stopped)"));
            }
        }
        // ids sort by second only; the begin time orders attempts started within one second
        out.sort(Comparator.comparing((HistoryRecord h) -> Instant.parse(h.beginTime())).thenComparing(HistoryRecord::id));
        return out;
    }

    /** Fails with backup-not-found saying why {@code id} has no manifest: pruned, never completed, or unknown. */
    StrataException notFound(String id, String repoName) {
        Optional<HistoryRecord> h = find(id);
        String hint = "run \"strata list --repo " + repoName + "\" to see the backups";
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
