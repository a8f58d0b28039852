package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ChunkedWriter;
import io.strata.repo.DeltaFormat;
import io.strata.repo.Detection;
import io.strata.repo.FileEntry;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.ObjectCodec;
import io.strata.repo.RepoLock;
import io.strata.repo.Repository;
import io.strata.repo.SourceInfo;
import io.strata.repo.StoredObject;
import io.strata.server.BackupStages;
import io.strata.server.BinlogPosition;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * One hot full backup, in the order of design.md "How a hot backup works":
 * newest checkpoint C → redo copier → InnoDB pages (parallel) → BACKUP STAGE START, FLUSH,
 * BLOCK_DDL (DDL reconciliation, non-InnoDB files) → BLOCK_COMMIT (binlog coordinates, E,
 * statistics/log tables, Aria log, redo copied to ≥ E) → END → manifest, stored last.
 */
public final class BackupRun {
    /** Threads storing non-InnoDB files, at least (see {@link #copyPlainFiles}). */
    private static final int PLAIN_FILE_THREADS = 16;

    private final BackupOptions opts;
    private final BackupProgress progress;
    private final String id;
    private final Repository repo;
    private final Object finishLock = new Object();
    private final List<String> warnings = new ArrayList<>();
    private final AtomicInteger objectSeq = new AtomicInteger();
    private HistoryRecord begin;
    private boolean finished;
    private BaseSelector.Base base = BaseSelector.Base.full(null);
    private Map<Long, FileEntry> parentFiles = Map.of();
    private volatile DdlTracker ddlSeen;
    private final io.strata.codec.Compression compression;
    private final Throttle throttle;
    /** The signal that cancelled the backup ("SIGINT" or "SIGTERM"), null while it runs. */
    private volatile String cancelledBy;
    private ChangeDetection.Plan plan;
    private volatile long startCheckpoint;
    private final AtomicLong pagesRead = new AtomicLong();
    private final AtomicInteger filesScanned = new AtomicInteger();
    private final List<String> misses = Collections.synchronizedList(new ArrayList<>());

    private BackupRun(BackupOptions opts, BackupProgress progress, Repository repo) {
        this.opts = opts;
        this.progress = progress;
        this.repo = repo;
        this.id = Repository.newBackupId(Instant.now());
        this.compression = repo.compression();
        this.throttle = new Throttle(opts.throttleMbPerSecond());
    }

    /** The manifest's name of the stored redo log object. */
    private static final String REDO_OBJECT = "redo";

    /** The next data object's name: data/NNNNNN, numbered in the order copies start. */
    private String nextDataObject() {
        return "data/" + String.format(java.util.Locale.ROOT, "%06d", objectSeq.incrementAndGet());
    }

    public record Outcome(Manifest manifest, List<String> warnings) {}

    /** Whole copy or delta for one tablespace (design rules 4 and 8: when in doubt, whole). */
    private long thresholdFor(Tablespace ts, long size) {
        if (base.threshold() == null) {
            return -1;
        }
        if (base.parent() == null) {
            return base.threshold(); // external --start-lsn base: everything as deltas, unchecked
        }
        FileEntry before = parentFiles.get(ts.spaceId());
        if (before == null || ts.spaceId() < 0 || size < before.size() || before.flags() == null || before.flags() != ts.flags()
                || (ddlSeen != null && ddlSeen.changedSpaces().contains(ts.spaceId()))) {
            return -1;
        }
        return base.threshold();
    }

    /**
     * Takes one backup into {@code repo} (opened by the caller, with the key when it is
     * encrypted, and the compression to store with) under the repository's writer lock.
     */
    public static Outcome run(Repository repo, BackupOptions opts, BackupProgress progress) {
        repo.requireKey();
        ObjectCodec.setThreads(opts.parallel());
        try (RepoLock lock = repo.lock()) {
            repo.cleanupIncomplete();
            BackupRun run = new BackupRun(opts, progress, repo);
            return run.execute();
        }
    }

