package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.Checkpoint;
import io.strata.innodb.LogHeader;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Checks that a data directory named with {@code --datadir} belongs to the connected server,
 * before anything is copied and before BACKUP STAGE starts. Without it, the redo copier follows
 * another server's log and waits for an LSN that log never reaches, under BLOCK_DDL.
 *
 * <p>Two pieces of evidence, each able to refuse:
 * <ol>
 * <li><b>The redo log's checkpoint.</b> The newest checkpoint LSN in the directory's
 *     {@code ib_logfile0} (the block at 4096 or 8192 with the larger LSN, see {@link Checkpoint})
 *     must equal the server's {@code Innodb_lsn_last_checkpoint}. The server writes the block
 *     before it updates the status variable, so the file is read between two status reads and
 *     must lie in that range; a checkpoint written at the same moment is retried. A directory of
 *     another server passes only if its checkpoint happens to be at the very same LSN, e.g. two
 *     idle servers set up the same way.</li>
 * <li><b>The server process holds the file open.</b> When strata can see the server's process
 *     (its pid in {@code @@pid_file}, a {@code /proc/PID} whose program is mariadbd or mysqld, and
 *     its open files readable, which is the case for root and for the server's own user),
 *     one of its open files must be that same {@code ib_logfile0} (same device and inode,
 *     so symlinks and bind mounts do not matter). Where the process cannot be seen (another pid
 *     namespace, another user) this check is skipped and the checkpoint alone decides.</li>
 * </ol>
 * A directory that is the server's {@code @@datadir} itself (same inode) needs no evidence.
 */
final class DatadirCheck {
    private static final int ATTEMPTS = 5;

    private DatadirCheck() {}

    /**
     * @param datadir the directory --datadir names
     * @param logFile that directory's ib_logfile0
     * @throws StrataException datadir-mismatch when the evidence says the directory is another server's
     */
    static void check(ServerSession main, Path datadir, Path logFile) {
        String reported = main.queryString("SELECT @@datadir");
        if (sameFile(Path.of(reported), datadir)) {
            return;
        }
        String hint = "point --datadir at the data directory of the server strata connects to (it reports @@datadir " + reported
                + "), or connect to the server that owns " + datadir;
        long fileCp = -1;
        ServerSession.LsnStatus before = null;
        ServerSession.LsnStatus after = null;
        for (int i = 0; i < ATTEMPTS; i++) {
            before = main.lsnStatus();
            fileCp = newestCheckpoint(logFile);
            after = main.lsnStatus();
            if (fileCp >= before.lastCheckpoint() && fileCp <= after.lastCheckpoint()) {
                break;
            }
            sleep();
        }
        if (fileCp < before.lastCheckpoint() || fileCp > after.lastCheckpoint()) {
            throw new StrataException(ErrorCode.DATADIR_MISMATCH, "--datadir " + datadir + " is not the data directory of the connected server: its redo log "
                    + logFile.getFileName() + " has its newest checkpoint at LSN " + fileCp + ", the server's last checkpoint is at LSN "
                    + after.lastCheckpoint(), hint);
        }
        Optional<Long> pid = serverPid(main.queryString("SELECT @@pid_file"), datadir);
        if (pid.isPresent() && !holdsOpen(pid.get(), logFile)) {
            throw new StrataException(ErrorCode.DATADIR_MISMATCH, "--datadir " + datadir + " is not the data directory of the connected server: its process "
                    + pid.get() + " does not have " + logFile + " open", hint);
        }
    }

    private static long newestCheckpoint(Path logFile) {
        byte[] head = new byte[LogHeader.START_OFFSET];
        try (InputStream in = Files.newInputStream(logFile)) {
            if (in.readNBytes(head, 0, head.length) < head.length) {
                throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "the redo log " + logFile + " is shorter than its header (" + head.length + " bytes)", null);
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the redo log " + logFile + ": " + e.getMessage(),
                    "strata must run on the database host as a user that can read the data directory (--datadir)", e);
        }
        return Checkpoint.newest(head, LogHeader.parse(head)).checkpointLsn();
    }

    /** The server's pid when its pid file and its /proc entry are readable and show a MariaDB server; else empty. */
    static Optional<Long> serverPid(String pidFile, Path datadir) {
        try {
            Path f = datadir.resolve(pidFile); // a relative @@pid_file is relative to the data directory
            long pid = Long.parseLong(Files.readString(f, StandardCharsets.US_ASCII).trim());
            String cmd = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
            String program = Path.of(cmd.split("\0", 2)[0]).getFileName().toString();
            return program.equals("mariadbd") || program.equals("mysqld") ? Optional.of(pid) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether process {@code pid} has {@code file} open; true (no evidence) when its open files cannot be listed. */
    static boolean holdsOpen(long pid, Path file) {
        Path fds = Path.of("/proc", Long.toString(pid), "fd");
        try (var s = Files.list(fds)) {
            return s.anyMatch(fd -> sameFile(fd, file));
        } catch (IOException | SecurityException e) {
            return true;
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while checking --datadir", null, e);
        }
    }
}
