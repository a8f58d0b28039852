/**
 * The binlog archiver daemon, {@code strata binlog archive}: copies a server's binary logs into
 * the repository's binlog archive as they are written, for point-in-time restores.
 *
 * <p>{@link io.strata.archive.BinlogArchiver} runs the loop (where the server's binlogs are,
 * resets, purges, reconnects) and records gaps and timelines; {@link io.strata.archive.SegmentCopier}
 * copies the new bytes of one file, checking every event, into a segment. The format of what they
 * store is owned by {@code repo} ({@link io.strata.repo.BinlogArchive}). It does not depend on {@code backup},
 * {@code restore} or {@code track}: what they share lies below, in {@code server} and {@code repo}.
 */
package io.strata.archive;
