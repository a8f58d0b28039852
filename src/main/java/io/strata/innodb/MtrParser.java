package io.strata.innodb;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Frames and validates mini-transactions (mtrs) of the unencrypted 10.8+ redo log
 * ({@code log_parse_start()}, {@code recv_sys_t::parse_tail()}, {@code log_parse_file()} in log0recv.cc;
 * MariaDB 10.11).
 *
 * <pre>
 * mtr    := record+ term crc32c[4]
 * record := hdr [varint len] payload          hdr &gt; 0x01
 *   n = hdr &amp; 0x0F; if n == 0: n = varint + 15, and n counts the varint bytes; the record is 1 + n bytes
 * term   := 0x00 or 0x01, must equal the sequence bit of its own LSN ({@link LogGeometry#sequenceBit})
 * crc    := CRC-32C of the record bytes (not the term byte), big-endian
 * the sum of the record lengths stays below 1 MiB (MTR_SIZE_MAX)
 *
 * page record (bit 7 clear, or bit 7 set after a page record of the same mtr = same page, no ids):
 *   hdr varint(space_id) varint(page_no) [type-specific payload]
 *   FREE_PAGE, INIT_PAGE: no payload; never same_page.   EXTENDED: subtype byte; TRIM_PAGES alone = truncate
 *   WRITE, MEMSET, MEMMOVE: non-empty payload.          RESERVED (0x60): not allowed.   OPTION: ignorable
 * file record (bit 7 set before any page record): hdr varint(space_id) varint(page_no = 0) payload
 *   FILE_CREATE / DELETE / MODIFY: name ending in ".ibd", no NUL; space_id != 0
 *   FILE_RENAME: old name, NUL, new name (both ending in ".ibd")
 *   FILE_CHECKPOINT: space 0, 8-byte LSN, last record of its mtr; with an all-zero payload (or F1 00,
 *   F2 00 00) it is padding
 * </pre>
 * The encrypted format ({@code innodb_encrypt_log=ON}, {@link LogCrypt}): {@code mtr := record+ term
 * nonce[8] crc32c[4]}, the CRC over the records as stored and then the nonce; the record headers and
 * lengths are plain, so framing needs no key; the records are decrypted into a scratch copy for the checks.
 * Parsing stops at the first position that is not a complete valid mtr; where the valid log ends is
 * decided by the caller, who knows the server's flushed LSN. Payloads are not decoded.
 */
public final class MtrParser {
    private MtrParser() {}

    /** Upper bound of an mtr's record bytes (recv_sys_t::MTR_SIZE_MAX). */
    public static final int MTR_SIZE_MAX = 1 << 20;
    /** Term byte plus CRC-32C after the records of an unencrypted mtr. */
    public static final int TAIL_SIZE = 1 + 4;
    private static final int MAX_PAGE_SIZE = 65536;

    /** Why parsing stopped. */
    public enum Stop {
        /** The next mtr runs past the end of the buffer (or the buffer ends at an mtr boundary). */
        NEED_MORE,
        /** A byte 0x00 or 0x01 where an mtr should start: no more log was written. */
        END_OF_LOG,
        /** The next mtr fails a check: wrong sequence byte, CRC mismatch, bad length or malformed record. */
        INVALID
    }

    /**
     * Outcome of {@link #parse}.
     *
     * @param acceptedBytes bytes from {@code off} up to the end of the last complete valid mtr
     * @param stop          why parsing stopped
     * @param reason        what stopped it, with LSNs and values in hex
     * @param mtrCount      number of accepted mtrs
     */
    public record ParseResult(int acceptedBytes, Stop stop, String reason, long mtrCount) {}

    /**
     * Parses the log bytes {@code buf[off, off+len)}, which hold LSNs [startLsn, startLsn+len) in LSN order
     * (already unwrapped from the circular file); {@code startLsn} must be an mtr boundary.
     *
     * @param rewriteSequenceBytes set the term byte of every accepted mtr to 0x01 in {@code buf}, as needed
     *                             for a log whose first_lsn is the backup's start checkpoint
     * @param visitor              receives each accepted mtr's events; may be null
     */
    public static ParseResult parse(byte[] buf, int off, int len, long startLsn, LogGeometry geom,
                                    boolean rewriteSequenceBytes, MtrVisitor visitor) {
        return parse(buf, off, len, startLsn, geom, rewriteSequenceBytes, visitor, null);
    }

    /**
     * As {@link #parse(byte[], int, int, long, LogGeometry, boolean, MtrVisitor)}, for a log in the
     * encrypted format when {@code crypt} is not null ({@link LogCrypt}): each mtr then has an 8-byte
     * nonce between its term byte and its CRC, the CRC covers the records and the nonce, and the records
     * are decrypted (in a scratch copy; {@code buf} keeps the stored bytes) before they are checked.
     */
    public static ParseResult parse(byte[] buf, int off, int len, long startLsn, LogGeometry geom,
                                    boolean rewriteSequenceBytes, MtrVisitor visitor, LogCrypt crypt) {
        return parse(buf, off, len, startLsn, geom, rewriteSequenceBytes, visitor, crypt, Long.MAX_VALUE);
    }

    /**
     * As {@link #parse(byte[], int, int, long, LogGeometry, boolean, MtrVisitor, LogCrypt)}, and
     * stops at the first mtr boundary at or above {@code stopLsn} (LSN) as if the buffer ended
     * there ({@link Stop#NEED_MORE}): no mtr that starts at or after {@code stopLsn} is accepted,
     * rewritten or reported, so a copy that must end at a given LSN takes nothing beyond the mtr
     * that reaches it. {@link Long#MAX_VALUE}: no limit.
     */
    public static ParseResult parse(byte[] buf, int off, int len, long startLsn, LogGeometry geom,
                                    boolean rewriteSequenceBytes, MtrVisitor visitor, LogCrypt crypt, long stopLsn) {
        Objects.checkFromIndexSize(off, len, buf.length);
        final int tail = crypt == null ? TAIL_SIZE : TAIL_SIZE + LogCrypt.NONCE_SIZE;
        byte[] plain = crypt == null ? null : new byte[4096];
        MtrVisitor v = visitor == null ? MtrVisitor.NONE : visitor;
        final boolean allPages = v.wantsEveryPage();
        final int end = off + len;
        List<Consumer<MtrVisitor>> events = new ArrayList<>();
        int pos = off;
        long count = 0;
        while (true) {
            final long mtrLsn = startLsn + (pos - off);
            if (mtrLsn >= stopLsn) {
                return new ParseResult(pos - off, Stop.NEED_MORE, "stopped at mtr boundary LSN " + Be.hexLsn(mtrLsn)
                        + ", at or above the stop LSN " + Be.hexLsn(stopLsn), count);
            }
            if (pos >= end) {
                return new ParseResult(pos - off, Stop.NEED_MORE,
                        "buffer ends at mtr boundary LSN " + Be.hexLsn(mtrLsn), count);
            }
            int first = buf[pos] & 0xFF;
            if (first <= 1) {
                return new ParseResult(pos - off, Stop.END_OF_LOG,
                        String.format("end of log at LSN %s (byte 0x%02x)", Be.hexLsn(mtrLsn), first), count);
            }
            // 1. frame the records up to the term byte
            int p = pos;
            long total = 0;
            while (true) {
                if (p >= end) return needMore(pos, off, mtrLsn, startLsn + len, count);
                if (total >= MTR_SIZE_MAX) {
                    return invalid(pos, off, "mtr at LSN " + Be.hexLsn(mtrLsn) + " has 1 MiB or more of records", count);
                }
                int b = buf[p] & 0xFF;
                if (b <= 1) break;
                long n = b & 0x0F;
                p++;
                if (n == 0) {
                    if (p >= end) return needMore(pos, off, mtrLsn, startLsn + len, count);
                    int lenLen = Varint.length(buf[p]);
                    if (p + lenLen > end) return needMore(pos, off, mtrLsn, startLsn + len, count);
                    long add = Varint.decode(buf, p);
                    if (add < 0 || add >= MTR_SIZE_MAX) {
                        return invalid(pos, off, "record at LSN " + Be.hexLsn(mtrLsn + (p - 1 - pos))
                                + " has an invalid length (mtr at LSN " + Be.hexLsn(mtrLsn) + ")", count);
                    }
                    n = add + 15;
                }
                p += (int) n;
                total += n;
            }
            final int term = p;
            final long termLsn = mtrLsn + (term - pos);
            // 2. the sequence byte, then the checksum
            int seq = buf[term] & 0xFF;
            int expected = geom.sequenceBit(termLsn);
            if (seq != expected) {
                return invalid(pos, off, String.format("sequence byte 0x%02x at LSN %s, expected 0x%02x (mtr at LSN %s)",
                        seq, Be.hexLsn(termLsn), expected, Be.hexLsn(mtrLsn)), count);
            }
            if (term + tail > end) return needMore(pos, off, mtrLsn, startLsn + len, count);
            int stored = Be.i32(buf, term + tail - 4);
            int computed;
            if (crypt == null) {
                computed = Crc32c.compute(buf, pos, term - pos);
            } else {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(buf, pos, term - pos);
                crc.update(buf, term + 1, LogCrypt.NONCE_SIZE);
                computed = (int) crc.getValue();
            }
            if (stored != computed) {
                return invalid(pos, off, "mtr checksum mismatch at LSN " + Be.hexLsn(mtrLsn) + ": stored="
                        + Be.hex32(stored) + " computed=" + Be.hex32(computed), count);
            }
            // 3. the records themselves
            events.clear();
            String error;
            if (crypt == null) {
                error = decodeRecords(buf, pos, term, mtrLsn, events, allPages);
            } else if (!crypt.canDecrypt()) {
                error = null; // framed and checksummed only
            } else {
                int n = term - pos + 1; // with the term byte: a FILE_CHECKPOINT must be followed by it
                if (plain.length < n) plain = new byte[Math.max(n, plain.length * 2)];
                System.arraycopy(buf, pos, plain, 0, n);
                crypt.decryptMtr(plain, 0, n - 1, buf, term + 1);
                error = decodeRecords(plain, 0, n - 1, mtrLsn, events, allPages);
            }
            if (error != null) return invalid(pos, off, error + " (mtr at LSN " + Be.hexLsn(mtrLsn) + ")", count);
            if (rewriteSequenceBytes) buf[term] = 1;
            for (Consumer<MtrVisitor> e : events) e.accept(v);
            v.endMtr(termLsn + tail);
            count++;
            pos = term + tail;
        }
    }

    private static ParseResult needMore(int pos, int off, long mtrLsn, long bufEndLsn, long count) {
        return new ParseResult(pos - off, Stop.NEED_MORE, "mtr at LSN " + Be.hexLsn(mtrLsn)
                + " continues past the end of the buffer at LSN " + Be.hexLsn(bufEndLsn), count);
    }

    private static ParseResult invalid(int pos, int off, String reason, long count) {
        return new ParseResult(pos - off, Stop.INVALID, reason, count);
    }

    /**
     * Walks the records of a framed mtr [start, term); returns an error text or null. Every record
     * is checked; with {@code allPages} false only INIT_PAGE of page 0, TRIM_PAGES and file records
     * become events ({@link MtrVisitor#wantsEveryPage()}).
     */
    private static String decodeRecords(byte[] buf, int start, int term, long mtrLsn, List<Consumer<MtrVisitor>> events, boolean allPages) {
        boolean gotPageOp = false;
        int p = start;
        while (p < term) {
            final long recLsn = mtrLsn + (p - start);
            final int b = buf[p] & 0xFF;
            int rlen = b & 0x0F;
            p++;
            if (rlen == 0) {
                int lenLen = Varint.length(buf[p]);
                rlen = (int) Varint.decode(buf, p) + 15 - lenLen;
                p += lenLen;
            }
            final int recEnd = p + rlen;
            final int type = b & 0x70;
            if (type == RecordType.RESERVED) {
                return String.format("unknown log record type 0x%02x at LSN %s", b, Be.hexLsn(recLsn));
            }
            if ((b & 0x80) != 0 && gotPageOp) {
                // same page as the previous record: no ids
                if (type == RecordType.FREE_PAGE || type == RecordType.INIT_PAGE) {
                    return "same_page " + RecordType.pageRecordName(type) + " record at LSN " + Be.hexLsn(recLsn);
                }
                p = recEnd;
                continue;
            }
            int idLen = Varint.length(buf[p]);
            if (idLen >= rlen) {
                if (b == RecordType.FILE_CHECKPOINT + 1 && rlen == 1 && buf[p] == 0) {
                    p = recEnd; // padding F1 00
                    continue;
                }
                return "corrupted page identifier at LSN " + Be.hexLsn(recLsn);
            }
            long spaceId = Varint.decode(buf, p);
            if (spaceId < 0) return "corrupted page identifier at LSN " + Be.hexLsn(recLsn);
            p += idLen;
            rlen -= idLen;
            idLen = Varint.length(buf[p]);
            if (idLen > rlen) return "corrupted page identifier at LSN " + Be.hexLsn(recLsn);
            long pageNo = Varint.decode(buf, p);
            if (pageNo < 0) return "corrupted page identifier at LSN " + Be.hexLsn(recLsn);
            p += idLen;
            rlen -= idLen;
            final int space = (int) spaceId;
            final int page = (int) pageNo;
            gotPageOp = (b & 0x80) == 0;
            if (gotPageOp) {
                switch (type) {
                    case RecordType.FREE_PAGE, RecordType.INIT_PAGE -> {
                        if (rlen != 0) return RecordType.pageRecordName(type) + " record with a payload at LSN " + Be.hexLsn(recLsn);
                        if (allPages || (page == 0 && type == RecordType.INIT_PAGE)) {
                            events.add(v -> v.page(space, page, type));
                        }
                    }
                    case RecordType.EXTENDED -> {
                        if (rlen == 0) return "EXTENDED record without subtype at LSN " + Be.hexLsn(recLsn);
                        if (rlen == 1 && buf[p] == RecordType.TRIM_PAGES) {
                            events.add(v -> v.trimPages(space, page));
                        } else if (allPages) {
                            events.add(v -> v.page(space, page, type));
                        }
                    }
                    case RecordType.WRITE, RecordType.MEMSET, RecordType.MEMMOVE -> {
                        if (rlen == 0) return RecordType.pageRecordName(type) + " record without payload at LSN " + Be.hexLsn(recLsn);
                        if (allPages) {
                            events.add(v -> v.page(space, page, type));
                        }
                    }
                    default -> { // OPTION
                        if (allPages) {
                            events.add(v -> v.page(space, page, type));
                        }
                    }
                }
            } else {
                String error = fileRecord(buf, b, space, page, p, rlen, recLsn, events);
                if (error != null) return error;
            }
            p = recEnd;
        }
        return null;
    }

    private static String fileRecord(byte[] buf, int b, int space, int page, int p, int rlen, long recLsn,
                                     List<Consumer<MtrVisitor>> events) {
        String at = " at LSN " + Be.hexLsn(recLsn);
        if (rlen == 0) {
            if (space == 0 && page == 0 && b == RecordType.FILE_CHECKPOINT + 2) return null; // padding F2 00 00
            return String.format("file record 0x%02x without payload%s", b, at);
        }
        if (page != 0) return String.format("file record 0x%02x with page number %d%s", b, Integer.toUnsignedLong(page), at);
        int type = b & 0xF0;
        if (type == RecordType.FILE_CHECKPOINT) {
            if (space != 0) return "FILE_CHECKPOINT with space id " + Integer.toUnsignedLong(space) + at;
            if ((buf[p + rlen] & 0xFF) > 1) return "FILE_CHECKPOINT is not the last record of its mtr" + at;
            if (rlen != 8) {
                if (rlen > MAX_PAGE_SIZE || !Be.allZero(buf, p, p + rlen)) {
                    return "FILE_CHECKPOINT with a " + rlen + "-byte payload" + at;
                }
                return null; // padding
            }
            long lsn = Be.i64(buf, p);
            if (lsn != 0) events.add(v -> v.checkpoint(lsn));
            return null;
        }
        FileOp op = FileOp.ofType(type);
        if (op == null) return String.format("unknown file record type 0x%02x%s", b, at);
        if (space == 0) return "FILE_" + op + " for space id 0" + at;
        int nul = -1;
        for (int i = p; i < p + rlen; i++) {
            if (buf[i] == 0) {
                nul = i;
                break;
            }
        }
        if ((nul >= 0) != (op == FileOp.RENAME)) {
            return "FILE_" + op + (op == FileOp.RENAME ? " without" : " with") + " a NUL in the file name" + at;
        }
        int nameEnd = nul >= 0 ? nul : p + rlen;
        String name = new String(buf, p, nameEnd - p, StandardCharsets.UTF_8);
        String newName = null;
        if (nul >= 0) {
            for (int i = nul + 1; i < p + rlen; i++) {
                if (buf[i] == 0) return "FILE_RENAME with two NULs" + at;
            }
            newName = new String(buf, nul + 1, p + rlen - nul - 1, StandardCharsets.UTF_8);
            if (!newName.endsWith(".ibd")) return "FILE_RENAME new name does not end in .ibd: " + newName + at;
        }
        if (!name.endsWith(".ibd")) return "FILE_" + op + " name does not end in .ibd: " + name + at;
        final String n1 = name;
        final String n2 = newName;
        events.add(v -> v.fileOp(op, space, n1, n2));
        return null;
    }
}
