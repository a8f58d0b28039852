package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Copies completed backups, with their chains, and archived binlogs from one repository into
 * another ({@code strata copy}; docs/repository-format.md, "Copies between repositories").
 *
 * <p>Every object is decoded with the source's codec (each chunk's CRC-32C, the frame's digest
 * and, for backup objects, the content digest the manifest records, which covers every chunk's
 * raw length and CRC, are checked) and encoded
 * with the target's (sealed with the target's key when it is encrypted; a backup's objects keep
 * the compression its manifest records). Per backup, the order of writes is a backup's:
 * {@code history/<id>/begin}, the objects, a sync, the manifest (from here the copy is complete),
 * {@code history/<id>/end}. The whole run holds the target's writer lock, and first removes what
 * killed attempts left ({@link Repository#cleanupIncomplete()}): a backup whose copy was killed is
 * a failed attempt there, and the next run copies it again from the start.
 *
 * <p>Errors: {@link ErrorCode#COPY_SOURCE_DAMAGED} (exit 45) when a source object fails its checks,
 * naming it; {@link ErrorCode#COPY_MISMATCH} (exit 46) when the target holds the same id with other
 * content, or a pruned or merged attempt of that id, or another binlog history of a server under one
 * timeline number; {@link ErrorCode#BACKUP_NOT_FOUND} (exit 19) for a named backup the source marks
 * pruned or that a prune or merge of the source removes while it is copied; the errors of opening
 * and locking a repository.
 */
public final class RepoCopy {
    private RepoCopy() {}

    /**
     * What to copy.
     *
     * @param ids      backups named by the user (each with its chain); null copies every completed backup
     * @param binlogs  also copy every archived binlog of the source (all its servers)
     * @param delayMs  test hook: pause after each object (0: none)
     */
    public record Options(List<String> ids, boolean binlogs, long delayMs) {}

    /**
     * What a run did.
     *
     * @param copied          backups copied by this run, oldest first
     * @param present         backups that were already complete (and equal) in the target
     * @param skipped         backups {@code --all} left out, each with the reason (a warning: exit 3)
     * @param retired         backups {@code --all} left out because the target's history marks them pruned or merged, or the
     *                        source's marks them pruned (an interrupted prune) or a prune or merge of the source removed them meanwhile
     * @param objects         objects written (backup objects and binlog objects)
     * @param rawBytes        bytes of content copied (before compression and encryption)
     * @param storedBytes     bytes the written objects take in the target
     * @param binlogObjects   binlog archive objects written (0 without {@code binlogs})
     * @param binlogsPresent  binlog archive objects the target already held
     */
    public record Result(List<String> copied, List<String> present, List<String> skipped, List<String> retired, long objects, long rawBytes, long storedBytes,
                         long binlogObjects, long binlogsPresent) {}

    /**
     * Runs a copy from {@code from} into {@code to}, both opened by the caller (with their keys).
     *
     * @throws StrataException copy-source-damaged, copy-mismatch, backup-not-found (a named id),
     *                         chain-broken (a named id whose chain is incomplete in the source),
     *                         key-missing, repo-locked, and the store's errors
     */
    public static Result run(Repository from, Repository to, Options o, Consumer<String> log) {
        from.requireKey();
        to.requireKey();
        Run r = new Run(from, to, o, log);
        try (RepoLock lock = to.lock()) {
            to.cleanupIncomplete();
            r.backups();
            if (o.binlogs()) {
                r.binlogs();
            }
        }
        return new Result(List.copyOf(r.copied), List.copyOf(r.present), List.copyOf(r.skipped), List.copyOf(r.retired), r.objects, r.rawBytes, r.storedBytes,
                r.binlogObjects, r.binlogsPresent);
    }

    /**
     * Whether two manifests describe the same backup: the same chain link, LSNs, server, lineage,
     * redo log and files with the same contents (digests). What a copy changes (the encryption,
     * the stored sizes) is not compared.
     */
    static boolean sameBackup(Manifest a, Manifest b) {
        if (!Objects.equals(a.type(), b.type()) || !Objects.equals(a.parent(), b.parent()) || a.startLsn() != b.startLsn()
                || a.endLsn() != b.endLsn() || a.redoEndLsn() != b.redoEndLsn() || !Objects.equals(a.threshold(), b.threshold())
                || !Objects.equals(a.redoCrc32c(), b.redoCrc32c()) || !Objects.equals(a.lineageId(), b.lineageId())
                || !Objects.equals(a.source().serverKey(), b.source().serverKey()) || a.files().size() != b.files().size()) {
            return false;
        }
        for (int i = 0; i < a.files().size(); i++) {
            FileEntry x = a.files().get(i);
            FileEntry y = b.files().get(i);
            if (!x.path().equals(y.path()) || !Objects.equals(x.spaceId(), y.spaceId()) || x.size() != y.size()
                    || !Objects.equals(x.storage(), y.storage()) || x.deltaPages() != y.deltaPages() || !Objects.equals(x.crc32c(), y.crc32c())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why two records of one timeline number describe two histories, or null when they describe
     * one: the same start time and lineage, and the same first file as the archiver first stored it
     * ({@code prunedFrom} when a prune moved {@code firstFile} forward). A prune only moves the start
     * forward within one history, so the original first files agree whichever side was pruned.
     */
    static String timelineDifference(BinlogArchive.Timeline a, BinlogArchive.Timeline b) {
        if (!Objects.equals(a.started(), b.started())) {
            return "started " + a.started() + " against " + b.started();
        }
        if (!Objects.equals(a.lineage(), b.lineage())) {
            return "lineage " + Lineage.shortId(a.lineage()) + " against " + Lineage.shortId(b.lineage());
        }
        String x = a.prunedFrom() != null ? a.prunedFrom() : a.firstFile();
        String y = b.prunedFrom() != null ? b.prunedFrom() : b.firstFile();
        if (!Objects.equals(x, y)) {
            return "first file " + x + " against " + y;
        }
        return null;
    }

    /**
     * The order in which a copy takes the entries of a manifest, as indexes into {@code files}:
     * pack members of the source by pack and offset (each pack of object storage is then read
     * whole once, {@link PackCache}), then every other entry in the manifest's order.
     */
    static int[] copyOrder(List<FileEntry> files) {
        Integer[] order = new Integer[files.size()];
        Keys.Member[] members = new Keys.Member[files.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            FileEntry f = files.get(i);
            members[i] = f.isReference() ? null : Keys.member(f.object());
        }
        java.util.Arrays.sort(order, (a, b) -> {
            Keys.Member x = members[a];
            Keys.Member y = members[b];
            if (x == null || y == null) {
                return x != null ? -1 : y != null ? 1 : Integer.compare(a, b);
            }
            int byPack = x.pack().compareTo(y.pack());
            return byPack != 0 ? byPack : Long.compare(x.offset(), y.offset());
        });
        return java.util.Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    /** The content name of a backup's stored file (as restore and verify open it). */
    static String contentOf(FileEntry f) {
        return f.isDelta() ? DeltaFormat.CONTENT : "innodb".equals(f.kind()) ? "innodb-file" : "file";
    }

    private static final long PROGRESS_NANOS = 2_000_000_000L;

    /** copy-mismatch for an id the target's history marks pruned or merged: {@code --all} passes over it without a warning. */
    private static final class Retired extends StrataException {
        Retired(String message, String hint) {
            super(ErrorCode.COPY_MISMATCH, message, hint);
        }
    }

    /**
     * backup-not-found for a backup the source marks pruned (an interrupted prune leaves its
     * manifest) or that a prune or merge of the source removed while the copy ran: {@code --all}
     * passes over it with a note.
     */
    private static final class GoneInSource extends StrataException {
        GoneInSource(String message, Repository from) {
            super(ErrorCode.BACKUP_NOT_FOUND, message, "run \"strata list --repo " + from.root() + "\" to see the backups the source keeps");
        }
    }

    /**
     * Checks a selection against the source before anything is written or created: every named
     * backup resolves to a complete chain in {@code from}, none of whose members the source marks
     * pruned. Null {@code ids} ({@code --all}) and an empty list check nothing.
     *
     * @throws StrataException backup-not-found (unknown, or pruned in the source), chain-broken,
     *                         copy-source-damaged (a damaged manifest), the store's errors
     */
    public static void checkSelection(Repository from, List<String> ids) {
        if (ids == null) {
            return;
        }
        Run r = new Run(from, null, new Options(ids, false, 0), x -> {});
        for (String id : ids) {
            refusePrunedInSource(from, id, r.resolve(id));
        }
    }

    /** Refuses a chain of which the source marks a member pruned: an interrupted prune is removing it. */
    private static void refusePrunedInSource(Repository from, String id, Chain c) {
        for (Manifest m : c.members()) {
            if (from.store().exists(Keys.history(m.id(), Keys.PRUNED))) {
                throw new GoneInSource("backup " + m.id() + (m.id().equals(id) ? "" : " (in the chain of " + id + ")") + " was pruned in the source "
                        + from.root() + " (its prune has not finished deleting it)", from);
            }
        }
    }

    private static final class Run {
        private final Repository from;
        private final Repository to;
        private final Options o;
        private final Consumer<String> log;
        private final Set<String> done = new HashSet<>();
        final List<String> copied = new ArrayList<>();
        final List<String> present = new ArrayList<>();
        final List<String> skipped = new ArrayList<>();
        final List<String> retired = new ArrayList<>();
        long objects;
        long rawBytes;
        long storedBytes;
        long binlogObjects;
        long binlogsPresent;

        Run(Repository from, Repository to, Options o, Consumer<String> log) {
            this.from = from;
            this.to = to;
            this.o = o;
            this.log = log;
        }

        void backups() {
            if (o.ids() != null) {
                for (String id : o.ids()) {
                    Chain c = resolve(id);
                    refusePrunedInSource(from, id, c);
                    chain(c);
                    String holder = c.target().id();
                    if (!holder.equals(id) && !to.hasManifest(id) && !to.history().removing(id)) {
                        // an id the source merged away (same-state): it names the same backup in the target
                        to.history().markMerged(id, holder);
                    }
                }
                return;
            }
            // every stored manifest, readable or not: a damaged one stops the copy (exit 45) rather than being passed over
            TreeSet<String> ids = new TreeSet<>();
            for (String k : from.store().list(Keys.BACKUPS)) {
                String[] parts = k.split("/");
                if (parts.length == 3 && parts[2].equals("manifest") && Keys.isBackupId(parts[1])) {
                    ids.add(parts[1]);
                }
            }
            for (String id : ids) {
                if (done.contains(id)) {
                    continue;
                }
                try {
                    Chain c = resolve(id);
                    refusePrunedInSource(from, id, c);
                    chain(c);
                } catch (GoneInSource e) {
                    // --all: the source's own prune (finished or interrupted) or merge removes it: not a problem
                    done.add(id);
                    retired.add(id);
                    abandonPending();
                    log.accept("note: backup " + id + " not copied: " + e.getMessage());
                } catch (Retired e) {
                    // --all: the target's own retention removed it (or a merge there holds it): not a problem
                    done.add(id);
                    retired.add(id);
                    abandonPending();
                    log.accept("note: backup " + id + " not copied: " + e.getMessage());
                } catch (StrataException e) {
                    // --all: a backup that cannot be copied does not stop the others; each is named
                    if (e.code() != ErrorCode.CHAIN_BROKEN && e.code() != ErrorCode.COPY_MISMATCH && e.code() != ErrorCode.BACKUP_NOT_FOUND) {
                        throw e;
                    }
                    done.add(id);
                    abandonPending();
                    skipped.add(id + ": " + e.getMessage());
                    log.accept("WARNING: backup " + id + " not copied: " + e.getMessage());
                }
            }
        }

        /**
         * Waits for the objects of a backup not copied after all (--all goes on) to be sent, and
         * drops a failure of theirs: they belong to no backup of the target, and the next backup's
         * own objects must not fail with it (the next run's clean-up removes them).
         */
        private void abandonPending() {
            try {
                to.syncBackupObjects();
            } catch (StrataException e) {
                if (e.code() == ErrorCode.INTERRUPTED) {
                    throw e;
                }
                log.accept("note: objects of that backup were not all stored in the target: " + e.getMessage());
            }
        }

        /** The chain of {@code id} in the source; a manifest of it that fails its checks is copy-source-damaged. */
        private Chain resolve(String id) {
            try {
                return Chain.resolveWhole(from, id);
            } catch (StrataException e) {
                if (o.ids() == null && e.code() == ErrorCode.BACKUP_NOT_FOUND && !from.hasManifest(id)) {
                    // --all lists the manifests first: this one went meanwhile
                    GoneInSource g = new GoneInSource("backup " + id + " was removed from " + from.root() + " meanwhile (prune/merge)", from);
                    g.addSuppressed(e);
                    throw g;
                }
                if (e.code() != ErrorCode.CORRUPT_DATA && e.code() != ErrorCode.FORMAT_TOO_NEW) {
                    throw e;
                }
                StrataException d = new StrataException(ErrorCode.COPY_SOURCE_DAMAGED, "cannot copy backup " + id + ": a manifest of its chain in "
                        + from.root() + " is damaged: " + e.getMessage(), "run \"strata verify --repo " + from.root() + " " + id + "\"");
                d.addSuppressed(e);
                throw d;
            }
        }

        /** Copies the members of {@code c} the target lacks, oldest first, after checking every member. */
        private void chain(Chain c) {
            List<Manifest> missing = new ArrayList<>();
            for (Manifest m : c.members()) {
                if (done.contains(m.id())) {
                    continue;
                }
                if (to.hasManifest(m.id())) {
                    Manifest there = to.manifest(m.id());
                    if (!sameBackup(m, there)) {
                        throw new StrataException(ErrorCode.COPY_MISMATCH, "backup " + m.id() + " of " + from.root() + " and backup " + there.id()
                                + " of " + to.root() + " have the same id but other contents (" + difference(m, there) + ")",
                                "the two repositories hold different backups under one id; copy into another repository, or remove it from "
                                        + to.root() + " with strata prune");
                    }
                    continue;
                }
                if (to.history().removing(m.id())) {
                    // a pruned or merged marker: T's history says this id is gone or held by another backup
                    History.Merge merged = to.history().merge(m.id());
                    boolean pruned = merged == null;
                    throw new Retired("backup " + m.id() + (pruned ? " was removed by strata prune from " + to.root()
                            : " was merged into " + merged.into() + " in " + to.root()) + "; copying it again would bring back an id whose history there says otherwise",
                            "copy into another repository, or copy only newer backups (--backup ID of a chain that does not contain " + m.id() + ")");
                }
                missing.add(m);
            }
            Manifest prev = null;
            for (Manifest m : c.members()) {
                if (missing.contains(m)) {
                    copyBackup(m, prev);
                    copied.add(m.id());
                } else if (done.add(m.id())) {
                    present.add(m.id());
                    log.accept("backup " + m.id() + " (" + m.type() + ") is already complete in " + to.root());
                }
                done.add(m.id());
                prev = m;
            }
        }

        private static String difference(Manifest a, Manifest b) {
            if (!Objects.equals(a.source().serverKey(), b.source().serverKey())) {
                return "server " + a.source().serverKey() + " against " + b.source().serverKey();
            }
            if (!Objects.equals(a.parent(), b.parent()) || !Objects.equals(a.type(), b.type())) {
                return a.type() + " on " + a.parent() + " against " + b.type() + " on " + b.parent();
            }
            if (a.startLsn() != b.startLsn() || a.endLsn() != b.endLsn()) {
                return "LSN " + a.startLsn() + ".." + a.endLsn() + " against " + b.startLsn() + ".." + b.endLsn();
            }
            return "their files or redo logs differ";
        }

        /**
         * Copies one backup whose parent ({@code parent}, null for a full) is complete in the
         * target: begin record, objects, sync, manifest, end record.
         */
        private void copyBackup(Manifest m, Manifest parent) {
            long t0 = System.nanoTime();
            HistoryRecord source = from.history().find(m.id()).orElse(null);
            HistoryRecord begin = new HistoryRecord(m.id(), m.type(), HistoryRecord.RUNNING, m.parent(), m.beginTime(), null,
                    source != null && source.source() != null ? source.source() : "copy from " + from.root(), null, null, null, null, null, null, null, null, null,
                    ProcessHandle.current().pid());
            to.history().begin(begin);
            log.accept("copying backup " + m.id() + " (" + m.type() + (m.parent() == null ? "" : " on " + m.parent()) + ", " + (m.files().size() + 1)
                    + " objects) from " + from.root() + " to " + to.root());
            try {
                Compression c = m.compression() == null ? Compression.NONE : Compression.parse(m.compression());
                List<FileEntry> files = new ArrayList<>();
                long stored = 0;
                long raw = 0;
                int n = m.files().size() + 1;
                long lastLine = System.nanoTime();
                References refs = new References(from);
                // entries naming an object copied already (the shared empty delta) name the same copy: source name -> target name
                java.util.Map<String, String> copied = new java.util.HashMap<>();
                // taken in the order of the source's packs (a pack read whole once from object storage), entered in the manifest's
                FileEntry[] entries = new FileEntry[m.files().size()];
                PackCache packs = new PackCache();
                int taken = 0;
                for (int i : copyOrder(m.files())) {
                    FileEntry f = m.files().get(i);
                    taken++;
                    if (f.isReference()) {
                        // its holder is a member of m's chain, copied before m under the same id
                        References.Held held = refs.resolve(m.id(), f);
                        entries[i] = f.referenceTo(held.backup(), heldInTarget(held, f));
                        continue;
                    }
                    String there = copied.get(f.object());
                    if (there != null) {
                        entries[i] = f.stored(there, 0);
                        continue;
                    }
                    // a small file's object goes into one of the target's packs, as a backup would write it (by the file's size), and so
                    // does every member of the source (the file may have grown while the backup copied it)
                    long size = copyObject(m, f.object(), contentOf(f), c, f.crc32c(),
                            Keys.member(f.object()) != null ? Math.min(f.size(), Packs.MEMBER_MAX) : f.size(), packs);
                    copied.put(f.object(), lastName);
                    stored += size;
                    raw += lastRaw;
                    if (System.nanoTime() - lastLine >= PROGRESS_NANOS) {
                        // a line every 2 s, as a backup's progress on a terminal-less stderr
                        lastLine = System.nanoTime();
                        log.accept(String.format(Locale.ROOT, "%7.1fs copying %s: %d of %d objects, %.1f of %.1f MiB", (lastLine - t0) / 1e9, m.id(),
                                taken, n, raw / 1048576.0, m.rawBytes() / 1048576.0));
                    }
                    entries[i] = f.stored(lastName, size);
                }
                files.addAll(java.util.Arrays.asList(entries));
                stored += copyObject(m, m.redoObject(), "redo", c, m.redoCrc32c(), -1, null);
                raw += lastRaw;
                to.syncBackupObjects();
                if (parent != null && !parent.id().equals(m.parent()) && !to.hasManifest(m.parent()) && to.history().merge(m.parent()) == null) {
                    // m rests on an id the source merged away (same-state): the target resolves it to the same backup
                    to.history().markMerged(m.parent(), parent.id());
                }
                // the version follows the entries as copied (a member becomes an object of its own): formatVersion(0) recomputes it
                Manifest out = m.toBuilder().formatVersion(0).files(files).storedBytes(stored).encryption(to.encryptionName()).build();
                to.writeManifest(out);
                to.history().end(HistoryRecord.completed(begin, out));
                storedBytes += stored;
                rawBytes += raw;
                log.accept(String.format(Locale.ROOT, "backup %s copied: %d objects, %,d bytes of content, %,d bytes stored%s in %.1f s", m.id(),
                        m.files().size() + 1, raw, stored, to.encryptionName() == null ? "" : " (encrypted)", (System.nanoTime() - t0) / 1e9));
            } catch (StrataException e) {
                try {
                    // its packs are dropped, not committed by a later sync; what it committed is useless (the next run copies it again)
                    to.deleteBackupObjects(m.id());
                } catch (RuntimeException ignored) {
                    // the next run's clean-up removes them
                }
                to.history().end(begin.withState(HistoryRecord.FAILED, Instant.now().toString(), e.getMessage()));
                throw e;
            }
        }

        /** Of the last {@link #copyObject}: the raw bytes copied, and the name the target gave the object. */
        private long lastRaw;
        private String lastName;

        /** The target's entries of one backup by path ({@link #heldInTarget}): the holder the last reference named. */
        private String indexed;
        private java.util.Map<String, FileEntry> indexedEntries;

        /**
         * The name the target gives the object {@code held} of the source, which holds the bytes
         * of reference entry {@code f}: the object of the target's entry of the same path, size and
         * digest in the holder's manifest there (the holder is copied before the backups resting on
         * it, or was there already, possibly copied the other way, when members of packs got other
         * names); {@link Keys#copyName} of the source's name when the target's manifest holds no
         * such entry.
         */
        private String heldInTarget(References.Held held, FileEntry f) {
            if (!held.backup().equals(indexed)) {
                indexedEntries = null;
                indexed = held.backup();
                if (to.hasManifest(held.backup())) {
                    indexedEntries = new java.util.HashMap<>();
                    for (FileEntry e : to.manifest(held.backup()).files()) {
                        if (!e.isReference()) {
                            indexedEntries.put(e.path(), e);
                        }
                    }
                }
            }
            if (indexedEntries == null) {
                // the holder is not stored in the target (merged there): the target resolves the reference by path
                return Keys.copyName(held.object());
            }
            FileEntry there = indexedEntries.get(f.path());
            if (there != null && there.size() == f.size() && java.util.Objects.equals(there.crc32c(), f.crc32c())) {
                return there.object();
            }
            // the holder was compared with the source's before (same files): only damage to the target gets here
            throw new StrataException(ErrorCode.COPY_MISMATCH, "backup " + held.backup() + " of " + to.root() + " holds no file " + f.path() + " of length "
                    + f.size() + " and digest " + f.crc32c() + ", which a backup copied from " + from.root() + " refers to",
                    "run \"strata verify --repo " + to.root() + " " + held.backup() + "\"");
        }

        /**
         * Copies one object of backup {@code m} through both codecs; returns its stored size in
         * the target, and leaves the name the target gave it in {@link #lastName}: a member of one
         * of the target's packs when {@code fileBytes} (the size of the file it holds; negative
         * for the redo log) is at most {@link Packs#MEMBER_MAX}, else {@link Keys#copyName}.
         * {@code digest} (the manifest's, null when it records none) must match. A pack member of
         * the source is read through {@code packs} (null: on its own).
         */
        private long copyObject(Manifest m, String object, String content, Compression c, String digest, long fileBytes, PackCache packs) {
            String where = from.describeBackupObject(m.id(), object);
            try (ChunkedReader in = from.openBackupObject(m.id(), object, content, packs);
                 StoredObject out = to.createBackupObject(m.id(), Keys.copyName(object), content, c, fileBytes)) {
                in.transferTo(out.out());
                in.drainAndCheck();
                String got = String.format(Locale.ROOT, "%08x", in.rawCrc());
                if (digest != null && !digest.equals(got)) {
                    throw damaged(m, where, "its content digest is " + got + ", its manifest records " + digest, null);
                }
                out.commitBatched();
                lastName = out.object();
                lastRaw = in.rawBytes();
                objects++;
                pause();
                return out.storedBytes();
            } catch (ObjectStore.NoSuchObjectException e) {
                if (!from.hasManifest(m.id()) || from.history().removing(m.id())) {
                    // a prune or merge of the source removed the backup while it was being copied
                    GoneInSource g = new GoneInSource("backup " + m.id() + " was removed from " + from.root() + " meanwhile (prune/merge)", from);
                    g.addSuppressed(e);
                    throw g;
                }
                throw damaged(m, where, e.getMessage(), e);
            } catch (CorruptDataException e) {
                throw damaged(m, where, e.getMessage(), e);
            } catch (StrataException e) {
                if (e.code() == ErrorCode.CORRUPT_DATA || e.code() == ErrorCode.FORMAT_TOO_NEW) {
                    throw damaged(m, where, e.getMessage(), e);
                }
                throw e;
            } catch (IOException e) {
                throw StorageException.local("copy", where, e);
            }
        }

        private StrataException damaged(Manifest m, String where, String why, Exception cause) {
            StrataException e = new StrataException(ErrorCode.COPY_SOURCE_DAMAGED, "cannot copy backup " + m.id() + ": its object " + where
                    + " is damaged: " + why, "run \"strata verify --repo " + from.root() + " " + m.id() + "\"; the copy of " + m.id()
                    + " is not complete in " + to.root() + " (no manifest was written)");
            if (cause != null) {
                e.addSuppressed(cause);
            }
            return e;
        }

        private void pause() {
            if (o.delayMs() > 0) {
                try {
                    Thread.sleep(o.delayMs());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new StrataException(ErrorCode.INTERRUPTED, "copy interrupted", null);
                }
            }
        }

        // ---- archived binlogs ---------------------------------------------------------------

        /**
         * Copies every object below {@code binlogs/} the target lacks, server by server, each under
         * that server's archiver lock in the target, in an order that keeps the archive's rules:
         * records of sources and timelines first, then per segment its data before its summary (a
         * segment exists when its summary does), then gap and as-of records.
         */
        void binlogs() {
            long before = binlogObjects;
            for (String dir : BinlogArchive.sourceDirs(from)) {
                // the archiver's lock of that server in the target (a lease in object storage): no archiver writes beside the copy
                try (RepoLock lock = to.lock(BinlogArchive.lockName(dir), "the binlogs of " + dir + " are being archived into " + to.root()
                        + " by another strata process", "stop that \"strata binlog archive\" while copying binlogs")) {
                    copySource(dir, lock);
                }
            }
            log.accept("binlogs: " + (binlogObjects - before) + " archive object(s) copied, " + binlogsPresent + " already in " + to.root());
        }

        /** At most this many listings of a source archive: an archiver running there adds and replaces objects meanwhile. */
        private static final int BINLOG_PASSES = 3;

        /**
         * The binlog objects of one source archive that the target lacks, holding the target's
         * archiver lock {@code lock}: first what a killed copy or archiver left unfinished there is
         * discarded and the histories are compared (copy-mismatch, nothing written); then passes
         * over the source's listing, each copying what is new, until one finds nothing new.
         */
        private void copySource(String dir, RepoLock lock) {
            String prefix = BinlogArchive.PREFIX + dir + "/";
            to.store().discardUnfinished(prefix);
            Set<String> there = new HashSet<>(to.store().list(prefix));
            Set<String> handled = new HashSet<>();
            for (int pass = 0; pass < BINLOG_PASSES; pass++) {
                BinlogArchive src = loadSource(dir);
                sameHistory(src, there, pass == 0);
                Set<String> all = new HashSet<>(from.store().list(prefix));
                all.removeAll(src.prunedLeftovers()); // before the source's pruned start: not part of its archive
                List<String> order = new ArrayList<>(binlogOrder(new TreeSet<>(all)));
                order.removeAll(handled);
                if (order.isEmpty()) {
                    return;
                }
                Set<String> gone = new HashSet<>();
                for (String k : order) {
                    handled.add(k);
                    boolean data = k.endsWith(".binlog");
                    String dataKey = k.endsWith(".sum") ? k.substring(0, k.length() - ".sum".length()) + ".binlog" : null;
                    if (dataKey != null && gone.contains(dataKey)) {
                        continue; // its data went meanwhile (compaction deletes the summary first, then the data)
                    }
                    if (there.contains(k) && !(data && !there.contains(BinlogArchive.sumKeyOf(k)))) {
                        binlogsPresent++;
                        continue;
                    }
                    lock.check();
                    if (!copyBinlogObject(k, binlogContent(k))) {
                        // replaced or compacted by the source's archiver meanwhile (a later listing shows what replaced it)
                        gone.add(k);
                        if (dataKey != null) {
                            forgetData(k, dataKey, there, lock);
                        }
                        continue;
                    }
                    there.add(k);
                    binlogObjects++;
                    objects++;
                    pause();
                }
            }
        }

        /**
         * The source's summary vanished after its data object was copied: the data object the copy
         * just wrote is no segment in the target either, and is removed there (the copy holds the
         * target's archiver lock) unless the target's summary commits it.
         */
        private void forgetData(String sumKey, String data, Set<String> there, RepoLock lock) {
            if (there.contains(data) && !there.contains(sumKey)) {
                lock.check();
                to.store().delete(data);
                there.remove(data);
            }
        }

        /** The order of the class comment for one archive's keys (sorted); a {@code .binlog} without its {@code .sum} is left out. */
        private static List<String> binlogOrder(TreeSet<String> keys) {
            LinkedHashSet<String> order = new LinkedHashSet<>();
            keys.stream().filter(k -> k.endsWith("/source")).forEach(order::add);
            keys.stream().filter(k -> k.endsWith("/timeline")).forEach(order::add);
            for (String k : keys) {
                if (k.endsWith(".sum")) {
                    String data = k.substring(0, k.length() - ".sum".length()) + ".binlog";
                    if (keys.contains(data)) {
                        order.add(data); // a .binlog without .sum is an interrupted archiver's leftover: not copied
                    }
                    order.add(k);
                }
            }
            keys.stream().filter(k -> k.contains("/gaps/") || k.contains("/asof/")).forEach(order::add);
            return new ArrayList<>(order);
        }

        /**
         * The source's archive index (records, never binlog bytes), listed again when an object
         * went between its listing and its read (the archiver replaces as-of records and compacts).
         *
         * @throws StrataException copy-source-damaged for a damaged record
         */
        private BinlogArchive loadSource(String dir) {
            for (int attempt = 1; ; attempt++) {
                try {
                    return BinlogArchive.load(from, dir);
                } catch (ObjectStore.NoSuchObjectException e) {
                    if (attempt == BINLOG_PASSES) {
                        throw e;
                    }
                } catch (StrataException e) {
                    if (e.code() != ErrorCode.CORRUPT_DATA && e.code() != ErrorCode.FORMAT_TOO_NEW) {
                        throw e;
                    }
                    throw binlogDamaged(from.store().describe(BinlogArchive.PREFIX + dir + "/"), e);
                }
            }
        }

        /**
         * Refuses to join two histories: the target's {@code source} record and every timeline
         * record it shares with the source must describe the same server and the same history.
         *
         * @throws StrataException copy-mismatch naming the server and the timeline; nothing of this archive is written
         */
        private void sameHistory(BinlogArchive src, Set<String> there, boolean first) {
            String prefix = src.prefix();
            BinlogArchive.Source s = src.source();
            if (s != null && there.contains(prefix + "source")) {
                BinlogArchive.Source t = readTarget(prefix + "source", "binlog-source", BinlogArchive.Source.class);
                if (!Objects.equals(s.serverKey(), t.serverKey())) {
                    throw binlogMismatch(src, first, "the archive " + src.dir() + " is of server " + s.serverKey() + " in " + from.root() + " and of server "
                            + t.serverKey() + " in " + to.root());
                }
            }
            String server = s != null ? s.serverKey() : src.dir();
            for (BinlogArchive.Timeline a : src.timelines().values()) {
                String key = prefix + String.format(Locale.ROOT, "t%04d/timeline", a.timeline());
                if (!there.contains(key)) {
                    continue;
                }
                BinlogArchive.Timeline b = readTarget(key, "binlog-timeline", BinlogArchive.Timeline.class);
                String why = timelineDifference(a, b);
                if (why != null) {
                    throw binlogMismatch(src, first, "timeline " + a.timeline() + " of server " + server + " is another binlog history in " + from.root()
                            + " than in " + to.root() + " (" + why + ")");
                }
            }
        }

        private <T> T readTarget(String key, String content, Class<T> type) {
            return to.readJson(key, content, type);
        }

        private StrataException binlogMismatch(BinlogArchive src, boolean first, String message) {
            // after the first pass: the source's archiver began a timeline meanwhile that the target numbers otherwise
            return new StrataException(ErrorCode.COPY_MISMATCH, message + (first ? "; no binlog of " + src.dir() + " was copied"
                    : "; the binlogs of " + src.dir() + " copied before it are of the target's history, no later one was copied"),
                    "copy the binlogs into another repository, or stop archiving that server into " + to.root());
        }

        private static String binlogContent(String key) {
            if (key.endsWith("/source")) {
                return "binlog-source";
            }
            if (key.endsWith("/timeline")) {
                return "binlog-timeline";
            }
            if (key.endsWith(".binlog")) {
                return "binlog";
            }
            if (key.endsWith(".sum")) {
                return "binlog-summary";
            }
            return key.contains("/gaps/") ? "binlog-gap" : "binlog-asof";
        }

        /** Copies one binlog archive object; false when the source no longer has it (nothing is written then). */
        private boolean copyBinlogObject(String key, String content) {
            String where = from.store().describe(key);
            try (InputStream raw = from.store().open(key); ChunkedReader in = new ChunkedReader(raw, content, where, from.readCodec());
                 ObjectStore.Writer w = to.store().create(key)) {
                // records are JSON, never compressed, as the archiver writes them; segments as the archiver writes them too
                ChunkedWriter out = new ChunkedWriter(w.stream(), content, to.writeCodec(Compression.NONE));
                in.transferTo(out);
                in.drainAndCheck();
                out.finish();
                w.commit();
                rawBytes += in.rawBytes();
                storedBytes += to.store().size(key);
                return true;
            } catch (ObjectStore.NoSuchObjectException e) {
                return false;
            } catch (CorruptDataException e) {
                throw binlogDamaged(where, e);
            } catch (StrataException e) {
                if (e.code() == ErrorCode.CORRUPT_DATA || e.code() == ErrorCode.FORMAT_TOO_NEW) {
                    throw binlogDamaged(where, e);
                }
                throw e;
            } catch (IOException e) {
                throw StorageException.local("copy", where, e);
            }
        }

        private StrataException binlogDamaged(String where, StrataException cause) {
            StrataException e = new StrataException(ErrorCode.COPY_SOURCE_DAMAGED, "cannot copy the archived binlog object " + where + ": it is damaged: "
                    + cause.getMessage(), "run \"strata verify --repo " + from.root() + "\"; the backups copied before it are complete in " + to.root());
            e.addSuppressed(cause);
            return e;
        }
    }
}
