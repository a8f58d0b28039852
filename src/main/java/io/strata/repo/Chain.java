package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A backup and the backups its restore needs: the parent links followed back to a full backup.
 * Resolution checks what a restore relies on without reading any data: every member completed,
 * the same server throughout, and LSN continuity (each child's threshold is its parent's start
 * LSN, design rule 3).
 */
public final class Chain {
    private final List<Manifest> members;

    private Chain(List<Manifest> members) {
        this.members = members;
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
        return new Chain(out);
    }

    public List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (Manifest m : members) {
            ids.add(m.id());
        }
        return ids;
    }

    public static Chain resolve(Repository repo, String id) {
        List<Manifest> out = new ArrayList<>();
        Manifest m = repo.manifest(id);
        out.add(m);
        while (m.parent() != null) {
            Manifest child = m;
            Manifest parent;
            try {
                parent = repo.manifest(child.parent());
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
            out.add(parent);
            m = parent;
        }
        if (!m.isFull()) {
            throw new StrataException(ErrorCode.CHAIN_BROKEN, "backup " + id + " rests on backup " + m.id() + " (" + m.type() + ", threshold LSN "
                    + m.threshold() + "), which has no parent in this repository" + (m.note() == null ? "" : ": " + m.note()),
                    "strata can restore only chains that begin with a full backup in the repository");
        }
        Collections.reverse(out);
        return new Chain(out);
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
            for (FileEntry c : members.get(i).files()) {
                // the files of a system tablespace of several all hold space 0: matched by path too
                if ("innodb".equals(c.kind()) && file.spaceId().equals(c.spaceId()) && (file.spaceId() != 0 || file.path().equals(c.path()))) {
                    found = c;
                    break;
                }
            }
            if (found == null) {
                throw new StrataException(ErrorCode.CHAIN_BROKEN, "file " + file.path() + " (space " + file.spaceId() + ") is a delta in backup "
                        + layers.get(layers.size() - 1).backup().id() + " but its parent " + members.get(i).id() + " has no space " + file.spaceId(),
                        "the repository is damaged; take a new full backup");
            }
            e = found;
            layers.add(new Layer(members.get(i), e));
        }
        Collections.reverse(layers);
        return layers;
    }
}
