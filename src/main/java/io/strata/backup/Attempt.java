package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.time.Instant;
import java.util.function.Consumer;

/**
 * One backup attempt in the repository's history, and the one way it completes (design rule 7):
 * recorded as running when it begins, complete only once {@link #complete} has stored its
 * manifest, and otherwise (an error, SIGINT or SIGTERM, a kill) recorded as failed with its
 * objects removed. Exactly one of {@link #complete}, {@link #fail} and {@link #onKill} ends it.
 *
 * <p>A signal only sets a flag ({@link #cancel}): the copy threads and the main flow see it at
 * their next {@link #checkCancelled()} and fail the backup as cancelled.
 */
final class Attempt {
    private final Repository repo;
    private final HistoryRecord begin;
    private final Consumer<String> say;
    private final Object finishLock = new Object();
    private boolean finished;
    /** The signal that cancelled the backup ("SIGINT" or "SIGTERM"), null while it runs. */
    private volatile String cancelledBy;
    /** Why the backup must stop although no signal came ({@link #abort}), null while it runs. */
    private volatile StrataException abortedWith;

    /**
     * Records backup {@code id} as running in {@code repo}'s history.
     *
     * @param type   the --type asked for ("auto" stays "auto" until the manifest says what it became)
     * @param source the server, as messages name it
     * @param say    where the cancellation is announced
     */
    Attempt(Repository repo, String id, BackupType type, String source, Consumer<String> say) {
        this.repo = repo;
        this.say = say;
        this.begin = new HistoryRecord(id, type.userName(), HistoryRecord.RUNNING, null, Instant.now().toString(), null, source,
                null, null, null, null, null, null, null, null, null, ProcessHandle.current().pid());
        repo.history().begin(begin);
    }

    String id() {
        return begin.id();
    }

    /** When the attempt began, ISO-8601 (the manifest's beginTime). */
    String beginTime() {
        return begin.beginTime();
    }

    /** SIGINT or SIGTERM: the backup stops at its next {@link #checkCancelled()}. */
    void cancel(String signal) {
        cancelledBy = signal;
        say.accept("received " + signal + ": cancelling the backup");
    }

    boolean cancelled() {
        return cancelledBy != null;
    }

    /**
     * The backup cannot go on ({@link io.strata.util.HeapWatch}: its heap is exhausted): it stops
     * at its next {@link #checkCancelled()}, which throws {@code why}, and fails with it.
     */
    void abort(StrataException why) {
        abortedWith = why;
        say.accept("stopping the backup: " + why.getMessage());
    }

    /** Throws interrupted once a signal asked the backup to stop, or what {@link #abort} was given. */
    void checkCancelled() {
        StrataException a = abortedWith;
        if (a != null) {
            throw new StrataException(a.code(), a.getMessage(), a.hint(), a.getCause());
        }
        String s = cancelledBy;
        if (s != null) {
            throw new StrataException(ErrorCode.INTERRUPTED, "backup " + id() + " cancelled by " + s,
                    "the attempt is recorded as failed and nothing of it is kept; run the backup again when you are ready");
        }
    }

    /** Kill or a second signal (JVM shutdown): records the attempt as failed unless its manifest is already stored. */
    void onKill() {
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

    /** Removes the attempt's objects and records it as failed with {@code message}, unless it already ended. */
    void fail(String message) {
        synchronized (finishLock) {
            if (!finished) {
                finished = true;
                try {
                    // a failed backup's data can never be used; removing it first also frees the
                    // space the failure record needs when the disk is full
                    repo.deleteBackupObjects(id());
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

    /**
     * Stores the manifest, after everything it names is durable: from here the backup is
     * complete and a signal no longer matters. Then records it as completed in the history.
     *
     * @throws StrataException interrupted when a signal or a kill came first
     */
    void complete(Manifest m) {
        synchronized (finishLock) {
            checkCancelled();
            if (finished) {
                throw new StrataException(ErrorCode.INTERRUPTED, "backup " + id() + " was cancelled", null);
            }
            repo.writeManifest(m);
            finished = true;
        }
        try {
            repo.history().end(HistoryRecord.completed(begin, m));
        } catch (RuntimeException ignored) {
            // the stored manifest alone makes the backup complete
        }
    }
}
