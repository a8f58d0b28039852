package io.strata.server;

/**
 * Where the server's binary log and GTID state stand, read under BACKUP STAGE BLOCK_COMMIT: the
 * point at which a restored backup continues by replaying the binlog.
 *
 * @param file           the binary log file being written (SHOW MASTER STATUS), null when binary logging is off
 * @param position       the byte offset in {@code file} after the last event group, null when binary logging is off
 * @param gtidBinlogPos  {@code @@gtid_binlog_pos}: the last GTID of each domain written to the binary log ("" when none)
 * @param gtidCurrentPos {@code @@gtid_current_pos}: the last GTID of each domain applied, by this server or a replica thread
 */
public record BinlogPosition(String file, Long position, String gtidBinlogPos, String gtidCurrentPos) {
}
