package io.strata.binlog;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * Walks the events of one binary log file as a stream, checking each one, and tells where the
 * transaction boundaries are. It starts at offset 0 (the 4-byte magic {@code FE 62 69 6E}, then the
 * format description event) or at a known boundary with the file's checksum setting.
 *
 * <p>Every event starts with the 19-byte common header of {@link BinlogEvent} (log_event.h):
 * <pre>
 * off size field      checked
 *   0    4 timestamp  no
 *   4    1 type       the first event must be a format description event (15)
 *   5    4 server_id  no
 *   9    4 event_size at least the header (and the CRC-32 trailer when there is one), below 2 GiB
 *  13    4 log_pos    the offset just after the event (mod 2^32), or 0 where the server may write 0 (below)
 *  17    2 flags      no
 * </pre>
 * then the body and, when the format description event says binlog_checksum=CRC32, a 4-byte CRC-32
 * of everything before it. The format description event always carries a CRC-32, computed with its
 * in-use flag cleared, because the server clears that flag in place when it closes the file.
 *
 * <p>log_pos 0 (MariaDB 11.4 and later, MDEV-31273): the server computes the checksums of the
 * events a transaction collects in its statement or transaction cache before it knows where they
 * will land in the file, so it writes them with log_pos 0 and copies them into the binlog unchanged
 * (Annotate_rows, Table_map, Rows, and the Query, Intvar, Rand and User_var events of statements,
 * XA END). The events it writes at commit keep their real position: the GTID event that opens the
 * group, the one that ends it (XID, XA PREPARE, a COMMIT or ROLLBACK query), the single statement of
 * a standalone group such as DDL, and every administrative event. {@code binlog_legacy_event_pos=ON}
 * brings back real positions everywhere, and may be switched at run time, so one file can hold
 * both kinds: the decision is made per event. A log_pos of 0 is therefore accepted only for an event
 * inside an open group (after its GTID event) that is neither a GTID, an administrative event nor
 * the group's end; everywhere else, and for every non-zero value, log_pos must be the offset just
 * after the event, so that damage to a header is still found even where the CRC-32 is absent.
 * Positions are computed from offsets and sizes, never read from log_pos.
 *
 * <p>Boundaries: an offset is a transaction boundary when no event group is open there. A group
 * starts with a GTID event and ends with an XID event, an XA PREPARE event, a COMMIT or ROLLBACK
 * query, or, for a standalone GTID (flags2 bit 0), with the one statement that follows. The offset
 * of a GTID event or of an administrative event (format description, rotate, stop, GTID list,
 * binlog checkpoint) is always a boundary: those never occur inside a group.
 */
public final class BinlogScanner {
    public static final byte[] MAGIC = {(byte) 0xfe, 0x62, 0x69, 0x6e};
    private static final int KEEP = 4096;
    private static final long MAX_EVENT = 1L << 31;

    private enum State { OUTSIDE, INSIDE, STANDALONE }

    private final String resource;
    private long offset;
    private Boolean checksums;
    private String fileId;
    private long created = -1;
    private boolean serverStart;
    private State state = State.OUTSIDE;
    private long lastBoundary;
    private boolean truncated;
    private final byte[] head = new byte[BinlogEvent.HEADER];
    private final byte[] keep = new byte[KEEP];
    private final byte[] buf = new byte[1 << 16];
    private final CRC32 crc = new CRC32();

    /**
     * @param start     0, or an offset known to be a transaction boundary
     * @param checksums whether events carry a CRC-32 trailer; may be null only when start is 0
     */
    public BinlogScanner(String resource, long start, Boolean checksums) {
        if (start != 0 && checksums == null) {
            throw new IllegalArgumentException("the checksum setting is needed to start inside a file");
        }
        this.resource = resource;
        this.offset = start;
        this.lastBoundary = start;
        this.checksums = checksums;
    }

    /** Offset of the next byte to read. */
    public long offset() { return offset; }

    /** The largest transaction boundary seen so far (the start offset before any event). */
    public long lastBoundary() { return lastBoundary; }

    /** Whether the current offset is a transaction boundary by what was read (see the class comment). */
    public boolean atBoundary() { return state == State.OUTSIDE; }

    /** Whether the last {@link #next} stopped because the stream ended inside an event. */
    public boolean truncated() { return truncated; }

    /** Whether events carry CRC-32 trailers; null until the format description event was read. */
    public Boolean checksums() { return checksums; }

    /** Identity of the file: CRC-32C of its format description event with the in-use flag cleared (hex). */
    public String fileId() { return fileId; }

    /** The format description event's timestamp: when the server created the file. */
    public long created() { return created; }

    /**
     * Whether the server wrote this file when it started: the format description event's own
     * create timestamp (body offset 52, after the 2-byte binlog version and the 50-byte server
     * version) is set only in the first file after a start, and 0 in a file begun by a rotation.
     * No connection, and so no temporary table, outlives a server start.
     */
    public boolean serverStart() { return serverStart; }

