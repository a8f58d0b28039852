package io.strata.innodb;

/**
 * Rewrites the absolute tablespace paths that file records of the 10.8+ redo log name into
 * paths of the same length relative to the data directory, in place, so that crash recovery of a
 * restored directory never opens the source's DATA DIRECTORY files (docs/repository-format.md,
 * "DATA DIRECTORY tablespaces").
 *
 * <p>Recovery (fil_ibd_load() in fil0fil.cc, MariaDB 10.11) first opens the path a FILE_MODIFY,
 * FILE_CREATE, FILE_RENAME or FILE_DELETE record names; only when that fails does it look for
 * {@code db/t.ibd} under the data directory and then for the link file {@code db/t.isl}
 * (fil_ibd_discover()). A name {@code /d/db/t.ibd} becomes {@code .//db/t.ibd}: a dot, as many
 * slashes as keep the length, and the last two components. Lengths and LSNs do not change; the
 * CRC-32C of every mtr whose records changed is computed again. The framing is the one
 * {@link MtrParser} checks (records up to a byte 0x00 or 0x01, then that byte and the CRC); the
 * bytes given must have been validated already (they come from a stored redo object).
 */
public final class RedoFileNames {
    private RedoFileNames() {}

    /**
     * Outcome of {@link #relativize}.
     *
     * @param consumed bytes from the start up to the end of the last whole mtr (the rest belongs to
     *                 an mtr that continues past the buffer, or is the zero tail of the log)
     * @param names    names rewritten
     * @param end      true when a byte 0x00 or 0x01 stood where an mtr should start (end of the records)
     */
    public record Result(int consumed, int names, boolean end) {}

    /**
     * Rewrites the absolute names of file records in the mtrs of {@code buf[off, off+len)}, which
     * must start at an mtr boundary.
     */
    public static Result relativize(byte[] buf, int off, int len) {
        final int end = off + len;
        int pos = off;
        int names = 0;
        while (pos < end) {
            if ((buf[pos] & 0xFF) <= 1) {
                return new Result(pos - off, names, true);
            }
            int term = frame(buf, pos, end);
            if (term < 0 || term + MtrParser.TAIL_SIZE > end) {
                break;
            }
            int changed = rewriteRecords(buf, pos, term);
            if (changed > 0) {
                Be.put32(buf, term + 1, Crc32c.compute(buf, pos, term - pos));
                names += changed;
            }
            pos = term + MtrParser.TAIL_SIZE;
        }
        return new Result(pos - off, names, false);
    }

    /** The offset of the mtr's sequence byte, or -1 when its records run past {@code end}. */
    private static int frame(byte[] buf, int pos, int end) {
        int p = pos;
        while (p < end) {
            int b = buf[p] & 0xFF;
            if (b <= 1) {
                return p;
            }
            p++;
            long n = b & 0x0F;
            if (n == 0) {
                if (p >= end || p + Varint.length(buf[p]) > end) {
                    return -1;
                }
                n = Varint.decode(buf, p) + 15;
            }
            p += (int) n;
        }
        return -1;
    }

    /** Rewrites the absolute names in the file records of one mtr's records [start, term); returns how many. */
    private static int rewriteRecords(byte[] buf, int start, int term) {
        int changed = 0;
        boolean gotPageOp = false;
        int p = start;
        while (p < term) {
            int b = buf[p] & 0xFF;
            int rlen = b & 0x0F;
            p++;
            if (rlen == 0) {
                int lenLen = Varint.length(buf[p]);
                rlen = (int) Varint.decode(buf, p) + 15 - lenLen;
                p += lenLen;
            }
            int recEnd = p + rlen;
            if ((b & 0x80) != 0 && gotPageOp) {
                p = recEnd; // same page as the record before: no ids
                continue;
            }
            gotPageOp = (b & 0x80) == 0;
            int type = b & 0xF0;
            if (!gotPageOp && type >= RecordType.FILE_CREATE && type <= RecordType.FILE_MODIFY && rlen > 0) {
                int q = p + Varint.length(buf[p]);
                q += Varint.length(buf[q]);
                int nameStart = q;
                for (int i = q; i <= recEnd; i++) {
                    if (i == recEnd || buf[i] == 0) {
                        if (relativizeName(buf, nameStart, i)) {
                            changed++;
                        }
                        nameStart = i + 1;
                    }
                }
            }
            p = recEnd;
        }
        return changed;
    }

    /** {@code /any/dirs/db/t.ibd} in buf[from, to) becomes {@code .///…/db/t.ibd}; false when the name is not absolute or too short. */
    static boolean relativizeName(byte[] buf, int from, int to) {
        if (to - from < 2 || buf[from] != '/') {
            return false;
        }
        int slashes = 0;
        int tail = to;
        while (tail > from && slashes < 2) {
            tail--;
            if (buf[tail] == '/') {
                slashes++;
            }
        }
        // buf[tail] is the slash before "db/t.ibd"; a dot and at least one slash must fit before it
        if (slashes < 2 || tail - from < 1) {
            return false;
        }
        buf[from] = '.';
        for (int i = from + 1; i <= tail; i++) {
            buf[i] = '/';
        }
        return true;
    }
}
