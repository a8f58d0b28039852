package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Chain;
import io.strata.repo.ChunkedWriter;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.History;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.RepoLock;
import io.strata.repo.References;
import io.strata.repo.Repository;
import io.strata.repo.StoredObject;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Folds a backup into its parent. The result M is a new backup that holds exactly the state of
 * the folded backup B, on B's parent's parent: a synthetic full when the parent is a full backup.
 *
 * <p>Order of writes (docs/repository-format.md): M's objects, M's manifest (from here M is
 * complete and both M and B restore), then for B, and for the parent P when nothing else needs it,
 * a "merged" marker, the manifest's removal and the objects' removal. B's marker (same-state)
 * keeps resolving to M, so B's children and "restore --backup B" still work; P's (folded) resolves
 * to nothing, since M holds B's later state and P's own is stored nowhere: "restore --backup P"
 * then fails with backup-not-found. A P that other backups rest on is kept, with its own state.
 * Killed at any moment, every backup that was restorable stays restorable; leftovers are removed
 * by the next writer.
 */
public final class MergeRun {
    private MergeRun() {}

    /** Merges backup {@code id} into its parent in {@code repo} (opened by the caller, with the key when it is encrypted), under the writer lock. */
    public static Manifest run(Repository repo, String id, Consumer<String> log) {
        repo.requireKey();
        try (RepoLock lock = repo.lock()) {
            repo.cleanupIncomplete();
            // the chain's manifests are dropped before the retirement reads the history (tens of MB each at 50,000 tables)
            Written w = writeMerged(repo, id, log);
            retire(repo, id, w.merged().id(), false, log);
            if (!neededByOthers(repo, w.parent(), id)) {
                retire(repo, w.parent(), w.merged().id(), true, log);
            }
            return w.merged();
        }
    }

    /** The merge's result M, and the id of the parent P it folded. */
    private record Written(Manifest merged, String parent) {}

    /** Checks that {@code id} can be merged and writes M, with its history records; nothing is removed yet. */
    private static Written writeMerged(Repository repo, String id, Consumer<String> log) {
        Manifest b = repo.manifest(id);
        if (!b.id().equals(id)) {
            throw new StrataException(ErrorCode.USAGE, "backup " + id + " was already merged into " + b.id(), "merge " + b.id() + " instead");
        }
        if (b.parent() == null) {
            throw new StrataException(ErrorCode.USAGE, "backup " + id + " is a " + b.type() + " backup without a parent; there is nothing to fold it into",
                    "name an incremental or differential backup");
        }
        Chain chain = Chain.resolveForMerge(repo, id);
        Manifest p = chain.members().get(chain.members().size() - 2);
        String mid = Repository.newBackupId(Instant.now());
        String type = p.parent() == null ? Manifest.TYPE_FULL : p.type();
        HistoryRecord begin = new HistoryRecord(mid, type, HistoryRecord.RUNNING, p.parent(), Instant.now().toString(), null,
                "merge of " + p.id() + " and " + b.id(), null, null, null, null, null, null, null, null, null, ProcessHandle.current().pid());
        repo.history().begin(begin);
        try {
            Manifest m = write(repo, chain, p, b, mid, type, begin, log);
            repo.history().end(HistoryRecord.completed(begin, m));
            return new Written(m, p.id());
        } catch (IOException | StrataException e) {
            StrataException se = e instanceof IOException io ? StorageException.local("write", repo.root(), io) : (StrataException) e;
            try {
                repo.deleteBackupObjects(mid); // its packs dropped, nothing of it committed later
            } catch (RuntimeException ignored) {
                // the next writer's clean-up removes them
            }
            repo.history().end(begin.withState(HistoryRecord.FAILED, Instant.now().toString(), se.getMessage()));
            throw se;
        }
    }