    private Outcome execute() {
        String source = opts.connection().describe();
        begin = new HistoryRecord(id, opts.type().userName(), HistoryRecord.RUNNING, null, Instant.now().toString(), null, source,
                null, null, null, null, null, null, null, null, null, ProcessHandle.current().pid());
        repo.history().begin(begin);
        progress.attach(id, snapshot -> repo.history().writeProgress(id, snapshot));
        progress.start();
        Thread hook = new Thread(this::onSignal, "strata-cancel");
        Runtime.getRuntime().addShutdownHook(hook);
        Signals signals = Signals.install(this::cancel);
        try {
            Manifest m = take(source);
            progress.finish(HistoryRecord.COMPLETED, null);
            return new Outcome(m, warnings);
        } catch (StrataException e) {
            fail(e.getMessage());
            progress.finish(cancelledBy != null ? "cancelled" : HistoryRecord.FAILED, e.getMessage());
            throw e;
        } catch (RuntimeException e) {
            fail("internal error: " + e);
            progress.finish(HistoryRecord.FAILED, e.toString());
            throw e;
        } finally {
            signals.restore();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook records the outcome
            }
        }
    }

    /**
     * SIGINT or SIGTERM: the copy threads and the main flow see the flag at their next step and
     * fail the backup as cancelled (its data removed, the attempt recorded as failed). After the
     * manifest is stored the backup is complete and the flag no longer matters.
     */
    private void cancel(String signal) {
        cancelledBy = signal;
        progress.say("received " + signal + ": cancelling the backup");
    }

    /** Throws INTERRUPTED once a signal asked the backup to stop. */
    private void checkCancelled() {
        String s = cancelledBy;
        if (s != null) {
            throw new StrataException(ErrorCode.INTERRUPTED, "backup " + id + " cancelled by " + s,
                    "the attempt is recorded as failed and nothing of it is kept; run the backup again when you are ready");
        }
    }

    /** Kill or a second signal (JVM shutdown): record the attempt as failed unless its manifest is already stored. */
    private void onSignal() {
        synchronized (finishLock) {
            if (!finished) {
                finished = true;
                try {
                    repo.history().end(begin.withState(HistoryRecord.FAILED, Instant.now().toString(), "cancelled by a signal (SIGINT or SIGTERM)"));
                } catch (RuntimeException ignored) {
                    // the missing end record still reads as failed
                }
            }
        }
    }

    private void fail(String message) {
        synchronized (finishLock) {
            if (!finished) {
                finished = true;
                try {
                    // a failed backup's data can never be used; removing it first also frees the
                    // space the failure record needs when the disk is full
                    repo.deleteBackupObjects(id);
                } catch (RuntimeException ignored) {
                    // the next backup removes the leftovers
                }
                try {
                    repo.history().end(begin.withState(HistoryRecord.FAILED, Instant.now().toString(), message));
                } catch (RuntimeException ignored) {
                    // e.g. the disk is full: the missing end record still reads as failed
                }
            }
        }
    }

    private Manifest take(String source) {
        progress.stage("connect", "connecting to " + source);
        List<ServerSession> sessions = ServerSession.connectAll(opts.connection(), 2);
        try (ServerSession main = sessions.get(0); ServerSession status = sessions.get(1)) {
            ServerFacts facts = ServerFacts.read(main, opts.datadir());
            base = BaseSelector.choose(repo, opts, facts.serverKey(), main.lsnStatus().current());
            if (base.parent() != null) {
                Map<Long, FileEntry> pf = new java.util.HashMap<>();
                for (FileEntry f : base.parent().files()) {
                    if (f.spaceId() != null) {
                        pf.put(f.spaceId(), f);
                    }
                }
                parentFiles = pf;
            }
            if (base.note() != null) {
                progress.say("NOTE: " + base.note());
            }
            TablespaceScanner scanner = new TablespaceScanner(facts, main);
            scanner.checkEngines(warnings);
            DdlTracker ddl = new DdlTracker();
            ddlSeen = ddl;
            try (StoredObject redoObject = repo.createBackupObject(id, REDO_OBJECT, "redo")) {
                ChunkedWriter redoOut = redoObject.out();
                RedoCopier redo = new RedoCopier(facts.logDir().resolve("ib_logfile0"), status, redoOut, opts.redoTestDelayMs(), ddl);
                long c = redo.checkpoint().checkpointLsn();
                startCheckpoint = c;
                progress.stage(BackupProgress.REDO_COPY, "copying the redo log from checkpoint LSN " + c + " (log capacity " + redo.capacity() + " bytes)"
                        + (compression.isNone() ? "" : "; compressing with " + compression)
                        + (repo.encryption() != null ? "; encrypting with AES-256-GCM" : ""));
                Thread redoThread = new Thread(redo, "strata-redo");
                redoThread.setDaemon(true);
                redoThread.start();
                Thread ticker = startTicker(redo, c);
                try {
                    Map<String, FileEntry> files = new ConcurrentSkipListMap<>();
                    Map<String, Tablespace> copied = new TreeMap<>(scanner.scan());
                    long innodbBytes = copied.values().stream().mapToLong(t -> sizeOf(t.file())).sum();
                    progress.setEstimate(BackupProgress.PAGE_COPY, innodbBytes);
                    planChanges(facts, main, c, copied);
                    progress.stage(BackupProgress.PAGE_COPY, copied.size() + " InnoDB files, " + (innodbBytes >> 20) + " MiB"
                            + (base.threshold() == null ? "" : ", " + base.type() + " on " + (base.parent() == null ? "LSN " + base.threshold()
                            : base.parent().id()) + ": pages newer than LSN " + base.threshold()));
                    copyTablespaces(new ArrayList<>(copied.values()), files, redo);
                    checkCancelled();
                    checkMisses(c);

                    progress.say("[backup-stage] BACKUP STAGE START, FLUSH, BLOCK_DDL");
                    BackupStages stages = new BackupStages(main);
                    stages.start();
                    stages.flush();
                    stages.blockDdl();
                    stages.flushEngineLogs();
                    waitForRedo(redo, main.lsnStatus().current());
                    reconcileDdl(scanner, copied, files, ddl, redo);
                    checkMisses(c);
                    progress.done(BackupProgress.PAGE_COPY);
                    progress.stage(BackupProgress.FILE_COPY, "copying non-InnoDB files");
                    copyPlainFiles(facts, copied.keySet(), files, DatadirFiles.When.BLOCK_DDL);
                    checkCancelled();

                    progress.say("[block-commit] BACKUP STAGE BLOCK_COMMIT");
                    stages.blockCommit();
                    BinlogPosition binlog = stages.position(facts.logBin());
                    long e = main.lsnStatus().current();
                    stages.flushEngineLogs();
                    copyPlainFiles(facts, copied.keySet(), files, DatadirFiles.When.BLOCK_COMMIT);
                    progress.done(BackupProgress.FILE_COPY);
                    redo.finishAt(e);
                    progress.setEstimate(BackupProgress.REDO_COPY, Math.max(0, e - c));
                    waitForRedo(redo, e);
                    redoThread.join();
                    redo.check();
                    stages.end();
                    long redoEnd = redo.copiedTo();
                    progress.set(BackupProgress.REDO_COPY, redoEnd - c);
                    progress.done(BackupProgress.REDO_COPY);
                    progress.stage(BackupProgress.SYNC, "redo log copied from " + c + " to " + redoEnd + " (" + (redoEnd - c) + " bytes, "
                            + redo.mtrCount() + " mini-transactions, largest lag " + redo.maxLag() + " bytes); storing the manifest");
                    checkCancelled();
                    redoObject.commitBatched();
                    progress.say("[sync] making the stored objects durable");
                    repo.syncBackupObjects();

                    long raw = 0, stored = redoObject.storedBytes();
                    for (FileEntry f : files.values()) {
                        raw += f.size();
                        stored += f.storedBytes();
                    }
                    raw += redoEnd - c;
                    SourceInfo si = new SourceInfo(facts.serverKey(), facts.hostname(), facts.serverId(), facts.version(), facts.datadir().toString(),
                            facts.pageSize(), facts.logFileSize(), facts.undoTablespaces(), facts.dataFilePath(), facts.checksumAlgorithm());
                    Manifest m = Manifest.builder().id(id).type(base.type().userName()).parent(base.parent() == null ? null : base.parent().id())
                            .tool("strata " + Version.VALUE).beginTime(begin.beginTime()).endTime(Instant.now().toString()).source(si)
                            .startLsn(c).startEndLsn(redo.checkpoint().endLsn()).endLsn(e).redoEndLsn(redoEnd).redoCapacity(redo.capacity())
                            .redoObject(REDO_OBJECT).binlogFile(binlog.file()).binlogPosition(binlog.position()).gtidBinlogPos(binlog.gtidBinlogPos()).gtidCurrentPos(binlog.gtidCurrentPos())
                            .files(new ArrayList<>(files.values())).rawBytes(raw).storedBytes(stored).threshold(base.threshold())
                            .method(plan == null ? null : plan.method.userName()).note(joinNotes(base.note(), plan == null ? null : plan.reason))
                            .compression(compression.toString()).encryption(repo.encryptionName()).detection(detection(files.values())).build();
                    synchronized (finishLock) {
                        checkCancelled();
                        if (finished) {
                            throw new StrataException(ErrorCode.INTERRUPTED, "backup " + id + " was cancelled", null);
                        }
                        repo.writeManifest(m);
                        finished = true;
                    }
                    try {
                        repo.history().end(HistoryRecord.completed(begin, m));
                    } catch (RuntimeException ignored) {
                        // the stored manifest alone makes the backup complete
                    }
                    return m;
                } finally {
                    redo.cancel();
                    ticker.interrupt();
                    redoThread.join(10_000);
                    redo.close();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new StrataException(ErrorCode.INTERRUPTED, "backup interrupted", null, ex);
            }
        }
    }

    /** Chooses how this incremental finds its changed pages (see {@link ChangeDetection}). */
    private void planChanges(ServerFacts facts, ServerSession session, long c, Map<String, Tablespace> tablespaces) {
        if (base.threshold() == null) {
            if (opts.method() != ChangeMethod.AUTO) {
                progress.say("NOTE: --method " + opts.method() + " is not used: this is a full backup");
            }
            return;
        }
        plan = ChangeDetection.plan(new ChangeDetection.Inputs(opts.method(), base.threshold(), c, base.parent(), parentFiles,
                facts.logDir().resolve("ib_logfile0"), session, repo, facts.serverKey(), tablespaces.values()), progress::say);
        progress.say("[changes] method " + plan.method + ": " + plan.reason);
    }

    private static String joinNotes(String a, String b) {
        return a == null ? b : b == null ? a : a + "; " + b;
    }

    private Detection detection(Collection<FileEntry> files) {
        if (plan == null) {
            return null;
        }
        long inFiles = files.stream().filter(f -> "innodb".equals(f.kind())).mapToLong(FileEntry::pages).sum();
        return new Detection(pagesRead.get(), inFiles, plan.pagesNamed(), plan.redoBytes, plan.changeSets, filesScanned.get());
    }

    /** The debug check of --debug-check-method: a page the method missed fails the backup. */
    private void checkMisses(long c) {
        if (!misses.isEmpty()) {
            throw new StrataException(ErrorCode.BUG, "the " + plan.method + " method missed " + misses.size() + " page(s) changed between LSN "
                    + base.threshold() + " and " + c + ": " + String.join(", ", misses.subList(0, Math.min(20, misses.size()))),
                    "please report this; use --method full-scan meanwhile");
        }
    }

    /** Keeps the redo stage's counters current: copied so far, and how far the server is. */
    private Thread startTicker(RedoCopier redo, long c) {
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    progress.set(BackupProgress.REDO_COPY, redo.copiedTo() - c);
                    long server = redo.serverLsn();
                    if (server > c) {
                        progress.setEstimate(BackupProgress.REDO_COPY, server - c);
                    }
                    Thread.sleep(250);
                }
            } catch (InterruptedException ignored) {
                // backup done
            }
        }, "strata-progress");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private void waitForRedo(RedoCopier redo, long lsn) throws InterruptedException {
        long deadline = System.nanoTime() + 600_000_000_000L;
        redo.nudge();
        while (redo.copiedTo() < lsn) {
            redo.check();
            checkCancelled();
            if (System.nanoTime() > deadline) {
                throw new StrataException(ErrorCode.REDO_OVERWRITTEN, "the redo log copy did not reach LSN " + lsn + " within 10 minutes (copied up to "
                        + redo.copiedTo() + ")", "check the server's error log; the backup is recorded as failed");
            }
            redo.awaitProgress(5);
        }
        redo.check();
    }

    private void copyTablespaces(List<Tablespace> list, Map<String, FileEntry> files, RedoCopier redo) throws InterruptedException {
        list.sort(Comparator.comparingLong((Tablespace t) -> sizeOf(t.file())).reversed());
        PageCopier copier = new PageCopier(throttle, () -> {
            redo.check();
            checkCancelled();
        }, n -> progress.add(BackupProgress.PAGE_COPY, n));
        List<Callable<FileEntry>> tasks = new ArrayList<>();
        for (Tablespace ts : list) {
            tasks.add(() -> copyOne(copier, ts));
        }
        runParallel(tasks, files, opts.parallel());
    }

    /** Runs copy tasks on {@code threads} threads; the first failure cancels the rest and is thrown. */
    private void runParallel(List<Callable<FileEntry>> tasks, Map<String, FileEntry> files, int threads) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "strata-copy");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<FileEntry>> futures = new ArrayList<>();
            for (Callable<FileEntry> task : tasks) {
                futures.add(pool.submit(task));
            }
            for (Future<FileEntry> f : futures) {
                FileEntry fe = f.get();
                if (fe != null) {
                    files.put(fe.path(), fe);
                }
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof StrataException se) {
                throw se;
            }
            throw new StrataException(ErrorCode.BUG, "copy failed: " + c, null, c);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private FileEntry copyOne(PageCopier copier, Tablespace ts) throws IOException, InterruptedException {
        String key = nextDataObject();
        long threshold = thresholdFor(ts, sizeOf(ts.file()));
        ChangeDetection.Selection sel = threshold < 0 || plan == null ? ChangeDetection.Selection.SCAN : plan.select(ts);
        if (sel.kind() == ChangeDetection.Selection.Kind.WHOLE) {
            threshold = -1;
        }
        boolean delta = threshold >= 0;
        try (StoredObject w = repo.createBackupObject(id, key, delta ? DeltaFormat.CONTENT : "innodb-file")) {
            ChunkedWriter cw = w.out();
            PageCopier.Result r;
            try {
                r = copier.copy(ts, cw, threshold, sel.pages(), sel.pages() != null && opts.checkMethod() ? startCheckpoint : 0);
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("No space left")) {
                    throw e;
                }
                throw PageCopier.unreadable(ts, e);
            }
            if (r.vanished()) {
                return null;
            }
            pagesRead.addAndGet(r.pagesRead());
            if (sel.pages() == null) {
                filesScanned.incrementAndGet();
            }
            for (String miss : r.misses()) {
                misses.add(ts.path() + " (space " + ts.spaceId() + ") " + miss);
            }
            w.commitBatched();
            return new FileEntry(ts.path(), "innodb", ts.spaceId(), ts.flags(), r.bytes(), r.pages(), delta ? FileEntry.DELTA : FileEntry.WHOLE,
                    r.deltaPages(), key, w.storedBytes(), w.crc32c());
        }
    }

    /**
     * Under BLOCK_DDL no DDL runs, so the file set is final: copy again whatever was created,
     * rebuilt, renamed or truncated since C, and forget what was dropped (design rule 6).
     */
    private void reconcileDdl(TablespaceScanner scanner, Map<String, Tablespace> copied, Map<String, FileEntry> files, DdlTracker ddl,
                              RedoCopier redo) throws InterruptedException {
        Map<String, Tablespace> now = scanner.scan();
        Set<Long> changed = ddl.changedSpaces();
        List<Tablespace> again = new ArrayList<>();
        for (Tablespace ts : now.values()) {
            FileEntry have = files.get(ts.path());
            if (have == null || have.spaceId() == null || have.spaceId() != ts.spaceId() || changed.contains(ts.spaceId())) {
                again.add(ts);
            }
        }
        List<String> gone = new ArrayList<>();
        for (String path : files.keySet()) {
            if (!now.containsKey(path)) {
                gone.add(path);
            }
        }
        for (String path : gone) {
            repo.deleteBackupObject(id, files.remove(path).object());
        }
        if (!again.isEmpty() || !gone.isEmpty()) {
            progress.addEstimate(BackupProgress.PAGE_COPY, again.stream().mapToLong(t -> sizeOf(t.file())).sum());
            progress.say("[ddl] DDL during the copy: copying " + again.size() + " tablespace(s) again, dropping " + gone.size());
        }
        Map<String, FileEntry> fresh = new TreeMap<>();
        copyTablespaces(again, fresh, redo);
        for (FileEntry fe : fresh.values()) {
            FileEntry old = files.put(fe.path(), fe);
            if (old != null) {
                repo.deleteBackupObject(id, old.object());
            }
        }
        copied.clear();
        copied.putAll(now);
    }

    private void copyPlainFiles(ServerFacts facts, Set<String> innodb, Map<String, FileEntry> files, DatadirFiles.When stage)
            throws InterruptedException {
        Path dd = facts.datadir();
        DatadirFiles rules = new DatadirFiles(dd, facts.logBinBasename());
        List<Path> todo = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dd, 2)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = dd.relativize(p).toString().replace('\\', '/');
                if (!innodb.contains(rel) && rules.when(rel) == stage) {
                    todo.add(p);
                }
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot list the data directory " + dd + ": " + e.getMessage(), null, e);
        }
        List<Callable<FileEntry>> tasks = new ArrayList<>();
        for (Path p : todo) {
            progress.addEstimate(BackupProgress.FILE_COPY, sizeOf(p));
            tasks.add(() -> copyPlain(dd, p));
        }
        // small files: their cost is the latency of making each stored object durable, which
        // overlaps well, so more of them are in flight than --parallel data files
        runParallel(tasks, files, Math.max(opts.parallel(), PLAIN_FILE_THREADS));
    }

    private FileEntry copyPlain(Path dd, Path p) throws IOException, InterruptedException {
        checkCancelled();
        String rel = dd.relativize(p).toString().replace('\\', '/');
        String key = nextDataObject();
        try (StoredObject w = repo.createBackupObject(id, key, "file")) {
            ChunkedWriter cw = w.out();
            long n = 0;
            try (InputStream in = Files.newInputStream(p)) {
                // most of these files are a few KiB: a buffer of their size, not a whole chunk
                byte[] buf = new byte[(int) Math.max(8192, Math.min(1 << 20, sizeOf(p)))];
                int k;
                while ((k = in.readNBytes(buf, 0, buf.length)) > 0) {
                    throttle.acquire(k);
                    cw.write(buf, 0, k);
                    n += k;
                    progress.add(BackupProgress.FILE_COPY, k);
                    checkCancelled();
                }
            } catch (NoSuchFileException e) {
                return null;
            } catch (java.nio.file.AccessDeniedException e) {
                throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + p + ": permission denied",
                        "run strata as a user that can read the data directory (root or mysql)", e);
            }
            w.commitBatched();
            return new FileEntry(rel, "file", null, null, n, 0, FileEntry.WHOLE, 0, key, w.storedBytes(), w.crc32c());
        }
    }
}
