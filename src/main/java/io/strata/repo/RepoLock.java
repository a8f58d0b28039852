package io.strata.repo;

/**
 * A lock of a repository, held until {@link #close()}: the writer lock (one writer at a time:
 * backup, merge, prune) or a named lock (one binlog archiver or tracker per server, beside the
 * writer). Two implementations, chosen by where the repository lives ({@link RepoLocks}):
 * {@link FileLock}, an OS record lock on a file of a local repository, and {@link LeaseLock}, a
 * lock object with a heartbeat in object storage. Readers never take one.
 */
public interface RepoLock extends AutoCloseable {
    /**
     * Fails with repo-locked when this holder may have lost the lock (a lease that could not be
     * renewed in time, or whose object another writer removed). A writer calls it right before it
     * stores what must never be stored twice, a manifest. A file lock cannot be lost: no-op.
     */
    default void check() {}

    /** Releases the lock. */
    @Override
    void close();
}
