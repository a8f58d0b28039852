package io.strata.repo;

/**
 * What a backup saw of a non-InnoDB file when it began to copy it: the manifest's {@code stat}
 * of a {@code file} entry (docs/repository-format.md, "Reference entries"). The next backup
 * compares it with the file's attributes to decide whether the file is unchanged.
 *
 * @param inode     {@code st_ino}
 * @param device    {@code st_dev}
 * @param ctime     the change time {@code st_ctim}, in nanoseconds since 1970-01-01 UTC
 * @param copyBegan the wall clock in nanoseconds since 1970-01-01 UTC, read before the
 *                  attributes and before the first byte of the file were read
 */
public record FileStat(long inode, long device, long ctime, long copyBegan) {}
