package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StorageException;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Retention: which completed backups to keep, and removing the rest with what failed attempts
 * left behind. Per server (source.serverKey):
 * <ol>
 * <li>the newest {@code keepFull} full backups, and every backup that rests on one of them;</li>
 * <li>with {@code keepDays}, every backup that ended within that many days, and the newest one
 *     that ended before that cutoff: points in time from the cutoff until the next backup are
 *     restored from it (plus binlogs), so it belongs to the window the retention promises;</li>
 * <li>every backup a kept backup's restore reads (its parent links back to the full), so no
 *     chain is ever broken, differentials included.</li>
 * </ol>
 * At least one of {@code keepFull} and {@code keepDays} is given. Everything else is removed,
 * children before parents: first history/ID/pruned (why and when), then the manifest (from here
 * the backup is not complete), then its objects. Then the archived binlogs no kept backup needs go
 * ({@link BinlogRetention}). Tracking data is never touched.
 */
public final class Prune {
    private Prune() {}

    /** A completed backup as retention sees it. */
    public record Item(String id, String type, String parent, String server, Instant end) {
        boolean isFull() {
            return Manifest.TYPE_FULL.equals(type);
        }
    }

    /**
     * Verdicts in id order: for each backup, kept or not and why; warnings name broken chains
     * (a backup whose parent's manifest is missing), which are kept, never removed.
     */
    public record Plan(Map<String, String> keep, Map<String, String> remove, List<String> warnings) {}

    /**
     * Checks the retention options: at least one given, {@code keepFull} at least 1, {@code keepDays} not negative.
     *
     * @throws StrataException usage otherwise
     */
    public static void requireRetention(Integer keepFull, Integer keepDays) {
        if (keepFull == null && keepDays == null) {
            throw new StrataException(ErrorCode.USAGE, "prune needs a retention: --keep-full N, --keep-days D, or both",
                    "for example \"strata prune --keep-days 14\"; add --dry-run to see what would be removed");
        }
        if (keepFull != null && keepFull < 1) {
            throw new StrataException(ErrorCode.USAGE, "--keep-full must be at least 1, got " + keepFull, "prune never removes every full backup");
        }
        if (keepDays != null && keepDays < 0) {
            throw new StrataException(ErrorCode.USAGE, "--keep-days must not be negative, got " + keepDays, null);
        }
    }

    public static Plan plan(List<Item> items, Integer keepFull, Integer keepDays, Instant now) {
        requireRetention(keepFull, keepDays);
        Map<String, Item> byId = new HashMap<>();
        for (Item i : items) {
            byId.put(i.id(), i);
        }
        Map<String, String> keep = new TreeMap<>();
        Map<String, List<Item>> byServer = new TreeMap<>();
        for (Item i : items) {
            byServer.computeIfAbsent(i.server(), k -> new ArrayList<>()).add(i);
        }
        Comparator<Item> newestFirst = Comparator.comparing(Item::end).thenComparing(Item::id).reversed();
        for (List<Item> mine : byServer.values()) {
            mine.sort(newestFirst);
            List<String> fulls = new ArrayList<>();
            for (Item i : mine) {
                if (keepFull != null && i.isFull() && fulls.size() < keepFull) {
                    fulls.add(i.id());
                    keep.put(i.id(), "one of the newest " + keepFull + " full backup(s)");
                }
            }
            for (Item i : mine) {
                String root = rootOf(i, byId);
                if (!keep.containsKey(i.id()) && root != null && fulls.contains(root)) {
                    keep.put(i.id(), "rests on kept full backup " + root);
                }
            }
            if (keepDays != null) {
                Instant cutoff = now.minus(Duration.ofDays(keepDays));
                boolean baseFound = false;
                for (Item i : mine) {
                    if (!i.end().isBefore(cutoff)) {
                        keep.putIfAbsent(i.id(), "taken within the last " + keepDays + " day(s)");
                    } else if (!baseFound) {
                        baseFound = true;
                        keep.putIfAbsent(i.id(), "the newest backup before the " + keepDays + "-day cutoff " + cutoff
                                + ": the base for points in time from the cutoff to the next backup");
                    }
                }
            }
        }
        // never break a chain: what a kept backup's restore reads is kept too
        for (String id : new ArrayList<>(keep.keySet())) {
            Item i = byId.get(id);
            while (i != null && i.parent() != null) {
                Item p = byId.get(i.parent());
                if (p == null) {
                    break; // the chain is already broken; verify and restore say so
                }
                keep.putIfAbsent(p.id(), "needed to restore " + id);
                i = p;
            }
        }
        Map<String, String> remove = new TreeMap<>();
        List<String> warnings = new ArrayList<>();
        for (Item i : items) {
            String root = rootOf(i, byId);
            if (root == null && !i.isFull()) {
                // a broken chain is damage to report, not age to judge: what rests on a lost
                // manifest is the only copy of its changes
                String missing = missingParent(i, byId);
                keep.putIfAbsent(i.id(), "its chain is broken (backup " + missing + " has no manifest): kept, never removed by prune");
                warnings.add("broken chain: " + i.type() + " backup " + i.id() + " rests on backup " + missing
                        + ", whose manifest is missing; it was kept (run \"strata verify\"; remove it by hand once it is not needed)");
            } else if (!keep.containsKey(i.id())) {
                remove.put(i.id(), (root == null || root.equals(i.id()) ? i.type() + " backup" : i.type() + " backup on full " + root)
                        + " outside the retention (" + retention(keepFull, keepDays) + ") and needed by no kept backup");
            }
        }
        return new Plan(keep, remove, warnings);
    }

