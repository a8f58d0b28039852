package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.Checkpoint;
import io.strata.innodb.LogCrypt;
import io.strata.innodb.LogGeometry;
import io.strata.innodb.LogHeader;
import io.strata.innodb.MtrParser;
import io.strata.redo.LiveLog;
import io.strata.redo.RedoKeys;
import io.strata.server.ServerSession;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Copies the server's circular redo log from the newest checkpoint C onward while the backup
 * runs (design rules 1 and 2). Each round reads Innodb_lsn_flushed first and parses only below
 * it, frames and validates every mini-transaction, rewrites sequence bytes to 0x01 for the new
 * log, and after each read checks that the server cannot have overwritten what was just read.
 * Any doubt ends the backup with REDO_OVERWRITTEN; silently lost log is never accepted. An
 * encrypted log is copied as the server stored it (each mtr's CRC covers its encrypted bytes); its
 * records are decrypted in a scratch copy for the DDL tracker only.
 */
final class RedoCopier implements Runnable {
    private static final int MAX_READ = 8 << 20;
    /** Bytes of headroom demanded beyond the capacity: the tail block and write-ahead padding. */
    private static final long MARGIN = 1 << 20;

    private final Path logFile;
    private final ServerSession status;
    private final OutputStream out;
    private final long testDelayMs;
    private final DdlTracker ddl;
    private final FileChannel channel;
    private final LogHeader header;
    private final LogGeometry geometry;
    private final Checkpoint checkpoint;
    private final long fileSize;
    private final byte[] buf = new byte[MAX_READ];
    private final LogCrypt crypt;
    private final LogCrypt.Info cryptInfo;

    private volatile long copiedTo;
    /** Signals both ways: the copy advanced, or a waiter wants the log read now. */
    private final Object progressLock = new Object();
    private boolean nudged;
    private volatile long target = Long.MAX_VALUE;
    private volatile boolean cancelled;
    private volatile StrataException failure;
    private volatile long maxLag;
    private volatile long serverLsn;
    private long mtrs;
    private Thread thread;

    RedoCopier(Path logFile, ServerSession status, OutputStream out, long testDelayMs, DdlTracker ddl) {
        this.logFile = logFile;
        this.status = status;
        this.out = out;
        this.testDelayMs = testDelayMs;
        this.ddl = ddl;
        try {
            this.channel = FileChannel.open(logFile, StandardOpenOption.READ);
            this.fileSize = channel.size();
            byte[] head = new byte[LogHeader.START_OFFSET];
            readFully(head, 0, head.length, 0);
            this.header = LogHeader.parse(head);
            // an encrypted log is copied as stored; the key only lets the DDL tracker read the records
            this.crypt = RedoKeys.forLog(header, head, status, logFile);
            this.cryptInfo = crypt == null ? null : LogCrypt.headerInfo(head);
            this.checkpoint = Checkpoint.newest(head, header);
            this.geometry = new LogGeometry(header.firstLsn(), fileSize);
            if (crypt != null) {
                RedoKeys.checkKey(crypt, channel, logFile, geometry, fileSize, checkpoint);
            }
            this.copiedTo = checkpoint.checkpointLsn();
            // read before any data file is opened: every file operation logged up to here is logged and flushed, but NOT
            // necessarily done on disk (the server writes and flushes the record, then creates, renames or deletes the file);
            // the rule built on it stays safe because BackupRun.copyAgain's path and space-id checks and the page-0 "foreign"
            // check (FileCopier.CopyStart) catch a file the copy opened before the server changed it
            this.serverLsn = status.lsnStatus().current();
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the redo log " + logFile + ": " + e.getMessage(),
                    "strata must run on the database host as a user that can read the data directory (--datadir)", e);
        }
    }

    Checkpoint checkpoint() { return checkpoint; }

    /** The crypt info of the source log's header when it is encrypted, else null. */
    LogCrypt.Info cryptInfo() { return cryptInfo; }

    long capacity() { return geometry.capacity(); }

    long copiedTo() { return copiedTo; }

    long maxLag() { return maxLag; }

    /**
     * The server's Innodb_lsn_current at the copier's last read (at its construction before the
     * first): never above the server's log end LSN at the moment this is called.
     */
    long serverLsn() { return serverLsn; }

    long mtrCount() { return mtrs; }

    StrataException failure() { return failure; }

    /** Throws the copier's failure, if it has one, in the calling thread. */
    void check() {
        StrataException f = failure;
        if (f != null) {
            throw f;
        }
    }

    private void readFully(byte[] dst, int off, int len, long pos) throws IOException {
        LiveLog.readFully(channel, logFile, dst, off, len, pos);
    }

    /** Reads log bytes for LSNs [lsn, lsn+len) from the circular file into buf[0..len). */
    private void readCircular(long lsn, int len) throws IOException {
        LiveLog.readCircular(channel, logFile, geometry, fileSize, lsn, buf, len);
    }

    @Override
    public void run() {
        long lastHeaderCheck = System.nanoTime();
        try {
            while (!cancelled && copiedTo < target) {
                long start = copiedTo;
                long fence = status.lsnStatus().flushed();
                int len = (int) Math.min(MAX_READ, Math.max(0, fence - start));
                if (len > 0) {
                    readCircular(start, len);
                    long current = status.lsnStatus().current();
                    serverLsn = current;
                    maxLag = Math.max(maxLag, current - start);
                    if (current + MARGIN >= start + geometry.capacity()) {
                        throw behind(start, current, "the server wrote past the uncopied log");
                    }
                    // read after the fence: when the fence holds log written after BACKUP STAGE END, endAt (called
                    // before END) has set the target, and this read sees it; read before the fence, it could
                    // miss a target set while this thread waited for the server's answer
                    long stop = target;
                    MtrParser.ParseResult r = MtrParser.parse(buf, 0, len, start, geometry, true, ddl, crypt, stop);
                    if (r.stop() != MtrParser.Stop.NEED_MORE && r.acceptedBytes() < len) {
                        throw behind(start + r.acceptedBytes(), current,
                                "invalid mini-transaction at LSN " + (start + r.acceptedBytes()) + " below the flushed LSN " + fence
                                        + (r.reason() == null ? "" : " (" + r.reason() + ")"));
                    }
                    try {
                        out.write(buf, 0, r.acceptedBytes());
                    } catch (IOException e) {
                        throw StorageException.local("write", "the repository (redo log copy)", e);
                    }
                    mtrs += r.mtrCount();
                    copiedTo = start + r.acceptedBytes();
                    synchronized (progressLock) {
                        progressLock.notifyAll();
                    }
                }
                if (System.nanoTime() - lastHeaderCheck > 1_000_000_000L) {
                    checkNotResized();
                    lastHeaderCheck = System.nanoTime();
                }
                if (testDelayMs > 0) {
                    Thread.sleep(testDelayMs);
                } else if (len < MAX_READ && copiedTo < target) {
                    synchronized (progressLock) {
                        if (!nudged) {
                            progressLock.wait(20);
                        }
                        nudged = false;
                    }
                }
            }
        } catch (StrataException e) {
            failure = e;
        } catch (IOException e) {
            failure = new StrataException(ErrorCode.DATADIR_UNREADABLE, "reading the redo log " + logFile + " failed: " + e.getMessage(), null, e);
        } catch (InterruptedException e) {
            failure = new StrataException(ErrorCode.INTERRUPTED, "the redo log copy was interrupted", null, e);
        } catch (RuntimeException e) {
            failure = new StrataException(ErrorCode.BUG, "redo copier failed: " + e, null, e);
        } catch (OutOfMemoryError e) {
            // recorded like any other failure: a copier thread that just died left the backup waiting
            // for a copy that never came (up to DURABLE_WAIT_SECONDS), then failed it for the wrong reason
            failure = StrataException.outOfMemory(e);
        }
    }

    private StrataException behind(long at, long current, String what) {
        return new StrataException(ErrorCode.REDO_OVERWRITTEN, String.format(
                "redo log overwritten before it was copied: %s; strata had copied up to LSN %d while the server was at LSN %d "
                        + "(%d bytes behind, log capacity %d bytes)", what, at, current, current - at, geometry.capacity()),
                "the backup is not usable and is recorded as failed; give the server a larger innodb_log_file_size "
                        + "(SET GLOBAL innodb_log_file_size=...), lower the write load, or remove I/O throttling, then run the backup again");
    }

    private void checkNotResized() throws IOException {
        byte[] head = new byte[512];
        readFully(head, 0, head.length, 0);
        LogHeader now = LogHeader.parse(head);
        if (now.firstLsn() != header.firstLsn() || channel.size() != fileSize) {
            throw new StrataException(ErrorCode.REDO_OVERWRITTEN, "the server's redo log " + logFile + " was resized during the backup ("
                    + fileSize + " -> " + channel.size() + " bytes)", "run the backup again once the resize has finished");
        }
    }

    /**
     * Asks the copier to look at the log now rather than after its idle pause: the caller has
     * just made the server flush its log and is about to wait for the copy to reach it.
     */
    private void nudge() {
        synchronized (progressLock) {
            nudged = true;
            progressLock.notifyAll();
        }
    }

    /** Waits at most {@code ms} for the copy to advance (or for a nudge); returns at once if it did. */
    private void awaitProgress(long ms) throws InterruptedException {
        synchronized (progressLock) {
            progressLock.wait(ms);
        }
    }

    /** Starts the copy on a daemon thread ("strata-redo"). */
    void start() {
        thread = new Thread(this, "strata-redo");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Waits until the copy reaches {@code lsn}, at most 10 minutes.
     *
     * @param checkCancelled throws when the backup was cancelled; called while waiting
     * @throws StrataException the copier's failure, or redo-overwritten after 10 minutes
     */
    void awaitCopied(long lsn, Runnable checkCancelled) throws InterruptedException {
        awaitCopied(lsn, checkCancelled, 600, () -> new StrataException(ErrorCode.REDO_OVERWRITTEN, "the redo log copy did not reach LSN " + lsn
                + " within 10 minutes (copied up to " + copiedTo + ")", "check the server's error log; the backup is recorded as failed"));
    }

    private void awaitCopied(long lsn, Runnable checkCancelled, long seconds, java.util.function.Supplier<StrataException> timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        nudge();
        while (copiedTo < lsn) {
            check();
            checkCancelled.run();
            if (System.nanoTime() > deadline) {
                throw timeout.get();
            }
            awaitProgress(5);
        }
        check();
    }

    /**
     * Seconds {@link #finishAt} waits for the server to make its log durable up to E: the largest
     * innodb_flush_log_at_timeout (2700 s) and a minute.
     */
    static final long DURABLE_WAIT_SECONDS = 2760;

    /** The end set by {@link #endAt} (LSN), or {@link Long#MAX_VALUE} before it. */
    long endTarget() { return target; }

    /**
     * Sets where the copy ends: the first mini-transaction boundary at or above {@code e} (LSN; design
     * rule 1). From then on no mtr that starts at or above it is copied, even when the server has
     * already made later log durable. Called under BACKUP STAGE BLOCK_COMMIT, before END: the log
     * the copier may have taken beyond {@code e} until then holds no commit (commits are blocked),
     * and what the server writes after END, commits included, is never copied. The copy may then
     * reach {@code e} after END ({@link #finishAt}), with the server's commits running again.
     */
    void endAt(long e) {
        target = e;
        nudge();
    }

    /**
     * Waits until the copy has reached the end set by {@link #endAt} (the server makes that log
     * durable: at once with innodb_flush_log_at_trx_commit=1, within a second with 0 or 2), for the
     * copying thread to finish, and returns the LSN where the copy ends.
     *
     * @param checkCancelled throws when the backup was cancelled; called while waiting
     * @param slowAfterMs    milliseconds of waiting after which {@code onSlow} is called, once (on this thread)
     * @throws StrataException the copier's failure (redo overwritten, an invalid mtr, an unreadable log), or
     *         SERVER_ERROR when the log stayed non-durable below E for {@link #DURABLE_WAIT_SECONDS}
     */
    long finishAt(Runnable checkCancelled, long slowAfterMs, Runnable onSlow) throws InterruptedException {
        long e = target;
        if (e == Long.MAX_VALUE) {
            throw new IllegalStateException("finishAt before endAt");
        }
        long slowAt = System.nanoTime() + slowAfterMs * 1_000_000L;
        boolean[] told = {false};
        awaitCopied(e, () -> {
            checkCancelled.run();
            if (!told[0] && System.nanoTime() - slowAt >= 0) {
                told[0] = true;
                onSlow.run();
            }
        }, DURABLE_WAIT_SECONDS, () -> new StrataException(ErrorCode.SERVER_ERROR, "the server did not make its redo log durable up to LSN " + e
                + " within " + DURABLE_WAIT_SECONDS + " s after BACKUP STAGE END (Innodb_lsn_flushed stayed below it; copied up to " + copiedTo + ")",
                "check the server's error log and its innodb_flush_log_at_timeout; the backup is recorded as failed, run it again"));
        thread.join();
        check();
        return copiedTo;
    }

    /** Stops the copy (at once, wherever it is), waits up to 10 s for its thread and closes the log file. */
    void stop() throws InterruptedException {
        cancelled = true;
        if (thread != null) {
            thread.join(10_000);
        }
        close();
    }

    private void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only channel
        }
        Arrays.fill(buf, (byte) 0);
    }
}