    /**
     * Reads the next event if it ends at or before {@code limit}, copying its bytes to {@code copy}
     * (if given). Returns null at the end of the stream, or when the next event would cross
     * {@code limit}; then nothing of it has been copied, and the stream must not be read further.
     * Throws {@link EventTruncated} when the stream ends inside an event's body.
     */
    public BinlogEvent next(InputStream in, long limit, OutputStream copy) throws IOException {
        truncated = false;
        if (offset == 0) {
            if (limit < MAGIC.length) {
                return null;
            }
            byte[] m = new byte[MAGIC.length];
            int n = in.readNBytes(m, 0, m.length);
            if (n < m.length) {
                truncated = n > 0;
                return null;
            }
            for (int i = 0; i < m.length; i++) {
                if (m[i] != MAGIC[i]) {
                    throw corrupt(0, String.format("not a binary log: the file starts with %02x%02x%02x%02x, expected fe62696e", m[0], m[1], m[2], m[3]));
                }
            }
            if (copy != null) {
                copy.write(m);
            }
            offset = MAGIC.length;
            lastBoundary = offset;
        }
        if (offset + BinlogEvent.HEADER > limit) {
            return null;
        }
        int n = in.readNBytes(head, 0, BinlogEvent.HEADER);
        if (n < BinlogEvent.HEADER) {
            truncated = n > 0;
            return null;
        }
        long ts = u32(head, 0);
        int type = head[4] & 0xff;
        long serverId = u32(head, 5);
        long size = u32(head, 9);
        long logPos = u32(head, 13);
        int flags = (head[17] & 0xff) | (head[18] & 0xff) << 8;
        if (checksums == null && type != BinlogEvent.FORMAT_DESCRIPTION) {
            throw corrupt(offset, "the first event is of type " + type + ", expected a format description event (15)");
        }
        boolean hasCrc = type == BinlogEvent.FORMAT_DESCRIPTION || Boolean.TRUE.equals(checksums);
        long min = BinlogEvent.HEADER + (hasCrc ? 4 : 0);
        if (size < min || size > MAX_EVENT) {
            throw corrupt(offset, "event size " + size + " is impossible (at least " + min + ")");
        }
        long expectedPos = (offset + size) & 0xffffffffL;
        boolean noPosition = logPos == 0 && expectedPos != 0;
        if (logPos != expectedPos && !(noPosition && mayOmitPosition(type))) {
            throw wrongPosition(type, size, logPos);
        }
        if (offset + size > limit) {
            return null;
        }
        crc.reset();
        if (type == BinlogEvent.FORMAT_DESCRIPTION) {
            // the server clears the in-use flag after writing the CRC; the CRC is of the cleared form
            byte saved = head[17];
            head[17] &= (byte) ~1;
            crc.update(head, 0, BinlogEvent.HEADER);
            head[17] = saved;
        } else {
            crc.update(head, 0, BinlogEvent.HEADER);
        }
        if (copy != null) {
            copy.write(head, 0, BinlogEvent.HEADER);
        }
        long body = size - BinlogEvent.HEADER;
        long payload = body - (hasCrc ? 4 : 0);
        int kept = 0;
        long done = 0;
        byte[] trailer = new byte[4];
        while (done < body) {
            int want = (int) Math.min(buf.length, body - done);
            int r = in.readNBytes(buf, 0, want);
            if (r < want) {
                truncated = true;
                throw new EventTruncated(offset, size);
            }
            if (copy != null) {
                copy.write(buf, 0, r);
            }
            if (done + r > payload) {
                for (int i = (int) Math.max(0, payload - done); i < r; i++) {
                    trailer[(int) (done + i - payload)] = buf[i];
                }
            }
            int crcPart = (int) Math.max(0, Math.min(r, payload - done));
            crc.update(buf, 0, crcPart);
            if (kept < KEEP) {
                int k = (int) Math.min(KEEP - kept, Math.min(r, payload - done));
                if (k > 0) {
                    System.arraycopy(buf, 0, keep, kept, k);
                    kept += k;
                }
            }
            done += r;
        }
        if (hasCrc) {
            long stored = u32(trailer, 0);
            if (stored != crc.getValue()) {
                throw corrupt(offset, String.format("event of type %d and size %d fails its CRC-32: stored 0x%08x, computed 0x%08x",
                        type, size, stored, crc.getValue()));
            }
        }
        if (noPosition && terminates(type, kept)) {
            throw wrongPosition(type, size, logPos); // a COMMIT or ROLLBACK query is written at commit, with its position
        }
        BinlogEvent ev = account(offset, type, ts, serverId, size, flags, kept);
        offset += size;
        return ev;
    }