    /**
     * Whether a stored backup other than {@code except} rests on {@code parent}: its parent link
     * names it, directly or through a merged id that resolves to it (a child of a backup merged
     * earlier names that backup's old id). The links come from the history records (a record's
     * parent is its manifest's), not from the manifests: at 50,000 tables a manifest is tens of
     * megabytes of heap, and reading every backup's in turn ran a merge out of memory.
     */
    private static boolean neededByOthers(Repository repo, String parent, String except) {
        for (HistoryRecord h : repo.history().attempts()) {
            String other = h.id();
            if (!HistoryRecord.COMPLETED.equals(h.state()) || other.equals(except) || h.parent() == null || !repo.hasManifest(other)) {
                continue;
            }
            if (parent.equals(h.parent()) || parent.equals(storedAs(repo, h.parent()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The stored backup whose manifest backup {@code id} resolves to ({@link Repository#manifest}):
     * {@code id} itself, or the result of the same-state merges it went into; null when it resolves
     * to nothing (folded, or gone).
     */
    private static String storedAs(Repository repo, String id) {
        String at = id;
        for (int hops = 0; hops < 10_000 && at != null; hops++) {
            if (repo.hasManifest(at)) {
                return at;
            }
            History.Merge m = repo.history().merge(at);
            at = m == null || m.folded() ? null : m.into();
        }
        return null;
    }

    /**
     * Removes {@code id} after its marker: the merged backup B (its state is {@code successor}'s,
     * its id keeps restoring it) or, {@code folded}, the parent P (its own state goes with it).
     */
    private static void retire(Repository repo, String id, String successor, boolean folded, Consumer<String> log) {
        if (folded) {
            repo.history().markFolded(id, successor);
        } else {
            repo.history().markMerged(id, successor);
        }
        repo.deleteManifest(id);
        repo.deleteBackupObjects(id);
        log.accept(folded ? "backup " + id + " was folded into " + successor + " and removed: its own state is no longer stored (its id restores nothing)"
                : "backup " + id + " is now held by " + successor + " (its id still restores)");
    }

    private static Manifest write(Repository repo, Chain chain, Manifest p, Manifest b, String mid, String type, HistoryRecord begin,
                                  Consumer<String> log) throws IOException {
        List<FileEntry> files = new ArrayList<>();
        int seq = 0;
        long stored = 0;
        References refs = new References(repo);
        for (FileEntry fe : b.files()) {
            References.Held held = refs.resolve(b.id(), fe);
            if (fe.isReference() && !held.backup().equals(p.id()) && !held.backup().equals(b.id())) {
                // held by an older backup of the chain, which stays: M refers to it too
                files.add(fe.referenceTo(held.backup(), held.object()));
                continue;
            }
            String key = Repository.dataObject(++seq);
            String name; // key, or the member of M's packs the object went into
            FileEntry out;
            if (!fe.isDelta()) {
                // B's own object, or one of P's that B refers to: P goes, so M stores it (a small file's into M's packs)
                name = repo.copyBackupObjectBatched(held.backup(), held.object(), mid, key, fe.size());
                out = fe;
            } else {
                List<Chain.Layer> layers = chain.layers(fe);
                Chain.Layer newer = layers.get(layers.size() - 1);
                Chain.Layer older = layers.get(layers.size() - 2);
                boolean whole = !older.entry().isDelta();
                try (StoredObject w = repo.createBackupObject(mid, key, whole ? "innodb-file" : DeltaFormat.CONTENT, compressionOf(b), fe.size())) {
                    ChunkedWriter cw = w.out();
                    long deltaPages = 0;
                    if (whole) {
                        PageComposer.compose(repo, List.of(older, newer), fe, cw);
                    } else {
                        deltaPages = PageComposer.mergeDeltas(repo, older, newer, fe, cw);
                    }
                    w.commitBatched();
                    name = w.object();
                    out = new FileEntry(fe.path(), fe.kind(), fe.spaceId(), fe.flags(), fe.size(), fe.pages(), whole ? FileEntry.WHOLE : FileEntry.DELTA,
                            deltaPages, name, 0, w.crc32c(), fe.home(), fe.location());
                }
            }
            long size = repo.backupObjectSize(mid, name);
            stored += size;
            files.add(out.stored(name, size));
        }
        repo.copyBackupObject(b.id(), b.redoObject(), mid, b.redoObject());
        stored += repo.backupObjectSize(mid, b.redoObject());
        repo.syncBackupObjects();
        // B's server, LSNs, binlog position and redo object, on P's parent with the merged files
        Manifest m = b.toBuilder().formatVersion(0).id(mid).type(type).parent(p.parent()).files(files).storedBytes(stored)
                .threshold(p.parent() == null ? null : p.threshold())
                .note("synthetic: " + p.id() + " and " + b.id() + " merged; restores to the state of " + b.id())
                .encryption(repo.encryptionName()).build();
        repo.writeManifest(m);
        log.accept("merged " + p.id() + " (" + p.type() + ") and " + b.id() + " (" + b.type() + ") into " + mid + " (" + type + ")");
        return m;
    }

    /** The merged backup's new objects are compressed as the backup they replace was. */
    private static io.strata.codec.Compression compressionOf(Manifest b) {
        return b.compression() == null ? io.strata.codec.Compression.NONE : io.strata.codec.Compression.parse(b.compression());
    }
}
