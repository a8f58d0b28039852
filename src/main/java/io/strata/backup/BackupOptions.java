package io.strata.backup;

import io.strata.server.ConnectionOptions;
import io.strata.store.StoreLocation;

import java.nio.file.Path;

/**
 * What the user asked for.
 *
 * @param type            full, incremental, differential or auto
 * @param base            for incremental: last, last-full or a backup id (null: by type)
 * @param startLsn        for incremental: an LSN threshold of a base outside the repository
 * @param redoTestDelayMs test hook: sleep this long between redo reads, to prove that a copier
 *                        that falls behind fails the backup instead of completing it
 * @param compression     how stored chunks are compressed
 * @param secret          the repository's key or passphrase (null: none given); a new
 *                        repository created with one is encrypted
 * @param method          how an incremental finds changed pages: auto, full-scan, redo, tracked or optimistic
 * @param checkMethod     debug check: also read every page and fail if the method missed one that
 *                        changed between the threshold and the backup's checkpoint
 */
public record BackupOptions(
        StoreLocation repo,
        String type,
        String base,
        Long startLsn,
        ConnectionOptions connection,
        Path datadir,
        int parallel,
        double throttleMbPerSecond,
        long redoTestDelayMs,
        io.strata.codec.Compression compression,
        io.strata.codec.Secret secret,
        String method,
        boolean checkMethod) {
}
