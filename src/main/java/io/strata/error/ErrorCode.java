package io.strata.error;

/**
 * The catalogue of every error a user can meet, each with a stable id and its own exit code.
 * The table in README.md ("Exit codes") is checked against this enum by a test.
 */
public enum ErrorCode {
    BUG("bug", 1),
    USAGE("usage", 2),
    REPO_MISSING("repo-missing", 10),
    REPO_LOCKED("repo-locked", 11),
    CORRUPT_DATA("corrupt-data", 12),
    SERVER_UNSUPPORTED("server-unsupported", 13),
    REPO_NOT_WRITABLE("repo-not-writable", 14),
    SERVER_UNREACHABLE("server-unreachable", 15),
    ACCESS_DENIED("access-denied", 16),
    DATADIR_UNREADABLE("datadir-unreadable", 17),
    TARGET_NOT_EMPTY("target-not-empty", 18),
    BACKUP_NOT_FOUND("backup-not-found", 19),
    REDO_OVERWRITTEN("redo-overwritten", 20),
    UNSUPPORTED_TABLE("unsupported-table", 21),
    RECOVERY_FAILED("recovery-failed", 22),
    DISK_FULL("disk-full", 23),
    SERVER_ERROR("server-error", 24),
    IO_ERROR("io-error", 25),
    CHAIN_BROKEN("chain-broken", 26),
    WRONG_BASE("wrong-base", 27),
    KEY_MISSING("key-missing", 40),
    KEY_WRONG("key-wrong", 41),
    KEY_FILE_INSECURE("key-file-insecure", 42),
    STORE_FAILED("store-failed", 30),
    NATIVE_LIBRARY("native-library", 31),
    PITR_BEFORE_WINDOW("pitr-before-window", 50),
    PITR_IN_GAP("pitr-in-gap", 51),
    PITR_AFTER_WINDOW("pitr-after-window", 52),
    BINLOG_MISSING("binlog-missing", 53),
    PITR_BAD_TARGET("pitr-bad-target", 54),
    REPLAY_FAILED("replay-failed", 55),
    BINLOG_GAP("binlog-gap", 56),
    REPLICA_INFO_MISSING("replica-info-missing", 62),
    SCOPE_MISMATCH("scope-mismatch", 59),
    SCOPE_EMPTY("scope-empty", 48),
    TABLE_NOT_IN_BACKUP("table-not-in-backup", 57),
    TABLE_EXISTS("table-exists", 58),
    /** {@code restore --delta}: a server runs on the target data directory (it holds the ibdata1 lock, or a mariadbd names it as its datadir). */
    DELTA_TARGET_IN_USE("delta-target-in-use", 60),
    REPLAY_APPLIER_FAILED("replay-applier-failed", 61),
    PRIORITY_UNAVAILABLE("priority-unavailable", 63),
    METHOD_UNAVAILABLE("method-unavailable", 28),
    FORMAT_TOO_NEW("format-too-new", 29),
    MARIADBD_TOO_OLD("mariadbd-too-old", 32),
    LAST_BACKUP_FAILED("last-backup-failed", 33),
    DATADIR_MISMATCH("datadir-mismatch", 34),
    HISTORY_DIVERGED("history-diverged", 35),
    KEY_MANAGEMENT_MISSING("key-management-missing", 36),
    REMAP_UNMATCHED("remap-unmatched", 37),
    TRACKING_GAP("tracking-gap", 38),
    DAEMON_STALE("daemon-stale", 39),
    FLEET_FAILED("fleet-failed", 43),
    LOCK_WAIT_TIMEOUT("lock-wait-timeout", 44),
    COPY_SOURCE_DAMAGED("copy-source-damaged", 45),
    COPY_MISMATCH("copy-mismatch", 46),
    OUT_OF_MEMORY("out-of-memory", 47),
    AGENT_LOST("agent-lost", 49),
    AGENT_UNAVAILABLE("agent-unavailable", 64),
    INTERRUPTED("interrupted", 130);

    private final String id;
    private final int exitCode;

    ErrorCode(String id, int exitCode) {
        this.id = id;
        this.exitCode = exitCode;
    }

    public String id() { return id; }

    public int exitCode() { return exitCode; }
}
