package io.strata.binlog;

/**
 * One event of a MariaDB binary log: its 19-byte common header and where it lies in the file.
 *
 * <pre>
 * off size field        note
 *   0    4 timestamp    seconds since the epoch; for a GTID event the start of the committing statement
 *   4    1 type         see the constants below
 *   5    4 server_id    server that first wrote the event
 *   9    4 event_size   header, body and (with binlog_checksum=CRC32) a 4-byte CRC-32 trailer
 *  13    4 log_pos      file offset just after this event; 0 in the events of a transaction's cache since
 *                         MariaDB 11.4 (MDEV-31273, see {@link BinlogScanner}): offsets come from sizes
 *  17    2 flags        bit 0 (LOG_EVENT_BINLOG_IN_USE_F) on the format description event: file still open;
 *                         bit 2 (LOG_EVENT_THREAD_SPECIFIC_F) on a Query event: the statement depends on its
 *                         connection, above all on a temporary table (so mariadb-binlog sets pseudo_thread_id)
 * </pre>
 * A Query event's body (type 2) begins with a 13-byte post-header, then the status variables, the
 * default database and a NUL, then the statement text up to the CRC-32 trailer:
 * <pre>
 * off size field
 *   0    4 thread id      the connection (pseudo thread id) that ran the statement
 *   4    4 exec time
 *   8    1 db length      without its NUL
 *   9    2 error code
 *  11    2 status length  bytes of status variables after the post-header
 * </pre>
 * All integers are little-endian (log_event.h; MariaDB 10.11 and 11.8 alike).
 *
 * @param boundaryBefore whether {@code offset} is a transaction boundary (no event group is open there)
 * @param gtid           the transaction id, for a GTID event; else null
 * @param query          the connection, database and statement of a Query event; else null
 */
public record BinlogEvent(long offset, int type, long timestamp, long serverId, long size, int flags, boolean boundaryBefore, Gtid gtid, Query query) {
    public static final int HEADER = 19;

    public static final int QUERY = 2;
    public static final int STOP = 3;
    public static final int ROTATE = 4;
    public static final int FORMAT_DESCRIPTION = 15;
    public static final int XID = 16;
    public static final int INCIDENT = 26;
    public static final int HEARTBEAT = 27;
    public static final int XA_PREPARE = 38;
    public static final int ANNOTATE_ROWS = 160;
    public static final int BINLOG_CHECKPOINT = 161;
    public static final int GTID = 162;
    public static final int GTID_LIST = 163;
    public static final int START_ENCRYPTION = 164;
    public static final int QUERY_COMPRESSED = 165;

    /** Common header flag of a statement that depends on its connection (a temporary table, CONNECTION_ID()). */
    public static final int THREAD_SPECIFIC_F = 0x4;

    /**
     * What a Query event says (see the class comment).
     *
     * @param threadId  the connection that ran the statement
     * @param db        the default database, or empty
     * @param text      the statement (UTF-8), or null when it is compressed (type 165)
     * @param truncated whether {@code text} is only the first part of the statement (about 4 KiB are kept)
     */
    public record Query(long threadId, String db, String text, boolean truncated) {}

    /** Whether this is a Query event flagged as depending on its connection. */
    public boolean threadSpecific() {
        return query != null && (flags & THREAD_SPECIFIC_F) != 0;
    }

    /** GTID event flags2 bit: the group is one statement with no BEGIN and no terminating COMMIT. */
    public static final int FL_STANDALONE = 1;

    public long end() { return offset + size; }

    /** Events that are never part of a transaction's event group. */
    public static boolean isAdministrative(int type) {
        return type == FORMAT_DESCRIPTION || type == ROTATE || type == STOP || type == GTID_LIST || type == BINLOG_CHECKPOINT
                || type == START_ENCRYPTION || type == HEARTBEAT || type == INCIDENT;
    }
}
