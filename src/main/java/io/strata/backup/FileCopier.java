package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ChunkedWriter;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.FileStat;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.Repository;
import io.strata.repo.Scope;
import io.strata.repo.StoredObject;
import io.strata.store.StorageException;
import io.strata.util.WorkerPriority;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Stores the data files of one backup as its objects {@code data/NNNNNN} (numbered in the order
 * the copies start), in parallel: InnoDB tablespaces page by page with {@link PageCopier}, whole
 * or as page deltas ({@link DeltaFormat}) as a {@link PageSelection} decides, and the other files
 * the {@link DatadirFiles} rules pick byte by byte. Each copy returns the file's manifest entry;
 * a file that vanished meanwhile (DROP TABLE) has none. A non-InnoDB file that {@link PlainFileReuse}
 * finds unchanged since the parent stored it is not read: its entry refers to the parent's object.
 * The first failed copy cancels the others
 * and is thrown. Counts what the page copies read, for the manifest's {@code detection}.
 */
final class FileCopier {
    /** Threads storing non-InnoDB files, at least: see {@link #copyPlainFiles}. */
    private static final int PLAIN_FILE_THREADS = 16;

    private final Repository repo;
    private final String id;
    private final int parallel;
    private final Throttle throttle;
    private final BackupProgress progress;
    private final Runnable checkCancelled;
    private final AtomicInteger objectSeq = new AtomicInteger();
    private final AtomicLong pagesRead = new AtomicLong();
    private final AtomicInteger filesScanned = new AtomicInteger();
    private final List<String> misses = Collections.synchronizedList(new ArrayList<>());
    /** A partial backup's tables (null: every file); files of tables out of it are not stored. */
    private Scope scope;
    /** A lower bound of the server's log end LSN now (-1: not known), read before each tablespace's file is opened. */
    private LongSupplier lsnNow = () -> -1;
    /** Datadir-relative path → how the newest copy of that tablespace began. */
    private final Map<String, CopyStart> starts = new ConcurrentHashMap<>();

    /**
     * How the copy of one tablespace began.
     *
     * @param lsn        a lower bound of the server's log end LSN before the file was opened (-1: not known)
     * @param page0Space the space id on the page 0 the copy read; -1 when page 0 was all zero or not read
     */
    record CopyStart(long lsn, long page0Space) {
        /**
         * Whether the file the copy read is another tablespace than {@code spaceId}, by its page 0.
         * Not judged for the system tablespace, whose later files start with no FSP header.
         */
        boolean foreign(long spaceId) {
            return page0Space >= 0 && spaceId > 0 && page0Space != spaceId;
        }
    }
    /** Which non-InnoDB files the parent stored and are unchanged: referred to, not stored again. */
    private volatile PlainFileReuse reuse = PlainFileReuse.NONE;
    private final AtomicInteger reused = new AtomicInteger();
    /** This backup's own entries stored before BLOCK_DDL, by path (see {@link #useEarly}). */
    private volatile Map<String, FileEntry> early = Map.of();
    private final AtomicInteger earlyKept = new AtomicInteger();
    private volatile HostCpu hostCpu;
    /** Datadir-relative paths the plain-file copy leaves to the caller ({@link #leaveOut}). */
    private volatile java.util.function.Predicate<String> leftOut = rel -> false;

    /**
     * @param id             the backup the objects belong to
     * @param parallel       threads copying tablespaces (--parallel)
     * @param checkCancelled throws when the backup was cancelled; called between reads
     */
    FileCopier(Repository repo, String id, int parallel, Throttle throttle, BackupProgress progress, Runnable checkCancelled) {
        this.repo = repo;
        this.id = id;
        this.parallel = parallel;
        this.throttle = throttle;
        this.progress = progress;
        this.checkCancelled = checkCancelled;
    }

    /**
     * Holds each pool of copy threads to the CPUs other processes leave idle ({@link CopyGate}), for
     * a backup with the default --parallel; null (as before the call): every thread runs.
     */
    void adaptTo(HostCpu cpu) {
        this.hostCpu = cpu;
    }

    /** Stores the non-InnoDB files of the tables in {@code scope} only (null: of every table). */
    void limitTo(Scope scope) {
        this.scope = scope;
    }

    /**
     * Gives the copier a lower bound of the server's log end LSN (never above it), read before each
     * tablespace's file is opened and kept as its {@link CopyStart#lsn()}.
     */
    void lsnClock(LongSupplier lsnNow) {
        this.lsnNow = lsnNow;
    }

    /** How the newest copy of the tablespace at {@code path} began; null when it was not copied. */
    CopyStart copyStart(String path) {
        return starts.get(path);
    }

    /** Refers to the parent's objects for the non-InnoDB files {@code r} finds unchanged (see {@link PlainFileReuse}). */
    void reuseFrom(PlainFileReuse r) {
        this.reuse = r;
    }