    private BinlogEvent account(long at, int type, long ts, long serverId, long size, int flags, int kept) {
        Gtid gtid = null;
        boolean admin = BinlogEvent.isAdministrative(type);
        boolean boundaryBefore = state == State.OUTSIDE || admin || type == BinlogEvent.GTID;
        if (type == BinlogEvent.FORMAT_DESCRIPTION) {
            // the byte before the CRC says whether the other events carry one (1 = CRC32)
            int alg = kept >= 1 ? keep[kept - 1] & 0xff : 0;
            if (checksums == null) {
                checksums = alg == 1;
            }
            CRC32C id = new CRC32C();
            byte[] h = head.clone();
            h[17] &= (byte) ~1;
            id.update(h, 0, h.length);
            id.update(keep, 0, kept);
            fileId = String.format("%08x", id.getValue());
            created = ts;
            serverStart = kept >= 56 && u32(keep, 52) != 0;
        } else if (type == BinlogEvent.START_ENCRYPTION) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "binary log " + resource + " is encrypted (encrypt_binlog=ON) at offset " + at
                    + "; strata cannot read encrypted binlogs", "turn encrypt_binlog off, or archive the binlogs with another tool");
        }
        State next = state;
        if (admin) {
            next = State.OUTSIDE;
        } else if (type == BinlogEvent.GTID) {
            if (kept < 13) {
                throw corrupt(at, "GTID event body has " + kept + " bytes, expected at least 13");
            }
            gtid = new Gtid(u32(keep, 8), serverId, u64(keep, 0));
            next = (keep[12] & BinlogEvent.FL_STANDALONE) != 0 ? State.STANDALONE : State.INSIDE;
        } else if (state == State.STANDALONE || terminates(type, kept)) {
            next = State.OUTSIDE;
        } else {
            next = State.INSIDE;
        }
        if (boundaryBefore) {
            lastBoundary = at;
        }
        state = next;
        if (state == State.OUTSIDE) {
            lastBoundary = at + size;
        }
        return new BinlogEvent(at, type, ts, serverId, size, flags, boundaryBefore, gtid, query(type, size, kept));
    }

    /** The post-header fields and text of a Query event (see {@link BinlogEvent}); null for other events or a body too short to hold them. */
    private BinlogEvent.Query query(int type, long size, int kept) {
        if (type != BinlogEvent.QUERY && type != BinlogEvent.QUERY_COMPRESSED || kept < 13) {
            return null;
        }
        int dbLen = keep[8] & 0xff;
        int statusLen = (keep[11] & 0xff) | (keep[12] & 0xff) << 8;
        int q = 13 + statusLen + dbLen + 1;
        if (q > kept) {
            return new BinlogEvent.Query(u32(keep, 0), "", null, true);
        }
        String db = new String(keep, 13 + statusLen, dbLen, StandardCharsets.UTF_8);
        long payload = size - BinlogEvent.HEADER - (Boolean.TRUE.equals(checksums) ? 4 : 0);
        String text = type == BinlogEvent.QUERY ? new String(keep, q, kept - q, StandardCharsets.UTF_8) : null;
        return new BinlogEvent.Query(u32(keep, 0), db, text, payload > kept);
    }

    /**
     * Whether an event of this type, read next, may carry log_pos 0: it was written through a
     * statement or transaction cache (see the class comment). Only inside an open group, and never
     * for the events the server writes itself at commit; a Query event is checked again once its
     * text is known, since a COMMIT or ROLLBACK query ends the group.
     */
    private boolean mayOmitPosition(int type) {
        return state != State.OUTSIDE && type != BinlogEvent.GTID && !BinlogEvent.isAdministrative(type)
                && type != BinlogEvent.XID && type != BinlogEvent.XA_PREPARE;
    }

    private CorruptDataException wrongPosition(int type, long size, long logPos) {
        return corrupt(offset, "event of type " + type + " and size " + size + " says it ends at " + logPos + ", expected " + (offset + size)
                + (logPos == 0 ? "; only events inside a transaction, before the one that ends it, may leave their position 0" : ""));
    }

    /** XID, XA PREPARE, or a COMMIT / ROLLBACK query end a group. */
    private boolean terminates(int type, int kept) {
        if (type == BinlogEvent.XID || type == BinlogEvent.XA_PREPARE) {
            return true;
        }
        if (type != BinlogEvent.QUERY || kept < 13) {
            return false;
        }
        // post-header: thread id 4, exec time 4, db length 1, error code 2, status length 2
        int dbLen = keep[8] & 0xff;
        int statusLen = (keep[11] & 0xff) | (keep[12] & 0xff) << 8;
        int q = 13 + statusLen + dbLen + 1;
        if (q > kept) {
            return false;
        }
        String query = new String(keep, q, kept - q, StandardCharsets.ISO_8859_1).trim();
        return query.equalsIgnoreCase("COMMIT") || query.equalsIgnoreCase("ROLLBACK");
    }

    private CorruptDataException corrupt(long at, String what) {
        return new CorruptDataException(what + " (resource=" + resource + " offset " + at + ")",
                "the binary log is damaged or is not a MariaDB binary log");
    }

    static long u32(byte[] b, int o) {
        return (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
    }

    static long u64(byte[] b, int o) {
        return u32(b, o) | u32(b, o + 4) << 32;
    }

    /** The stream ended inside an event (a file being written, or cut short). */
    public static final class EventTruncated extends IOException {
        private final long offset;

        EventTruncated(long offset, long size) {
            super("the stream ends inside the event at offset " + offset + " of size " + size);
            this.offset = offset;
        }

        /** Where the incomplete event starts. */
        public long offset() { return offset; }
    }
}