    /** The retention options as given: "--keep-full 2, --keep-days 7". */
    static String retention(Integer keepFull, Integer keepDays) {
        return (keepFull == null ? "" : "--keep-full " + keepFull) + (keepFull != null && keepDays != null ? ", " : "")
                + (keepDays == null ? "" : "--keep-days " + keepDays);
    }

    /** The full backup a chain rests on, or null when a parent is missing. */
    private static String rootOf(Item i, Map<String, Item> byId) {
        Item x = i;
        for (int n = 0; n <= byId.size() && x != null; n++) {
            if (x.parent() == null) {
                return x.isFull() ? x.id() : null;
            }
            x = byId.get(x.parent());
        }
        return null;
    }

    /** The first parent on {@code i}'s way to its full backup that is not among the items. */
    private static String missingParent(Item i, Map<String, Item> byId) {
        Item x = i;
        for (int n = 0; n <= byId.size() && x != null; n++) {
            if (x.parent() == null || !byId.containsKey(x.parent())) {
                return x.parent();
            }
            x = byId.get(x.parent());
        }
        return null;
    }

    /**
     * What prune did or, in a dry run, would do; warnings name what it kept because the repository
     * is damaged; {@code binlogs} holds the verdict for each binlog archive.
     */
    public record Result(Plan plan, List<String> leftovers, int unfinished, List<String> warnings, List<BinlogRetention.SourcePlan> binlogs) {}

    /**
     * Plans and, unless {@code dryRun}, carries out the retention; prints each decision to {@code out}.
     * Takes the writer lock for a real run.
     */
    public static Result run(Repository repo, Integer keepFull, Integer keepDays, boolean dryRun, Consumer<String> out) {
        requireRetention(keepFull, keepDays);
        if (dryRun) {
            return execute(repo, keepFull, keepDays, true, out);
        }
        try (RepoLock lock = repo.lock()) {
            return execute(repo, keepFull, keepDays, false, out);
        }
    }

