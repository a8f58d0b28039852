package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * A backup and the backups its restore needs: the parent links followed back to a full backup.
 * Resolution checks what a restore relies on without reading any data: every member completed,
 * the same server throughout, and LSN continuity (each child's threshold is its parent's start
 * LSN, design rule 3).
 */
public final class Chain {
    private final List<Manifest> members;
    /**
     * Per member (same index), the space ids (sorted, never 0) of the unchanged tablespaces its
     * lean manifest left out: deltas of no pages, which add nothing to a file's composition.
     */
    private final List<long[]> unchanged;
    /** Per member (same index), its InnoDB files by space id: built on the first {@link #layers} call that needs it. */
    private final List<SpaceIndex> bySpace;

    private Chain(List<Manifest> members, List<long[]> unchanged) {
        this.members = members;
        this.unchanged = unchanged;
        this.bySpace = new ArrayList<>(Collections.nCopies(members.size(), null));
    }

    /** Oldest (the full backup) first, the requested backup last. */
    public List<Manifest> members() { return members; }

    public Manifest target() { return members.get(members.size() - 1); }

    /**
     * The same chain with its target replaced by {@code narrowed}, a manifest of the same backup
     * (a table restore's, holding fewer files and a scope). The other members stay as stored: a
     * delta file of the target still finds its layers in them.
     *
     * @throws IllegalArgumentException when {@code narrowed} is of another backup
     */
    public Chain withTarget(Manifest narrowed) {
        if (!narrowed.id().equals(target().id())) {
            throw new IllegalArgumentException("manifest " + narrowed.id() + " is not of backup " + target().id());
        }
        List<Manifest> out = new ArrayList<>(members);
        out.set(out.size() - 1, narrowed);
        return new Chain(out, unchanged);
    }

