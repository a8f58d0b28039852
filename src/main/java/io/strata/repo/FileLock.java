package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StorageException;
import io.strata.util.FileModes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A lock of a local repository: a POSIX record lock ({@code fcntl}, through
 * {@link FileChannel#tryLock()}) on a file in the repository's directory, which holds the holder's
 * pid in ASCII for messages. The kernel drops it when the process dies, so a killed holder never
 * leaves a stale lock.
 *
 * <p>Closing any descriptor of the file drops all of a process's record locks on it: a holder
 * must never open the file a second time, so "who holds it" is answered from {@link #HELD} for this
 * process.
 */
final class FileLock implements RepoLock {
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;
    private final java.nio.channels.FileLock lock;

    private FileLock(Path file, FileChannel channel, java.nio.channels.FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on {@code file}, creating it; fails with repo-locked ({@code lockedMessage},
     * the holder's pid appended, and {@code hint}) when another process holds it.
     */
    static FileLock acquire(Path file, String lockedMessage, String hint) {
        if (HELD.contains(file)) {
            throw new StrataException(ErrorCode.REPO_LOCKED, "lock " + file + " is already held by this strata process", null);
        }
        try {
            FileModes.createPrivateDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file, java.util.EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ),
                    FileModes.attribute(FileModes.PRIVATE_FILE));
            java.nio.channels.FileLock fl;
            try {
                fl = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                fl = null;
            }
            if (fl == null) {
                ch.close();
                Long pid = holderPid(file);
                throw new StrataException(ErrorCode.REPO_LOCKED, lockedMessage + (pid == null ? "" : " (pid " + pid + ")"), hint);
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)), 0);
            ch.force(false);
            HELD.add(file);
            return new FileLock(file, ch, fl);
        } catch (IOException e) {
            throw StorageException.local("lock", file.toString(), e);
        }
    }

    /** The pid of the process holding the lock on {@code file} (-1 when it wrote none yet), or null when nobody holds it. */
    static Long holderPid(Path file) {
        if (HELD.contains(file)) {
            return ProcessHandle.current().pid();
        }
        if (!Files.exists(file)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            java.nio.channels.FileLock fl;
            try {
                fl = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                return ProcessHandle.current().pid();
            }
            if (fl != null) {
                fl.release();
                return null;
            }
            String s = Files.readString(file, StandardCharsets.US_ASCII).trim();
            return s.isEmpty() ? -1L : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    @Override
    public void close() {
        try {
            try {
                lock.release();
            } finally {
                HELD.remove(file);
                channel.close();
            }
        } catch (IOException e) {
            throw StorageException.local("unlock", file.toString(), e);
        }
    }
}
