package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.Signals;
import io.strata.redo.RedoLayout;
import io.strata.repo.FileEntry;
import io.strata.repo.HistoryRecord;
import io.strata.repo.InnodbLayout;
import io.strata.repo.Lineage;
import io.strata.repo.Manifest;
import io.strata.repo.ObjectCodec;
import io.strata.repo.RepoLock;
import io.strata.repo.Repository;
import io.strata.repo.KeyManagement;
import io.strata.repo.SourceInfo;
import io.strata.repo.StoredObject;
import io.strata.server.BackupStages;
import io.strata.server.LockWait;
import io.strata.server.BinlogPosition;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.strata.backup.BackupProgress.FILE_COPY;
import static io.strata.backup.BackupProgress.PAGE_COPY;
import static io.strata.backup.BackupProgress.REDO_COPY;
import static io.strata.backup.BackupProgress.SYNC;

/**
 * One hot backup, in the order of design.md "How a hot backup works". Each phase is a method
 * that returns, as a record, what the later phases need:
 *
 * <pre>
 * phase          design.md timeline                                               rules  returns
 * start          the server's settings and the base (full, or the parent and      3, 9   Start
 *                its threshold); read the newest checkpoint C before any data
 *                page; the redo copier runs from C on its own thread              1, 2
 * copyInnoDb     how changed pages are found; InnoDB data files page by page,     3, 8   Copied
 *                in parallel, whole or as deltas
 * blockDdl       BACKUP STAGE START, FLUSH, BLOCK_DDL; tablespaces created,       6      BlockDdl
 *                rebuilt or renamed since C copied again, dropped ones dropped;
 *                .frm .par .opt .TRG .TRN and non-transactional tables
 * blockCommit    BACKUP STAGE BLOCK_COMMIT: binlog file and position, GTIDs,      1      Consistent
 *                E = Innodb_lsn_current, Aria logs, statistics and log tables;
 *                BACKUP STAGE END; then the redo copy ends at the first mtr
 *                boundary at or above E (nothing written after END is copied)
 * finish         every object made durable, then the manifest, stored last       7, 10  Manifest
 * </pre>
 *
 * Around the phases: {@link Attempt} records the attempt in the history, turns SIGINT and SIGTERM
 * into a clean failure and is the one way a backup completes; {@link FileCopier} stores files,
 * {@link PageSelection} says what to store of each tablespace, {@link DatadirFiles} which other
 * files are copied and when; {@link BackupStages} is the server's side of the stages.
 */
public final class BackupRun {
    /** The manifest's name of the stored redo log object. */
    private static final String REDO_OBJECT = "redo";

    private final BackupOptions opts;
    private final BackupProgress progress;
    private final Repository repo;
    private final Attempt attempt;
    private final FileCopier copier;
    private final List<String> warnings = new ArrayList<>();
    /** innodb_encrypt_* settings when the backup began ({@link KeyManagementProbe}). */
    private Map<String, String> encryptionAtStart = Map.of();
    /** What the manifest records of the key management; set once the file set is final. */
    private KeyManagement keyManagement;
    /** The parent's InnoDB files: page 0 facts of files unchanged since ({@link ParentInnodbFiles}). */
    private ParentInnodbFiles parentInnodb = ParentInnodbFiles.NONE;
    /** The phases' wall times, said at DEBUG level. */
    private final PhaseTimes times = new PhaseTimes();

    /** The host's load while the copy threads run, when --parallel was left to its default; else null. */
    private final HostCpu hostCpu;

    /** The copy threads: --parallel, or by default the cores. */
    private static int threads(BackupOptions opts) {
        return opts.parallel() > 0 ? opts.parallel() : Runtime.getRuntime().availableProcessors();
    }

    /** A completed backup: its stored manifest, and the warnings to show (exit code 3 when there are any). */
    public record Outcome(Manifest manifest, List<String> warnings) {}