    /** Non-InnoDB files stored so far as references to the parent's objects. */
    int reused() {
        return reused.get();
    }

    /**
     * Gives the copier the entries that {@link #preCopyPlainFiles} stored for this backup before
     * BLOCK_DDL: under the lock, a file whose size, inode, device and change time are those its
     * early copy saw, with that change time older than the early copy's start by
     * {@link PlainFileReuse#MARGIN_NANOS}, keeps its early entry instead of being read again.
     */
    void useEarly(Map<String, FileEntry> early) {
        this.early = Map.copyOf(early);
    }

    /** Non-InnoDB files whose copy made before BLOCK_DDL was kept under it. */
    int earlyKept() {
        return earlyKept.get();
    }

    /** InnoDB pages read so far, by every method. */
    long pagesRead() {
        return pagesRead.get();
    }

    /** Tablespaces read in full so far (stored whole, or scanned for changed pages). */
    int filesScanned() {
        return filesScanned.get();
    }

    /** Pages a change-detection method missed, found by --debug-check-method: "path (space N) page ...". */
    List<String> misses() {
        return misses;
    }

    /**
     * Where a tablespace's file was last seen unchanged since the parent, by its absolute path
     * ({@link TablespaceScanner#seenUnchanged}); null for none. A tablespace the method names no
     * page of takes that look for its entry instead of a stat of its own (5,000 fewer at 5,000 tables).
     */
    void seenAtScan(java.util.function.Function<Tablespace, PlainFileReuse.Seen> lookup) {
        this.seenAtScan = lookup;
    }

    private java.util.function.Function<Tablespace, PlainFileReuse.Seen> seenAtScan = ts -> null;

    /** Size of a file in bytes, 0 when it cannot be read (it vanished). */
    static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Copies tablespaces, the largest first, counting their bytes in the page-copy stage.
     *
     * @param redoCheck throws when the redo copy failed (the backup is lost anyway: stop copying)
     * @return the stored files by path
     */
    Map<String, FileEntry> copyTablespaces(List<Tablespace> tablespaces, PageSelection selection, Runnable redoCheck) throws InterruptedException {
        long[] sizes = new long[tablespaces.size()];
        return copyTablespaces(largestFirst(tablespaces, sizes), sizes, selection, redoCheck);
    }

