package io.strata.backup;

import io.strata.repo.Scope;
import io.strata.server.ConnectionOptions;

import java.nio.file.Path;

/**
 * What the user asked for.
 *
 * @param type            --type
 * @param base            --base, for incremental and differential: last, last-full or a backup id (null: by type)
 * @param startLsn        for incremental: an LSN threshold of a base outside the repository
 * @param parallel        --parallel: copy threads (and as many compressing chunks); 0 when not given:
 *                        as many as cores, held to the CPUs other processes leave idle ({@link CopyGate})
 * @param redoTestDelayMs test hook: sleep this long between redo reads, to prove that a copier
 *                        that falls behind fails the backup instead of completing it
 * @param method          --method: how an incremental finds changed pages
 * @param checkMethod     debug check: also read every page and fail if the method missed one that
 *                        changed between the threshold and the backup's checkpoint
 * @param lockWaitTimeoutSeconds --lock-wait-timeout: how long a BACKUP STAGE may wait for another
 *                        connection's lock before the backup fails, in seconds; 0 without end
 * @param scope           --databases, --tables and their exclude forms: the tables of a partial backup; null for the whole server
 */
public record BackupOptions(
        BackupType type,
        BaseSpec base,
        Long startLsn,
        ConnectionOptions connection,
        Path datadir,
        int parallel,
        double throttleMbPerSecond,
        long redoTestDelayMs,
        ChangeMethod method,
        boolean checkMethod,
        int lockWaitTimeoutSeconds,
        Scope scope) {
    /** Without a lock wait timeout. */
    public BackupOptions(BackupType type, BaseSpec base, Long startLsn, ConnectionOptions connection, Path datadir, int parallel,
                         double throttleMbPerSecond, long redoTestDelayMs, ChangeMethod method, boolean checkMethod) {
        this(type, base, startLsn, connection, datadir, parallel, throttleMbPerSecond, redoTestDelayMs, method, checkMethod, 0);
    }

    /** Of the whole server. */
    public BackupOptions(BackupType type, BaseSpec base, Long startLsn, ConnectionOptions connection, Path datadir, int parallel,
                         double throttleMbPerSecond, long redoTestDelayMs, ChangeMethod method, boolean checkMethod, int lockWaitTimeoutSeconds) {
        this(type, base, startLsn, connection, datadir, parallel, throttleMbPerSecond, redoTestDelayMs, method, checkMethod, lockWaitTimeoutSeconds, null);
    }
}
