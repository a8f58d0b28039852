package io.strata.binlog;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

/**
 * A MariaDB global transaction id, written {@code domain-server-seq} (e.g. {@code 0-1-42}): the
 * replication domain, the server_id of the server that first committed the transaction, and its
 * sequence number within the domain.
 */
public record Gtid(long domain, long server, long seq) {

    /** Parses {@code D-S-N}; a usage error names the text when it is not one. */
    public static Gtid parse(String text) {
        String[] p = text.trim().split("-");
        try {
            if (p.length == 3) {
                Gtid g = new Gtid(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
                if (g.domain >= 0 && g.server >= 0 && g.seq >= 0) {
                    return g;
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new StrataException(ErrorCode.USAGE, "\"" + text + "\" is not a GTID (expected domain-server-sequence, e.g. 0-1-42)", null);
    }

    @Override
    public String toString() {
        return domain + "-" + server + "-" + seq;
    }
}
