package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.zip.CRC32;

/**
 * The Aria engine's control file, {@code aria_log_control} at the top of the data directory
 * (MariaDB's storage/maria/ma_control_file.c): where Aria's crash recovery starts, and which Aria
 * log file is the newest. A backup takes it under BACKUP STAGE BLOCK_DDL, before it reads any
 * Aria table file, and stores it under BLOCK_COMMIT beside the Aria log files copied there.
 *
 * <p>Why before: an Aria checkpoint (every {@code aria_checkpoint_interval} seconds, 30 by
 * default) writes dirty pages of the Aria page cache to the table files, then records in this
 * file the log point from which recovery must redo. A table file copied before a checkpoint and a
 * control file copied after it make a pair in which the checkpoint's writes are in neither: the
 * restored table lacks rows (or the recovering server stops). With the control file taken first,
 * every table file stored is as new as, or newer than, the state its checkpoint describes, and
 * recovery redoes each logged change whose LSN is above the page's. mariadb-backup 11.x takes it
 * first for the same reason (extra/mariabackup/aria_backup_client.cc).
 *
 * <p>Layout (all integers little-endian; sizes in bytes):
 * <pre>
 * offset  size  the fixed part, written when the file is made
 *      0     3  magic FE FE 0C
 *      3     1  version (1)
 *      4    16  UUID of the Aria instance (table files carry it)
 *     20     2  size of the fixed part, F (30)
 *     22     2  size of the changeable part (22)
 *     24     2  Aria block size
 *  F - 4     4  CRC-32 (zlib's) of bytes [0, F - 4)
 *
 * offset  size  the changeable part, rewritten at each checkpoint and log rotation
 *  F + 0     4  CRC-32 of the rest of this part
 *  F + 4     7  LSN of the last checkpoint: log file number (3 bytes), then offset in it (4 bytes); 0 when none
 *  F + 11    4  number of the newest log file (aria_log.NNNNNNNN)
 *  F + 15    6  largest transaction id (at a clean shutdown)
 *  F + 21    1  consecutive recovery failures
 * </pre>
 * The file is at most 512 bytes and is rewritten in place with one write.
 */
final class AriaControlFile {
    /** The file's name at the top of the data directory. */
    static final String NAME = "aria_log_control";
    private static final int MAX_SIZE = 512;
    private static final int FIXED_MIN = 30;
    private static final int CHANGEABLE_MIN = 15;
    private static final int TRIES = 10;

    private final byte[] bytes;
    private final int fixed;

    private AriaControlFile(byte[] bytes, int fixed) {
        this.bytes = bytes;
        this.fixed = fixed;
    }

