package io.strata.innodb;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a backup's stored redo object (docs/repository-format.md, "The redo object"): the
 * mini-transactions from the backup's start checkpoint C to {@code redoEndLsn}, contiguous, with
 * no file header and no block framing. Each one is framed and checked by {@link MtrParser} in
 * windows of 8 MiB and handed to a visitor, in LSN order.
 */
public final class StoredRedo {
    /** Bytes parsed at a time: larger than any mini-transaction ({@link MtrParser#MTR_SIZE_MAX}). */
    private static final int WINDOW = 8 << 20;

    private StoredRedo() {}

    /**
     * Where a scan stopped.
     *
     * @param endLsn the LSN after the last mini-transaction accepted
     * @param failed whether a mini-transaction at {@code endLsn} failed its checks, or the stream
     *               ended inside one
     * @param reason the parser's reason when it gave one (null otherwise, and when not failed)
     */
    public record Scan(long endLsn, boolean failed, String reason) {}

    /**
     * Parses every mini-transaction of {@code in} (the raw bytes of a redo object, which begins at
     * {@code startLsn} and holds {@code length} bytes) and hands each accepted one to
     * {@code visitor}. Stops at the first invalid mini-transaction.
     *
     * @param crypt   the log's encryption ({@link LogCrypt}; {@link LogCrypt#FRAME_ONLY} frames
     *                and checks an encrypted log without its key, and reports no records); null for a plain log
     * @param visitor receives the records; may be null (framing and checksums only)
     * @throws IOException reading {@code in}
     */
    public static Scan scan(InputStream in, long startLsn, long length, LogCrypt crypt, MtrVisitor visitor) throws IOException {
        LogGeometry g = new LogGeometry(startLsn, LogHeader.START_OFFSET + Math.max(length, 1) + (1L << 30));
        byte[] buf = new byte[WINDOW];
        int fill = 0;
        long lsn = startLsn;
        while (true) {
            int n = in.read(buf, fill, buf.length - fill);
            if (n > 0) {
                fill += n;
            }
            if (fill == 0 && n < 0) {
                return new Scan(lsn, false, null);
            }
            MtrParser.ParseResult pr = MtrParser.parse(buf, 0, fill, lsn, g, false, visitor, crypt);
            if (pr.stop() != MtrParser.Stop.NEED_MORE || (n < 0 && pr.acceptedBytes() < fill)) {
                return new Scan(lsn + pr.acceptedBytes(), true, pr.reason());
            }
            System.arraycopy(buf, pr.acceptedBytes(), buf, 0, fill - pr.acceptedBytes());
            fill -= pr.acceptedBytes();
            lsn += pr.acceptedBytes();
            if (n < 0) {
                return new Scan(lsn, false, null);
            }
        }
    }
}