    public List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (Manifest m : members) {
            ids.add(m.id());
        }
        return ids;
    }

    /** How much of the older members' manifests a chain keeps. */
    private enum Keep {
        /** Every entry: for copying the backups. */
        WHOLE,
        /** The target's parent keeps its InnoDB entries, the older members as {@link #PAGES}: a merge folds the last two layers. */
        INNODB,
        /** The InnoDB entries that add pages: restore, verify, list. */
        PAGES
    }

    /**
     * The chain of backup {@code id}: its target whole, every older member lean (its InnoDB files
     * that add pages; the space ids of the unchanged ones), which is what a restore composes and
     * what verify and list check. At 50,000 tables a manifest has 100,000 entries: a full + 7
     * chain held whole ran a restore out of its heap, and 50,000 unchanged tablespaces are as
     * many empty deltas per member to open for nothing.
     *
     * @throws StrataException backup-not-found, chain-broken, corrupt-data or format-too-new
     */
    public static Chain resolve(Repository repo, String id) {
        return resolve(repo, id, Keep.PAGES);
    }

    /**
     * As {@link #resolve(Repository, String)}, the target's parent keeping all its InnoDB entries,
     * so that the last two {@link #layers} of a file are the target's and its parent's versions:
     * what a merge folds.
     */
    public static Chain resolveForMerge(Repository repo, String id) {
        return resolve(repo, id, Keep.INNODB);
    }

    /**
     * As {@link #resolve(Repository, String)}, with every member whole: for copying the chain's
     * backups to another repository, which needs every entry of every member.
     */
    public static Chain resolveWhole(Repository repo, String id) {
        return resolve(repo, id, Keep.WHOLE);
    }

    /**
     * {@code m} with only what a member older than the target is read for: its InnoDB files,
     * whose versions {@link #layers} finds, without their stat (read by a backup from its parent,
     * never from a chain); with {@code unchanged} non-null, also without the deltas of no pages
     * of space ids other than 0, whose ids go to {@code unchanged}. The other fields are kept.
     */
    static Manifest lean(Manifest m, List<Long> unchanged) {
        List<FileEntry> innodb = new ArrayList<>();
        for (FileEntry f : m.files()) {
            if (!"innodb".equals(f.kind())) {
                continue;
            }
            if (unchanged != null && f.isDelta() && f.deltaPages() == 0 && f.spaceId() != null && f.spaceId() != 0) {
                unchanged.add(f.spaceId());
                continue;
            }
            innodb.add(f.stat() == null ? f : new FileEntry(f.path(), f.kind(), f.spaceId(), f.flags(), f.size(), f.pages(), f.storage(),
                    f.deltaPages(), f.object(), f.storedBytes(), f.crc32c(), f.home(), f.location(), null, f.ref()));
        }
        return m.toBuilder().files(innodb).build();
    }

    /**
     * The ids of backup {@code id}'s chain, full backup first, checked as {@link #resolve} checks
     * it, with the manifests read through {@code read} (in place of {@link Repository#manifest}:
     * a caller's cache of them, with or without their files, when it resolves many chains).
     *
     * @throws StrataException as {@link #resolve}
     */
    public static List<String> ids(Repository repo, String id, Function<String, Manifest> read) {
        return resolve(repo, id, Keep.WHOLE, read).ids();
    }

    private static Chain resolve(Repository repo, String id, Keep keep) {
        return resolve(repo, id, keep, repo::manifest);
    }

    private static Chain resolve(Repository repo, String id, Keep keep, Function<String, Manifest> read) {
        List<Manifest> out = new ArrayList<>();
        List<long[]> unchanged = new ArrayList<>();
        Manifest m = read.apply(id);
        out.add(m);
        unchanged.add(new long[0]);
        while (m.parent() != null) {
            Manifest child = m;
            Manifest parent;
            try {
                parent = read.apply(child.parent());
            } catch (StrataException e) {
                if (e.code() == ErrorCode.CORRUPT_DATA || e.code() == ErrorCode.FORMAT_TOO_NEW) {
                    throw e;
                }
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "backup " + id + " needs backup " + child.parent()
                        + " (the parent of " + child.id() + "), which is not a completed backup in " + repo.root() + ": " + e.getMessage(),
                        "restore an older backup whose chain is complete, or take a new full backup");
            }
            if (!parent.source().serverKey().equals(child.source().serverKey())) {
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "backup " + child.id() + " is from " + child.source().serverKey()
                        + " but its parent " + parent.id() + " is from " + parent.source().serverKey(), "the repository was edited by hand; take a new full backup");
            }
            if (!java.util.Objects.equals(parent.lineageId(), child.lineageId())) {
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "backup " + child.id() + " is of lineage " + Lineage.shortId(child.lineageId())
                        + " but its parent " + parent.id() + " is of lineage " + Lineage.shortId(parent.lineageId())
                        + ": the chain joins two histories of the data directory and restores to data that never existed",
                        "restore " + parent.id() + " or an older backup, or take a new full backup");
            }
            if (child.threshold() == null || child.threshold() != parent.startLsn()) {
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "backup " + child.id() + " stores pages newer than LSN " + child.threshold()
                        + " but its parent " + parent.id() + " starts at LSN " + parent.startLsn() + ": the chain has a gap",
                        "restore an older backup, or take a new full backup");
            }
            List<Long> skipped = keep == Keep.PAGES || keep == Keep.INNODB && out.size() > 1 ? new ArrayList<>() : null;
            out.add(keep == Keep.WHOLE ? parent : lean(parent, skipped));
            unchanged.add(skipped == null ? new long[0] : skipped.stream().mapToLong(Long::longValue).sorted().toArray());
            m = parent;
        }
        if (!m.isFull()) {
            throw new StrataException(ErrorCode.CHAIN_BROKEN, "backup " + id + " rests on backup " + m.id() + " (" + m.type() + ", threshold LSN "
                    + m.threshold() + "), which has no parent in this repository" + (m.note() == null ? "" : ": " + m.note()),
                    "strata can restore only chains that begin with a full backup in the repository");
        }
        Collections.reverse(out);
        Collections.reverse(unchanged);
        return new Chain(out, unchanged);
    }

    /** One stored version of a file: a whole copy or a delta of one chain member. */
    public record Layer(Manifest backup, FileEntry entry) {}

    /**
     * The stored versions a file of the target is composed of: the whole copy it rests on first,
     * then the deltas, oldest to newest. InnoDB files are followed by space id, so renames are
     * followed and a new space id behind an old path never picks up another file's pages.
     */
    public List<Layer> layers(FileEntry file) {
        List<Layer> layers = new ArrayList<>();
        int i = members.size() - 1;
        FileEntry e = file;
        layers.add(new Layer(members.get(i), e));
        while (e.isDelta()) {
            i--;
            if (i < 0) {
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "file " + file.path() + " (space " + file.spaceId() + ") of backup " + target().id()
                        + " is stored as pages changed since the full backup, but the full backup does not hold it", "take a new full backup");
            }
            FileEntry found = null;
            SpaceIndex index = innodbFiles(i);
            long space = file.spaceId();
            for (int k = index.first(space); k < index.ids.length && index.ids[k] == space; k++) {
                // the files of a system tablespace of several all hold space 0: matched by path too
                if (space != 0 || file.path().equals(index.files[k].path())) {
                    found = index.files[k];
                    break;
                }
            }
            if (found == null && space != 0 && java.util.Arrays.binarySearch(unchanged.get(i), space) >= 0) {
                continue; // unchanged there (a delta of no pages, left out of the lean manifest): older members hold its pages
            }
            if (found == null) {
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "file " + file.path() + " (space " + file.spaceId() + ") is a delta in backup "
                        + members.get(i + 1).id() + " but its parent " + members.get(i).id() + " has no space " + file.spaceId(),
                        "the repository is damaged; take a new full backup");
            }
            e = found;
            layers.add(new Layer(members.get(i), e));
        }
        Collections.reverse(layers);
        return layers;
    }

    /**
     * Member {@code i}'s InnoDB files by space id: a restore looks up every file of the target in
     * each older member, and a linear search of a 50,000-file manifest for each of 50,000 files
     * took 1.25 * 10^9 comparisons per member.
     */
    private synchronized SpaceIndex innodbFiles(int i) {
        SpaceIndex index = bySpace.get(i);
        if (index == null) {
            index = SpaceIndex.of(members.get(i).files());
            bySpace.set(i, index);
        }
        return index;
    }

    /**
     * The InnoDB files of one manifest sorted by space id (files of one space id in manifest
     * order), as two arrays: 12 bytes a file where a hash map of lists took some 100.
     */
    private static final class SpaceIndex {
        final long[] ids;
        final FileEntry[] files;

        private SpaceIndex(long[] ids, FileEntry[] files) {
            this.ids = ids;
            this.files = files;
        }

        static SpaceIndex of(List<FileEntry> all) {
            List<FileEntry> innodb = new ArrayList<>();
            for (FileEntry c : all) {
                if ("innodb".equals(c.kind()) && c.spaceId() != null) {
                    innodb.add(c);
                }
            }
            innodb.sort(Comparator.comparingLong(FileEntry::spaceId)); // stable: one space id's files keep their order
            long[] ids = new long[innodb.size()];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = innodb.get(k).spaceId();
            }
            return new SpaceIndex(ids, innodb.toArray(new FileEntry[0]));
        }

        /** The first position holding {@code space}, or where it would be. */
        int first(long space) {
            int lo = 0;
            int hi = ids.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (ids[mid] < space) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }
}