    /**
     * Reads {@code datadir/aria_log_control}; a read whose checksums do not match (the server
     * rewriting it at that moment) is made again, up to 10 times 10 ms apart.
     *
     * @return the file, or null when the data directory has none (a server that never started Aria)
     * @throws StrataException datadir-unreadable (exit 17) when it cannot be read; corrupt-data
     *                         (exit 12) when it is not an Aria control file or its checksums never match
     */
    static AriaControlFile read(Path datadir) throws InterruptedException {
        Path file = datadir.resolve(NAME);
        String why = null;
        for (int i = 0; i < TRIES; i++) {
            byte[] b;
            try {
                b = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                return null;
            } catch (IOException e) {
                throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the Aria control file " + file + ": " + e.getMessage(),
                        "run strata as a user that can read the data directory (root or mysql)", e);
            }
            why = problem(b);
            if (why == null) {
                return new AriaControlFile(b, u16(b, 20));
            }
            Thread.sleep(10);
        }
        throw new StrataException(ErrorCode.CORRUPT_DATA, "the Aria control file " + file + " is not one strata can read: " + why,
                "check the server's error log for Aria errors; the backup stored nothing usable and can be rerun", null);
    }

    /** Parses {@code b} as a control file. */
    static AriaControlFile of(byte[] b) {
        String why = problem(b);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        return new AriaControlFile(b.clone(), u16(b, 20));
    }

    /** Why {@code b} is not a whole control file, or null. */
    static String problem(byte[] b) {
        if (b.length < FIXED_MIN + CHANGEABLE_MIN || b.length > MAX_SIZE) {
            return b.length + " bytes (a control file has " + (FIXED_MIN + CHANGEABLE_MIN) + " to " + MAX_SIZE + ")";
        }
        if ((b[0] & 0xff) != 0xFE || (b[1] & 0xff) != 0xFE || (b[2] & 0xff) != 0x0C) {
            return "no magic FE FE 0C at its start";
        }
        int fixed = u16(b, 20);
        int changeable = u16(b, 22);
        if (fixed < FIXED_MIN || changeable < CHANGEABLE_MIN || fixed + changeable != b.length) {
            return "part sizes " + fixed + " + " + changeable + " do not make its " + b.length + " bytes";
        }
        if (crc(b, 0, fixed - 4) != u32(b, fixed - 4)) {
            return "the checksum of its fixed part does not match";
        }
        if (crc(b, fixed + 4, b.length - fixed - 4) != u32(b, fixed)) {
            return "the checksum of its changeable part does not match";
        }
        return null;
    }

    /** The log file number of the last checkpoint's LSN; 0 when there was no checkpoint yet. */
    int checkpointLogNo() {
        return (bytes[fixed + 4] & 0xff) | (bytes[fixed + 5] & 0xff) << 8 | (bytes[fixed + 6] & 0xff) << 16;
    }

    /** The last checkpoint's LSN as Aria prints it: (file number &lt;&lt; 32) | offset; 0 when none. */
    long checkpointLsn() {
        return (long) checkpointLogNo() << 32 | u32(bytes, fixed + 7);
    }

    /** The number of the newest Aria log file when the file was read; 0 when none was made yet. */
    long lastLogNo() {
        return u32(bytes, fixed + 11);
    }

    /** A copy of the file's bytes. */
    byte[] bytes() {
        return bytes.clone();
    }

    /**
     * The control file to store with the Aria log files {@code logs} (their numbers) copied under
     * BLOCK_COMMIT: this one when its newest log is the newest copied; otherwise (the server
     * started a new log file after this file was read) this one naming the newest copied log,
     * its checksum made again: what the server itself writes when it starts a new log file
     * before its next checkpoint. Recovery reads the log only up to the file the control file
     * names, so without the change the newer file's records would be ignored.
     *
     * @throws StrataException redo-overwritten (exit 20) when a log file from the checkpoint's to
     *                         the newest is missing (the server purges none during a backup: deleted
     *                         by something else), or when none is there at all
     */
    byte[] forLogs(SortedSet<Long> logs) {
        if (logs.isEmpty() && lastLogNo() > 0) {
            throw new StrataException(ErrorCode.REDO_OVERWRITTEN, String.format(java.util.Locale.ROOT,
                    "the Aria control file names log aria_log.%08d, and the Aria log directory (aria_log_dir_path) holds no Aria log file", lastLogNo()),
                    "make sure no script or tool deletes aria_log.* files while a backup runs, then run the backup again", null);
        }
        long from = checkpointLogNo() == 0 ? (logs.isEmpty() ? lastLogNo() : logs.first()) : checkpointLogNo();
        long to = Math.max(lastLogNo(), logs.isEmpty() ? 0 : logs.last());
        for (long n = Math.max(1, from); n <= to; n++) {
            if (!logs.contains(n)) {
                throw new StrataException(ErrorCode.REDO_OVERWRITTEN, String.format(java.util.Locale.ROOT,
                        "the Aria log file aria_log.%08d, which Aria's recovery needs from the checkpoint at LSN (%d,0x%x) read under "
                                + "BACKUP STAGE BLOCK_DDL, was gone under BLOCK_COMMIT: something other than the server deleted it (the server purges no Aria log from BACKUP STAGE START to the backup's end)",
                        n, checkpointLogNo(), checkpointLsn() & 0xffffffffL),
                        "make sure no script or tool deletes aria_log.* files while a backup runs, then run the backup again", null);
            }
        }
        if (to == lastLogNo()) {
            return bytes();
        }
        byte[] b = bytes();
        put32(b, fixed + 11, to);
        put32(b, fixed, crc(b, fixed + 4, b.length - fixed - 4));
        return b;
    }

    /** The Aria log file's number for a top-level name aria_log.NNNNNNNN, or -1. */
    static long logNumber(String rel) {
        if (rel.length() != 17 || !rel.startsWith("aria_log.")) {
            return -1;
        }
        for (int i = 9; i < 17; i++) {
            if (rel.charAt(i) < '0' || rel.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(rel.substring(9));
    }

    private static long crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return c.getValue();
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    private static long u32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }

    private static void put32(byte[] b, int off, long v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    @Override
    public String toString() {
        return "aria_log_control(checkpoint (" + checkpointLogNo() + ",0x" + Long.toHexString(checkpointLsn() & 0xffffffffL) + "), last log "
                + lastLogNo() + ")";
    }
}