    /** Records the attempt as running in the history. */
    private BackupRun(BackupOptions opts, BackupProgress progress, Repository repo) {
        this.opts = opts;
        this.progress = progress;
        this.repo = repo;
        this.attempt = new Attempt(repo, Repository.newBackupId(Instant.now()), opts.type(), opts.connection().describe(), progress::say);
        this.copier = new FileCopier(repo, attempt.id(), threads(opts), new Throttle(opts.throttleMbPerSecond()), progress,
                attempt::checkCancelled);
        copier.limitTo(opts.scope());
        this.hostCpu = opts.parallel() > 0 ? null : HostCpu.open();
        copier.adaptTo(hostCpu);
    }

    /**
     * Takes one backup into {@code repo} (opened by the caller, with the key when it is
     * encrypted, and the compression to store with) under the repository's writer lock.
     *
     * @throws StrataException what failed; the attempt is then recorded as failed and its objects removed
     */
    public static Outcome run(Repository repo, BackupOptions opts, BackupProgress progress) {
        repo.requireKey();
        ObjectCodec.setThreads(threads(opts));
        try (RepoLock lock = repo.lock()) {
            repo.cleanupIncomplete();
            return new BackupRun(opts, progress, repo).execute();
        }
    }

    private Outcome execute() {
        progress.attach(attempt.id(), snapshot -> repo.history().writeProgress(attempt.id(), snapshot));
        progress.start();
        Thread hook = new Thread(attempt::onKill, "strata-cancel");
        Runtime.getRuntime().addShutdownHook(hook);
        Signals signals = Signals.install(attempt::cancel);
        // a heap too small for the job fails the backup in about half a minute with out-of-memory,
        // instead of minutes of back-to-back full collections before the JVM gives up
        io.strata.util.HeapWatch heap = io.strata.util.HeapWatch.start(attempt::abort);
        try {
            Manifest m = take();
            progress.finish(HistoryRecord.COMPLETED, null);
            return new Outcome(m, warnings);
        } catch (StrataException thrown) {
            StrataException e = StrataException.orOutOfMemory(thrown); // a worker's OutOfMemoryError arrives as a bug report
            attempt.fail(e.getMessage());
            progress.finish(attempt.cancelled() ? "cancelled" : HistoryRecord.FAILED, e.getMessage());
            throw e;
        } catch (OutOfMemoryError e) {
            StrataException oom = StrataException.outOfMemory(e);
            attempt.fail(oom.getMessage());
            progress.finish(HistoryRecord.FAILED, oom.getMessage());
            throw oom;
        } catch (RuntimeException e) {
            StrataException oom = StrataException.outOfMemory(e); // a worker's, wrapped
            if (oom != null) {
                attempt.fail(oom.getMessage());
                progress.finish(HistoryRecord.FAILED, oom.getMessage());
                throw oom;
            }
            attempt.fail("internal error: " + e);
            progress.finish(HistoryRecord.FAILED, e.toString());
            throw e;
        } finally {
            heap.close();
            signals.restore();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook records the outcome
            }
        }
    }

    /** The phases, in order, on two connections: one for the stages and queries, one for the redo copier's status reads. */
    private Manifest take() {
        progress.stage("connect", "connecting to " + opts.connection().describe());
        List<ServerSession> sessions = ServerSession.connectAll(opts.connection(), 2);
        times.lap("connect");
        try (ServerSession main = sessions.get(0); ServerSession status = sessions.get(1); Start start = start(main, status)) {
            times.lap("start");
            BackupStages stages = new BackupStages(main, new LockWait(opts.connection(), opts.lockWaitTimeoutSeconds(), progress::say));
            Copied copied = copyInnoDb(start, main);
            times.lap("page copy");
            BlockDdl blocked = blockDdl(start, copied, stages, main);
            times.lap("block-ddl");
            Consistent consistent = blockCommit(start, blocked, stages, main);
            times.lap("redo end");
            // before the manifest: a backup with encrypted data and no recorded key management fails here
            keyManagement = KeyManagementProbe.read(main, encryptionAtStart, start.facts().datadir(),
                    Map.of(InnodbLayout.DATA_HOME, start.facts().dataHomeDir(), InnodbLayout.UNDO_HOME, start.facts().undoDir()),
                    start.facts().systemFiles().get(0), consistent.files().values(), parentInnodb::knownUnencrypted);
            times.lap("key management");
            Manifest m = finish(start, copied.selection(), consistent);
            times.lap("manifest");
            times.report(progress::say);
            return m;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "backup interrupted", null, ex);
        }
    }

    /**
     * Phase 1: the server and the base are known, and the redo log is being copied from the
     * checkpoint C read before any data page. Closing it stops the copier and closes the redo object.
     *
     * @param lineage    the data directory's lineage (null: the origin), recorded in the manifest
     * @param redoObject where the redo copy goes (committed in {@link #finish})
     * @param ticker     keeps the redo-copy stage's counters current
     * @param layout     the directories of the system tablespace, redo log and undo tablespaces, for the manifest
     */
    private record Start(ServerFacts facts, Lineage lineage, BaseSelector.Base base, TablespaceScanner scanner, DdlTracker ddl, StoredObject redoObject,
                         RedoCopier redo, Thread ticker, long c, InnodbLayout layout) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            ticker.interrupt();
            try {
                redo.stop();
            } finally {
                redoObject.close();
            }
        }
    }

    private Start start(ServerSession main, ServerSession status) {
        ServerFacts facts = ServerFacts.read(main, opts.datadir());
        Path logFile = RedoLayout.require(facts.logDir(), facts.version());
        if (opts.datadir() != null) {
            DatadirCheck.check(main, facts.datadir(), logFile);
        }
        Lineage lineage = Lineage.ofDatadir(facts.datadir());
        BaseSelector.Base base = BaseSelector.choose(repo, opts, facts.serverKey(),
                new BaseSelector.ServerHistory(lineage, main.lsnStatus().current(), main.queryString("SELECT @@gtid_binlog_pos")));
        times.lap("base");
        if (base.note() != null) {
            progress.say("NOTE: " + base.note());
        }
        if (opts.scope() != null) {
            progress.say("partial backup: " + opts.scope().describe() + " (and always the mysql schema, the system and undo tablespaces and the redo log)");
        }
        copier.reuseFrom(PlainFileReuse.of(base.parent(), new io.strata.repo.References(repo)));
        InnodbLayout layout = InnodbDirs.read(main, facts);
        TablespaceScanner scanner = new TablespaceScanner(facts, main);
        parentInnodb = ParentInnodbFiles.of(base.threshold() == null ? null : base.parent()); // a full reads every page 0
        scanner.knownFrom(parentInnodb);
        copier.seenAtScan(scanner::seenUnchanged);
        scanner.checkEngines(warnings, opts.scope(), base.parent() == null);
        times.lap("engines");
        encryptionAtStart = KeyManagementProbe.innodbSettings(main);
        DdlTracker ddl = new DdlTracker();
        StoredObject redoObject = repo.createBackupObject(attempt.id(), REDO_OBJECT, "redo");
        try {
            RedoCopier redo = new RedoCopier(logFile, status, redoObject.out(), opts.redoTestDelayMs(), ddl);
            long c = redo.checkpoint().checkpointLsn();
            progress.stage(REDO_COPY, "copying the redo log from checkpoint LSN " + c + " (log capacity " + redo.capacity() + " bytes)"
                    + (repo.compression().isNone() ? "" : "; compressing with " + repo.compression())
                    + (repo.encryption() != null ? "; encrypting with AES-256-GCM" : ""));
            redo.start();
            copier.lsnClock(redo::serverLsn);
            return new Start(facts, lineage, base, scanner, ddl, redoObject, redo, startTicker(redo, c), c, layout);
        } catch (RuntimeException e) {
            redoObject.close();
            throw e;
        }
    }

    /** Keeps the redo stage's counters current: copied so far, and how far the server is. */
    private Thread startTicker(RedoCopier redo, long c) {
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    progress.set(REDO_COPY, redo.copiedTo() - c);
                    // never past E once it is set: the copy stops there while the server writes on
                    long server = Math.min(redo.serverLsn(), redo.endTarget());
                    if (server > c) {
                        progress.setEstimate(REDO_COPY, server - c);
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

    /**
     * Phase 2: every InnoDB file as scanned before the copy, stored whole or as a delta.
     *
     * @param selection what is stored of each tablespace (also for those copied again under BLOCK_DDL)
     * @param files     the stored files by path
     * @param early     the non-InnoDB files stored during the page copy, by path, checked again under BLOCK_DDL
     */
    private record Copied(PageSelection selection, Map<String, FileEntry> files, Map<String, FileEntry> early) {}

    private Copied copyInnoDb(Start s, ServerSession main) throws InterruptedException {
        Map<String, Tablespace> tablespaces = new TreeMap<>(scan(s));
        times.lap("scan");
        long[] sizes = new long[tablespaces.size()];
        List<Tablespace> largestFirst = FileCopier.largestFirst(new ArrayList<>(tablespaces.values()), sizes, s.scanner()::seenUnchanged); // each size read once, or seen by the scan
        long innodbBytes = java.util.Arrays.stream(sizes).sum();
        progress.setEstimate(PAGE_COPY, innodbBytes);
        PageSelection selection = PageSelection.plan(opts, s.base(), s.c(), s.facts().logDir().resolve("ib_logfile0"), main, repo,
                s.facts().serverKey(), Lineage.idOf(s.lineage()), s.ddl(), tablespaces.values(), progress::say);
        progress.stage(PAGE_COPY, tablespaces.size() + " InnoDB files, " + (innodbBytes >> 20) + " MiB" + selection.describe());
        // the files BLOCK_DDL would store (thousands of .frm files on a server of many tables) are stored meanwhile on a
        // thread of their own; under the lock each is only looked at again (FileCopier.useEarly). Not into S3, where each
        // object being uploaded holds its buffers on the heap: the page copy's and these at once outgrew the launcher's heap
        Set<String> innodbPaths = Set.copyOf(tablespaces.keySet());
        PlainFileReuse.Listing listed = s.scanner().listed(); // the scan's walk, taken now: the rescan under BLOCK_DDL replaces it
        java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> io.strata.util.WorkerPriority.thread(r, "strata-copy")); // it waits on the copy pool: a copy thread like its workers
        try {
            java.util.concurrent.Future<Map<String, FileEntry>> early = repo.location().isS3()
                    ? java.util.concurrent.CompletableFuture.completedFuture(Map.of())
                    : one.submit(() -> copier.preCopyPlainFiles(s.facts().datadir(), s.facts().logBinBasename(), innodbPaths, InnodbDirs.of(s.facts()), listed));
            Map<String, FileEntry> files = copier.copyTablespaces(largestFirst, sizes, selection, s.redo()::check);
            attempt.checkCancelled();
            selection.checkMisses(copier.misses(), s.c());
            sayUnchanged(s);
            sayHeldBack();
            return new Copied(selection, files, awaitEarly(early));
        } finally {
            one.shutdownNow();
        }
    }

    /** The early copy's entries, once it is done; its failure is the backup's, as it would be under the lock. */
    private static Map<String, FileEntry> awaitEarly(java.util.concurrent.Future<Map<String, FileEntry>> early) throws InterruptedException {
        try {
            return early.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new StrataException(ErrorCode.BUG, "early copy of the non-InnoDB files failed: " + e.getCause(), null, e.getCause());
        }
    }

    /** Says how few copy threads ran at once when other processes kept the host busy ({@link CopyGate}). */
    private void sayHeldBack() {
        if (hostCpu == null) {
            return;
        }
        int cores = threads(opts);
        double most = hostCpu.mostOthersBusy();
        int fewest = CopyGate.permits(cores, cores, hostCpu.cpus(), most);
        if (fewest < cores) {
            progress.say(String.format(java.util.Locale.ROOT, "[page-copy] other processes kept up to %.1f of the host's %d CPUs busy: "
                    + "the copy ran as few as %d of its %d threads at once (--parallel N runs N throughout)", most, hostCpu.cpus(), fewest, cores));
        }
    }

    /** Says, at DEBUG level, how many tablespaces needed no page and how many page 0 reads the parent's manifest saved. */
    private void sayUnchanged(Start s) {
        if (copier.unchangedTablespaces() > 0 || s.scanner().page0FromParent() > 0) {
            progress.say("DEBUG [page-copy] " + copier.unchangedTablespaces() + " tablespace(s) unchanged since the parent: one shared empty delta; "
                    + s.scanner().page0FromParent() + " page 0 read(s) taken from the parent's manifest");
        }
    }

    /**
     * The server's tablespaces, less those of tables a partial backup leaves out: the system and
     * undo tablespaces are always kept. A table created during the copy is judged by its name like
     * any other, at the rescan under BLOCK_DDL. A left-out tablespace that the copied redo log
     * creates, renames or re-initialises is kept all the same (stored whole): crash recovery
     * cannot skip such a tablespace when its file is missing, even with innodb_force_recovery;
     * restore drops it after recovery with the other left-out tables ({@code PartialRestore}).
     */
    private Map<String, Tablespace> scan(Start s) {
        Map<String, Tablespace> all = s.scanner().scan();
        if (opts.scope() == null) {
            return all;
        }
        Set<Long> ddl = s.ddl().changedSpaces();
        Map<String, Tablespace> in = new java.util.LinkedHashMap<>();
        all.forEach((path, ts) -> {
            if (ts.home() != null || opts.scope().includesPath(path) || ddl.contains(ts.spaceId())) {
                in.put(path, ts);
            }
        });
        return in;
    }

    /**
     * Phase 3: under BLOCK_DDL, the final file set and the files stored for it so far.
     *
     * @param innodbPaths the tablespaces under BLOCK_DDL, by datadir-relative path
     */
    private record BlockDdl(Set<String> innodbPaths, Map<String, FileEntry> files) {}

    private BlockDdl blockDdl(Start s, Copied copied, BackupStages stages, ServerSession main) throws InterruptedException {
        progress.say("[backup-stage] BACKUP STAGE START, FLUSH, BLOCK_DDL");
        stages.start();
        stages.flush();
        stages.blockDdl();
        stages.flushEngineLogs();
        // before any Aria table file is looked at again (the rescan's listing, the copy): see AriaControlFile
        ariaControl = AriaControlFile.read(s.facts().ariaLogDir());
        s.redo().awaitCopied(main.lsnStatus().current(), attempt::checkCancelled);
        times.lap("stages to block-ddl");
        Map<String, Tablespace> now = scan(s);
        times.lap("rescan");
        Map<String, FileEntry> files = reconcileDdl(s, copied, now);
        times.lap("reconcile");
        copied.selection().checkMisses(copier.misses(), s.c());
        progress.done(PAGE_COPY);
        progress.stage(FILE_COPY, "copying non-InnoDB files");
        copier.useEarly(copied.early());
        // the rescan's list of files, made under this lock, unless copying tablespaces again took time
        // in which statements that are not DDL may have made files (CHANGE MASTER's multi-master.info)
        Map<String, FileEntry> plain = copier.copyPlainFilesBlocked(s.facts().datadir(), s.facts().logBinBasename(), now.keySet(), InnodbDirs.of(s.facts()),
                ddlCopiedAgain ? null : s.scanner().listed());
        for (FileEntry e : copied.early().values()) {
            FileEntry kept = plain.get(e.path());
            if (!e.isReference() && (kept == null || !kept.object().equals(e.object()))) {
                repo.deleteBackupObject(attempt.id(), e.object()); // changed, replaced or dropped since: stored again or gone
            }
        }
        files.putAll(plain);
        if (copier.earlyKept() > 0 || !copied.early().isEmpty()) {
            progress.say("DEBUG [file-copy] " + copier.earlyKept() + " of " + copied.early().size()
                    + " non-InnoDB file(s) stored during the page copy kept under BLOCK_DDL (unchanged since)");
        }
        attempt.checkCancelled();
        return new BlockDdl(now.keySet(), files);
    }

    /** Whether {@link #reconcileDdl} copied or dropped anything (then the data directory is listed again for the file copy). */
    private boolean ddlCopiedAgain;

    /**
     * Under BLOCK_DDL no DDL runs, so the file set is final: copy again whatever was created,
     * rebuilt, renamed or truncated after its copy began, and forget what was dropped (design rule 6).
     *
     * @param now the tablespaces under BLOCK_DDL
     * @return the stored tablespaces after that, by path
     */
    private Map<String, FileEntry> reconcileDdl(Start s, Copied copied, Map<String, Tablespace> now) throws InterruptedException {
        Map<String, FileEntry> files = new TreeMap<>(copied.files());
        List<Tablespace> again = new ArrayList<>();
        for (Tablespace ts : now.values()) {
            String why = copyAgain(ts, files.get(ts.path()), s.ddl());
            if (why != null) {
                again.add(ts);
                progress.say("DEBUG [ddl] copying " + ts.path() + " (space " + ts.spaceId() + ") again: " + why);
            }
        }
        List<String> gone = files.keySet().stream().filter(path -> !now.containsKey(path)).toList();
        for (String path : gone) {
            dropObject(files, files.remove(path));
        }
        if (!again.isEmpty() || !gone.isEmpty()) {
            ddlCopiedAgain = true;
            progress.addEstimate(PAGE_COPY, again.stream().mapToLong(t -> FileCopier.sizeOf(t.file())).sum());
            progress.say("[ddl] DDL during the copy: copying " + again.size() + " tablespace(s) again, dropping " + gone.size());
        }
        for (FileEntry fe : copier.copyTablespaces(again, copied.selection(), s.redo()::check).values()) {
            FileEntry old = files.put(fe.path(), fe);
            if (old != null) {
                dropObject(files, old);
            }
        }
        return files;
    }

    /**
     * Deletes the object of {@code dropped}, an entry no longer in {@code files}, unless another
     * entry still names it: the unchanged tablespaces of an incremental all name the backup's one
     * shared empty delta (docs/repository-format.md, change 41). Its stored bytes then move to
     * an entry that names it, so the object stays counted once.
     */
    private void dropObject(Map<String, FileEntry> files, FileEntry dropped) {
        if (dropped.isReference()) {
            return; // another backup's object
        }
        for (Map.Entry<String, FileEntry> e : files.entrySet()) {
            FileEntry f = e.getValue();
            if (f.object().equals(dropped.object()) && !f.isReference()) {
                if (dropped.storedBytes() > 0) {
                    e.setValue(f.withStoredBytes(f.storedBytes() + dropped.storedBytes()));
                }
                return;
            }
        }
        repo.deleteBackupObject(attempt.id(), dropped.object());
        copier.deleted(dropped.object()); // the shared empty delta, if it was that: a later unchanged tablespace stores a new one
    }

    /**
     * Why the tablespace {@code ts} found under BLOCK_DDL must be copied (again), or null when its
     * stored copy {@code have} stands. A file operation that ended before the copy began is in the
     * copied log, though not necessarily done on disk when the copy opened the file; the path,
     * space-id and page-0 checks here catch that window ({@link DdlTracker}), so the files of
     * tables created or rebuilt between the checkpoint and the copy are copied once.
     */
    private String copyAgain(Tablespace ts, FileEntry have, DdlTracker ddl) {
        if (have == null) {
            return "not copied yet";
        }
        if (have.spaceId() == null || have.spaceId() != ts.spaceId()) {
            return "its path now holds space " + ts.spaceId() + ", the copy space " + have.spaceId();
        }
        FileCopier.CopyStart start = copier.copyStart(ts.path());
        long startLsn = start == null ? -1 : start.lsn();
        if (start != null && start.foreign(ts.spaceId())) {
            return "the copy read page 0 of space " + start.page0Space();
        }
        if (ddl.changedAfter(ts.spaceId(), startLsn)) {
            return "created, renamed, re-initialised or truncated at LSN " + ddl.lastChange(ts.spaceId()) + ", its copy began at LSN " + startLsn;
        }
        return null;
    }

    /**
     * Phase 4: the consistent point E and what goes with it.
     *
     * @param binlog  binlog file and position and GTID positions read under BLOCK_COMMIT
     * @param endLsn  E: Innodb_lsn_current under BLOCK_COMMIT
     * @param redoEnd where the redo copy ended: the first mtr boundary at or above E
     * @param files   every stored data file, by path
     */
    private record Consistent(BinlogPosition binlog, long endLsn, long redoEnd, Map<String, FileEntry> files) {}

    private Consistent blockCommit(Start s, BlockDdl blocked, BackupStages stages, ServerSession main) throws InterruptedException {
        progress.say("[block-commit] BACKUP STAGE BLOCK_COMMIT");
        long blockedAt = System.nanoTime(); // from the request: new commits wait from then on
        stages.blockCommit();
        BinlogPosition binlog = stages.position(s.facts().logBin());
        long e = main.lsnStatus().current();
        // before END: from here on the copier takes nothing beyond E, so no commit made after END reaches the backup
        s.redo().endAt(e);
        stages.flushEngineLogs();
        Map<String, FileEntry> files = new TreeMap<>(blocked.files());
        boolean ariaElsewhere = !s.facts().ariaLogDir().equals(s.facts().datadir());
        if (ariaElsewhere) {
            // aria_log_dir_path: the log is taken from there; Aria files left at the top of the data directory are not the server's
            copier.leaveOut(DatadirFiles::ariaLog);
            files.putAll(copier.copyAriaLogs(s.facts().ariaLogDir()));
        } else if (ariaControl != null) {
            copier.leaveOut(AriaControlFile.NAME::equals);
        }
        files.putAll(copier.copyPlainFiles(s.facts().datadir(), s.facts().logBinBasename(), blocked.innodbPaths(), InnodbDirs.of(s.facts()),
                DatadirFiles.When.BLOCK_COMMIT));
        if (ariaControl != null) {
            storeAriaControl(files);
        }
        progress.done(FILE_COPY);
        if (copier.reused() > 0) {
            progress.say("[file-copy] " + copier.reused() + " non-InnoDB file(s) unchanged since the parent: referred to, not stored again");
        }
        progress.setEstimate(REDO_COPY, Math.max(0, e - s.c()));
        times.lap("block-commit files");
        stages.end();
        // from BLOCK_COMMIT: the binlog position, the engines' log flush and the files copied under it; the redo copy's last part runs after END
        progress.say(String.format(java.util.Locale.ROOT, "[block-commit] BACKUP STAGE END: commits were blocked for %.3f s",
                (System.nanoTime() - blockedAt) / 1e9));
        // after END: the server makes the log up to E durable at once (innodb_flush_log_at_trx_commit=1, and FLUSH ENGINE
        // LOGS above) or within a second (0 or 2); its commits need not wait for that (design rule 2 holds: the copier reads
        // only below Innodb_lsn_flushed)
        times.lap("block-commit");
        long redoEnd = s.redo().finishAt(attempt::checkCancelled, SLOW_REDO_END_MS, () -> progress.say(waitingForDurableLine(e, main)));
        progress.set(REDO_COPY, redoEnd - s.c());
        progress.done(REDO_COPY);
        return new Consistent(binlog, e, redoEnd, files);
    }

    /**
     * Stores the Aria control file read under BLOCK_DDL ({@link AriaControlFile}) beside the Aria
     * log files just copied under BLOCK_COMMIT, naming the newest of them.
     */
    private void storeAriaControl(Map<String, FileEntry> files) {
        java.util.SortedSet<Long> logs = new java.util.TreeSet<>();
        for (String path : files.keySet()) {
            long n = AriaControlFile.logNumber(path);
            if (n > 0) {
                logs.add(n);
            }
        }
        byte[] control = ariaControl.forLogs(logs);
        if (AriaControlFile.of(control).lastLogNo() != ariaControl.lastLogNo()) {
            progress.say("[block-commit] the Aria log moved on to aria_log." + String.format(java.util.Locale.ROOT, "%08d", logs.last())
                    + " during the backup: the stored aria_log_control names it");
        }
        try {
            files.put(AriaControlFile.NAME, copier.storeBytes(AriaControlFile.NAME, control));
        } catch (java.io.IOException e) {
            throw io.strata.store.StorageException.local("store", repo.describeBackupObject(attempt.id(), ""), e);
        }
    }

    /** The Aria control file as read under BLOCK_DDL, before the Aria table files; null when the server has none. */
    private AriaControlFile ariaControl;

    /** After this long (2 s) waiting after END for the server to make the log up to E durable, the backup says why it waits. */
    static final long SLOW_REDO_END_MS = 2000;

    /**
     * Why the backup still waits after BACKUP STAGE END: the server has not yet made its redo log
     * durable up to E, and syncs it only every innodb_flush_log_at_timeout seconds when
     * innodb_flush_log_at_trx_commit is 0 or 2 (both read from the server now; a failed read only
     * shortens the line).
     */
    private static String waitingForDurableLine(long e, ServerSession main) {
        String line = "[redo-copy] waiting for the server to make its redo log durable up to LSN " + e
                + " (strata copies only durable redo; the server's commits are not blocked meanwhile)";
        try {
            List<Map<String, String>> rows = main.queryRows(
                    "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit AS trx_commit, @@GLOBAL.innodb_flush_log_at_timeout AS timeout");
            String commit = rows.get(0).get("trx_commit");
            if (commit != null && !commit.strip().equals("1")) {
                line += ": with innodb_flush_log_at_trx_commit=" + commit.strip() + " it syncs the log every "
                        + rows.get(0).get("timeout") + " s (innodb_flush_log_at_timeout)";
            }
        } catch (RuntimeException ignored) {
            // only for the explanation
        }
        return line;
    }

    /** Phase 5: makes every object durable, then stores the manifest (design rule 7) and returns it. */
    private Manifest finish(Start s, PageSelection selection, Consistent k) {
        long c = s.c();
        RedoCopier redo = s.redo();
        progress.stage(SYNC, "redo log copied from " + c + " to " + k.redoEnd() + " (" + (k.redoEnd() - c) + " bytes, "
                + redo.mtrCount() + " mini-transactions, largest lag " + redo.maxLag() + " bytes); storing the manifest");
        attempt.checkCancelled();
        s.redoObject().commitBatched();
        progress.say("[sync] making the stored objects durable");
        repo.syncBackupObjects();
        times.lap("sync");

        long raw = k.redoEnd() - c;
        long stored = s.redoObject().storedBytes();
        for (FileEntry f : k.files().values()) {
            raw += f.size();
            stored += f.storedBytes();
        }
        ServerFacts facts = s.facts();
        SourceInfo si = new SourceInfo(facts.serverKey(), facts.hostname(), facts.serverId(), facts.version(), facts.datadir().toString(),
                facts.pageSize(), facts.logFileSize(), facts.undoTablespaces(), facts.dataFilePath(), facts.checksumAlgorithm());
        BaseSelector.Base base = s.base();
        Manifest m = Manifest.builder().id(attempt.id()).type(base.type().userName()).parent(base.parent() == null ? null : base.parent().id())
                .tool("strata " + Version.VALUE).beginTime(attempt.beginTime()).endTime(Instant.now().toString()).source(si)
                .startLsn(c).startEndLsn(redo.checkpoint().endLsn()).endLsn(k.endLsn()).redoEndLsn(k.redoEnd()).redoCapacity(redo.capacity())
                .redoObject(REDO_OBJECT).redoCrc32c(s.redoObject().crc32c()).binlogFile(k.binlog().file()).binlogPosition(k.binlog().position())
                .gtidBinlogPos(k.binlog().gtidBinlogPos()).gtidCurrentPos(k.binlog().gtidCurrentPos())
                .files(new ArrayList<>(k.files().values())).rawBytes(raw).storedBytes(stored).threshold(base.threshold())
                .method(selection.method()).note(selection.note()).compression(repo.compression().toString()).encryption(repo.encryptionName())
                .detection(selection.detection(k.files().values(), copier.pagesRead(), copier.filesScanned())).lineage(s.lineage())
                .keyManagement(keyManagement).innodbLayout(s.layout()).scope(opts.scope())
                .lowerCaseTableNames(facts.lowerCaseTableNames())
                .redoLogCrypt(redo.cryptInfo() == null ? null : redo.cryptInfo().toHex()).build();
        attempt.complete(m);
        return m;
    }
}
