package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.BinlogArchive.Pos;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.function.Consumer;

/**
 * Retention of archived binlogs, the second half of {@link Prune} (docs/repository-format.md,
 * "Binlog archive", rule 7). Per archive directory (one source server), prune removes a prefix of
 * the archive: every archived file before the <em>cut</em>, never one at or after it. The cut is
 * the earliest of:
 * <ol>
 * <li>the binlog file of the oldest kept backup of that server whose binlog position lies in the
 *     archive (placed as restore places it: {@link BinlogArchive#place}; a name no placement
 *     finds goes to the oldest timeline holding it). From there on the archive holds every window
 *     a kept backup promises. Backups without a binlog position (log_bin off) promise none;</li>
 * <li>without such a backup (a server never backed up into this repository, or whose kept
 *     backups are all ahead of the archive): with {@code keepDays}, the first file whose
 *     successor the server created after the cutoff (a file goes when everything in it was
 *     written before the cutoff); without {@code keepDays}, the archive's first file (nothing
 *     goes: no backup, no promise, no age limit either);</li>
 * <li>the newest archived file of the newest timeline: an archiver continues from it;</li>
 * <li>while an archiver runs (its lock is held), the first file it may still touch: one not
 *     closed, damaged, or not yet compacted into one segment.</li>
 * </ol>
 * Removing a prefix keeps the archive one contiguous run from its (new) start, so that no removed
 * file ever reads as damage, and {@link BinlogArchive#pruneBefore} records the new start before
 * it deletes anything.
 */
public final class BinlogRetention {
    private BinlogRetention() {}

    /** One archived file prune removes: its timeline, name, segments and stored bytes (data and summaries). */
    public record RemovedFile(int timeline, String file, int segments, long bytes) {}

    /**
     * The verdict for one archive directory.
     *
     * @param server   the source's server key (null when its source record is missing)
     * @param archive  the archive's folder as messages name it
     * @param removed  the files before the cut, oldest first; empty when nothing goes
     * @param records  gap and timeline records, and leftovers of an interrupted prune, that go too
     * @param bytes    stored bytes of every object that goes
     * @param cut      the first file kept (offset 0), null when the archive has no file
     * @param reason   why the cut lies where it does
     * @param notes    what a DBA should know (an archiver ran, a backup not in the archive, ...)
     */
    public record SourcePlan(String server, String archive, List<RemovedFile> removed, int records, long bytes, Pos cut,
                             String reason, List<String> notes) {
        /** The first file kept, "t0001 binlog.000004"; null when the archive has no file. */
        public String keptFrom() {
            return cut == null ? null : tf(cut);
        }

        /** "t0001 binlog.000001 to t0001 binlog.000003", or null when no file goes. */
        public String range() {
            if (removed.isEmpty()) {
                return null;
            }
            RemovedFile a = removed.get(0);
            RemovedFile b = removed.get(removed.size() - 1);
            return String.format(java.util.Locale.ROOT, "t%04d %s to t%04d %s", a.timeline(), a.file(), b.timeline(), b.file());
        }

        public long segments() {
            return removed.stream().mapToLong(RemovedFile::segments).sum();
        }
    }

