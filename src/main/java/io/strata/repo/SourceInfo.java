package io.strata.repo;

/**
 * The server a backup was taken from, and the settings a restore must reproduce for recovery.
 *
 * @param serverKey stable identity of the source (hostname, port/socket and datadir) used to
 *                  keep one server's backups apart in a shared repository
 */
public record SourceInfo(
        String serverKey,
        String hostname,
        int serverId,
        String version,
        String datadir,
        int pageSize,
        long logFileSize,
        int undoTablespaces,
        String dataFilePath,
        String checksumAlgorithm) {
}
