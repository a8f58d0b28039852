package io.strata.innodb;

import java.nio.charset.StandardCharsets;

/**
 * Builds the fixed parts of a new 10.8+ {@code ib_logfile0} for a restored data directory, as
 * mariadb-backup does ({@code log_hdr_init()}; MariaDB 10.11).
 *
 * <pre>
 * file offset  content
 *     0        header block: FORMAT_10_8, 0, first_lsn = C, creator, zeros, CRC-32C at 508 (see {@link LogHeader})
 *   512        zeros up to 4096
 *  4096        checkpoint block 1: (C, end_lsn) as read from the source, CRC-32C at 60 (see {@link Checkpoint})
 *  8192        checkpoint block 2: zeros (invalid, which is fine)
 * 12288        log bytes for LSN [C, E'), every term byte 0x01 (first pass), then zeros
 * </pre>
 * With {@code innodb_encrypt_log=ON} the header is FORMAT_ENC_11 with the source's crypt info at 48..75
 * and the records are the source's encrypted mtrs, unchanged but for their term bytes ({@link LogCrypt}).
 * A logically empty log holds one FILE_CHECKPOINT mtr at 12288: {@code FA 00 00 <C as 8 bytes> 01 <crc4>}.
 */
public final class LogFileWriter {
    private LogFileWriter() {}

    /** Size of a FILE_CHECKPOINT mtr (SIZE_OF_FILE_CHECKPOINT plus term and CRC). */
    public static final int FILE_CHECKPOINT_MTR_SIZE = 16;

    /** The 512-byte header block; the file's bytes 512..4095 must be zero. */
    public static byte[] header(long firstLsn, String creator) {
        return header(firstLsn, creator, null);
    }

    /**
     * The 512-byte header block of a log in the encrypted format (FORMAT_ENC_11) carrying {@code crypt}
     * at offset 48 ({@link LogCrypt}), or of a plain log when {@code crypt} is null.
     */
    public static byte[] header(long firstLsn, String creator, LogCrypt.Info crypt) {
        if (firstLsn < LogHeader.FIRST_LSN) {
            throw new IllegalArgumentException("first_lsn " + firstLsn + " is below " + LogHeader.FIRST_LSN);
        }
        byte[] name = creator.getBytes(StandardCharsets.US_ASCII);
        if (name.length >= LogHeader.CREATOR_SIZE || !creator.chars().allMatch(c -> c > 0 && c < 0x80)) {
            throw new IllegalArgumentException("creator must be at most 31 ASCII characters: " + creator);
        }
        byte[] h = new byte[LogHeader.BLOCK_SIZE];
        Be.put32(h, 0, crypt == null ? LogHeader.FORMAT_10_8 : LogHeader.FORMAT_ENC_11);
        Be.put64(h, 8, firstLsn);
        System.arraycopy(name, 0, h, LogHeader.CREATOR_OFFSET, name.length);
        if (crypt != null) {
            System.arraycopy(crypt.bytes(), 0, h, LogCrypt.HEADER_OFFSET, LogCrypt.HEADER_SIZE);
        }
        Be.put32(h, LogHeader.CHECKSUM_OFFSET, Crc32c.compute(h, 0, LogHeader.CHECKSUM_OFFSET));
        return h;
    }

    /** A 64-byte checkpoint block for (checkpointLsn, endLsn). */
    public static byte[] checkpointBlock(long checkpointLsn, long endLsn) {
        if (Long.compareUnsigned(endLsn, checkpointLsn) < 0) {
            throw new IllegalArgumentException("end LSN " + endLsn + " is below checkpoint LSN " + checkpointLsn);
        }
        byte[] c = new byte[Checkpoint.BLOCK_SIZE];
        Be.put64(c, 0, checkpointLsn);
        Be.put64(c, 8, endLsn);
        Be.put32(c, Checkpoint.CHECKSUM_OFFSET, Crc32c.compute(c, 0, Checkpoint.CHECKSUM_OFFSET));
        return c;
    }

    /** The first 12288 bytes of a new log: header with first_lsn = checkpointLsn, checkpoint block 1, zeros. */
    public static byte[] fileStart(String creator, long checkpointLsn, long endLsn) {
        return fileStart(creator, checkpointLsn, endLsn, null);
    }

    /** As {@link #fileStart(String, long, long)}, in the encrypted format when {@code crypt} is not null. */
    public static byte[] fileStart(String creator, long checkpointLsn, long endLsn, LogCrypt.Info crypt) {
        byte[] f = new byte[LogHeader.START_OFFSET];
        System.arraycopy(header(checkpointLsn, creator, crypt), 0, f, 0, LogHeader.BLOCK_SIZE);
        System.arraycopy(checkpointBlock(checkpointLsn, endLsn), 0, f, Checkpoint.CHECKPOINT_1, Checkpoint.BLOCK_SIZE);
        return f;
    }

    /** The FILE_CHECKPOINT(lsn) mtr with sequence byte 0x01 (first pass of the file). */
    public static byte[] fileCheckpointMtr(long lsn) {
        return fileCheckpointMtr(lsn, 1);
    }

    /** The FILE_CHECKPOINT(lsn) mtr with the given sequence byte. */
    public static byte[] fileCheckpointMtr(long lsn, int sequenceBit) {
        if (sequenceBit != 0 && sequenceBit != 1) throw new IllegalArgumentException("sequence bit " + sequenceBit);
        byte[] m = new byte[FILE_CHECKPOINT_MTR_SIZE];
        m[0] = (byte) (RecordType.FILE_CHECKPOINT | 10); // 10 bytes follow: space 0, page 0, LSN
        Be.put64(m, 3, lsn);
        m[11] = (byte) sequenceBit;
        Be.put32(m, 12, Crc32c.compute(m, 0, 11));
        return m;
    }
}