    /**
     * Plans and, unless {@code dryRun}, removes the archived binlogs no kept backup needs, source
     * by source; prints each verdict to {@code out}. In a real run, the caller holds the writer
     * lock and this takes each archiver's lock while it removes that source's files (an archiver
     * that holds it keeps it: prune then leaves what it may still touch).
     *
     * @param kept    the manifests of the backups prune keeps (every stored manifest it does not remove)
     * @param damaged whether a stored manifest could not be read: then nothing is removed (it could be a kept backup of any server)
     * @throws StrataException format-too-new or corrupt-data when an archive's records cannot be read
     */
    public static List<SourcePlan> run(Repository repo, List<Manifest> kept, boolean damaged, Integer keepDays, Instant now, boolean dryRun,
                                       Consumer<String> out) {
        List<SourcePlan> plans = new ArrayList<>();
        String verb = dryRun ? "would remove" : "remove";
        for (String dir : BinlogArchive.sourceDirs(repo)) {
            String lockName = BinlogArchive.lockName(dir);
            RepoLock lock = null;
            String archiver = null;
            if (dryRun) {
                Long pid = repo.lockHolderPid(lockName);
                archiver = pid == null ? null : "an archiver (pid " + pid + ") is running";
            } else {
                try {
                    lock = repo.lock(lockName, "the archiver of " + dir + " is running", null);
                } catch (StrataException e) {
                    if (e.code() != ErrorCode.REPO_LOCKED) {
                        throw e;
                    }
                    Long pid = repo.lockHolderPid(lockName);
                    archiver = "an archiver" + (pid == null ? "" : " (pid " + pid + ")") + " is running";
                }
            }
            try {
                BinlogArchive a = BinlogArchive.load(repo, dir);
                SourcePlan p = plan(a, kept, damaged, keepDays, now, archiver, repo.store().listSizes(a.prefix()));
                plans.add(p);
                String who = "binlogs of " + (p.server() == null ? p.archive() : p.server());
                if (p.removed().isEmpty()) {
                    out.accept("keep   " + who + (p.keptFrom() == null ? "" : " from " + p.keptFrom()) + ": " + p.reason()
                            + (p.records() > 0 ? "; " + verb + " " + p.records() + " record(s) before it" : ""));
                } else {
                    out.accept(String.format(java.util.Locale.ROOT, "%s %s %s: %d file(s), %d segment(s), %d bytes: %s; keep from %s", verb, who, p.range(),
                            p.removed().size(), p.segments(), p.bytes(), p.reason(), p.keptFrom()));
                }
                for (String n : p.notes()) {
                    out.accept("note   " + who + ": " + n);
                }
                if (!dryRun && (!p.removed().isEmpty() || p.records() > 0)) {
                    a.pruneBefore(p.cut(), now.toString());
                }
            } finally {
                if (lock != null) {
                    lock.close();
                }
            }
        }
        return plans;
    }

