package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.Chain;
import io.strata.repo.ChunkScan;
import io.strata.repo.ChunkedReader;
import io.strata.repo.FileEntry;
import io.strata.repo.Lineage;
import io.strata.repo.Manifest;
import io.strata.repo.References;
import io.strata.repo.Repository;
import io.strata.server.ServerTools;
import io.strata.util.Dirs;
import io.strata.util.FileModes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * {@code restore --delta --target DIR}: turns the existing data directory DIR of a stopped server
 * into the restore of a backup by writing only what differs, then runs crash recovery as a normal
 * restore does ({@link RestoreRun}).
 *
 * <p>Before recovery the directory is byte for byte what a restore into an empty directory writes:
 * every file the backup's manifest lists, with the same length and bytes; ib_logfile0 built from
 * the backup's redo log; the lineage and layout files; nothing else. To get there:
 * <ol>
 * <li>Refuses (delta-target-in-use, exit 60) a directory a server runs on: a process holds the
 *     POSIX lock InnoDB takes on the first system tablespace file, or a mariadbd / mysqld runs with
 *     it as its working directory or {@code --datadir}. Refuses a directory without that file (not
 *     a data directory) unless an earlier restore left it unfinished.</li>
 * <li>Reads the target's restore record and redo log ({@link DeltaBasis}): when the last restore
 *     into it was of this backup, files other than InnoDB untouched since, and InnoDB pages no redo
 *     log names since, are neither read nor compared.</li>
 * <li>Writes {@link RestoreRun#UNFINISHED_MARKER} and removes the restore record
 *     ({@link RestoredState}) and ib_logfile0, durably, before anything else: until the delta restore completes, mariadbd refuses to start on the directory ("File
 *     ./ib_logfile0 was not found"; MariaDB 10.11), and a plain restore names it as unfinished.</li>
 * <li>Removes every file, link and directory below DIR that the result does not hold (never
 *     following links, never outside DIR).</li>
 * <li>For each file of the manifest: a whole InnoDB copy kept as a local file in the clear is
 *     walked by its chunk headers ({@link ChunkScan}), and only the chunks whose raw CRC-32C differs
 *     from that of the target's bytes at the same offset, or that hold a page newer than the backup,
 *     are read, decoded and compared (see {@link #writeByChunks} for how sure a skip is); another
 *     whole stored copy (S3, encrypted) whose length and content digest equal the file's is left
 *     untouched without reading the repository; otherwise the file's bytes are produced as a normal
 *     restore produces them (the stored copy, or the chain's layers composed by
 *     {@link PageComposer}) and written through {@link DiffingOutput}. Either way only the pages
 *     (InnoDB) or 64 KiB blocks (other files) that differ are written, and every object read is
 *     checked against its manifest length and digest.</li>
 * <li>Writes ib_logfile0, the lineage, the layout option file, syncs, takes the snapshot of the
 *     restore record, runs crash recovery, and removes the marker; the caller writes the record
 *     ({@link Result#record()}) once it made its last change (--owner).</li>
 * </ol>
 * A delta restore killed part way leaves DIR with the marker and without a usable ib_logfile0: it
 * cannot be put back as it was (it was rewritten in place), but it cannot be started by mistake
 * either, and the next {@code restore --delta} onto it completes it.
 *
 * <p>Not supported yet (usage error, nothing written): DATA DIRECTORY tablespaces, InnoDB
 * directories outside the target, {@code --until*}.
 */
public final class DeltaRestore {
    private DeltaRestore() {}

    /**
     * @param backupId null: the newest completed backup
     * @param target   the existing data directory
     * @param tools    mariadbd for recovery; null with {@code recover} false
     */
    public record Options(String backupId, Path target, boolean recover, int parallel, ServerTools tools, boolean fullCompare) {
        public Options(String backupId, Path target, boolean recover, int parallel, ServerTools tools) {
            this(backupId, target, recover, parallel, tools, false);
        }
    }

    /**
     * @param bytesWritten data bytes written into the target (differing pages and blocks, new files, ib_logfile0)
     * @param resultBytes  bytes of the result (every file of the backup and ib_logfile0)
     * @param filesWritten files of the result that had at least one byte written (or were created or cut)
     * @param filesRemoved files (and links) removed because the backup does not hold them
     * @param bytesDecoded raw bytes of stored objects read and decoded (chunks whose CRC-32C matched the target's bytes are not read)
     * @param filesUnread  files left unread: untouched since the last restore of this backup, or with no page named since ({@link DeltaBasis})
     * @param bytesRead    bytes of the target's files read to compare them
     * @param record       the record to write once the caller made its last change to the directory ({@link RestoredState})
     */
    public record Result(Manifest manifest, long files, long bytesWritten, long resultBytes, long filesWritten, long filesRemoved,
                         long bytesDecoded, boolean recovered, long filesUnread, long bytesRead, RestoredState.Pending record) {}

    /**
     * One file's outcome: bytes written into it, its length, whether it changed, raw bytes of the
     * backup decoded to produce it, whether its data was left unread ({@link DeltaBasis}).
     */
    private record FileOutcome(long written, long length, boolean touched, long decoded, boolean unread, long read) {
        FileOutcome(long written, long length, boolean touched, long decoded, long read) {
            this(written, length, touched, decoded, false, read);
        }
    }

    /** Runs the delta restore; see the class comment for what is written, checked and refused. */
    public static Result run(Repository repo, Options o, Consumer<String> log) {
        repo.requireKey();
        io.strata.repo.ObjectCodec.setThreads(o.parallel());
        String id = RestoreRun.backupOrNewest(repo, o.backupId());
        Chain chain = Chain.resolve(repo, id);
        Manifest m = chain.target();
        Path target = o.target().toAbsolutePath().normalize();
        try {
            // a data directory is often a link (/var/lib/mysql -> /data/mysql): work on, and compare servers with, the real one
            target = Files.exists(target) ? target.toRealPath() : target;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot resolve the restore target " + target + ": " + e.getMessage(), null, e);
        }
        RestoredLayout layout = RestoredLayout.of(m, target, RestoredLayout.Dirs.NONE);
        if (!layout.outside().isEmpty() || DataDirectories.plan(m, target, List.of()).any()) {
            throw new StrataException(ErrorCode.USAGE, "backup " + m.id() + " has files outside the data directory (DATA DIRECTORY tablespaces, or InnoDB"
                    + " directories outside it), which restore --delta does not handle yet", "restore it into a new directory without --delta; nothing was written");
        }
        Path ibdata = layout.dataHome().resolve(m.source().dataFilePath().split(";")[0].split(":")[0]);
        boolean unfinished = Files.exists(target.resolve(RestoreRun.UNFINISHED_MARKER));
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(ibdata, LinkOption.NOFOLLOW_LINKS) && !unfinished) {
            throw new StrataException(ErrorCode.USAGE, "restore --delta target " + target + " is not a data directory (it holds no "
                    + target.relativize(ibdata) + ")", "name an existing data directory of a stopped server, or restore into a new directory without --delta");
        }
        checkNoServer(target, ibdata);
        Path logFile = layout.logHome().resolve("ib_logfile0");
        // read before anything is written: the record and the log are removed below
        DeltaBasis basis = o.fullCompare() || unfinished ? DeltaBasis.NONE : DeltaBasis.of(repo, m, target, logFile, log);
        ServerTools.Server server = o.recover() ? RestoreRun.serverFor(o.tools(), m, log) : null;
        RecoveryKeys.Plan keys = o.recover() ? RecoveryKeys.check(m, server.binary(), null, log) : RecoveryKeys.Plan.NONE;
        log.accept("delta restore of backup " + id + " (" + m.type() + ", taken " + m.endTime() + ") onto " + target
                + (unfinished ? " (left unfinished by an earlier restore)" : "")
                + (chain.members().size() > 1 ? "; chain: " + String.join(" <- ", chain.ids()) : ""));

        RestoreRun.markUnfinished(target, "delta " + java.util.UUID.randomUUID(), () -> { });
        long removed;
        long[] totals;
        long started;
        try {
            // from here on mariadbd refuses to start on the directory until the restore completes
            Files.deleteIfExists(target.resolve(RestoredState.FILE_NAME)); // the files change from here on
            Files.deleteIfExists(logFile);
            Dirs.syncDirectories(target);
            Set<Path> keep = new HashSet<>();
            for (FileEntry fe : m.files()) {
                keep.add(outPath(layout, fe, m));
            }
            keep.add(logFile);
            keep.add(target.resolve(RestoreRun.UNFINISHED_MARKER));
            keep.add(target.resolve(Lineage.FILE_NAME));
            keep.add(target.resolve(ReplicaInfo.FILE_NAME));
            if (layout.needsOptions(m)) {
                keep.add(target.resolve(RestoredLayout.OPTION_FILE));
            }
            RestoreProgress progress = RestoreProgress.of(log);
            progress.setEstimate(RestoreProgress.COMPARE, m.files().stream().mapToLong(FileEntry::size).sum());
            progress.stage(RestoreProgress.COMPARE, "comparing " + m.files().size() + " files with the backup's (the files it does not hold removed first)");
            removed = removeOthers(target, keep, log);
            started = System.nanoTime();
            progress.stage(RestoreProgress.WRITE, "writing the pages and blocks that differ");
            totals = writeFiles(repo, chain, layout, Math.max(1, o.parallel()), progress, basis);
            progress.done(RestoreProgress.COMPARE);
            RestoreRun.writeRedoLog(repo, m, layout.logHome());
            progress.add(RestoreProgress.WRITE, Files.size(logFile));
            if (layout.needsOptions(m)) {
                layout.writeOptionFile(m);
            }
            Lineage l = Lineage.restored(m.id(), repo.root(), null);
            l.write(target);
            Dirs.syncDirectories(target);
            log.accept("marked " + target + " as lineage " + Lineage.shortId(l) + " (" + Lineage.FILE_NAME
                    + "): backups of a server started on it begin a new history");
            progress.done(RestoreProgress.WRITE);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "delta restore into " + target + " failed: " + e.getMessage(),
                    target + " stays marked unfinished (" + RestoreRun.UNFINISHED_MARKER + "); rerun restore --delta once the cause is fixed", e);
        }
        long logBytes;
        try {
            logBytes = Files.size(logFile);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot read the size of " + logFile + ": " + e.getMessage(), null, e);
        }
        RestoredState snapshot = RestoredState.snapshotOrNull(m, target, fe -> outPath(layout, fe, m), log);
        long written = totals[0] + logBytes;
        long result = totals[1] + logBytes;
        log.accept(String.format(java.util.Locale.ROOT, "delta: wrote %,d of %,d bytes (%.2f%%; ib_logfile0 %,d of them) in %d of %d files; removed %d file(s);"
                + " decoded %,d bytes of the backup (the rest matched the target, or held no page changed since the last restore, and was not read;"
                + " strata verify reads it);"
                + " read %,d bytes of the target; %d file(s) left unread (unchanged since the last restore of this backup); compared and wrote in %.1f s",
                written, result, result == 0 ? 0.0 : 100.0 * written / result, logBytes, totals[2], m.files().size(), removed, totals[3], totals[5],
                totals[4], (System.nanoTime() - started) / 1e9));
        if (o.recover()) {
            try {
                Files.deleteIfExists(target.resolve("strata-recovery.err"));
            } catch (IOException e) {
                throw new StrataException(ErrorCode.IO_ERROR, "cannot remove " + target.resolve("strata-recovery.err") + ": " + e.getMessage(), null, e);
            }
            RestoreRun.recover(m, layout, server, keys, null, log);
        }
        ReplicaInfo replica = ReplicaInfo.of(m); // as a plain restore writes it (or removes a stale one)
        try {
            if (replica != null) {
                replica.write(target);
            } else {
                Files.deleteIfExists(target.resolve(ReplicaInfo.FILE_NAME));
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write " + target.resolve(ReplicaInfo.FILE_NAME) + ": " + e.getMessage(), null, e);
        }
        RestoreRun.restrictModes(target);
        RestoreRun.markFinished(target);
        return new Result(m, m.files().size(), written, result, totals[2], removed, totals[3], o.recover(), totals[4], totals[5],
                snapshot == null ? null : new RestoredState.Pending(snapshot, target, logFile, o.recover()));
    }

    /**
     * Refuses (delta-target-in-use, exit 60) when a server runs on {@code target}: a mariadbd or
     * mysqld whose working directory (the server changes into its data directory) or
     * {@code --datadir} is the target, a live one named by a pid file in it, or any process holding a POSIX lock on {@code ibdata}
     * (InnoDB locks its system tablespace files while it runs). Changes nothing.
     */
    static void checkNoServer(Path target, Path ibdata) {
        List<Long> pids = serversOn(target);
        if (!pids.isEmpty()) {
            throw inUse(target, "mariadbd process " + pids.get(0) + " runs on it");
        }
        String pidFile = livePidFile(target);
        if (pidFile != null) {
            throw inUse(target, pidFile);
        }
        if (!Files.isRegularFile(ibdata)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(ibdata, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw inUse(target, "a process holds the lock on " + ibdata);
            }
            lock.release();
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot open " + ibdata + " to check that no server uses it: " + e.getMessage(), null, e);
        }
    }

    /**
     * A "*.pid" file directly in {@code target} (the server's default pid file is HOSTNAME.pid in its
     * data directory) naming a running mariadbd or mysqld, described; null when there is none.
     */
    private static String livePidFile(Path target) {
        try (var files = Files.newDirectoryStream(target, "*.pid")) {
            for (Path f : files) {
                String text = Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) && Files.size(f) < 64 ? Files.readString(f, StandardCharsets.US_ASCII).strip() : "";
                if (!text.matches("[0-9]{1,10}")) {
                    continue;
                }
                try {
                    String cmd = new String(Files.readAllBytes(Path.of("/proc", text, "cmdline")), StandardCharsets.UTF_8).split("\0")[0];
                    if (cmd.endsWith("mariadbd") || cmd.endsWith("mysqld")) {
                        return "its pid file " + f.getFileName() + " names the running server process " + text;
                    }
                } catch (IOException e) {
                    // no such process: a pid file left by a server that stopped uncleanly
                }
            }
        } catch (IOException e) {
            // unreadable: the lock check still finds a running server
        }
        return null;
    }

    private static StrataException inUse(Path target, String why) {
        return new StrataException(ErrorCode.DELTA_TARGET_IN_USE, "restore --delta target " + target + " is in use: " + why,
                "stop the server that runs on it (mariadb-admin shutdown) and rerun; nothing was written");
    }

    /** Pids of mariadbd / mysqld processes whose working directory or --datadir is {@code datadir}; processes we may not inspect are skipped. */
    static List<Long> serversOn(Path datadir) {
        List<Long> pids = new ArrayList<>();
        String arg = "--datadir=" + datadir;
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path d : procs.toList()) {
                String name = d.getFileName().toString();
                if (name.isEmpty() || !name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == ProcessHandle.current().pid()) {
                    continue;
                }
                try {
                    String[] args = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).split("\0");
                    if (args.length == 0 || !(args[0].endsWith("mariadbd") || args[0].endsWith("mysqld"))) {
                        continue;
                    }
                    boolean named = false;
                    for (String a : args) {
                        named |= a.equals(arg) || a.equals(arg + "/");
                    }
                    if (!named) {
                        try {
                            named = Files.readSymbolicLink(d.resolve("cwd")).normalize().equals(datadir);
                        } catch (IOException | SecurityException e) {
                            // another user's process: the ibdata1 lock still finds it
                        }
                    }
                    if (named) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException e) {
                    // ended meanwhile
                }
            }
        } catch (IOException e) {
            // no /proc: the lock check alone
        }
        return pids;
    }

    /** Where {@code fe} lies in the result, below {@code layout}'s target (refused when its path leaves it). */
    private static Path outPath(RestoredLayout layout, FileEntry fe, Manifest m) {
        Path dir = layout.dirOf(fe, m);
        Path out = dir.resolve(fe.path()).normalize();
        if (!out.startsWith(layout.target())) {
            throw new CorruptDataException("manifest of backup " + m.id() + " names a path outside the target: " + fe.path(), null);
        }
        return out;
    }

    /**
     * Removes what lies below {@code target} and is neither in {@code keep} nor a directory on the
     * way to a kept file. Links are removed, never followed. Returns the number of files and links removed.
     */
    private static long removeOthers(Path target, Set<Path> keep, Consumer<String> log) throws IOException {
        Set<Path> dirs = new HashSet<>();
        for (Path p : keep) {
            for (Path d = p.getParent(); d != null && d.startsWith(target); d = d.getParent()) {
                dirs.add(d);
            }
        }
        long[] n = {0, 0};
        Files.walkFileTree(target, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!keep.contains(file) || !attrs.isRegularFile()) {
                    n[0]++;
                    n[1] += attrs.isRegularFile() ? attrs.size() : 0;
                    Files.delete(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                if (!dir.equals(target) && !dirs.contains(dir)) {
                    Files.delete(dir); // emptied above: nothing below it is kept
                }
                return FileVisitResult.CONTINUE;
            }
        });
        if (n[0] > 0) {
            log.accept("removed " + n[0] + " file(s) (" + (n[1] >> 20) + " MiB) that backup does not hold");
        }
        return n[0];
    }

    /**
     * Writes every file of the backup through {@link #writeOne}, counting each file's length into
     * the compare stage and its written bytes into the write stage; returns {bytes written, bytes of
     * the files, files touched, raw bytes decoded from the repository, files left unread, bytes of the target read}.
     */
    private static long[] writeFiles(Repository repo, Chain chain, RestoredLayout layout, int parallel, RestoreProgress progress, DeltaBasis basis) {
        Manifest m = chain.target();
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "strata-delta-restore");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<FileOutcome>> fs = new ArrayList<>();
            References refs = new References(repo);
            for (FileEntry fe : m.files()) {
                fs.add(pool.submit(() -> {
                    FileOutcome r = writeOne(repo, refs, chain, fe, outPath(layout, fe, m), basis);
                    progress.add(RestoreProgress.COMPARE, fe.size());
                    progress.add(RestoreProgress.WRITE, r.written());
                    return r;
                }));
            }
            long[] t = new long[6];
            for (Future<FileOutcome> f : fs) {
                FileOutcome r = f.get();
                t[0] += r.written();
                t[1] += r.length();
                t[2] += r.touched() ? 1 : 0;
                t[3] += r.decoded();
                t[4] += r.unread() ? 1 : 0;
                t[5] += r.read();
            }
            return t;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StrataException se) {
                throw se;
            }
            throw new StrataException(ErrorCode.BUG, "delta restore failed: " + e.getCause(), null, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "delta restore interrupted", null, e);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Brings one file to the result's bytes, writing only what differs. A whole stored copy kept as
     * a local file in the clear, or the whole copy a chain's deltas are laid over, is walked chunk
     * by chunk ({@link ChunkScan}): a chunk whose raw CRC-32C equals that of the target's bytes at
     * the same offset (and, under deltas, that no delta page overrides) is not read (see
     * {@link #writeByChunks}, {@link PageComposer#deltaCompose}); other whole copies are skipped
     * when the target's length and content digest equal the entry's, else decoded in full, as are
     * composed files whose base is not such an object (S3, encrypted).
     */
    private static FileOutcome writeOne(Repository repo, References refs, Chain chain, FileEntry fe, Path out, DeltaBasis basis) {
        Manifest m = chain.target();
        boolean innodb = fe.kind().equals("innodb");
        String content = innodb ? "innodb-file" : "file";
        try {
            if (basis.untouched(fe, out)) {
                return new FileOutcome(0, Files.size(out), false, 0, true, 0); // the bytes the last restore of this backup wrote
            }
            BitSet suspects = basis.suspects(fe, out);
            if (suspects != null && suspects.isEmpty()) {
                // no page of it named since the last restore of this backup: its bytes are the backup's up to the entry's length
                long length = resultLength(fe);
                boolean cut = false;
                if (Files.size(out) > length) {
                    try (FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
                        ch.truncate(length);
                        ch.force(false);
                    }
                    cut = true;
                }
                return new FileOutcome(0, length, cut, 0, true, 0);
            }
            List<Chain.Layer> layers = fe.isDelta() ? chain.layers(fe) : null;
            References.Held h = fe.isDelta() ? new References.Held(layers.get(0).backup().id(), layers.get(0).entry().object()) : refs.resolve(m.id(), fe);
            ChunkScan scan = repo.scanBackupObject(h.backup(), h.object(), content);
            if (scan != null && scan.sealed()) {
                scan.close();
                scan = null;
            }
            if (!fe.isDelta()) {
                if (scan == null && Files.isRegularFile(out, LinkOption.NOFOLLOW_LINKS) && Files.size(out) == fe.size()
                        && String.format("%08x", contentDigest(out)).equals(fe.crc32c())) {
                    return new FileOutcome(0, fe.size(), false, 0, fe.size()); // the stored copy's length and digest: the same file
                }
            }
            try (ChunkScan chunks = scan) {
                FileModes.createPrivateDirectories(out.getParent());
                if (Files.isRegularFile(out, LinkOption.NOFOLLOW_LINKS) && (int) Files.getAttribute(out, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) {
                    Files.delete(out); // a hard link (a cp -al snapshot): writing in place would change the other names' file too
                }
                boolean created = !Files.exists(out, LinkOption.NOFOLLOW_LINKS);
                try (FileChannel ch = created ? FileChannel.open(out, java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE),
                        FileModes.attribute(FileModes.DATADIR_FILE)) : FileChannel.open(out, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    long before = ch.size();
                    int unit = innodb ? new TablespaceFlags(fe.flags()).physicalPageSize() : DiffingOutput.BLOCK;
                    // an InnoDB chunk may be skipped on its CRC-32C only when no page in it is newer than the backup (see writeByChunks)
                    long maxLsn = innodb ? m.redoEndLsn() : -1;
                    long[] wd = chunks == null ? null : fe.isDelta() ? PageComposer.deltaCompose(repo, layers, fe, chunks, ch, maxLsn, suspects)
                            : writeByChunks(chunks, ch, fe, unit, maxLsn, refs.describe(m.id(), fe), suspects);
                    if (wd != null) {
                        long length = resultLength(fe);
                        ch.force(false);
                        return new FileOutcome(wd[0], length, created || wd[0] > 0 || before != length, wd[1], wd[2]);
                    }
                    DiffingOutput os = new DiffingOutput(ch, unit);
                    if (fe.isDelta()) {
                        PageComposer.compose(repo, layers, fe, os);
                    } else {
                        String where = refs.describe(m.id(), fe);
                        try (ChunkedReader r = refs.open(m.id(), fe, content)) {
                            long n = ((InputStream) r).transferTo(os);
                            RestoreRun.checkStored(fe, n, r.rawCrc(), where);
                        }
                    }
                    os.finish();
                    ch.force(false);
                    return new FileOutcome(os.written(), os.length(), created || os.written() > 0 || before != os.length(), os.length(),
                            Math.min(before, os.length()));
                }
            }
        } catch (io.strata.store.ObjectStore.NoSuchObjectException e) {
            throw new CorruptDataException("backup " + m.id() + " is missing a stored copy of " + fe.path() + ": " + e.getMessage(),
                    "the repository is damaged; restore another backup");
        } catch (NoSuchFileException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "delta restore of " + fe.path() + " failed: " + e.getFile() + " vanished", null, e);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "delta restore of " + fe.path() + " failed: " + e.getMessage(), null, e);
        }
    }

    /**
     * Brings {@code ch} to the bytes of the whole stored copy {@code scan} walks: for each chunk,
     * reads the target's bytes at the chunk's raw offset; when they are all there, their CRC-32C
     * equals the chunk header's and (InnoDB, {@code maxLsn} >= 0) no page among them has a
     * FIL_PAGE_LSN above {@code maxLsn}, the chunk is taken as equal and its stored bytes are not
     * read; else the chunk is decoded and checked, and the units ({@code unit} bytes: pages, or
     * blocks) that differ are written. Then the footer is checked and the entry's length and digest
     * compared, and the file is cut to the entry's length.
     *
     * <p>How sure a skip is: every page a server changed after a restore of this backup (or of a
     * later point of its history) carries an LSN above the backup's redo end, so such a chunk is
     * always decoded; a chunk that differs otherwise (a target of an older point, or of another
     * server) is caught by the CRC-32C, which a random change keeps with chance 2^-32 (the strength
     * of the manifest's own 32-bit digests). Files other than InnoDB ({@code maxLsn} < 0) are never
     * skipped: they are compared byte for byte.
     *
     * @param maxLsn the backup's redo end LSN for InnoDB files; negative: skip nothing
     * @param suspects the only pages that may differ (a chunk holding none is not read at all; {@link DeltaBasis}); null: any
     * @return {bytes written, raw bytes decoded from the repository, bytes of the target read}
     * @throws CorruptDataException when a decoded chunk, the footer, or the length or digest does not check
     */
    private static long[] writeByChunks(ChunkScan scan, FileChannel ch, FileEntry fe, int unit, long maxLsn, String where, BitSet suspects) throws IOException {
        byte[] old = new byte[(int) Math.max(1, Math.min(io.strata.repo.ObjectFormat.CHUNK_SIZE, fe.size()))]; // grown when a chunk is longer
        long written = 0;
        long decoded = 0;
        long read = 0;
        CRC32C crc = new CRC32C();
        try (ScanReadAhead ahead = ScanReadAhead.of(scan, ch, suspects, unit, fe.size())) {
            for (long index = 0; scan.next(); index++) {
                if (ahead != null) {
                    ahead.at(index);
                }
                int n = scan.rawLength();
                long at = scan.rawOffset();
                if (!anySuspect(suspects, at, n, unit)) {
                    continue; // no page of this chunk written since the last restore of this backup (DeltaBasis)
                }
                if (suspects != null) {
                    long[] wr = writeSuspectPages(scan, ch, fe, suspects, at, n, unit);
                    if (wr != null) {
                        written += wr[0];
                        read += wr[1];
                        continue;
                    }
                }
                if (old.length < n) {
                    old = new byte[n];
                }
                int have = readAt(ch, old, n, at);
                read += have;
                if (have == n && noPageAbove(old, n, unit, maxLsn)) {
                    crc.reset();
                    crc.update(old, 0, n);
                    if ((int) crc.getValue() == scan.crc()) {
                        continue;
                    }
                }
                java.nio.ByteBuffer raw = scan.decode();
                decoded += n;
                written += writeDiffering(ch, raw.array(), raw.arrayOffset(), old, n, have, unit, at);
            }
        }
        RestoreRun.checkStored(fe, scan.rawTotal(), scan.digest(), where);
        if (ch.size() > fe.size()) {
            ch.truncate(fe.size()); // a cut writes no data bytes
        }
        return new long[] {written, decoded, read};
    }

    /**
     * Page mode of {@link #writeByChunks} for a chunk of a whole InnoDB copy stored as it is (no
     * compressor, in the clear) that holds pages named in {@code suspects}: for each such page, the
     * backup's page is read alone from the stored chunk and checked on its own (PageChecker VALID:
     * the tablespace's checksum, FIL_PAGE_OFFSET = its page number; FIL_PAGE_SPACE_ID = the
     * entry's space id), the target's page is read, and the backup's is written when they differ.
     * The rest of the chunk is neither read nor compared: {@link DeltaBasis} showed it unchanged.
     *
     * @return {bytes written, bytes of the target read}; null, having written nothing, when the
     *         chunk is not stored as it is, is off the page grid, or one of its named pages does not
     *         check alone (an all-zero page too): the caller then decodes and checks the whole chunk
     */
    static long[] writeSuspectPages(ChunkScan scan, FileChannel ch, FileEntry fe, BitSet suspects, long at, int n, int ps) throws IOException {
        if (!scan.storedAsIs() || at % ps != 0 || n % ps != 0 || fe.spaceId() == null) {
            return null;
        }
        io.strata.innodb.TablespaceFlags flags = new io.strata.innodb.TablespaceFlags(fe.flags());
        long first = at / ps;
        long end = (at + n) / ps;
        List<byte[]> want = new ArrayList<>();
        List<Integer> pages = new ArrayList<>();
        for (int p = suspects.nextSetBit((int) first); p >= 0 && p < end; p = suspects.nextSetBit(p + 1)) {
            byte[] page = new byte[ps];
            if (!storedPageChecks(scan, at, page, p, flags, fe.spaceId())) {
                return null;
            }
            want.add(page);
            pages.add(p);
        }
        long written = 0;
        long read = 0;
        byte[] old = new byte[ps];
        for (int i = 0; i < pages.size(); i++) {
            long off = pages.get(i) * (long) ps;
            int have = readAt(ch, old, ps, off);
            read += have;
            written += writeDiffering(ch, want.get(i), 0, old, ps, have, ps, off);
        }
        return new long[] {written, read};
    }

    /**
     * Reads page {@code p} alone from the current chunk of {@code scan} (stored as it is, its first
     * raw byte at file offset {@code at}) into {@code page} and checks it on its own: PageChecker
     * VALID (the tablespace's checksum; FIL_PAGE_OFFSET = {@code p}) and FIL_PAGE_SPACE_ID =
     * {@code spaceId}. False (an all-zero page too) when it does not check: decode the chunk instead.
     */
    static boolean storedPageChecks(ChunkScan scan, long at, byte[] page, long p, io.strata.innodb.TablespaceFlags flags, long spaceId) throws IOException {
        int ps = page.length;
        return scan.readRaw((int) (p * ps - at), page, 0, ps)
                && io.strata.innodb.PageChecker.verify(page, 0, flags, p).kind() == io.strata.innodb.PageVerdict.Kind.VALID
                && Integer.toUnsignedLong(io.strata.innodb.FilHeader.spaceId(page, 0)) == spaceId;
    }

    /** Length in bytes of {@code fe}'s file in the result: a composed InnoDB file has whole pages only. */
    static long resultLength(FileEntry fe) {
        if (!fe.isDelta()) {
            return fe.size();
        }
        int ps = new TablespaceFlags(fe.flags()).physicalPageSize();
        return fe.size() / ps * ps;
    }

    /**
     * Whether a page of the {@code n} bytes at file offset {@code at} ({@code ps}-byte pages) is in
     * {@code suspects}; true when {@code suspects} is null (every page may differ).
     */
    static boolean anySuspect(BitSet suspects, long at, int n, int ps) {
        if (suspects == null) {
            return true;
        }
        long first = at / ps;
        long end = (at + n + ps - 1) / ps;
        if (first > Integer.MAX_VALUE) {
            return true;
        }
        int next = suspects.nextSetBit((int) first);
        return next >= 0 && next < end;
    }

    /**
     * Whether no InnoDB page among the first {@code n} bytes of {@code b} ({@code ps}-byte pages)
     * has a FIL_PAGE_LSN (bytes 16-23 of a page, big-endian) above {@code maxLsn}; false for a
     * negative {@code maxLsn} (nothing may be skipped).
     */
    static boolean noPageAbove(byte[] b, int n, int ps, long maxLsn) {
        if (maxLsn < 0) {
            return false;
        }
        for (int off = 0; off + io.strata.innodb.FilHeader.FIL_PAGE_LSN + 8 <= n; off += ps) {
            if (Long.compareUnsigned(io.strata.innodb.FilHeader.pageLsn(b, off), maxLsn) > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes into {@code ch} at file offset {@code at} the {@code unit}-byte units of the {@code n}
     * result bytes {@code want[from ..]} that differ from {@code old[0 .. n)}, the file's bytes there
     * (of which only the first {@code have} exist), runs of them at once; returns the bytes written.
     */
    static long writeDiffering(FileChannel ch, byte[] want, int from, byte[] old, int n, int have, int unit, long at) throws IOException {
        long written = 0;
        int runStart = -1;
        for (int u = 0; u < n; u += unit) {
            int end = Math.min(u + unit, n);
            boolean same = end <= have && java.util.Arrays.equals(want, from + u, from + end, old, u, end);
            if (!same && runStart < 0) {
                runStart = u;
            } else if (same && runStart >= 0) {
                written += writeAt(ch, want, from + runStart, u - runStart, at + runStart);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            written += writeAt(ch, want, from + runStart, n - runStart, at + runStart);
        }
        return written;
    }

    /** Writes {@code len} bytes of {@code b} from {@code off} at file offset {@code at}, in slices ({@link io.strata.util.NioSlices}); returns len. */
    private static int writeAt(FileChannel ch, byte[] b, int off, int len, long at) throws IOException {
        io.strata.util.NioSlices.write(ch, b, off, len, at);
        return len;
    }

    /** Reads up to {@code n} bytes of {@code ch} at {@code at} into {@code b}, in slices; returns how many there were (fewer at the file's end). */
    static int readAt(FileChannel ch, byte[] b, int n, long at) throws IOException {
        return io.strata.util.NioSlices.read(ch, b, 0, n, at);
    }

    /**
     * The content digest ({@link io.strata.repo.ObjectFormat}) a whole stored copy of {@code f}
     * written in 1 MiB chunks has: CRC-32C over the (length, CRC-32C) pairs of its 1 MiB blocks.
     */
    static int contentDigest(Path f) throws IOException {
        CRC32C digest = new CRC32C();
        CRC32C c = new CRC32C();
        byte[] b = new byte[io.strata.repo.ObjectFormat.CHUNK_SIZE];
        try (InputStream in = Files.newInputStream(f)) {
            int n;
            while ((n = in.readNBytes(b, 0, b.length)) > 0) {
                c.reset();
                c.update(b, 0, n);
                io.strata.repo.ObjectFormat.digest(digest, n, (int) c.getValue());
            }
        }
        return (int) digest.getValue();
    }
}
