package io.strata.innodb;

import io.strata.error.CorruptDataException;

import java.nio.charset.StandardCharsets;

/**
 * Header block of {@code ib_logfile0} in the MariaDB 10.8+ redo log format (log0log.h, {@code log_t::FORMAT_*},
 * {@code log_t::header_write()}; MariaDB 10.11). It is the first 512 bytes of the file; bytes 512..4095 are zero.
 *
 * <pre>
 * off size field      note
 *   0    4 format     0x50687973 "Phys" (FORMAT_10_8), or 0xF09F979D (FORMAT_ENC_11, encrypted, 10.11)
 *   4    4 -          must be 0
 *   8    8 first_lsn  LSN of the byte at file offset 12288 (START_OFFSET); at least 12288 (FIRST_LSN)
 *  16   32 creator    NUL-padded ASCII, "MariaDB 10.11.19", or "Backup 10.11.19" from mariadb-backup
 *  48    4 crypt      key id 1 when encrypted ({@link LogCrypt}: 48..75 key id, key version, message,
 *                     nonce), else 0; FORMAT_10_8 logs written by 10.8..10.10 with encryption have it too
 *  52  456 -          the rest of the crypt info when encrypted, else 0
 * 508    4 checksum   CRC-32C of [0, 508)
 * </pre>
 * Older formats (0, 1, 103, 104, 0x50485953 "PHYS" of 10.5..10.7, with or without bit 31) are refused.
 */
public record LogHeader(int format, long firstLsn, String creator, int cryptField) {
    public static final int FORMAT_10_8 = 0x50687973;
    public static final int FORMAT_ENC_11 = 0xF09F979D;
    /** Size of the header block that is parsed and checksummed. */
    public static final int BLOCK_SIZE = 512;
    /** File offset of the circular record area (log_t::START_OFFSET). */
    public static final int START_OFFSET = 12288;
    /** Smallest possible LSN (log_t::FIRST_LSN). */
    public static final long FIRST_LSN = 12288;
    static final int CREATOR_OFFSET = 16;
    static final int CREATOR_SIZE = 32;
    static final int CRYPT_OFFSET = 48;
    static final int CHECKSUM_OFFSET = 508;

    /** Header of an unencrypted log. */
    public LogHeader(int format, long firstLsn, String creator) {
        this(format, firstLsn, creator, 0);
    }

    /**
     * Parses and checks the header block.
     *
     * @throws CorruptDataException for a pre-10.8 format, a checksum mismatch, non-zero bytes 4..7 or a
     *     first_lsn below 12288
     */
    public static LogHeader parse(byte[] first512) {
        if (first512.length < BLOCK_SIZE) {
            throw new CorruptDataException("redo log header is truncated: " + first512.length + " of "
                    + BLOCK_SIZE + " bytes", "the file is not a complete ib_logfile0");
        }
        int format = Be.i32(first512, 0);
        if (format != FORMAT_10_8 && format != FORMAT_ENC_11) {
            throw new CorruptDataException("redo log format " + Be.hex32(format)
                    + " is not the redo log format of MariaDB 10.8 and later, which strata supports (10.11, 11.4, 11.8)",
                    "start the data directory once with MariaDB 10.11 or later so that it upgrades the redo log, or back it up with mariadb-backup of its own version");
        }
        int stored = Be.i32(first512, CHECKSUM_OFFSET);
        int computed = Crc32c.compute(first512, 0, CHECKSUM_OFFSET);
        if (stored != computed) {
            throw new CorruptDataException("redo log header checksum mismatch: stored=" + Be.hex32(stored)
                    + " computed=" + Be.hex32(computed), "the header of ib_logfile0 is damaged");
        }
        int reserved = Be.i32(first512, 4);
        if (reserved != 0) {
            throw new CorruptDataException("redo log header bytes 4..7 must be 0, found " + Be.hex32(reserved), null);
        }
        long firstLsn = Be.i64(first512, 8);
        if (Long.compareUnsigned(firstLsn, FIRST_LSN) < 0) {
            throw new CorruptDataException("redo log first_lsn " + Be.hexLsn(firstLsn) + " is below the minimum "
                    + Be.hexLsn(FIRST_LSN), null);
        }
        int len = 0;
        while (len < CREATOR_SIZE && first512[CREATOR_OFFSET + len] != 0) len++;
        String creator = new String(first512, CREATOR_OFFSET, len, StandardCharsets.ISO_8859_1);
        return new LogHeader(format, firstLsn, creator, Be.i32(first512, CRYPT_OFFSET));
    }

    /** Whether the log is encrypted (FORMAT_ENC_11, or FORMAT_10_8 with a non-zero word at 48). */
    public boolean encrypted() {
        return format == FORMAT_ENC_11 || cryptField != 0;
    }

    /** Whether mariadb-backup (or a tool imitating it) wrote this log: creator starts with "Backup ". */
    public boolean writtenByBackup() {
        return creator.startsWith("Backup ");
    }
}
