package io.strata.server;

/**
 * MariaDB's BACKUP STAGE statements (10.4 and later; see the server's BACKUP STAGE documentation)
 * on one session, and what a backup reads while commits are blocked. The stages go in order START, FLUSH, BLOCK_DDL, BLOCK_COMMIT, END;
 * each one holds until the next or until the session ends, so closing the session releases the
 * server. Every method throws {@link io.strata.error.StrataException} (server-error) when the
 * statement fails or the connection is lost.
 */
public final class BackupStages {
    private final ServerSession session;
    private final LockWait lockWait;

    /** The stages of {@code session}, which must stay open until {@link #end()}. */
    public BackupStages(ServerSession session) {
        this(session, null);
    }

    /**
     * As {@link #BackupStages(ServerSession)}, with START, FLUSH, BLOCK_DDL and BLOCK_COMMIT run
     * under {@code lockWait} (null: plainly): a wait for another connection's lock is reported and
     * may time out with lock-wait-timeout.
     */
    public BackupStages(ServerSession session, LockWait lockWait) {
        this.session = session;
        this.lockWait = lockWait;
    }

    private void stage(String sql) {
        if (lockWait == null) {
            session.exec(sql);
        } else {
            lockWait.run(session, sql);
        }
    }

    /** BACKUP STAGE START: prepares the server; nothing is blocked yet. */
    public void start() {
        stage("BACKUP STAGE START");
    }

    /** BACKUP STAGE FLUSH: flushes and closes the non-transactional tables not in use. */
    public void flush() {
        stage("BACKUP STAGE FLUSH");
    }

    /** BACKUP STAGE BLOCK_DDL: blocks DDL until {@link #end()}, so the set of tables and files no longer changes. */
    public void blockDdl() {
        stage("BACKUP STAGE BLOCK_DDL");
    }

    /** BACKUP STAGE BLOCK_COMMIT: blocks commits (and writes to the log and statistics tables) until {@link #end()}. */
    public void blockCommit() {
        stage("BACKUP STAGE BLOCK_COMMIT");
    }

    /** BACKUP STAGE END: releases every block. */
    public void end() {
        session.exec("BACKUP STAGE END");
    }

    /** FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS: writes the engines' logs (InnoDB's redo log) to disk, without a binlog event. */
    public void flushEngineLogs() {
        session.exec("FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS");
    }

    /**
     * The binary log position and GTID positions, read under {@link #blockCommit()}.
     *
     * @param logBin whether the server writes a binary log ({@code @@log_bin}); when it does not,
     *               SHOW MASTER STATUS is not asked and file and position are null
     */
    public BinlogPosition position(boolean logBin) {
        ServerSession.MasterStatus ms = logBin ? session.masterStatus() : null;
        return new BinlogPosition(ms == null ? null : ms.file(), ms == null ? null : ms.position(),
                session.queryString("SELECT @@gtid_binlog_pos"), session.queryString("SELECT @@gtid_current_pos"));
    }
}