    /**
     * The verdict for one archive (nothing is deleted here).
     *
     * @param archiver why an archiver may be running, or null when none can be
     * @param sizes    stored sizes of the archive's objects, by key
     */
    static SourcePlan plan(BinlogArchive a, List<Manifest> kept, boolean damaged, Integer keepDays, Instant now, String archiver,
                           SortedMap<String, Long> sizes) {
        List<String> notes = new ArrayList<>();
        String server = a.source() == null ? null : a.source().serverKey();
        List<ArchivedBinlog> all = a.allFiles();
        int leftovers = a.prunedLeftovers().size();
        if (all.isEmpty()) {
            return new SourcePlan(server, a.describe(), List.of(), 0, 0, null, "nothing is archived", notes);
        }
        Pos cut = new Pos(all.get(0).timeline(), all.get(0).name(), 0);
        String reason;
        if (server == null) {
            reason = "the archive has no source record, so no backup can be matched to it: it is kept whole (run \"strata verify\")";
        } else if (damaged) {
            reason = "a stored manifest cannot be read, so the backups that need these binlogs are unknown: they are kept";
        } else {
            Pos oldest = null;
            Manifest oldestBy = null;
            boolean anyKept = false;
            for (Manifest m : kept) {
                if (!server.equals(m.source().serverKey())) {
                    continue;
                }
                anyKept = true;
                if (m.binlogFile() == null || m.binlogPosition() == null) {
                    continue; // log_bin off: restorable to its own point only
                }
                Pos p = a.place(m.binlogFile(), m.binlogPosition(), Instant.parse(m.endTime()).getEpochSecond());
                if (p.timeline() == 0) {
                    p = oldestHolding(a, m.binlogFile(), m.binlogPosition());
                }
                if (p == null) {
                    notes.add("kept backup " + m.id() + " at " + m.binlogFile() + ":" + m.binlogPosition()
                            + " is not in the archive (taken before the archive starts, or not archived yet): no archived binlog serves it");
                    continue;
                }
                if (oldest == null || p.compareTo(oldest) < 0) {
                    oldest = p;
                    oldestBy = m;
                }
            }
            if (oldest != null) {
                cut = new Pos(oldest.timeline(), oldest.file(), 0);
                reason = tf(cut) + " holds the binlog position " + oldest + " of backup " + oldestBy.id()
                        + ", the oldest kept backup of this server: every window a kept backup promises starts there or later";
            } else if (keepDays != null) {
                long cutoff = now.minus(Duration.ofDays(keepDays)).getEpochSecond();
                int i = 0;
                while (i + 1 < all.size() && all.get(i + 1).created() < cutoff) {
                    i++;
                }
                cut = new Pos(all.get(i).timeline(), all.get(i).name(), 0);
                reason = (anyKept ? "no kept backup of this server has a binlog position in the archive"
                        : "no backup of this server is kept") + ": the files written entirely before the " + keepDays + "-day cutoff "
                        + Instant.ofEpochSecond(cutoff) + " go";
            } else {
                reason = (anyKept ? "no kept backup of this server has a binlog position in the archive" : "no backup of this server is kept")
                        + ", so no window limits the archive: it is kept whole (--keep-days D removes its files older than D days)";
            }
        }
        ArchivedBinlog newest = all.get(all.size() - 1);
        Pos newestPos = new Pos(newest.timeline(), newest.name(), 0);
        if (newestPos.compareTo(cut) < 0) {
            cut = newestPos;
            reason += "; the newest archived file " + tf(cut) + " stays (an archiver continues from it)";
        }
        if (archiver != null) {
            notes.add(archiver + ": files it may still write or compact are kept");
            for (ArchivedBinlog f : all) {
                Pos p = new Pos(f.timeline(), f.name(), 0);
                if (p.compareTo(cut) >= 0) {
                    break;
                }
                if (!f.closed() || f.damaged() || f.segments().size() != 1) {
                    cut = p;
                    reason += "; " + tf(cut) + " stays (not yet closed and compacted while an archiver runs)";
                    break;
                }
            }
        }
        List<RemovedFile> removed = new ArrayList<>();
        long bytes = 0;
        Set<String> fileKeys = new java.util.HashSet<>();
        for (ArchivedBinlog f : all) {
            if (new Pos(f.timeline(), f.name(), 0).compareTo(cut) >= 0) {
                break;
            }
            String data0 = a.segmentKey(f.timeline(), f.name(), 0, 0);
            String dirKey = data0.substring(0, data0.lastIndexOf('/') + 1);
            long b = 0;
            for (Map.Entry<String, Long> e : sizes.subMap(dirKey, dirKey + Character.MAX_VALUE).entrySet()) {
                b += e.getValue();
                fileKeys.add(e.getKey());
            }
            removed.add(new RemovedFile(f.timeline(), f.name(), f.segments().size(), b));
            bytes += b;
        }
        int records = leftovers;
        for (String k : a.prunedLeftovers()) {
            bytes += sizes.getOrDefault(k, 0L);
        }
        for (BinlogArchive.Gap g : a.gaps()) {
            if (g.timeline() < cut.timeline() || g.afterFile() != null && g.timeline() == cut.timeline()
                    && BinlogArchive.fileNumber(g.afterFile()) < BinlogArchive.fileNumber(cut.file())) {
                records++;
            }
        }
        records += a.timelines().headMap(cut.timeline()).size();
        if (leftovers > 0) {
            notes.add(leftovers + " object(s) left by an interrupted prune before " + tf(a.prunedStart()) + " go too");
        }
        return new SourcePlan(server, a.describe(), removed, records, bytes, cut, reason, notes);
    }

    /** A kept backup's position when placement by time finds no timeline: the oldest timeline that holds a file of that name. */
    private static Pos oldestHolding(BinlogArchive a, String file, long position) {
        for (int t : a.timelines().keySet()) {
            if (a.file(t, file) != null) {
                return new Pos(t, file, position);
            }
        }
        return null;
    }

    private static String tf(Pos p) {
        return String.format(java.util.Locale.ROOT, "t%04d %s", p.timeline(), p.file());
    }
}
