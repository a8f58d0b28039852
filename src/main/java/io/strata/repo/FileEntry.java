package io.strata.repo;

/**
 * One file of a backup.
 *
 * @param path       path relative to the data directory, '/' separated
 * @param kind       "innodb" (copied page by page and verified) or "file" (copied as bytes)
 * @param spaceId    InnoDB space id, null for other files
 * @param flags      FSP_SPACE_FLAGS, null for other files
 * @param size       bytes stored (for InnoDB: whole pages as seen when the copy started)
 * @param pages      pages stored (InnoDB only, else 0)
 * @param object     key of the stored object, relative to the backup's folder
 * @param crc32c     CRC-32C of the raw content, hex
 */
public record FileEntry(
        String path,
        String kind,
        Long spaceId,
        Integer flags,
        long size,
        long pages,
        String object,
        long storedBytes,
        String crc32c) {
}
