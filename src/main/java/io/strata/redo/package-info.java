/**
 * The running server's redo log: reading the live, circular {@code ib_logfile0} below the
 * server's flushed LSN, and turning the mini-transactions read into changed page ids.
 *
 * <p>{@link io.strata.redo.LiveLog} opens the file, reads an LSN range in pieces, has
 * {@code innodb}'s {@link io.strata.innodb.MtrParser} frame and check every mini-transaction, and
 * after each read compares the server's current LSN with the LSN the read began at, so that bytes
 * the server may have overwritten meanwhile are never trusted (design rule 2);
 * {@link io.strata.redo.LiveLog.Unavailable} says why a range cannot be read.
 * {@link io.strata.redo.PageCollector} turns the record headers into a
 * {@link io.strata.repo.ChangedPages}, marking tablespaces WHOLE where the log cannot name every
 * changed page (design rule 8). {@link io.strata.redo.RedoKeys} gets the key of an encrypted log
 * ({@code innodb_encrypt_log=ON}) from file_key_management's key file, as the server does, and proves
 * it on the newest checkpoint before anything is read.
 *
 * <p>Used by the redo and tracked change-detection methods of an incremental backup
 * ({@code backup}), by the redo tracker ({@code track}) and by a delta restore ({@code restore}),
 * which reads a stopped server's log since the last restore ({@link io.strata.redo.LiveLog#scanToEnd});
 * the backup's own redo copy reads the file with the same helpers. It may use {@code innodb}, {@code server}, {@code repo},
 * {@code error} and {@code util}, never the runs above it.
 */
package io.strata.redo;
