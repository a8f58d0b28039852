package io.strata.innodb;

/**
 * Maps LSNs of the 10.8+ redo log to file offsets and sequence bits ({@code log_t::calc_lsn_offset()},
 * {@code log_t::get_sequence_bit()}; MariaDB 10.11).
 *
 * <pre>
 * capacity     = file_size - 12288
 * offset(lsn)  = 12288 + (lsn - first_lsn) mod capacity
 * seq(lsn)     = 1 if (lsn - first_lsn) / capacity is even (first, third.. pass), else 0
 * </pre>
 * A mini-transaction may wrap from the end of the file to offset 12288.
 */
public record LogGeometry(long firstLsn, long fileSize) {
    public LogGeometry {
        if (firstLsn < LogHeader.FIRST_LSN) {
            throw new IllegalArgumentException("first_lsn " + firstLsn + " is below " + LogHeader.FIRST_LSN);
        }
        if (fileSize <= LogHeader.START_OFFSET) {
            throw new IllegalArgumentException("redo log file size " + fileSize + " leaves no room for records");
        }
    }

    /** Bytes of the circular record area. */
    public long capacity() { return fileSize - LogHeader.START_OFFSET; }

    /** File offset of the byte with this LSN. */
    public long offset(long lsn) { return LogHeader.START_OFFSET + passOffset(lsn) % capacity(); }

    /** Value (0 or 1) that a mini-transaction's term byte at this LSN must have. */
    public int sequenceBit(long lsn) { return (passOffset(lsn) / capacity()) % 2 == 0 ? 1 : 0; }

    private long passOffset(long lsn) {
        if (lsn < firstLsn) {
            throw new IllegalArgumentException("LSN " + Be.hexLsn(lsn) + " is below first_lsn " + Be.hexLsn(firstLsn));
        }
        return lsn - firstLsn;
    }
}
