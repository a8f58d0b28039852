package io.strata.innodb;

import io.strata.error.CorruptDataException;

import java.util.Optional;

/**
 * Checkpoint block of the 10.8+ redo log (log0log.h CHECKPOINT_1 / CHECKPOINT_2, written by
 * {@code log_t::write_checkpoint()}, read by {@code recv_sys_t::find_checkpoint()}; MariaDB 10.11).
 * Two blocks live at file offsets 4096 and 8192; the server alternates between them.
 *
 * <pre>
 * off size field           note
 *   0    8 checkpoint_lsn  C: recovery applies log from here
 *   8    8 end_lsn         the LSN at which the FILE_MODIFY..FILE_CHECKPOINT(C) mini-transactions start
 *  16   44 -               must be 0
 *  60    4 checksum        CRC-32C of [0, 60)
 * </pre>
 * A block is valid if the CRC matches, bytes 16..59 are zero, C &gt;= first_lsn and end_lsn &gt;= C.
 * The newest checkpoint is the valid block with the larger C; on a tie the second block wins.
 */
public record Checkpoint(long checkpointLsn, long endLsn) {
    public static final int CHECKPOINT_1 = 4096;
    public static final int CHECKPOINT_2 = 8192;
    /** Bytes of a checkpoint block that are parsed and checksummed. */
    public static final int BLOCK_SIZE = 64;
    static final int CHECKSUM_OFFSET = 60;

    /** Parses the block at {@code block[off]}; empty if it is not valid. */
    public static Optional<Checkpoint> parse(byte[] block, int off, long firstLsn) {
        return invalidReason(block, off, firstLsn) == null
                ? Optional.of(new Checkpoint(Be.i64(block, off), Be.i64(block, off + 8)))
                : Optional.empty();
    }

    /** Why the block is not valid, or null if it is. */
    static String invalidReason(byte[] block, int off, long firstLsn) {
        int stored = Be.i32(block, off + CHECKSUM_OFFSET);
        int computed = Crc32c.compute(block, off, CHECKSUM_OFFSET);
        if (stored != computed) return "checksum stored=" + Be.hex32(stored) + " computed=" + Be.hex32(computed);
        if (!Be.allZero(block, off + 16, off + CHECKSUM_OFFSET)) return "bytes 16..59 are not zero";
        long c = Be.i64(block, off);
        long end = Be.i64(block, off + 8);
        if (Long.compareUnsigned(c, firstLsn) < 0) {
            return "checkpoint LSN " + Be.hexLsn(c) + " is below first_lsn " + Be.hexLsn(firstLsn);
        }
        if (Long.compareUnsigned(end, c) < 0) {
            return "end LSN " + Be.hexLsn(end) + " is below checkpoint LSN " + Be.hexLsn(c);
        }
        return null;
    }

    /**
     * The newest valid checkpoint of a log file, given at least its first 12288 bytes.
     *
     * @throws CorruptDataException if neither block is valid
     */
    public static Checkpoint newest(byte[] fileFirst12288Bytes, LogHeader h) {
        if (fileFirst12288Bytes.length < CHECKPOINT_2 + BLOCK_SIZE) {
            throw new CorruptDataException("redo log is truncated: " + fileFirst12288Bytes.length
                    + " bytes, the checkpoint blocks end at " + (CHECKPOINT_2 + BLOCK_SIZE), null);
        }
        Optional<Checkpoint> one = parse(fileFirst12288Bytes, CHECKPOINT_1, h.firstLsn());
        Optional<Checkpoint> two = parse(fileFirst12288Bytes, CHECKPOINT_2, h.firstLsn());
        if (one.isEmpty() && two.isEmpty()) {
            throw new CorruptDataException("no valid checkpoint in redo log: block 1 (offset 4096): "
                    + invalidReason(fileFirst12288Bytes, CHECKPOINT_1, h.firstLsn())
                    + "; block 2 (offset 8192): " + invalidReason(fileFirst12288Bytes, CHECKPOINT_2, h.firstLsn()),
                    "ib_logfile0 is damaged or was not written by MariaDB 10.8+");
        }
        if (one.isEmpty()) return two.get();
        if (two.isEmpty()) return one.get();
        return Long.compareUnsigned(one.get().checkpointLsn(), two.get().checkpointLsn()) > 0 ? one.get() : two.get();
    }
}
