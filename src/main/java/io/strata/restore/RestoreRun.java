package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.Cancellation;
import io.strata.innodb.LogFileWriter;
import io.strata.innodb.LogHeader;
import io.strata.innodb.RedoFileNames;
import io.strata.util.Dirs;
import io.strata.util.FileModes;
import io.strata.repo.Chain;
import io.strata.repo.ChunkedReader;
import io.strata.repo.FileEntry;
import io.strata.repo.Lineage;
import io.strata.repo.Manifest;
import io.strata.repo.PackCache;
import io.strata.repo.References;
import io.strata.repo.Repository;
import io.strata.server.MariadbProcess;
import io.strata.server.ServerTools;
import io.strata.server.ServerVersion;
import io.strata.store.StoreLocation;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Restores a completed backup into an empty directory: every stored file is written and
 * checked against its CRC, a new ib_logfile0 is built from the copied redo (design rule 5),
 * and mariadbd runs crash recovery on the result and shuts down cleanly. The directory is
 * private: 0700, its files 0640 ({@link FileModes}). It is marked with a new {@link Lineage}
 * (file {@value Lineage#FILE_NAME}) so that backups of a server started on it start a new history.
 * A restore that fails, or is killed, leaves the target as it found it ({@link TargetGuard}).
 */
public final class RestoreRun {
    private static final String CREATOR = "Backup strata";

    /**
     * @param backupId the backup to restore; null: the newest completed one
     * @param tools    where mariadbd is found for crash recovery; unused (may be null) without {@code recover}
     * @param mariadbdDefaultsFile the option file recovery's mariadbd reads for the key management
     *                 ({@code --mariadbd-defaults-file}; see {@link RecoveryKeys}); null: the recorded key management
     * @param layout   where the InnoDB data home, log home and undo directory go ({@code --innodb-*} options)
     * @param remaps   {@code --remap OLD=NEW}, in the order given: where DATA DIRECTORY files go instead of their location
     */
    public record Options(String backupId, Path target, boolean recover, int parallel, ServerTools tools, Path mariadbdDefaultsFile,
                          RestoredLayout.Dirs layout, List<String> remaps) {
        /** Without {@code --mariadbd-defaults-file}: recovery gets the recorded key management, if any; the source's InnoDB
         *  layout is recreated under the target; DATA DIRECTORY files go back to their location. */
        public Options(String backupId, Path target, boolean recover, int parallel, ServerTools tools) {
            this(backupId, target, recover, parallel, tools, null, RestoredLayout.Dirs.NONE, List.of());
        }
    }

    /**
     * @param layout  where InnoDB's own files were put, and the options the restored server must be started with
     * @param outside the directories written outside the target (DATA DIRECTORY files): for each, the
     *                outermost one the restore created, or the existing one it wrote into
     */
    public record Result(Manifest manifest, long files, long bytes, boolean recovered, RestoredLayout layout, List<Path> outside,
                         RestoredState.Pending record) {
        public Result(Manifest manifest, long files, long bytes, boolean recovered) {
            this(manifest, files, bytes, recovered, null, List.of(), null);
        }

        public Result(Manifest manifest, long files, long bytes, boolean recovered, RestoredLayout layout, List<Path> outside) {
            this(manifest, files, bytes, recovered, layout, outside, null);
        }
    }

    private RestoreRun() {}

    /** Restores from {@code repo}, opened by the caller (with the key when it is encrypted). */
    public static Result run(Repository repo, Options o, Consumer<String> log) {
        return run(repo, o, log, null);
    }

    /**
     * {@code id}, or the newest completed backup of {@code repo} when it is null (what a restore
     * without --backup restores).
     *
     * @throws StrataException backup-not-found when the repository holds no completed backup
     */
    public static String backupOrNewest(Repository repo, String id) {
        if (id != null) {
            return id;
        }
        List<String> done = repo.history().completedIds();
        if (done.isEmpty()) {
            throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "repository " + repo.root() + " holds no completed backup",
                    "take one with \"strata backup --repo " + repo.root() + "\"");
        }
        return done.get(done.size() - 1);
    }

    /**
     * {@link #run(Repository, Options, Consumer)} for a point-in-time restore: the restored
     * directory's lineage names {@code pitrTarget} (null: none).
     */
    static Result run(Repository repo, Options o, Consumer<String> log, String pitrTarget) {
        return run(repo, o, log, pitrTarget, null);
    }

    /**
     * As {@link #run(Repository, Options, Consumer, String)}, writing only the files of
     * {@code tables} (null: all) and recovering as a partial backup ({@link TableScope}).
     */
    static Result run(Repository repo, Options o, Consumer<String> log, String pitrTarget, TableScope tables) {
        // mariadbd --version runs while the manifests are read; its result is checked below, where it always was
        ServerTools.Probe probe = o.recover() ? o.tools().probe() : null;
        repo.requireKey();
        io.strata.repo.ObjectCodec.setThreads(o.parallel());
        String id = backupOrNewest(repo, o.backupId());
        Chain chain = Chain.resolve(repo, id);
        if (tables != null) {
            chain = tables.narrow(repo, chain, log);
        }
        Manifest m = chain.target();
        Path target = o.target().toAbsolutePath().normalize();
        List<DataDirectories.Remap> remaps = o.remaps().stream().map(DataDirectories.Remap::parse).toList();
        checkTarget(target);
        RestoredLayout layout = RestoredLayout.of(m, target, o.layout());
        layout.outside().forEach(d -> checkInnodbDir(d, layout.optionsOf(d)));
        DataDirectories dirs = DataDirectories.plan(m, target, remaps);
        dirs.check();
        if (m.redoLogCrypt() != null && dirs.anyMoved()) {
            // the FILE_* names of an encrypted log are encrypted too: they cannot be made relative without the key
            throw new StrataException(ErrorCode.USAGE, "backup " + m.id() + " has an encrypted redo log (innodb_encrypt_log=ON), whose file names strata"
                    + " cannot rewrite, so its DATA DIRECTORY files cannot be moved with --remap: crash recovery would open the source's paths",
                    "restore without --remap (each file goes back to its own directory, which must not hold it); nothing was written");
        }
        // before the target is created: an older server refused leaves it as it was
        ServerTools.Server server = o.recover() ? serverFor(probe, m, log) : null;
        RecoveryKeys.Plan keys = o.recover() ? RecoveryKeys.check(m, server.binary(), o.mariadbdDefaultsFile(), log) : RecoveryKeys.Plan.NONE;
        List<Path> outsideDirs = dirs.roots();
        try (TargetGuard guard = TargetGuard.before(target).watch()) {
            dirs.directories().forEach(guard::alsoOutside);
            List<TargetGuard> outside = new ArrayList<>();
            layout.outside().forEach(d -> outside.add(TargetGuard.before(d)));
            prepareTarget(target, guard);
            try {
                prepareOutside(layout);
                Result r = restore(repo, chain, id, layout, server, keys, guard, dirs, o, log, pitrTarget, tables);
                return new Result(r.manifest(), r.files(), r.bytes(), r.recovered(), r.layout(), outsideDirs, r.record());
            } catch (RuntimeException e) {
                guard.undo();
                outside.forEach(TargetGuard::undo);
                throw e;
            }
        }
    }

    /**
     * Creates the directories outside the target that the layout names (0700), already checked to
     * be new or empty. A restore that fails empties or removes them again; one that is killed
     * (SIGKILL) leaves what it wrote there (the watcher guards the target only).
     */
    private static void prepareOutside(RestoredLayout layout) {
        for (Path d : layout.outside()) {
            try {
                FileModes.createPrivateDirectories(d);
            } catch (IOException e) {
                throw new StrataException(ErrorCode.IO_ERROR, "cannot create the InnoDB directory " + d + ": " + e.getMessage(), null, e);
            }
        }
    }

    /** The restore proper, once the target is prepared: any failure puts the target back as {@code guard} found it. */
    private static Result restore(Repository repo, Chain chain, String id, RestoredLayout layout, ServerTools.Server server, RecoveryKeys.Plan keys,
                                  TargetGuard guard, DataDirectories dirs, Options o, Consumer<String> log, String pitrTarget, TableScope tables) {
        Manifest m = chain.target();
        Path target = layout.target();
        RestoreProgress progress = RestoreProgress.of(log);
        progress.setEstimate(RestoreProgress.FILES, m.files().stream().mapToLong(FileEntry::size).sum());
        progress.stage(RestoreProgress.FILES, "restoring backup " + id + " (" + m.type() + ", taken " + m.endTime() + ") into " + target
                + (chain.members().size() > 1 ? "; chain: " + String.join(" <- ", chain.ids()) : ""));

        long bytes;
        FileSyncer syncer = new FileSyncer(Math.max(2, o.parallel()));
        try {
            for (String line : dirs.describe()) {
                log.accept("DATA DIRECTORY file " + line);
            }
            bytes = writeFiles(repo, chain, layout, dirs, Math.max(1, o.parallel()), progress, syncer);
            dirs.rewriteLinks();
            writeRedoLog(repo, m, layout.logHome());
            if (dirs.any() && m.redoLogCrypt() == null) {
                relativizeRedoNames(layout.logHome().resolve("ib_logfile0"), m.redoEndLsn() - m.startLsn(), log);
            }
            if (layout.needsOptions(m)) {
                layout.writeOptionFile(m);
            }
            syncer.addDirectories(target);
            for (Path d : layout.outside()) {
                syncer.addDirectories(d);
            }
            for (Path dir : dirs.directories()) {
                syncer.addDirectories(dir);
            }
        } catch (IOException e) {
            syncer.close();
            guard.undo();
            throw new StrataException(ErrorCode.IO_ERROR, "cannot make the restored files in " + target + " durable: " + e.getMessage(), null, e);
        } catch (RuntimeException e) {
            // leave the target as it was found, not half restored
            syncer.close();
            guard.undo();
            throw e;
        }
        log.accept("wrote " + m.files().size() + " files (" + (bytes >> 20) + " MiB) and ib_logfile0 with redo log [" + m.startLsn() + ", " + m.redoEndLsn() + ")");
        progress.done(RestoreProgress.FILES);
        try (syncer) {
            // every restored file and directory durable before a server runs on them: crash recovery
            // deletes and renames files (a DDL in the log; the left-out tables of a partial or table
            // restore), and a path synced after that would fail, or miss the file's new name
            syncer.await();
            // the files as written, for a later restore --delta (RestoredState); not for a point-in-time or table restore
            RestoredState snapshot = pitrTarget == null && tables == null && layout.outside().isEmpty() && !dirs.any()
                    ? RestoredState.snapshotOrNull(m, target, fe -> layout.dirOf(fe, m).resolve(fe.path()).normalize(), log) : null;
            if (o.recover()) {
                if (tables != null) {
                    tables.recovering(true);
                }
                recover(m, layout, server, keys, guard, log, tables == null ? run -> { } : tables::runDirectory);
                if (tables != null) {
                    tables.recovering(false);
                }
            }
            markLineage(repo, m.id(), pitrTarget, target, log);
            ReplicaInfo replica = ReplicaInfo.of(m);
            if (pitrTarget == null && replica != null) {
                replica.write(target); // a point-in-time restore writes the target's after its replay
                log.accept("wrote " + ReplicaInfo.FILE_NAME + ": binlog " + replica.binlogFile() + ":" + replica.binlogPosition()
                        + ", gtid_binlog_pos " + replica.gtidBinlogPos() + " (a new replica starts there; restore --print-replica-sql prints its statements)");
            }
            restrictModes(target);
            layout.outside().forEach(RestoreRun::restrictModes);
            dirs.restrictModes();
            markFinished(target);
            RestoredState.Pending record = snapshot == null ? null
                    : new RestoredState.Pending(snapshot, target, layout.logHome().resolve("ib_logfile0"), o.recover());
            return new Result(m, m.files().size(), bytes, o.recover(), layout, List.of(), record);
        } catch (RuntimeException e) {
            guard.undo();
            throw e;
        }
    }

    /**
     * Written into the target before anything else and removed when the restore is complete: a
     * target that still holds it after strata ended was left by a restore that was killed (kill -9,
     * power loss), which could not empty it. The next restore names it as such.
     */
    static final String UNFINISHED_MARKER = "strata-restore-unfinished";

    /**
     * The error for a failed write of the restored {@code out} (from entry {@code fe}): a full file
     * system is disk-full naming the target's file system, anything else an I/O error naming the file.
     */
    static StrataException writeFailed(FileEntry fe, Path out, IOException e) {
        if (io.strata.store.StorageException.noSpace(e)) {
            return new StrataException(ErrorCode.DISK_FULL, "no space left on the device of the restore target while writing " + out
                    + " (" + fe.path() + ", of " + fe.size() + " bytes)", "free space there, or restore to a file system with room for the"
                    + " whole restored data directory; the target is left as it was before the restore", e);
        }
        return new StrataException(ErrorCode.IO_ERROR, "restoring " + fe.path() + " into " + out + " failed: " + e.getMessage(), null, e);
    }

    private static void prepareTarget(Path target, TargetGuard guard) {
        checkTarget(target);
        try {
            FileModes.createPrivateDirectories(target);
        } catch (AccessDeniedException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create the restore target " + target + ": permission denied", null, e);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create the restore target " + target + ": " + e.getMessage(), null, e);
        }
        markUnfinished(target, guard.token(), guard::undo);
    }

    /** Writes {@link #UNFINISHED_MARKER} into {@code target}, durably, before any restored file. */
    static void markUnfinished(Path target) {
        markUnfinished(target, java.util.UUID.randomUUID().toString(), () -> Dirs.deleteQuietly(target, true));
    }

    /** As {@link #markUnfinished(Path)}, naming the run's {@code token} (see {@link TargetGuard}); {@code undo} runs when it cannot be written. */
    static void markUnfinished(Path target, String token, Runnable undo) {
        Path marker = target.resolve(UNFINISHED_MARKER);
        try {
            Files.writeString(marker, "restore by strata (pid " + ProcessHandle.current().pid() + ", run " + token + ") began " + java.time.Instant.now() + "\n",
                    java.nio.charset.StandardCharsets.UTF_8);
            Dirs.syncDirectories(target);
        } catch (IOException e) {
            undo.run();
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write " + marker + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Removes {@link #UNFINISHED_MARKER}: the restore of {@code target} is complete. Every file in
     * it must be durable already (each was forced when written); here the directories of the tree
     * are forced once, so that the names of the files written since the last pass (the lineage mark,
     * the replica file, what the recovery server created, renamed or removed) are durable too, and
     * only then is the marker removed, and the target directory forced again for its removal.
     */
    static void markFinished(Path target) {
        try {
            Dirs.syncDirectories(target);
            Files.deleteIfExists(target.resolve(UNFINISHED_MARKER));
            Dirs.syncDirectory(target);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot remove " + target.resolve(UNFINISHED_MARKER) + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Writes a new {@link Lineage} into the restored directory (design rule 9): a server started
     * on it begins a new history, so its backups never join the chains it was restored from.
     * On failure the target is emptied. The file is forced; its name becomes durable with the
     * directory pass of {@link #markFinished}, before the restore counts as finished.
     *
     * @param pitrTarget the point-in-time target as the user gave it, or null
     */
    private static void markLineage(Repository repo, String backupId, String pitrTarget, Path target, Consumer<String> log) {
        Lineage l = Lineage.restored(backupId, repo.root(), pitrTarget);
        try {
            l.write(target);
        } catch (IOException e) {
            Dirs.deleteQuietly(target, true);
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write " + target.resolve(Lineage.FILE_NAME) + ": " + e.getMessage(), null, e);
        }
        log.accept("marked " + target + " as lineage " + Lineage.shortId(l) + " (" + Lineage.FILE_NAME
                + "): backups of a server started on it begin a new history");
    }

    /** Refuses a target that exists and is not an empty directory; changes nothing. */
    static void checkTarget(Path target) {
        try {
            if (Files.exists(target)) {
                if (!Files.isDirectory(target)) {
                    throw new StrataException(ErrorCode.TARGET_NOT_EMPTY, "restore target " + target + " exists and is not a directory",
                            "name a new or empty directory with --target");
                }
                try (var s = Files.list(target)) {
                    if (s.findAny().isPresent()) {
                        if (Files.exists(target.resolve(UNFINISHED_MARKER))) {
                            throw new StrataException(ErrorCode.TARGET_NOT_EMPTY, "restore target " + target
                                    + " holds the files of a restore that did not finish (strata was killed or the machine stopped; see "
                                    + UNFINISHED_MARKER + " in it)",
                                    "these files are not a usable data directory: delete " + target + " (or name another --target) and rerun the restore");
                        }
                        throw new StrataException(ErrorCode.TARGET_NOT_EMPTY, "restore target " + target + " is not empty",
                                "name a new or empty directory with --target; strata never overwrites an existing data directory");
                    }
                }
            }
        } catch (AccessDeniedException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create the restore target " + target + ": permission denied", null, e);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create the restore target " + target + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Refuses an InnoDB directory outside the target that exists and is not an empty directory
     * (target-not-empty, exit 18), naming the server option it is for; changes nothing.
     */
    static void checkInnodbDir(Path dir, String options) {
        try {
            checkTarget(dir);
        } catch (StrataException e) {
            if (e.code() != ErrorCode.TARGET_NOT_EMPTY) {
                throw e;
            }
            throw new StrataException(ErrorCode.TARGET_NOT_EMPTY, "the restored server's " + options + " " + dir + " exists and is not an empty directory",
                    "name a new or empty directory with --" + options.split(" ")[0].replace('_', '-') + " (strata never writes into existing files)");
        }
    }

    private static long writeFiles(Repository repo, Chain chain, RestoredLayout target, DataDirectories dirs, int parallel, RestoreProgress progress,
                                   FileSyncer syncer) {
        Manifest m = chain.target();
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "strata-restore");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Long>> fs = new ArrayList<>();
            References refs = new References(repo);
            List<FileEntry> order = writeOrder(m.files());
            Map<String, List<FileEntry>> byPack = new LinkedHashMap<>();
            if (!repo.isLocal()) {
                // object storage: the whole copies held in one pack are written by one writer, in the pack's order, from
                // one GET of the pack (a ranged GET per member costs the store's latency ~10,000 times at 5,000 tables)
                List<FileEntry> rest = new ArrayList<>();
                for (FileEntry fe : order) {
                    References.Held held = fe.isDelta() ? null : refs.resolve(m.id(), fe);
                    String pack = held == null ? null : Repository.packOf(held.object());
                    if (pack == null) {
                        rest.add(fe);
                    } else {
                        byPack.computeIfAbsent(held.backup() + "/" + pack, k -> new ArrayList<>()).add(fe);
                    }
                }
                order = rest;
            }
            // the files of their own first, largest first (see writeOrder), then the packs' files
            for (FileEntry fe : order) {
                if (fe.isDelta()) {
                    // the layers are found by the writer: held for every queued file they were some 250 bytes a file
                    fs.add(pool.submit(() -> {
                        Cancellation.check();
                        return counted(progress, composeOne(repo, chain.layers(fe), fe, target, dirs, syncer));
                    }));
                } else {
                    fs.add(pool.submit(() -> {
                        Cancellation.check();
                        return counted(progress, writeOne(repo, refs, m, fe, target, dirs, syncer, null));
                    }));
                }
            }
            for (List<FileEntry> group : byPack.values()) {
                group.sort(Comparator.comparingLong(fe -> Repository.offsetInPack(refs.resolve(m.id(), fe).object())));
                fs.add(pool.submit(() -> {
                    PackCache cache = new PackCache();
                    long n = 0;
                    for (FileEntry fe : group) {
                        Cancellation.check();
                        n += counted(progress, writeOne(repo, refs, m, fe, target, dirs, syncer, cache));
                    }
                    return n;
                }));
            }
            long total = 0;
            for (Future<Long> f : fs) {
                total += f.get();
            }
            return total;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StrataException se) {
                throw se;
            }
            throw new StrataException(ErrorCode.BUG, "restore failed: " + e.getCause(), null, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "restore interrupted", null, e);
        } finally {
            pool.shutdownNow();
            // a cancelled restore interrupted this thread: wait for the writers all the same, so that none writes after the undo
            boolean interrupted = Thread.interrupted();
            try {
                pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The order in which a restore's writers take the files: the largest first, so that no thread
     * is left copying a large one alone at the end; among files of about the same size (the same
     * power of two of bytes), one directory after another in turn, so that the writers, taking
     * neighbouring files of this list at the same time, create them in different directories.
     * Creating a file holds its directory's lock while the file system finds an inode (ext4:
     * ext4_create, which also skips recently deleted inodes); two writers creating files in one
     * database directory of 5,000 small tables spun on that lock for 13% of a restore's CPU time
     * (perf, this machine).
     *
     * @param files the backup's file entries, in any order (not changed)
     * @return the same entries, in write order: size classes (floor(log2(size)), empty files
     *         last) from the largest down; within a class, round robin over the parent
     *         directories of {@link FileEntry#path()} in the order they first appear by
     *         descending size, each directory's files largest first
     */
    static List<FileEntry> writeOrder(Collection<FileEntry> files) {
        List<FileEntry> bySize = new ArrayList<>(files);
        bySize.sort(Comparator.comparingLong(FileEntry::size).reversed());
        List<FileEntry> out = new ArrayList<>(bySize.size());
        int i = 0;
        while (i < bySize.size()) {
            int sizeClass = sizeClass(bySize.get(i).size());
            LinkedHashMap<String, ArrayDeque<FileEntry>> byDir = new LinkedHashMap<>();
            for (; i < bySize.size() && sizeClass(bySize.get(i).size()) == sizeClass; i++) {
                FileEntry fe = bySize.get(i);
                int slash = fe.path().lastIndexOf('/');
                byDir.computeIfAbsent(slash < 0 ? "" : fe.path().substring(0, slash), d -> new ArrayDeque<>()).add(fe);
            }
            List<ArrayDeque<FileEntry>> turns = new ArrayList<>(byDir.values());
            while (!turns.isEmpty()) {
                Iterator<ArrayDeque<FileEntry>> it = turns.iterator();
                while (it.hasNext()) {
                    ArrayDeque<FileEntry> q = it.next();
                    out.add(q.poll());
                    if (q.isEmpty()) {
                        it.remove();
                    }
                }
            }
        }
        return out;
    }

    private static int sizeClass(long bytes) {
        return bytes <= 0 ? -1 : 63 - Long.numberOfLeadingZeros(bytes);
    }

    /** {@code bytes} written, added to the files stage. */
    private static long counted(RestoreProgress progress, long bytes) {
        progress.add(RestoreProgress.FILES, bytes);
        return bytes;
    }

    private static long composeOne(Repository repo, List<Chain.Layer> layers, FileEntry fe, RestoredLayout target, DataDirectories dirs, FileSyncer syncer) {
        Path out = outPath(target, fe, layers.get(layers.size() - 1).backup(), dirs);
        try {
            FileModes.createPrivateDirectories(out.getParent());
            Chain.Layer base = layers.get(0);
            io.strata.repo.ChunkScan scan = SparseFileOutput.needed(fe.flags()) ? null
                    : scanInClear(repo, base.backup().id(), base.entry().object(), "innodb-file");
            try (io.strata.repo.ChunkScan s = scan; FileChannel ch = createFile(out);
                 FileChannel direct = s == null ? null : openDirect(fe, out)) {
                long n = s == null ? -1 : PageComposer.composeByChunks(repo, layers, fe, s, ch, direct);
                if (n < 0) {
                    // no local object in the clear, or chunks of another writer's size: through the JVM, from the start
                    if (s != null) {
                        s.close(); // its file and buffers are not needed for the rest
                    }
                    ch.truncate(0).position(0);
                    n = PageComposer.compose(repo, layers, fe, out, ch);
                }
                syncer.add(out);
                return n;
            }
        } catch (io.strata.store.ObjectStore.NoSuchObjectException e) {
            throw new CorruptDataException("a stored copy of " + fe.path() + " is missing: " + e.getMessage(), "the repository is damaged; restore another backup");
        } catch (CorruptDataException e) {
            throw naming(repo, layers, fe, e);
        } catch (IOException e) {
            throw writeFailed(fe, out, e);
        }
    }

    /**
     * As {@link #naming(FileEntry, String, CorruptDataException)} for a file composed of
     * {@code layers}: the layer whose object the reader's message names (its resource) is named
     * with its own backup, and, when that is an older backup than the one restored, as read by
     * the restore of that one ("app/t.ibd of backup F, which the restore of backup I reads: ...").
     */
    static CorruptDataException naming(Repository repo, List<Chain.Layer> layers, FileEntry fe, CorruptDataException e) {
        String target = layers.get(layers.size() - 1).backup().id();
        for (Chain.Layer l : layers) {
            String holder = l.backup().id();
            if (!holder.equals(target) && e.getMessage().contains(repo.describeBackupObject(holder, l.entry().object()))) {
                return new CorruptDataException(l.entry().path() + " of backup " + holder + ", which the restore of backup " + target + " reads: "
                        + e.getMessage(), e.hint(), e);
            }
        }
        return naming(fe, target, e);
    }

    /**
     * {@code e}, a damage found while file {@code fe} of backup {@code id} was written, with the
     * file named first when its message does not name it (the object it names may be a pack
     * member, {@code …/pack/000002@1471646+1209}, which says no table); {@code e} itself when it does.
     */
    static CorruptDataException naming(FileEntry fe, String id, CorruptDataException e) {
        if (e.getMessage().contains(fe.path())) {
            return e;
        }
        return new CorruptDataException(fe.path() + " of backup " + id + ": " + e.getMessage(), e.hint(), e);
    }

    /** Where {@code fe} is written: its DATA DIRECTORY destination, else below the target or below the directory of its {@link FileEntry#home()}. */
    private static Path outPath(RestoredLayout layout, FileEntry fe, Manifest m, DataDirectories dirs) {
        Path outside = dirs.outside(fe);
        if (outside != null) {
            return outside;
        }
        Path dir = layout.dirOf(fe, m);
        Path out = dir.resolve(fe.path()).normalize();
        if (!out.startsWith(dir)) {
            throw new CorruptDataException("manifest of backup " + m.id() + " names a path outside the target: " + fe.path(), null);
        }
        return out;
    }

    /**
     * Writes a whole copy; a reference entry's bytes come from the object its {@link References}
     * resolve to. A pack member in object storage is read through {@code packs} (null: on its own).
     */
    private static long writeOne(Repository repo, References refs, Manifest m, FileEntry fe, RestoredLayout target, DataDirectories dirs, FileSyncer syncer,
                                 PackCache packs) {
        String where = refs.describe(m.id(), fe);
        Path out = outPath(target, fe, m, dirs);
        try {
            FileModes.createPrivateDirectories(out.getParent());
            String content = fe.kind().equals("innodb") ? "innodb-file" : "file";
            References.Held held = refs.resolve(m.id(), fe);
            if (!(fe.kind().equals("innodb") && SparseFileOutput.needed(fe.flags()))) {
                io.strata.repo.ChunkScan scan = scanInClear(repo, held.backup(), held.object(), content);
                if (scan != null) {
                    try (io.strata.repo.ChunkScan s = scan; FileChannel ch = createFile(out);
                         FileChannel direct = openDirect(fe, out)) {
                        long n = copyByChunks(s, ch, direct);
                        checkStored(fe, n, s.digest(), where);
                        syncer.add(out); // durable before the restore reports success
                        return n;
                    }
                }
            }
            try (ChunkedReader r = repo.openBackupObject(held.backup(), held.object(), content, packs);
                 FileChannel ch = createFile(out)) {
                long n;
                if (fe.kind().equals("innodb") && SparseFileOutput.needed(fe.flags())) {
                    OutputStream os = SparseFileOutput.open(ch, out, fe.flags());
                    n = r.transferTo(os);
                    SparseFileOutput.finish(os);
                } else {
                    n = r.transferTo(ch);
                }
                checkStored(fe, n, r.rawCrc(), where);
                syncer.add(out); // durable before the restore reports success
                return n;
            }
        } catch (io.strata.store.ObjectStore.NoSuchObjectException e) {
            throw new CorruptDataException("backup " + m.id() + " is missing the stored copy of " + fe.path() + " (resource=" + where + ")",
                    "the repository is damaged; restore another backup");
        } catch (CorruptDataException e) {
            throw naming(fe, m.id(), e);
        } catch (IOException e) {
            throw writeFailed(fe, out, e);
        }
    }

    /**
     * A {@link io.strata.repo.ChunkScan} of a stored object kept as a local file in the clear; null
     * when the store keeps no local files (S3) or the object is sealed (read those with a
     * {@link ChunkedReader}).
     */
    private static io.strata.repo.ChunkScan scanInClear(Repository repo, String backupId, String object, String content) throws IOException {
        io.strata.repo.ChunkScan scan = repo.scanBackupObject(backupId, object, content);
        if (scan != null && scan.sealed()) {
            scan.close();
            return null;
        }
        return scan;
    }

    /** Refuses a whole stored copy whose length or content digest is not its manifest entry's. */
    static void checkStored(FileEntry fe, long n, int digest, String where) {
        String crc = String.format("%08x", digest);
        if (n != fe.size() || !crc.equals(fe.crc32c())) {
            throw new CorruptDataException(String.format("stored file %s does not match its manifest entry: length %d crc32c %s, expected length %d crc32c %s (resource=%s)",
                    fe.path(), n, crc, fe.size(), fe.crc32c(), where), "the backup is damaged; restore another backup");
        }
    }

    /**
     * Files of at least this many bytes (4 MiB) are copied past the page cache
     * ({@link io.strata.util.DirectIo}) when both file systems allow it; smaller ones through it,
     * sparing the second open of each of thousands of small files.
     */
    static final long DIRECT_MIN_BYTES = 4L << 20;

    /** The new file {@code out} opened for writes past the page cache when {@code fe} is large enough and its file system allows it; else null. */
    private static FileChannel openDirect(FileEntry fe, Path out) {
        return fe.size() >= DIRECT_MIN_BYTES ? io.strata.util.DirectIo.openWrite(out) : null;
    }

    /**
     * Writes the whole stored copy {@code scan} walks into the new file {@code ch}: a chunk stored
     * as it is is read into direct memory and checked there, past the page cache when
     * {@code direct} is open ({@link io.strata.repo.ChunkScan#readInto}), and written from there
     * (through {@code direct} when it is open, {@link ChunkWriter}); others are decoded, checked
     * and written. Returns the bytes written; the caller checks the length and the content digest
     * ({@link io.strata.repo.ChunkScan#digest}) against the manifest entry.
     *
     * @param direct the same file as {@code ch} opened for writes past the page cache ({@link io.strata.util.DirectIo#openWrite}), or null
     */
    private static long copyByChunks(io.strata.repo.ChunkScan scan, FileChannel ch, FileChannel direct) throws IOException {
        long n = 0;
        ChunkWriter w = new ChunkWriter(ch, direct);
        while (scan.next()) {
            Cancellation.check();
            long at = scan.rawOffset();
            java.nio.ByteBuffer stored = scan.readInto(w.buffer(scan.rawLength()), direct != null);
            if (stored != null) {
                w.write(stored, at);
            } else {
                java.nio.ByteBuffer raw = scan.decode();
                w.writeNow(raw.array(), raw.arrayOffset() + raw.position(), raw.remaining(), at);
            }
            n += scan.rawLength();
        }
        w.finish(n);
        return n;
    }

    /** A new file of the restored directory, 0640 from its creation (the modes of {@link FileModes}), open for writing and reading back. */
    static FileChannel createFile(Path out) throws IOException {
        return FileChannel.open(out, java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ),
                FileModes.attribute(FileModes.DATADIR_FILE));
    }

    /**
     * Gives the restored directory the modes of {@link FileModes} (0700, files 0640) once the
     * servers strata ran on it are gone: mariadbd creates its own files with its umask (0660).
     */
    static void restrictModes(Path target) {
        try {
            FileModes.restrictTree(target, FileModes.DATADIR_FILE);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot set the modes of the restored files in " + target + ": " + e.getMessage(), null, e);
        }
    }

    /** ib_logfile0 per design rule 5: header with first_lsn = C, checkpoint (C, end_lsn), the copied records. */
    static void writeRedoLog(Repository repo, Manifest m, Path logHome) {
        String where = repo.describeBackupObject(m.id(), m.redoObject());
        Path log = logHome.resolve("ib_logfile0");
        long records = m.redoEndLsn() - m.startLsn();
        // an encrypted source log: its mtrs are stored as the server encrypted them, so the new header
        // carries the same crypt info and recovery decrypts them with the key management plugin
        byte[] head = LogFileWriter.fileStart(CREATOR, m.startLsn(), m.startEndLsn(),
                m.redoLogCrypt() == null ? null : io.strata.innodb.LogCrypt.Info.ofHex(m.redoLogCrypt()));
        long size = LogHeader.START_OFFSET + ((records + 4095) / 4096) * 4096;
        if (size == m.source().logFileSize()) {
            size += 4096; // a size other than innodb_log_file_size makes the server rebuild its log after recovery
        }
        try {
            FileModes.createPrivateDirectories(logHome);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create " + logHome + ": " + e.getMessage(), null, e);
        }
        try (FileChannel ch = createFile(log);
             ChunkedReader r = repo.openBackupObject(m.id(), m.redoObject(), "redo")) {
            OutputStream os = Channels.newOutputStream(ch);
            os.write(head);
            long n = r.transferTo(ch);
            if (n != records) {
                throw new CorruptDataException("stored redo log has " + n + " bytes, the manifest says " + records + " (resource=" + where + ")",
                        "the backup is damaged; restore another backup");
            }
            String digest = String.format(java.util.Locale.ROOT, "%08x", r.rawCrc());
            if (m.redoCrc32c() != null && !m.redoCrc32c().equals(digest)) {
                throw new CorruptDataException("stored redo log of backup " + m.id() + " does not match its manifest: digest " + digest + ", expected "
                        + m.redoCrc32c() + " (resource=" + where + ")", "the backup is damaged; restore another backup");
            }
            os.write(new byte[(int) (size - LogHeader.START_OFFSET - n)]);
            ch.force(true);
        } catch (io.strata.store.ObjectStore.NoSuchObjectException e) {
            throw new CorruptDataException("backup " + m.id() + " is missing its redo log (resource=" + where + ")", "restore another backup");
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "writing " + log + " failed: " + e.getMessage(), null, e);
        }
    }

    /**
     * Rewrites the absolute file names of the redo records in the restored {@code log} (its
     * {@code records} bytes from {@link LogHeader#START_OFFSET}) with {@link RedoFileNames}, so that
     * recovery finds DATA DIRECTORY files through the restored .isl and never opens the paths the
     * source used (docs/repository-format.md, "DATA DIRECTORY tablespaces").
     */
    private static void relativizeRedoNames(Path log, long records, Consumer<String> say) {
        final int window = 8 << 20;
        byte[] buf = new byte[window];
        long pos = 0;
        int names = 0;
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            while (pos < records) {
                int len = (int) Math.min(window, records - pos);
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(buf, 0, len);
                while (bb.hasRemaining()) {
                    if (ch.read(bb, LogHeader.START_OFFSET + pos + bb.position()) < 0) {
                        throw new IOException("ends before " + records + " record bytes");
                    }
                }
                RedoFileNames.Result r = RedoFileNames.relativize(buf, 0, len);
                if (r.names() > 0) {
                    java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(buf, 0, r.consumed());
                    while (out.hasRemaining()) {
                        ch.write(out, LogHeader.START_OFFSET + pos + out.position());
                    }
                    names += r.names();
                }
                if (r.end() || r.consumed() == 0 && len < window) {
                    break; // the records end here
                }
                if (r.consumed() == 0) {
                    // a mini-transaction longer than the window: its names would stay absolute and recovery could open the source's files
                    throw new IOException("a mini-transaction at record offset " + pos + " is longer than " + (window >> 20) + " MiB");
                }
                pos += r.consumed();
            }
            ch.force(true);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "rewriting the file names in " + log + " failed: " + e.getMessage(), null, e);
        }
        say.accept("ib_logfile0: " + names + " absolute tablespace name(s) in redo file records made relative (recovery finds DATA DIRECTORY files through their .isl)");
    }

    /**
     * The mariadbd options that make a restored directory recover as the source's InnoDB would, with no binlog and no replication;
     * for a partial backup also {@link PartialRestore#recoveryArgs(Manifest)}.
     */
    static List<String> recoveryArgs(Manifest m) {
        List<String> a = new ArrayList<>(List.of(
                "--innodb-page-size=" + m.source().pageSize(),
                "--innodb-log-file-size=" + m.source().logFileSize(),
                "--innodb-data-file-path=" + m.source().dataFilePath(),
                "--innodb-undo-tablespaces=" + m.source().undoTablespaces(),
                "--innodb-buffer-pool-size=256M",
                // buffered I/O: the pages it reads were just written by strata and are in the page cache (O_DIRECT, 10.6's
                // default, read them from the disk again); a clean shutdown still fsyncs every data file
                "--innodb-flush-method=fsync",
                "--skip-slave-start",
                "--skip-log-bin"));
        a.addAll(PartialRestore.recoveryArgs(m));
        return a;
    }

    /**
     * {@link #recoveryArgs(Manifest)} plus the options that name the InnoDB directories of the
     * restored {@code layout} ({@link RestoredLayout#directoryArgs()}; none for the default layout).
     */
    static List<String> recoveryArgs(Manifest m, RestoredLayout layout) {
        List<String> a = new ArrayList<>(recoveryArgs(m));
        if (layout != null) {
            a.addAll(layout.directoryArgs());
        }
        return a;
    }

    /**
     * The mariadbd that may recover backup {@code m}: refused (mariadbd-too-old) when its release
     * series is older than the source's. Runs {@code mariadbd --version} and writes nothing.
     */
    static ServerTools.Server serverFor(ServerTools tools, Manifest m, Consumer<String> log) {
        return serverFor(tools.probe(), m, log);
    }

    /** As {@link #serverFor(ServerTools, Manifest, Consumer)}, with a probe started earlier ({@link ServerTools#probe()}). */
    static ServerTools.Server serverFor(ServerTools.Probe probe, Manifest m, Consumer<String> log) {
        String source = m.source().version();
        ServerTools.Server s = probe.serverFor(source, "the source server of backup " + m.id());
        log.accept("server for crash recovery: " + s.binary() + " (MariaDB " + s.version() + "; the backup's source: MariaDB "
                + ServerVersion.ofVersionVariable(source).map(Object::toString).orElse(source + ", a release strata cannot read, so not compared") + ")");
        return s;
    }

    /**
     * Runs mariadbd on the restored directory so it completes crash recovery, then stops it cleanly.
     * A recovery that fails, or that logs any [ERROR] line, throws (the caller puts the target back
     * as found) and keeps the server's log in its temporary run directory; a clean one keeps the
     * log in the target. {@code guard} null: a delta restore ({@link DeltaRestore}), whose target is
     * not put back but stays marked unfinished.
     */
    static void recover(Manifest m, RestoredLayout layout, ServerTools.Server server, RecoveryKeys.Plan keys, TargetGuard guard, Consumer<String> log) {
        recover(m, layout, server, keys, guard, log, run -> { });
    }

    /** As {@link #recover(Manifest, RestoredLayout, ServerTools.Server, RecoveryKeys.Plan, TargetGuard, Consumer)}, telling {@code runDirectory} the server's run directory (kept on failure). */
    static void recover(Manifest m, RestoredLayout layout, ServerTools.Server server, RecoveryKeys.Plan keys, TargetGuard guard, Consumer<String> log,
                        Consumer<Path> runDirectory) {
        Path target = layout.target();
        Path run;
        try {
            run = Files.createTempDirectory("strata-recover-");
            runDirectory.accept(run);
            if (guard != null) {
                guard.runDirectory(run);
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create a temporary directory: " + e.getMessage(), null, e);
        }
        List<String> args = new ArrayList<>(recoveryArgs(m, layout));
        args.addAll(keys.options());
        if (keys.defaultsFile() != null) {
            // the user's option file (often a copy of the source's my.cnf) must not send recovery to the source's
            // directories: every path option recovery uses names the restored ones, defaults included
            args.add("--innodb-data-home-dir=" + layout.dataHome());
            args.add("--innodb-log-group-home-dir=" + layout.logHome());
            args.add("--innodb-undo-directory=" + layout.undoHome());
            args.add("--aria-log-dir-path=" + target);
        }
        RestoreProgress.of(log).stage(RestoreProgress.RECOVERY, "running crash recovery: " + server.binary() + " on " + target + " (log " + run.resolve("mysqld.err") + ")");
        try (MariadbProcess p = MariadbProcess.start(server.binary(), target, run, keys.defaultsFile(), args, Duration.ofMinutes(30))) {
            java.util.function.Predicate<String> judged = PartialRestore.dropLeftOut(m, p.socket(), target, log);
            p.shutdown(Duration.ofMinutes(10));
            String text = p.errorLogText();
            PartialRestore.failOnSkippedKeptTablespaces(m, text);
            for (String line : text.split("\n")) {
                if (line.contains("End of log at LSN") || line.contains("Last binlog file") || line.contains("must be rolled back")) {
                    log.accept("  server: " + line.replaceFirst("^.*?\\[Note\\] ", ""));
                }
            }
            failOnErrorLines(p.errorLines().stream().filter(judged).toList(), ErrorCode.RECOVERY_FAILED, "crash recovery by " + server, p.errorLog());
            Files.copy(p.errorLog(), target.resolve("strata-recovery.err"));
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot keep the recovery log: " + e.getMessage(), null, e);
        } catch (StrataException e) {
            if (Cancellation.requested()) {
                throw e; // stopped by a signal, not a recovery that failed
            }
            // a directory the server could not recover cleanly must not look like a usable one (the caller puts the target back as found)
            throw new StrataException(e.code(), e.getMessage(), (e.hint() == null ? "" : e.hint() + "; ")
                    + (guard == null ? target + " stays marked unfinished (" + UNFINISHED_MARKER + "; rerun restore --delta once the cause is fixed)"
                    : "the restored files were removed from " + target + " (rerun the restore once the cause is fixed)"), e);
        }
        Dirs.deleteQuietly(run, false);
        log.accept("crash recovery complete; the data directory is ready to start (server log kept as strata-recovery.err)");
        RestoreProgress.of(log).done(RestoreProgress.RECOVERY);
    }

    /**
     * A server that logged [ERROR] lines did not do its work cleanly, even when it started and
     * stopped: a 10.11 server that opens an 11.x data directory logs that the change buffer is
     * corrupted and carries on. Every such line is in the message.
     */
    static void failOnErrorLines(List<String> errors, ErrorCode code, String what, Path errorLog) {
        if (errors.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(what).append(" logged ").append(errors.size()).append(errors.size() == 1 ? " error:" : " errors:");
        for (String e : errors) {
            sb.append("\n  ").append(e.strip());
        }
        throw new StrataException(code, sb.toString(), "the data it left cannot be trusted; see the server log " + errorLog);
    }
}