    private static Result execute(Repository repo, Integer keepFull, Integer keepDays, boolean dryRun, Consumer<String> out) {
        List<HistoryRecord> history = repo.history().attempts();
        List<Item> items = new ArrayList<>();
        Map<String, HistoryRecord> byId = new LinkedHashMap<>();
        for (HistoryRecord h : history) {
            byId.put(h.id(), h);
            if (!HistoryRecord.COMPLETED.equals(h.state()) || !repo.hasManifest(h.id())) {
                continue; // failed, running, pruned, or merged away (its successor stands for it)
            }
            Manifest m = repo.manifestHead(h.id()); // the chain's links only: no file entries read
            String parent = m.parent();
            if (parent != null) {
                try {
                    parent = repo.manifestHead(parent).id(); // a merged parent resolves to its successor
                } catch (StrataException e) {
                    // a broken chain: the parent stays unknown, and nothing is kept for it
                }
            }
            items.add(new Item(m.id(), m.type(), parent, m.source().serverKey(), Instant.parse(m.endTime())));
        }
        Instant now = Instant.now();
        Plan plan = plan(items, keepFull, keepDays, now);
        String verb = dryRun ? "would remove" : "remove";
        for (var e : plan.keep().entrySet()) {
            out.accept("keep   " + e.getKey() + ": " + e.getValue());
        }
        for (var e : plan.remove().entrySet()) {
            out.accept(verb + " " + e.getKey() + ": " + e.getValue());
        }
        // leftovers: objects of attempts that did not complete, and of ids no history knows
        List<String> leftovers = new ArrayList<>();
        Map<String, Integer> objects = new TreeMap<>();
        for (String k : repo.store().list(Keys.BACKUPS)) {
            String[] parts = k.split("/");
            if (parts.length >= 3) {
                objects.merge(parts[1], 1, Integer::sum);
            }
        }
        List<String> warnings = new ArrayList<>(plan.warnings());
        for (var e : objects.entrySet()) {
            HistoryRecord h = byId.get(e.getKey());
            if (repo.hasManifest(e.getKey())) {
                continue; // a stored manifest is a backup whatever history says: only the retention removes it
            }
            boolean running = h != null && HistoryRecord.RUNNING.equals(h.state());
            boolean lostManifest = h != null && HistoryRecord.COMPLETED.equals(h.state()) && repo.history().mergedInto(h.id()) == null;
            if (lostManifest) {
                warnings.add("backup " + h.id() + " completed but its manifest is missing: its " + e.getValue()
                        + " object(s) are kept, nothing can restore it; \"strata verify\" names the backups that rest on it");
            } else if (!running) {
                leftovers.add(e.getKey());
                out.accept(verb + " leftovers of " + (h == null ? "unknown attempt " : h.state() + " attempt ") + e.getKey() + ": "
                        + e.getValue() + " object(s)");
            }
        }
        if (dryRun) {
            List<BinlogRetention.SourcePlan> binlogs = binlogs(repo, plan, keepDays, now, true, out);
            out.accept("dry run: nothing was removed; unfinished uploads below backups/ would also be discarded");
            return new Result(plan, leftovers, 0, warnings, binlogs);
        }
        // ids that resolve to a removed backup become pruned with it; folded ids resolve to nothing and stay folded
        Map<String, String> merged = new TreeMap<>();
        for (HistoryRecord h : history) {
            History.Merge into = repo.history().merge(h.id());
            if (into != null && !into.folded()) {
                merged.put(h.id(), into.into());
            }
        }
        List<String> order = new ArrayList<>(plan.remove().keySet());
        order.sort(Comparator.comparing((String id) -> Instant.parse(byId.get(id).beginTime())).thenComparing(id -> id).reversed());
        for (String id : order) {
            // the ids that resolve to it first (merged into it, or into an id merged into it): killed in between, none of them
            // resolves to a backup already marked removed
            for (var m : merged.entrySet()) {
                if (id.equals(resolve(merged, m.getValue()))) {
                    repo.history().markPruned(m.getKey(), "merged into " + id + ", which was removed");
                }
            }
            repo.history().markPruned(id, plan.remove().get(id));
            repo.deleteManifest(id);
            repo.deleteBackupObjects(id);
        }
        for (String id : leftovers) {
            repo.deleteBackupObjects(id);
        }
        int unfinished = repo.store().discardUnfinished(Keys.BACKUPS);
        if (unfinished > 0) {
            out.accept("discarded " + unfinished + " unfinished upload(s) below backups/");
        }
        // after the backups: a prune killed in between leaves binlogs that the next one removes
        List<BinlogRetention.SourcePlan> binlogs = binlogs(repo, plan, keepDays, now, false, out);
        return new Result(plan, leftovers, unfinished, warnings, binlogs);
    }

    /** The binlog retention for the backups {@code plan} keeps: every stored manifest it does not remove. */
    private static List<BinlogRetention.SourcePlan> binlogs(Repository repo, Plan plan, Integer keepDays, Instant now, boolean dryRun, Consumer<String> out) {
        Map<String, Manifest> known = new HashMap<>();
        List<Manifest> kept = new ArrayList<>();
        for (Manifest m : repo.storedManifests(known)) {
            if (!plan.remove().containsKey(m.id())) {
                kept.add(m);
            }
        }
        boolean damaged = known.entrySet().stream().anyMatch(e -> e.getValue() == null && !plan.remove().containsKey(e.getKey()));
        return BinlogRetention.run(repo, kept, damaged, keepDays, now, dryRun, out);
    }

    /** The backup that holds {@code id}'s state: {@code id} itself, or where the chain of {@code merged} (id to successor) ends. */
    static String resolve(Map<String, String> merged, String id) {
        String at = id;
        for (int i = 0; i <= merged.size() && merged.containsKey(at); i++) {
            at = merged.get(at);
        }
        return at;
    }
}
