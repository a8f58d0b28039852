package io.strata.backup;

import io.strata.server.ConnectionOptions;

import java.nio.file.Path;

/**
 * What the user asked for.
 *
 * @param redoTestDelayMs test hook: sleep this long between redo reads, to prove that a copier
 *                        that falls behind fails the backup instead of completing it
 */
public record BackupOptions(
        Path repo,
        String type,
        ConnectionOptions connection,
        Path datadir,
        int parallel,
        double throttleMbPerSecond,
        long redoTestDelayMs) {
}
