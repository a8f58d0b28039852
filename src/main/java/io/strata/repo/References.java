package io.strata.repo;

import io.strata.error.CorruptDataException;

import java.util.HashMap;
import java.util.Map;

/**
 * Finds the stored object that holds a file entry's bytes: the backup's own object, or for a
 * reference entry ({@link FileEntry#ref()}) the object of the backup it names, following
 * {@code merged} markers to the backup that holds that backup's state now
 * (docs/repository-format.md, "Reference entries"). One instance per operation (thread-safe): it remembers the
 * manifests and markers it read (manifests never change), so resolving the references of 50,000
 * entries reads each holder's manifest once.
 */
public final class References {
    /** More hops than any chain of merges can make: a loop in the markers is damage. */
    private static final int MAX_HOPS = 1000;

    private final Repository repo;
    private final Map<String, Boolean> present = new HashMap<>();
    private final Map<String, Map<String, FileEntry>> byPath = new HashMap<>();

    public References(Repository repo) {
        this.repo = repo;
    }

    /**
     * Where an entry's bytes are.
     *
     * @param backup the id of the backup that holds the object
     * @param object the object's name in that backup ({@code data/NNNNNN})
     */
    public record Held(String backup, String object) {}

    /**
     * The object holding the bytes of entry {@code fe} of backup {@code owner}.
     *
     * @throws CorruptDataException when a reference names a backup that is neither stored nor
     *                              merged, or whose successor holds no entry of the same path, size and digest
     */
    public synchronized Held resolve(String owner, FileEntry fe) {
        if (!fe.isReference()) {
            return new Held(owner, fe.object());
        }
        if (!Keys.isBackupId(fe.ref())) {
            // never part of a key: a damaged or forged manifest must not name objects outside backups/
            throw new CorruptDataException(fe.path() + " of backup " + owner + " is a reference to \"" + fe.ref() + "\", which is no backup id",
                    "run \"strata verify --repo " + repo.root() + "\"");
        }
        String holder = fe.ref();
        String object = fe.object();
        for (int hop = 0; hop < MAX_HOPS; hop++) {
            if (stored(holder)) {
                return new Held(holder, object);
            }
            History.Merge merge = repo.history().merge(holder);
            if (merge == null) {
                throw damaged(owner, fe, "backup " + fe.ref() + " holds it, but " + holder + " has neither a manifest nor a merged marker");
            }
            String next = merge.into();
            if (stored(next)) {
                FileEntry there = byPath.computeIfAbsent(next, k -> index(repo.manifest(k))).get(fe.path());
                if (there == null || there.size() != fe.size() || !there.crc32c().equals(fe.crc32c())) {
                    throw damaged(owner, fe, "backup " + fe.ref() + " held it and was merged into " + next + ", which holds "
                            + (there == null ? "no such file" : "length " + there.size() + " digest " + there.crc32c()));
                }
                if (!there.isReference()) {
                    return new Held(next, there.object());
                }
                object = there.object();
                holder = there.ref();
            } else {
                holder = next;
            }
        }
        throw damaged(owner, fe, "the merged markers from backup " + fe.ref() + " make a loop");
    }

    /** Opens the object holding {@code fe}'s bytes (see {@link #resolve}), checking its content name. */
    public ChunkedReader open(String owner, FileEntry fe, String content) {
        Held h = resolve(owner, fe);
        return repo.openBackupObject(h.backup(), h.object(), content);
    }

    /** How messages name the object holding {@code fe}'s bytes (the unresolved reference when it cannot be resolved). */
    public String describe(String owner, FileEntry fe) {
        if (!fe.isReference()) {
            return repo.describeBackupObject(owner, fe.object());
        }
        try {
            Held h = resolve(owner, fe);
            return repo.describeBackupObject(h.backup(), h.object());
        } catch (CorruptDataException e) {
            return "reference to " + fe.ref() + "/" + fe.object();
        }
    }

    private boolean stored(String id) {
        return present.computeIfAbsent(id, repo::hasManifest);
    }

    private static Map<String, FileEntry> index(Manifest m) {
        Map<String, FileEntry> out = new HashMap<>();
        for (FileEntry f : m.files()) {
            out.put(f.path(), f);
        }
        return out;
    }

    private CorruptDataException damaged(String owner, FileEntry fe, String why) {
        return new CorruptDataException(fe.path() + " of backup " + owner + " is a reference whose object is not stored: " + why
                + " (resource=" + repo.describeBackupObject(fe.ref(), fe.object()) + ")",
                "run \"strata verify --repo " + repo.root() + "\"; take a new full backup if the repository lost a backup");
    }
}
