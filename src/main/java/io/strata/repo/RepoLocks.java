package io.strata.repo;

import io.strata.store.StoreLocation;

import java.nio.file.Path;

/**
 * The locks of one repository, of the kind its location allows: {@link FileLock}s on files in
 * a local repository's directory, a {@link LeaseLock} in object storage. This is the one place
 * that tells the two apart.
 *
 * <pre>
 * lock                      local repository           object storage
 * writer                    file "lock"                lease object "locks/&lt;token&gt;"
 * named (archiver, tracker) file "&lt;name&gt;"             lease object "leases/&lt;name&gt;/&lt;token&gt;"
 * </pre>
 */
final class RepoLocks {
    static final String WRITER_FILE = "lock";

    /** The directory of a local repository; null for object storage. */
    private final Path dir;
    private final LeaseLock.Place lease;
    private final String name;

    RepoLocks(StoreLocation location, LeaseLock.Place lease) {
        this.dir = location.isS3() ? null : location.dir();
        this.lease = lease;
        this.name = location.display();
    }

    /** Takes the writer lock, or fails with repo-locked naming the holder. */
    RepoLock writer() {
        if (dir == null) {
            return LeaseLock.acquire(lease);
        }
        return FileLock.acquire(dir.resolve(WRITER_FILE), "repository " + dir + " is locked by another strata process",
                "wait for it to finish, or check \"strata list\" for a running backup");
    }

    /**
     * Takes the lock {@code name} beside the writer lock (the binlog archiver of a server, the
     * tracker), or fails with repo-locked ({@code lockedMessage}, {@code hint}).
     *
     * In object storage it is a lease (see {@link LeaseLock}) below {@code leases/<lockName>/}.
     */
    RepoLock named(String lockName, String lockedMessage, String hint) {
        if (dir == null) {
            return LeaseLock.acquire(namedPlace(lockName), lockedMessage, hint);
        }
        return FileLock.acquire(dir.resolve(lockName), lockedMessage, hint);
    }

    private LeaseLock.Place namedPlace(String lockName) {
        return new LeaseLock.Place(lease.io(), lease.codec(), lease.repoName(), Keys.LEASES + lockName + "/");
    }

    /** The pid of the writer lock's holder, or null when nobody holds it (a lease's holder may run on another host). */
    Long writerPid() {
        if (dir == null) {
            LeaseLock.Info holder = LeaseLock.liveHolder(lease);
            return holder == null ? null : holder.pid();
        }
        return FileLock.holderPid(dir.resolve(WRITER_FILE));
    }

    /**
     * Whether a writer may be running, read without taking or probing the lock: the pid in a
     * local lock file is alive (a backup writes it right after taking the lock), or a lease is live.
     */
    boolean writerMayRun() {
        if (dir == null) {
            return writerPid() != null; // the lease is read, never taken
        }
        try {
            String s = java.nio.file.Files.readString(dir.resolve(WRITER_FILE), java.nio.charset.StandardCharsets.US_ASCII).trim();
            return !s.isEmpty() && ProcessHandle.of(Long.parseLong(s)).map(ProcessHandle::isAlive).orElse(false);
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (java.io.IOException | NumberFormatException e) {
            return true;
        }
    }

    /** The pid of the holder of lock {@code lockName}, or null when nobody holds it (a lease's holder may run on another host). */
    Long namedPid(String lockName) {
        if (dir == null) {
            LeaseLock.Info holder = LeaseLock.liveHolder(namedPlace(lockName));
            return holder == null ? null : holder.pid();
        }
        return FileLock.holderPid(dir.resolve(lockName));
    }
}
