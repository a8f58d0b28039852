package io.strata.binlog;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/** Builds binary log files event by event, with correct sizes, log_pos and (optionally) CRC-32 trailers. */
public final class BinlogBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final boolean checksums;
    private final long serverId;
    private long time = 1_700_000_000L;
    final List<Long> offsets = new ArrayList<>();

    public BinlogBuilder(boolean checksums, long serverId) {
        this.checksums = checksums;
        this.serverId = serverId;
        out.writeBytes(BinlogScanner.MAGIC);
    }

    public BinlogBuilder at(long seconds) {
        this.time = seconds;
        return this;
    }

    public long offset() { return out.size(); }

    public byte[] bytes() { return out.toByteArray(); }

    /** A format description event; with {@code inUse} its flag is set after its CRC was computed, as the server does. */
    public BinlogBuilder fde(boolean inUse) {
        return fde(inUse, false);
    }

    /** With {@code serverStart}, the event's own create timestamp is set, as in the first file after a server start. */
    public BinlogBuilder fde(boolean inUse, boolean serverStart) {
        byte[] body = new byte[2 + 50 + 4 + 1 + 10 + 1];
        body[0] = 4;
        if (serverStart) {
            le(body, 52, time, 4);
        }
        byte[] v = "10.11.19-MariaDB-log".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, body, 2, v.length);
        body[56] = 19;
        body[body.length - 1] = (byte) (checksums ? 1 : 0);
        int at = out.size();
        event(BinlogEvent.FORMAT_DESCRIPTION, body, 0, true);
        if (inUse) {
            byte[] all = out.toByteArray();
            all[at + 17] |= 1;
            out.reset();
            out.writeBytes(all);
        }
        return this;
    }

    public BinlogBuilder gtid(long domain, long seq, boolean standalone) {
        byte[] body = new byte[19];
        le(body, 0, seq, 8);
        le(body, 8, domain, 4);
        body[12] = (byte) (standalone ? 0x29 : 0x0c);
        return event(BinlogEvent.GTID, body, 0x8, false);
    }

    public BinlogBuilder query(String sql) {
        byte[] q = sql.getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[13 + 1 + q.length];
        System.arraycopy(q, 0, body, 14, q.length);
        return event(BinlogEvent.QUERY, body, 0, false);
    }

    /** A Query event of connection {@code thread} with these common header flags, in database {@code db}. */
    public BinlogBuilder query(long thread, int flags, String db, String sql) {
        byte[] d = db.getBytes(StandardCharsets.UTF_8);
        byte[] q = sql.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[13 + d.length + 1 + q.length];
        le(body, 0, thread, 4);
        body[8] = (byte) d.length;
        System.arraycopy(d, 0, body, 13, d.length);
        System.arraycopy(q, 0, body, 13 + d.length + 1, q.length);
        return event(BinlogEvent.QUERY, body, flags, false);
    }

    public BinlogBuilder rows(int n) {
        byte[] body = new byte[n];
        for (int i = 0; i < n; i++) {
            body[i] = (byte) (i * 7);
        }
        return event(23, body, 0, false);
    }

    public BinlogBuilder xid(long n) {
        byte[] body = new byte[8];
        le(body, 0, n, 8);
        return event(BinlogEvent.XID, body, 0, false);
    }

    public BinlogBuilder checkpoint() {
        return event(BinlogEvent.BINLOG_CHECKPOINT, new byte[] {13, 0, 0, 0, 'b', 'i', 'n', 'l', 'o', 'g', '.', '0', '0', '0', '0', '0', '1'}, 0, false);
    }

    public BinlogBuilder rotate(String next) {
        byte[] n = next.getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[8 + n.length];
        le(body, 0, 4, 8);
        System.arraycopy(n, 0, body, 8, n.length);
        return event(BinlogEvent.ROTATE, body, 0, false);
    }

    /** One committed transaction: GTID, rows, XID. */
    public BinlogBuilder transaction(long seq) {
        return gtid(0, seq, false).rows(40).xid(seq);
    }

    private BinlogBuilder event(int type, byte[] body, int flags, boolean forceCrc) {
        boolean crc = checksums || forceCrc;
        long size = 19 + body.length + (crc ? 4 : 0);
        long start = out.size();
        byte[] e = new byte[(int) size];
        le(e, 0, time, 4);
        e[4] = (byte) type;
        le(e, 5, serverId, 4);
        le(e, 9, size, 4);
        le(e, 13, start + size, 4);
        le(e, 17, flags, 2);
        System.arraycopy(body, 0, e, 19, body.length);
        if (crc) {
            CRC32 c = new CRC32();
            c.update(e, 0, (int) size - 4);
            le(e, (int) size - 4, c.getValue(), 4);
        }
        offsets.add(start);
        out.writeBytes(e);
        return this;
    }

    /**
     * Rewrites the log_pos of the event at {@code at} in a whole file and, when it has one,
     * recomputes its CRC-32 trailer, so that the position is the only thing wrong with it.
     */
    static void setLogPos(byte[] file, int at, long logPos, boolean crc) {
        int size = (int) BinlogScanner.u32(file, at + 9);
        le(file, at + 13, logPos, 4);
        if (crc) {
            CRC32 c = new CRC32();
            c.update(file, at, size - 4);
            le(file, at + size - 4, c.getValue(), 4);
        }
    }

    static void le(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