    /**
     * As {@link #copyTablespaces(List, PageSelection, Runnable)}, for tablespaces already put in
     * order by {@link #largestFirst} with their sizes in bytes.
     */
    Map<String, FileEntry> copyTablespaces(List<Tablespace> list, long[] sizes, PageSelection selection, Runnable redoCheck) throws InterruptedException {
        PageCopier copier = new PageCopier(throttle, () -> {
            redoCheck.run();
            checkCancelled.run();
        }, n -> progress.add(BackupProgress.PAGE_COPY, n));
        List<Callable<FileEntry>> large = new ArrayList<>();
        List<Callable<FileEntry>> small = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Tablespace ts = list.get(i);
            (sizes[i] < SMALL_TABLESPACE_BYTES ? small : large).add(() -> copyTablespace(copier, ts, selection));
        }
        Map<String, FileEntry> files = runParallel(large, parallel);
        // a small file's cost is opening, creating, renaming and closing, not reading: like the
        // non-InnoDB files, more of them are in flight than --parallel; each holds one chunk buffer
        files.putAll(runParallel(small, Math.max(parallel, SMALL_TABLESPACE_THREADS)));
        return files;
    }

    /** Tablespaces below this size (1 MiB: one read batch) are copied {@link #SMALL_TABLESPACE_THREADS} at a time. */
    static final long SMALL_TABLESPACE_BYTES = 1 << 20;
    /** Threads copying small tablespaces, at least (a 4 MiB chunk buffer each: 32 MiB of the heap). */
    static final int SMALL_TABLESPACE_THREADS = 8;

    /**
     * {@code tablespaces} sorted by their files' sizes, the largest first: each file's size read
     * once (a comparator reading it twice per comparison asked for some 100,000 sizes at 5,000
     * tables).
     *
     * @param sizes as long as {@code tablespaces}; receives the size in bytes of each returned
     *              tablespace's file, in the returned order (0 for a file that vanished)
     */
    static List<Tablespace> largestFirst(List<Tablespace> tablespaces, long[] sizes) {
        return largestFirst(tablespaces, sizes, ts -> null);
    }

    /**
     * As {@link #largestFirst(List, long[])}, a file's size taken from {@code scanned} (the scan's
     * look at a file unchanged since the parent, or null) where it has one: the sizes order the
     * copy and estimate its bytes, and a file the scan looked at is not asked again.
     */
    static List<Tablespace> largestFirst(List<Tablespace> tablespaces, long[] sizes, java.util.function.Function<Tablespace, PlainFileReuse.Seen> scanned) {
        long[] read = new long[tablespaces.size()];
        Integer[] order = new Integer[read.length];
        for (int i = 0; i < read.length; i++) {
            PlainFileReuse.Seen seen = scanned.apply(tablespaces.get(i));
            read[i] = seen != null ? seen.size() : sizeOf(tablespaces.get(i).file());
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingLong((Integer i) -> read[i]).reversed());
        List<Tablespace> out = new ArrayList<>(read.length);
        for (Integer i : order) {
            sizes[out.size()] = read[i];
            out.add(tablespaces.get(i));
        }
        return out;
    }

    private FileEntry copyTablespace(PageCopier copier, Tablespace ts, PageSelection selection) throws IOException, InterruptedException {
        PlainFileReuse.Seen scanned = seenAtScan.apply(ts);
        if (scanned != null && selection.unchanged(ts, scanned.size(), selection.choose(ts, scanned.size()))) {
            return unchangedTablespace(ts, scanned.size(), scanned.stat()); // no page to read: the scan's look is its entry's
        }
        PlainFileReuse.Seen seen;
        try {
            seen = PlainFileReuse.look(ts.file()); // before the file is opened: its size and stat for the entry
        } catch (NoSuchFileException e) {
            return null; // dropped meanwhile; the BLOCK_DDL rescan settles it
        }
        long size = seen != null ? seen.size() : sizeOf(ts.file());
        FileStat stat = seen == null ? null : seen.stat();
        PageSelection.Choice choice = selection.choose(ts, size);
        if (selection.unchanged(ts, size, choice)) {
            return unchangedTablespace(ts, size, stat);
        }
        String key = nextDataObject();
        try (StoredObject w = repo.createBackupObject(id, key, choice.delta() ? DeltaFormat.CONTENT : "innodb-file", size)) {
            ChunkedWriter cw = w.out();
            PageCopier.Result r;
            long startLsn = lsnNow.getAsLong();
            try {
                r = copier.copy(ts, cw, choice.threshold(), choice.pages(), choice.checkBelow());
            } catch (IOException e) {
                throw copyFailure(ts, e, w.describe());
            }
            if (r.vanished()) {
                return null;
            }
            starts.put(ts.path(), new CopyStart(startLsn, r.page0Space()));
            pagesRead.addAndGet(r.pagesRead());
            if (choice.pages() == null) {
                filesScanned.incrementAndGet();
            }
            for (String miss : r.misses()) {
                misses.add(ts.path() + " (space " + ts.spaceId() + ") " + miss);
            }
            w.commitBatched();
            return new FileEntry(ts.path(), "innodb", ts.spaceId(), ts.flags(), r.bytes(), r.pages(), choice.delta() ? FileEntry.DELTA : FileEntry.WHOLE,
                    r.deltaPages(), w.object(), w.storedBytes(), w.crc32c(), ts.home(), ts.location(), stat, null);
        }
    }

    /**
     * What a failed page copy of {@code ts} is: a full device or used-up quota of the repository
     * (ENOSPC, EDQUOT; {@link StorageException#noSpace}) is disk-full naming {@code resource}, the
     * object being written; any other I/O error is the data directory's (datadir-unreadable).
     */
    static StrataException copyFailure(Tablespace ts, IOException e, String resource) {
        if (StorageException.noSpace(e)) {
            return StorageException.local("copy", resource, e);
        }
        return PageCopier.unreadable(ts, e);
    }

    /** The backup's shared empty delta, once written: its object and stored size. */
    private record SharedEmpty(String object, long storedBytes, String crc32c) {}

    private SharedEmpty sharedEmpty;

    /**
     * The entry of a tablespace that needs no page ({@link PageSelection#unchanged}): it names the
     * backup's one shared empty delta (docs/repository-format.md, "Changes" NN), written by the
     * first such tablespace, whose entry alone counts its stored bytes. The file is not opened;
     * its copy is taken to begin now, for the DDL checks under BLOCK_DDL.
     *
     * @param size the file's size in bytes, read before
     * @param stat its attributes, read before (null when the system has none)
     */
    private FileEntry unchangedTablespace(Tablespace ts, long size, FileStat stat) {
        long startLsn = lsnNow.getAsLong();
        long stored = 0;
        SharedEmpty shared;
        synchronized (this) {
            if (sharedEmpty == null) {
                String key = nextDataObject();
                // an object of its own (-1: no pack), written once: taking a pack could wait while this copier's lock is held
                try (StoredObject w = repo.createBackupObject(id, key, DeltaFormat.CONTENT, -1L)) {
                    w.commitBatched();
                    sharedEmpty = new SharedEmpty(w.object(), w.storedBytes(), w.crc32c());
                }
                stored = sharedEmpty.storedBytes();
            }
            shared = sharedEmpty;
        }
        starts.put(ts.path(), new CopyStart(startLsn, -1));
        unchanged.incrementAndGet();
        int ps = new TablespaceFlags(ts.flags()).physicalPageSize();
        long pages = size / ps;
        progress.add(BackupProgress.PAGE_COPY, size);
        return new FileEntry(ts.path(), "innodb", ts.spaceId(), ts.flags(), pages * ps, pages, FileEntry.DELTA, 0, shared.object(), stored,
                shared.crc32c(), ts.home(), ts.location(), stat, null);
    }

    private final AtomicInteger unchanged = new AtomicInteger();

    /**
     * Told that the backup's object {@code object} was deleted (its last entry dropped under
     * BLOCK_DDL): when it was the shared empty delta, the next unchanged tablespace (one copied
     * again under BLOCK_DDL) stores a new one instead of naming the deleted object.
     */
    synchronized void deleted(String object) {
        if (sharedEmpty != null && sharedEmpty.object().equals(object)) {
            sharedEmpty = null;
        }
    }

    /** Tablespaces stored so far as entries of the shared empty delta ({@link #unchangedTablespace}). */
    int unchangedTablespaces() {
        return unchanged.get();
    }

    /**
     * Copies the files of the data directory that {@link DatadirFiles} copies under {@code stage},
     * except the tablespaces in {@code innodb}, counting their bytes in the file-copy stage.
     *
     * @param logBinBasename {@code @@log_bin_basename}, null without a binary log
     * @param innodb         datadir-relative paths of the tablespaces the page copier stores
     * @return the stored files by path
     */
    Map<String, FileEntry> copyPlainFiles(Path datadir, String logBinBasename, Set<String> innodb, DatadirFiles.When stage)
            throws InterruptedException {
        return copyPlainFiles(datadir, logBinBasename, innodb, List.of(), stage);
    }

    /**
     * As {@link #copyPlainFiles(Path, String, Set, DatadirFiles.When)}, skipping whole the InnoDB
     * directories {@code innodbDirs} (data home, log home, undo directory) that are sub-folders of the
     * data directory: their files are stored by the page and redo copiers, never twice.
     */
    Map<String, FileEntry> copyPlainFiles(Path datadir, String logBinBasename, Set<String> innodb, List<Path> innodbDirs, DatadirFiles.When stage)
            throws InterruptedException {
        return copyPlainFiles(datadir, logBinBasename, innodb, innodbDirs, stage, true, null);
    }

    /**
     * As {@link #copyPlainFiles(Path, String, Set, List, DatadirFiles.When)} under BLOCK_DDL, with
     * the candidates listed by the rescan made under the same lock ({@link TablespaceScanner#listed}):
     * no file operation can add or remove a table's file between that walk and this copy. With
     * {@code listed} null the data directory is walked again.
     */
    Map<String, FileEntry> copyPlainFilesBlocked(Path datadir, String logBinBasename, Set<String> innodb, List<Path> innodbDirs, PlainFileReuse.Listing listed)
            throws InterruptedException {
        return copyPlainFiles(datadir, logBinBasename, innodb, innodbDirs, DatadirFiles.When.BLOCK_DDL, true, listed);
    }

    /**
     * Stores, before BLOCK_DDL and while DDL may still run, the files that
     * {@link #copyPlainFiles(Path, String, Set, List, DatadirFiles.When)} stores under it
     * ({@link DatadirFiles.When#BLOCK_DDL}: .frm, .par, .opt, .TRG, .TRN, non-transactional
     * tables' files), each with the size and {@code stat} seen before its first byte was read, for
     * {@link #useEarly}. A file changed or replaced meanwhile is stored again under the lock; the
     * caller deletes the objects of early entries the final file set does not keep. Not counted in
     * the progress: the locked copy counts each file once, kept or stored again.
     *
     * @param innodb the tablespaces known now, by datadir-relative path (left out, as under the lock)
     * @param listed the files the scan of the tablespaces just listed ({@link TablespaceScanner#listed}):
     *               a file created since is left to the copy under the lock, which lists again
     * @return the entries stored, by path
     */
    Map<String, FileEntry> preCopyPlainFiles(Path datadir, String logBinBasename, Set<String> innodb, List<Path> innodbDirs, PlainFileReuse.Listing listed)
            throws InterruptedException {
        return copyPlainFiles(datadir, logBinBasename, innodb, innodbDirs, DatadirFiles.When.BLOCK_DDL, false, listed);
    }

    /**
     * The files that may be copied at {@code stage}: under BLOCK_DDL every regular file down to the
     * database directories; under BLOCK_COMMIT, while the server's commits wait, only the data
     * directory's own files and those of {@code mysql/}, the only places {@link DatadirFiles} puts
     * files of that stage (the Aria log; the statistics and log tables). Walking 50,000 tables'
     * directories there held every commit for 1.1 s.
     */
    static List<Path> candidates(Path datadir, DatadirFiles.When stage) throws IOException {
        if (stage != DatadirFiles.When.BLOCK_COMMIT) {
            return io.strata.util.Dirs.liveRegularFiles(datadir, 2);
        }
        List<Path> out = new ArrayList<>(io.strata.util.Dirs.liveRegularFiles(datadir, 1));
        Path mysql = datadir.resolve("mysql");
        if (Files.isDirectory(mysql)) { // a linked database directory is entered, as at depth 2
            out.addAll(io.strata.util.Dirs.liveRegularFiles(mysql, 1));
        }
        return out;
    }

    private Map<String, FileEntry> copyPlainFiles(Path datadir, String logBinBasename, Set<String> innodb, List<Path> innodbDirs,
                                                  DatadirFiles.When stage, boolean counted, PlainFileReuse.Listing listed) throws InterruptedException {
        DatadirFiles rules = new DatadirFiles(datadir, logBinBasename, innodbDirs);
        // each file's Path made when its copy starts (a Path is ~200 bytes of heap; 100,000 of them at 100,000 tables)
        List<Callable<FileEntry>> tasks = new ArrayList<>();
        java.util.function.Predicate<String> wanted = rel -> !innodb.contains(rel) && !leftOut.test(rel) && rules.when(rel) == stage
                && (scope == null || scope.includesPath(rel));
        try {
            if (listed != null) {
                for (int i = 0; i < listed.size(); i++) {
                    String rel = listed.name(i);
                    if (wanted.test(rel)) {
                        int at = i;
                        tasks.add(() -> copyPlain(datadir, listed.file(at), rel, counted, listed.seenAt(at)));
                    }
                }
            } else {
                for (Path p : candidates(datadir, stage)) { // a file dropped meanwhile is left out
                    String rel = io.strata.util.Dirs.relative(datadir, p);
                    if (wanted.test(rel)) {
                        tasks.add(() -> copyPlain(datadir, p, rel, counted, null));
                    }
                }
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot list the data directory " + datadir + ": " + e.getMessage(), null, e);
        }
        // small files: their cost is the latency of making each stored object durable, which
        // overlaps well, so more of them are in flight than --parallel data files
        return runParallel(tasks, Math.max(parallel, PLAIN_FILE_THREADS));
    }

    /**
     * Stores the file {@code p}, or refers to the parent's or the early copy's object when it is
     * unchanged since. {@code walked}: what the walk that listed it saw (its lstat, before the
     * first byte is read: {@link PlainFileReuse#list}), or null to look at it now.
     */
    private FileEntry copyPlain(Path dd, Path p, String rel, boolean counted, PlainFileReuse.Seen walked) throws IOException, InterruptedException {
        checkCancelled.run();
        PlainFileReuse.Seen seen = walked;
        if (seen == null) {
            try {
                seen = PlainFileReuse.look(p); // before the first byte is read: its copyBegan and change time
            } catch (NoSuchFileException e) {
                return null;
            }
        }
        if (counted) {
            // counted in the estimate when looked at, not in a pass of its own before the copy: at 50,000
            // tables that pass was 100,000 more stat calls while BLOCK_DDL held the server's DDL
            progress.addEstimate(BackupProgress.FILE_COPY, seen != null ? seen.size() : sizeOf(p));
        }
        FileEntry ref = reuse.reuse(rel, seen);
        FileEntry before = early.get(rel);
        if (ref != null && ref.equals(before)) {
            ref = before; // the early copy's entry, the same reference: one entry per file held, not two (100,000 more at 100,000 tables)
        }
        if (ref != null) {
            if (counted) {
                reused.incrementAndGet();
                progress.add(BackupProgress.FILE_COPY, ref.size());
            }
            return ref;
        }
        if (counted && before != null && seen != null && !before.isReference() && PlainFileReuse.unchanged(before, seen.size(), seen.stat())) {
            earlyKept.incrementAndGet();
            progress.add(BackupProgress.FILE_COPY, before.size());
            return before;
        }
        String key = nextDataObject();
        try (StoredObject w = repo.createBackupObject(id, key, "file", seen != null ? seen.size() : -1L)) {
            ChunkedWriter cw = w.out();
            long n;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p)) {
                AriaPages aria = rel.endsWith(".MAI") ? ariaPagesOfIndex(ch, rel) : ariaPages(p, rel);
                n = aria != null ? copyAria(ch, rel, aria, cw, counted) : copyRaw(ch, seen, cw, counted);
            } catch (NoSuchFileException e) {
                return null;
            } catch (StrataException e) {
                if (!counted && !(e instanceof io.strata.store.StorageException) && (e.code() == ErrorCode.CORRUPT_DATA || e.code() == ErrorCode.IO_ERROR)) {
                    // the early pass runs before BLOCK_DDL: a table renamed or rebuilt meanwhile can pair an
                    // index header with another version's data file; the counted pass copies the file again.
                    // Not a failure of the repository (a StorageException): that ends the backup here.
                    progress.say("DEBUG [early] " + rel + " is copied again under BLOCK_DDL: " + e.getMessage());
                    return null;
                }
                throw e;
            } catch (AccessDeniedException e) {
                throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + p + ": permission denied",
                        "run strata as a user that can read the data directory (root or mysql)", e);
            }
            w.commitBatched();
            return new FileEntry(rel, "file", null, null, n, 0, FileEntry.WHOLE, 0, w.object(), w.storedBytes(), w.crc32c(), null, null,
                    seen == null ? null : seen.stat(), null);
        }
    }

    /**
     * From now on the plain-file copy skips the files whose datadir-relative paths {@code rels}
     * accepts: the caller stores them itself ({@link #storeBytes}, {@link #copyAriaLogs}).
     */
    void leaveOut(java.util.function.Predicate<String> rels) {
        leftOut = rels;
    }

    /**
     * Stores the Aria log files ({@code aria_log.NNNNNNNN}) of {@code dir}, the server's
     * {@code aria_log_dir_path} when it is not the data directory, as files at the top of the
     * data directory: where the restore's recovery run, and a server of default settings, read them.
     *
     * @return the entries stored, by path ({@code aria_log.NNNNNNNN})
     * @throws StrataException datadir-unreadable when {@code dir} cannot be listed
     */
    Map<String, FileEntry> copyAriaLogs(Path dir) throws InterruptedException {
        List<Callable<FileEntry>> tasks = new ArrayList<>();
        try (java.util.stream.Stream<Path> list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                String name = p.getFileName().toString();
                if (name.matches("aria_log\\.\\d{8}") && Files.isRegularFile(p)) {
                    tasks.add(() -> copyPlain(dir, p, io.strata.util.Dirs.relative(dir, p), true, null));
                }
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot list the Aria log directory " + dir + " (aria_log_dir_path): " + e.getMessage(),
                    "run strata as a user that can read it (root or mysql)", e);
        }
        return runParallel(tasks, Math.max(parallel, PLAIN_FILE_THREADS));
    }

    /**
     * Stores {@code data} as the content of the datadir file {@code rel} (a plain file entry, as
     * {@link #copyPlainFiles} makes): for a file the backup read earlier than its stage copies it.
     *
     * The entry records no stat, so no later backup refers to it as unchanged.
     *
     * @return the stored entry
     */
    FileEntry storeBytes(String rel, byte[] data) throws IOException {
        String key = nextDataObject();
        try (StoredObject w = repo.createBackupObject(id, key, "file", (long) data.length)) {
            w.out().write(data, 0, data.length);
            w.commitBatched();
            progress.addEstimate(BackupProgress.FILE_COPY, data.length);
            progress.add(BackupProgress.FILE_COPY, data.length);
            return new FileEntry(rel, "file", null, null, data.length, 0, FileEntry.WHOLE, 0, w.object(), w.storedBytes(), w.crc32c(), null, null,
                    null, null);
        }
    }

    /** Copies the file open as {@code ch} as it reads it; {@code seen}: its size as last looked at, or null. @return the bytes copied */
    private long copyRaw(java.nio.channels.FileChannel ch, PlainFileReuse.Seen seen, ChunkedWriter cw, boolean counted) throws IOException, InterruptedException {
        long n = 0;
        try (InputStream in = io.strata.util.NioSlices.inputStream(ch)) {
            // most of these files are a few KiB: a buffer of their size (as just seen), not a whole chunk
            byte[] buf = new byte[(int) Math.max(8192, Math.min(1 << 20, seen != null ? seen.size() : ch.size()))];
            int k;
            do {
                k = in.readNBytes(buf, 0, buf.length); // less than the buffer only at the end of the file
                if (k > 0) {
                    throttle.acquire(k);
                    cw.write(buf, 0, k);
                    n += k;
                    if (counted) {
                        progress.add(BackupProgress.FILE_COPY, k);
                    }
                    checkCancelled.run();
                }
            } while (k == buf.length);
        }
        return n;
    }

    /** Pages of an Aria file read in one go. */
    private static final int ARIA_PAGES_PER_READ = 64;
    /** Reads of a page whose checksum does not match, 100 ms apart, before the backup fails (mariadb-backup's number). */
    static final int ARIA_READS = 10;

    /**
     * Whether the datadir-relative {@code rel} names an Aria table's data ({@code .MAD}) or
     * index ({@code .MAI}) file whose pages may be checked: in a database directory, and not a
     * {@code #sql} file (the work table of an ALTER or a temporary table, which the server drops
     * at its next start if it is left over from a crash, damaged or not).
     */
    static boolean ariaTableFile(String rel) {
        int slash = rel.lastIndexOf('/');
        return slash > 0 && (rel.endsWith(".MAD") || rel.endsWith(".MAI")) && !rel.startsWith("#sql", slash + 1);
    }

    /**
     * The page geometry of the Aria table whose data ({@code .MAD}) or index ({@code .MAI}) file
     * is {@code p}, read from the index file's header at the path beside it, when its pages are
     * checked as they are copied ({@link AriaPages#checked}); null for every other file
     * ({@link #ariaTableFile}), or when the index file's header cannot be read.
     */
    static AriaPages ariaPages(Path p, String rel) {
        if (!ariaTableFile(rel)) {
            return null;
        }
        String name = p.getFileName().toString();
        Path index = p.resolveSibling(name.substring(0, name.length() - 3) + "MAI");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(index)) {
            return ariaPagesOfIndex(ch, rel.substring(0, rel.length() - 3) + "MAI");
        } catch (IOException e) {
            return null; // the copy itself says what is wrong with the file
        }
    }

    /**
     * As {@link #ariaPages(Path, String)} for the index file {@code rel} open as {@code ch}: its
     * header read from the channel the copy then reads, so that header and pages are of one file.
     */
    static AriaPages ariaPagesOfIndex(java.nio.channels.FileChannel ch, String rel) throws IOException {
        if (!ariaTableFile(rel)) {
            return null;
        }
        byte[] head = new byte[(int) Math.min(ch.size(), 65536)]; // the state header and base information
        int k = readFully(ch, head, 0, head.length, 0);
        return AriaPages.checked(k == head.length ? head : java.util.Arrays.copyOf(head, k));
    }

    /** Stores the Aria file open as {@code ch} through {@link #copyAriaPages}, throttled and counted as any file. @return the bytes copied */
    private long copyAria(java.nio.channels.FileChannel ch, String rel, AriaPages aria, ChunkedWriter cw, boolean counted)
            throws IOException, InterruptedException {
        return copyAriaPages(ch, rel, aria, (b, k) -> {
            throttle.acquire(k);
            cw.write(b, 0, k);
            if (counted) {
                progress.add(BackupProgress.FILE_COPY, k);
            }
            checkCancelled.run();
        }, () -> {
            Thread.sleep(100);
            checkCancelled.run();
        });
    }

    /** Where {@link #copyAriaPages} puts what it read: {@code len} bytes from the start of {@code b}. */
    interface Chunks {
        void put(byte[] b, int len) throws IOException, InterruptedException;
    }

    /** What {@link #copyAriaPages} does before it reads a torn page again (100 ms and a cancellation check). */
    interface Pause {
        void pause() throws InterruptedException;
    }

    /**
     * Reads the Aria file {@code ch} (datadir-relative {@code rel}; an index file when it ends in
     * {@code .MAI}) page by page from its start to its end, each whole page checked
     * ({@link AriaPages#whole}): a page the server was writing as it was read (half old, half new)
     * is read again after {@code pause}, up to {@link #ARIA_READS} reads. A last part shorter than
     * a page is passed on as read, as is a page found cut short when read again (the file ends there).
     *
     * @return the bytes read and passed to {@code out}
     * @throws StrataException corrupt-data (exit 12) when a page never reads whole: it is damaged on the server
     */
    static long copyAriaPages(java.nio.channels.FileChannel ch, String rel, AriaPages aria, Chunks out, Pause pause)
            throws IOException, InterruptedException {
        boolean index = rel.endsWith(".MAI");
        int bs = aria.blockSize();
        // a file of a few pages (most of mysql's) gets a buffer of its size, not 64 pages
        long pages = Math.max(1, Math.min(ARIA_PAGES_PER_READ, (ch.size() + bs - 1) / bs));
        byte[] buf = new byte[(int) (bs * pages)];
        if (!aria.checksums()) {
            return copyAriaPagesCompared(ch, rel, bs, buf, out, pause, 0, Long.MAX_VALUE);
        }
        long pos = 0;
        if (index) {
            // the header pages carry no checksum: two equal reads
            pos = copyAriaPagesCompared(ch, rel, bs, buf, out, pause, 0, aria.keystart());
            if (pos < aria.keystart()) {
                return pos;
            }
        }
        while (true) {
            int k = readFully(ch, buf, 0, buf.length, pos);
            pages:
            for (int off = 0; off + bs <= k; off += bs) {
                long pageNo = (pos + off) / bs;
                for (int reads = 1; !aria.whole(buf, off, pageNo, index); reads++) {
                    if (reads >= ARIA_READS) {
                        throw new StrataException(ErrorCode.CORRUPT_DATA, "page " + pageNo + " of the Aria file " + rel + " does not match its checksum in "
                                + ARIA_READS + " reads 0.1 s apart: the table is damaged on the server",
                                "run CHECK TABLE on it (REPAIR TABLE if it is damaged), then the backup again", null);
                    }
                    pause.pause();
                    int r = readFully(ch, buf, off, bs, pos + off);
                    if (r < bs) {
                        k = off + r; // the file was cut short meanwhile: it ends here, as read
                        break pages;
                    }
                }
            }
            if (k > 0) {
                out.put(buf, k);
                pos += k;
            }
            if (k < buf.length) {
                return pos;
            }
        }
    }

    /**
     * As {@link #copyAriaPages} for pages without a checksum strata can check (all of a table's,
     * {@link AriaPages#checksums} false; the header pages of an index file): the bytes from
     * {@code from} to {@code to} (or the end of the file) are read twice, and a page whose two
     * reads differ (the server wrote it meanwhile, or as it was first read) is read again after
     * {@code pause} until two reads in a row agree, up to {@link #ARIA_READS} reads.
     *
     * @return where the part passed to {@code out} ends: {@code to}, or the end of the file before it
     * @throws StrataException io-error (exit 25) when a page reads differently every time: the server kept writing it
     */
    private static long copyAriaPagesCompared(java.nio.channels.FileChannel ch, String rel, int bs, byte[] buf, Chunks out, Pause pause, long from, long to)
            throws IOException, InterruptedException {
        byte[] again = new byte[buf.length];
        long pos = from;
        while (true) {
            int want = (int) Math.min(buf.length, to - pos);
            if (want == 0) {
                return pos;
            }
            int k = readFully(ch, buf, 0, want, pos);
            int k2 = readFully(ch, again, 0, k, pos);
            if (k2 < k) {
                k = k2; // the file was cut short meanwhile: it ends where the second read ended
            }
            for (int off = 0; off < k; off += bs) {
                int len = Math.min(bs, k - off);
                for (int reads = 2; !java.util.Arrays.equals(buf, off, off + len, again, off, off + len); reads++) {
                    if (reads >= ARIA_READS) {
                        throw new StrataException(ErrorCode.IO_ERROR, "page " + (pos + off) / bs + " of the Aria file " + rel + " read differently in each of "
                                + ARIA_READS + " reads 0.1 s apart (the page carries no checksum strata can check, so only two equal reads make it whole): "
                                + "the server kept writing it", "run the backup again", null);
                    }
                    System.arraycopy(again, off, buf, off, len);
                    pause.pause();
                    int r = readFully(ch, again, off, len, pos + off);
                    if (r < len) {
                        len = r;
                        k = off + r; // the file was cut short meanwhile: it ends here
                        System.arraycopy(again, off, buf, off, r);
                    }
                }
            }
            if (k > 0) {
                out.put(buf, k);
                pos += k;
            }
            if (k < want) {
                return pos;
            }
        }
    }

    /** Reads up to {@code len} bytes at {@code pos} into {@code b}; fewer only at the end of the file. */
    private static int readFully(java.nio.channels.FileChannel ch, byte[] b, int off, int len, long pos) throws IOException {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b, off, len);
        while (bb.hasRemaining()) {
            int r = ch.read(bb, pos + (bb.position() - off));
            if (r <= 0) {
                break;
            }
        }
        return bb.position() - off;
    }

    /** The next data object's name: data/NNNNNN, numbered in the order copies start. */
    private String nextDataObject() {
        return Repository.dataObject(objectSeq.incrementAndGet());
    }

    /** Copy tasks queued per copy thread beyond the ones running: enough that no thread waits for its next. */
    static final int QUEUED_PER_THREAD = 4;

    /**
     * Runs copy tasks on {@code threads} threads; the first failure cancels the rest and is thrown.
     * An I/O error a task lets through (reading a datadir file) is a {@link StorageException}
     * naming the backup's objects, as before the store's errors became unchecked: never a bug.
     */
    private Map<String, FileEntry> runParallel(List<Callable<FileEntry>> tasks, int threads) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> WorkerPriority.thread(r, "strata-copy"));
        HostCpu cpu = hostCpu;
        CopyGate gate = cpu == null || threads <= 1 ? null : new CopyGate(cpu, threads, parallel);
        Map<String, FileEntry> files = new TreeMap<>();
        try {
            // at most a few tasks per thread queued: a queue of every task (100,000 at 100,000 tables)
            // held a future and two closures for each until its turn came
            java.util.concurrent.CompletionService<FileEntry> done = new java.util.concurrent.ExecutorCompletionService<>(pool);
            int window = Math.max(1, threads) * QUEUED_PER_THREAD;
            java.util.Iterator<Callable<FileEntry>> next = tasks.iterator();
            int running = 0;
            while (running > 0 || next.hasNext()) {
                while (running < window && next.hasNext()) {
                    Callable<FileEntry> task = next.next();
                    done.submit(() -> {
                        WorkerPriority.ensureLowered();
                        if (gate == null) {
                            return task.call();
                        }
                        gate.enter();
                        try {
                            return task.call();
                        } finally {
                            gate.leave();
                        }
                    });
                    running++;
                }
                FileEntry fe = done.take().get();
                running--;
                if (fe != null) {
                    files.put(fe.path(), fe);
                }
            }
            return files;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof StrataException se) {
                throw se;
            }
            if (c instanceof IOException io) {
                throw StorageException.local("copy", repo.describeBackupObject(id, ""), io);
            }
            throw new StrataException(ErrorCode.BUG, "copy failed: " + c, null, c);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }
}
