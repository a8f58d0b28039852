package io.strata.innodb;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.strata.innodb.MtrParser.Stop.*;
import static org.junit.jupiter.api.Assertions.*;

class MtrParserTest {
    private static final long FIRST = 0x10000;
    /** Large enough that everything is on the first pass. */
    private static final LogGeometry BIG = new LogGeometry(FIRST, 12288 + (1 << 24));

    /** Records visitor calls as text. */
    static class Recorder implements MtrVisitor {
        final List<String> events = new ArrayList<>();
        @Override public void page(int s, int p, int t) { events.add("page " + s + ":" + p + " " + RecordType.pageRecordName(t)); }
        @Override public void trimPages(int s, int n) { events.add("trim " + s + " to " + n); }
        @Override public void fileOp(FileOp op, int s, String name, String newName) {
            events.add(op + " " + s + " " + name + (newName == null ? "" : " -> " + newName));
        }
        @Override public void checkpoint(long lsn) { events.add("checkpoint 0x" + Long.toHexString(lsn)); }
        @Override public void endMtr(long end) { events.add("end 0x" + Long.toHexString(end)); }
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    private static MtrParser.ParseResult parse(byte[] b, long start, LogGeometry g, MtrVisitor v) {
        return MtrParser.parse(b, 0, b.length, start, g, false, v);
    }

    @Test
    void pageRecordsAndSamePage() {
        byte[] m = new MtrBuilder()
                .page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2, 3})   // offset 38, 3 data bytes
                .samePage(RecordType.WRITE, new byte[] {0x02, 9})          // same page, no ids
                .page(RecordType.MEMSET, 0x1234, 0x10204080, new byte[] {0x10, 0x04, 0x00})
                .page(RecordType.INIT_PAGE, 7, 0, new byte[0])
                .page(RecordType.FREE_PAGE, 7, 9, new byte[0])
                .page(RecordType.EXTENDED, 7, 10, new byte[] {1})           // INIT_ROW_FORMAT_DYNAMIC
                .page(RecordType.OPTION, 7, 11, new byte[] {0, 1, 2, 3, 4})
                .build(1);
        Recorder r = new Recorder();
        MtrParser.ParseResult res = parse(m, FIRST, BIG, r);
        assertEquals(m.length, res.acceptedBytes());
        assertEquals(NEED_MORE, res.stop());
        assertEquals(1, res.mtrCount());
        assertEquals(List.of("page 5:3 WRITE", "page 4660:270549120 MEMSET", "page 7:0 INIT_PAGE", "page 7:9 FREE_PAGE",
                "page 7:10 EXTENDED", "page 7:11 OPTION", "end 0x" + Long.toHexString(FIRST + m.length)), r.events);
    }

    @Test
    void aStopLsnEndsTheParseAtTheFirstBoundaryAtOrAboveIt() {
        byte[] a = new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2, 3}).build(1);
        byte[] b = new MtrBuilder().page(RecordType.WRITE, 5, 4, new byte[] {0x26, 7}).build(1);
        byte[] c = new MtrBuilder().page(RecordType.WRITE, 5, 5, new byte[] {0x26, 8}).build(1);
        byte[] all = cat(a, b, c);
        // the stop LSN on a boundary: a and b, nothing of c, and c's events are not reported
        Recorder r = new Recorder();
        MtrParser.ParseResult at = MtrParser.parse(all, 0, all.length, FIRST, BIG, true, r, null, FIRST + a.length + b.length);
        assertEquals(a.length + b.length, at.acceptedBytes());
        assertEquals(NEED_MORE, at.stop());
        assertEquals(2, at.mtrCount());
        assertEquals(List.of("page 5:3 WRITE", "end 0x" + Long.toHexString(FIRST + a.length), "page 5:4 WRITE",
                "end 0x" + Long.toHexString(FIRST + a.length + b.length)), r.events);
        // inside b: b is taken whole, as the mtr that reaches it
        MtrParser.ParseResult inside = MtrParser.parse(all, 0, all.length, FIRST, BIG, false, null, null, FIRST + a.length + 1);
        assertEquals(a.length + b.length, inside.acceptedBytes());
        assertEquals(2, inside.mtrCount());
        // at the start: nothing
        assertEquals(0, MtrParser.parse(all, 0, all.length, FIRST, BIG, false, null, null, FIRST).acceptedBytes());
        // no limit: all three
        assertEquals(all.length, MtrParser.parse(all, 0, all.length, FIRST, BIG, false, null, null, Long.MAX_VALUE).acceptedBytes());
    }

    @Test
    void aVisitorOfTablespaceChangesGetsOnlyInitPageOfPageZero() {
        byte[] m = new MtrBuilder()
                .page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2, 3})
                .page(RecordType.INIT_PAGE, 7, 0, new byte[0])
                .page(RecordType.INIT_PAGE, 7, 4, new byte[0])
                .page(RecordType.FREE_PAGE, 7, 0, new byte[0])
                .page(RecordType.EXTENDED, 2, 640, new byte[] {RecordType.TRIM_PAGES})
                .page(RecordType.OPTION, 7, 11, new byte[] {0, 1, 2, 3, 4})
                .build(1);
        Recorder r = new Recorder() {
            @Override public boolean wantsEveryPage() { return false; }
        };
        assertEquals(m.length, parse(m, FIRST, BIG, r).acceptedBytes());
        assertEquals(List.of("page 7:0 INIT_PAGE", "trim 2 to 640", "end 0x" + Long.toHexString(FIRST + m.length)), r.events);
        // the records are still checked: a WRITE without payload is refused as for any visitor
        byte[] bad = new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[0]).build(1);
        assertEquals(MtrParser.Stop.INVALID, parse(bad, FIRST, BIG, r).stop());
    }

    @Test
    void fileRecords() {
        byte[] m1 = new MtrBuilder().file(RecordType.FILE_CREATE, 9, "./db/t1.ibd").build(1);
        byte[] m2 = new MtrBuilder().rename(9, "./db/t1.ibd", "./db/t2.ibd").build(1);
        byte[] m3 = new MtrBuilder().file(RecordType.FILE_DELETE, 9, "./db/t2.ibd").build(1);
        byte[] m4 = new MtrBuilder().file(RecordType.FILE_MODIFY, 10, "./db/t3.ibd").checkpoint(0x12345).build(1);
        byte[] all = cat(m1, m2, m3, m4);
        Recorder r = new Recorder();
        MtrParser.ParseResult res = parse(all, FIRST, BIG, r);
        assertEquals(new MtrParser.ParseResult(all.length, NEED_MORE,
                "buffer ends at mtr boundary LSN 0x" + Long.toHexString(FIRST + all.length), 4), res);
        long e1 = FIRST + m1.length, e2 = e1 + m2.length, e3 = e2 + m3.length, e4 = e3 + m4.length;
        assertEquals(List.of("CREATE 9 ./db/t1.ibd", "end 0x" + Long.toHexString(e1),
                "RENAME 9 ./db/t1.ibd -> ./db/t2.ibd", "end 0x" + Long.toHexString(e2),
                "DELETE 9 ./db/t2.ibd", "end 0x" + Long.toHexString(e3),
                "MODIFY 10 ./db/t3.ibd", "checkpoint 0x12345", "end 0x" + Long.toHexString(e4)), r.events);
    }

    @Test
    void fileCheckpointMatchesWriter() {
        assertArrayEquals(LogFileWriter.fileCheckpointMtr(0x12345), new MtrBuilder().checkpoint(0x12345).build(1));
    }

    @Test
    void trimPages() {
        byte[] m = new MtrBuilder().page(RecordType.EXTENDED, 2, 640, new byte[] {RecordType.TRIM_PAGES}).build(1);
        Recorder r = new Recorder();
        parse(m, FIRST, BIG, r);
        assertEquals(List.of("trim 2 to 640", "end 0x" + Long.toHexString(FIRST + m.length)), r.events);
    }

    @Test
    void paddingAcceptedSilently() {
        byte[] a = new MtrBuilder().raw(0xF1, 0x00).build(1);
        byte[] b = new MtrBuilder().raw(0xF2, 0x00, 0x00).build(1);
        byte[] c = new MtrBuilder().raw(0xFA, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0).build(1);
        byte[] d = new MtrBuilder().raw(0xF5, 0, 0, 0, 0, 0).build(1);
        byte[] all = cat(a, b, c, d);
        Recorder r = new Recorder();
        MtrParser.ParseResult res = parse(all, FIRST, BIG, r);
        assertEquals(4, res.mtrCount());
        assertEquals(all.length, res.acceptedBytes());
        assertEquals(4, r.events.size());
        assertTrue(r.events.stream().allMatch(e -> e.startsWith("end ")));
    }

    @Test
    void longRecordsWithVarintLength() {
        // smallest long record: header 0x30, varint add = 0, then 14 bytes (n = 15 including the varint byte)
        byte[] body14 = cat(Varint.encode(5), Varint.encode(3), new byte[] {0x26}, new byte[11]);
        assertEquals(14, body14.length);
        MtrBuilder b = new MtrBuilder().record(RecordType.WRITE, body14, true);
        byte[] small = b.build(1);
        assertEquals(0x30, small[0] & 0xFF);
        assertEquals(0x00, small[1]);
        assertEquals(16 + 5, small.length);
        // a 300-byte payload: 2-byte varint, add = 300 + 2 - 15 = 287 = 0x80 + 0x9F
        byte[] big = new MtrBuilder().pageLong(RecordType.WRITE, 5, 3, cat(new byte[] {0x26}, new byte[300 - 3])).build(1);
        assertEquals(0x30, big[0] & 0xFF);
        assertArrayEquals(new byte[] {(byte) 0x80, (byte) 0x9F}, Arrays.copyOfRange(big, 1, 3));
        assertEquals(1 + 2 + 300 + 5, big.length);
        // a 20000-byte payload: 3-byte varint
        byte[] huge = new MtrBuilder().pageLong(RecordType.WRITE, 5, 4, cat(new byte[] {0x26}, new byte[20000 - 3])).build(1);
        assertEquals(0xC0, huge[1] & 0xE0);
        byte[] all = cat(small, big, huge);
        Recorder r = new Recorder();
        MtrParser.ParseResult res = parse(all, FIRST, BIG, r);
        assertEquals(3, res.mtrCount());
        assertEquals(all.length, res.acceptedBytes());
        assertEquals(List.of("page 5:3 WRITE", "end 0x" + Long.toHexString(FIRST + small.length),
                "page 5:3 WRITE", "end 0x" + Long.toHexString(FIRST + small.length + big.length),
                "page 5:4 WRITE", "end 0x" + Long.toHexString(FIRST + all.length)), r.events);
    }

    @Test
    void needMoreForTruncatedMtr() {
        byte[] m1 = LogFileWriter.fileCheckpointMtr(0x5000);
        byte[] m2 = new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2}).build(1);
        byte[] all = cat(m1, m2);
        for (int cut = m1.length + 1; cut < all.length; cut++) {
            Recorder r = new Recorder();
            MtrParser.ParseResult res = MtrParser.parse(all, 0, cut, FIRST, BIG, false, r);
            assertEquals(new MtrParser.ParseResult(16, NEED_MORE, "mtr at LSN 0x10010 continues past the end of the buffer at LSN 0x"
                    + Long.toHexString(FIRST + cut), 1), res, "cut at " + cut);
            assertEquals(List.of("checkpoint 0x5000", "end 0x10010"), r.events);
        }
        // a long record whose varint length is cut off
        byte[] big = new MtrBuilder().pageLong(RecordType.WRITE, 5, 3, new byte[300]).build(1);
        assertEquals(NEED_MORE, MtrParser.parse(big, 0, 2, FIRST, BIG, false, null).stop());
        assertEquals(NEED_MORE, MtrParser.parse(big, 0, 100, FIRST, BIG, false, null).stop());
    }

    @Test
    void endOfLogOnZeroBytes() {
        byte[] m1 = LogFileWriter.fileCheckpointMtr(0x5000);
        byte[] all = cat(m1, new byte[100]);
        MtrParser.ParseResult res = parse(all, FIRST, BIG, null);
        assertEquals(new MtrParser.ParseResult(16, END_OF_LOG, "end of log at LSN 0x10010 (byte 0x00)", 1), res);
        all[16] = 1;
        assertEquals("end of log at LSN 0x10010 (byte 0x01)", parse(all, FIRST, BIG, null).reason());
    }

    @Test
    void invalidOnFlippedCrcByte() {
        byte[] m1 = LogFileWriter.fileCheckpointMtr(0x5000);
        byte[] m2 = new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2}).build(1);
        byte[] all = cat(m1, m2);
        int stored = Be.i32(all, all.length - 4);
        all[all.length - 1] ^= 0x01;
        Recorder r = new Recorder();
        MtrParser.ParseResult res = parse(all, FIRST, BIG, r);
        assertEquals(new MtrParser.ParseResult(16, INVALID, String.format(
                "mtr checksum mismatch at LSN 0x10010: stored=0x%08x computed=0x%08x", stored ^ 1, stored), 1), res);
        assertEquals(List.of("checkpoint 0x5000", "end 0x10010"), r.events); // nothing from the bad mtr
    }

    @Test
    void invalidOnFlippedRecordByte() {
        byte[] m = new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2}).build(1);
        m[4] ^= 0x20;
        assertEquals(INVALID, parse(m, FIRST, BIG, null).stop());
        assertTrue(parse(m, FIRST, BIG, null).reason().startsWith("mtr checksum mismatch at LSN 0x10000: stored="));
    }

    @Test
    void invalidOnWrongSequenceByte() {
        byte[] m1 = LogFileWriter.fileCheckpointMtr(0x5000);
        byte[] m2 = LogFileWriter.fileCheckpointMtr(0x5000, 0); // stale: previous pass
        byte[] all = cat(m1, m2);
        assertEquals(new MtrParser.ParseResult(16, INVALID,
                "sequence byte 0x00 at LSN 0x1001b, expected 0x01 (mtr at LSN 0x10010)", 1), parse(all, FIRST, BIG, null));
    }

    @Test
    void sequenceBitAcrossTheWrap() {
        // capacity 64: LSN [FIRST, FIRST+64) is pass 1 (term 0x01), [FIRST+64, FIRST+128) pass 2 (term 0x00)
        LogGeometry g = new LogGeometry(FIRST, 12288 + 64);
        long start = FIRST + 37;
        byte[] a = LogFileWriter.fileCheckpointMtr(0x7000, 1);     // LSN +37..+53, term at +48
        byte[] b = LogFileWriter.fileCheckpointMtr(0x7001, 0);     // LSN +53..+69, term at +64: second pass
        byte[] c = LogFileWriter.fileCheckpointMtr(0x7002, 0);     // LSN +69..+85
        byte[] all = cat(a, b, c);
        Recorder r = new Recorder();
        MtrParser.ParseResult res = MtrParser.parse(all, 0, all.length, start, g, false, r);
        assertEquals(3, res.mtrCount());
        assertEquals(List.of("checkpoint 0x7000", "end 0x10035", "checkpoint 0x7001", "end 0x10045",
                "checkpoint 0x7002", "end 0x10055"), r.events);
        // the mtr whose term is the first byte of the second pass must not carry 0x01
        byte[] wrong = cat(a, LogFileWriter.fileCheckpointMtr(0x7001, 1));
        assertEquals("sequence byte 0x01 at LSN 0x10040, expected 0x00 (mtr at LSN 0x10035)",
                MtrParser.parse(wrong, 0, wrong.length, start, g, false, null).reason());
        // term on the last byte of the first pass, CRC wrapping into the second
        byte[] d = LogFileWriter.fileCheckpointMtr(0x7003, 1);
        assertEquals(1, MtrParser.parse(d, 0, d.length, FIRST + 52, g, false, null).mtrCount());
    }

    @Test
    void rewriteSequenceBytes() {
        LogGeometry g = new LogGeometry(FIRST, 12288 + 64);
        long start = FIRST + 37;
        byte[] a = LogFileWriter.fileCheckpointMtr(0x7000, 1);
        // 11 record bytes at +53: the term is the first byte of the second pass
        byte[] b = new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1, 2, 3, 4, 5, 6, 7}).build(0);
        byte[] c = LogFileWriter.fileCheckpointMtr(0x7002, 0);
        byte[] all = cat(a, b, c, new byte[] {0x00});
        assertEquals(0, all[a.length + b.length - 5]);
        MtrParser.ParseResult res = MtrParser.parse(all, 0, all.length, start, g, true, null);
        assertEquals(END_OF_LOG, res.stop());
        assertEquals(3, res.mtrCount());
        int t1 = 11, t2 = a.length + b.length - 5, t3 = a.length + b.length + 11;
        assertEquals(1, all[t1]);
        assertEquals(1, all[t2]);
        assertEquals(1, all[t3]);
        // as the first pass of a new log whose first_lsn is the start, the rewritten bytes parse again
        MtrParser.ParseResult again = MtrParser.parse(all, 0, all.length, start, new LogGeometry(start, 12288 + 4096), false, null);
        assertEquals(res.acceptedBytes(), again.acceptedBytes());
        assertEquals(3, again.mtrCount());
    }

    @Test
    void rewriteLeavesRejectedMtrAlone() {
        byte[] a = LogFileWriter.fileCheckpointMtr(0x7000, 1);
        byte[] b = LogFileWriter.fileCheckpointMtr(0x7001, 0); // wrong for pass 1
        byte[] all = cat(a, b);
        MtrParser.parse(all, 0, all.length, FIRST, BIG, true, null);
        assertEquals(0, all[16 + 11]);
    }

    @Test
    void offsetWithinBuffer() {
        byte[] m = LogFileWriter.fileCheckpointMtr(0x5000);
        byte[] buf = cat(new byte[] {(byte) 0xEE, (byte) 0xEE, (byte) 0xEE}, m, new byte[] {(byte) 0xEE});
        MtrParser.ParseResult res = MtrParser.parse(buf, 3, 16, FIRST, BIG, false, null);
        assertEquals(new MtrParser.ParseResult(16, NEED_MORE, "buffer ends at mtr boundary LSN 0x10010", 1), res);
    }

    @Test
    void malformedRecordsAreInvalid() {
        String p = "(mtr at LSN 0x10000)";
        assertEquals("same_page FREE_PAGE record at LSN 0x10005 " + p,
                invalidReason(new MtrBuilder().page(RecordType.WRITE, 5, 3, new byte[] {0x26, 1}).samePage(RecordType.FREE_PAGE, new byte[] {0})));
        assertEquals("INIT_PAGE record with a payload at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().page(RecordType.INIT_PAGE, 5, 3, new byte[] {1})));
        assertEquals("unknown log record type 0x62 at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().page(RecordType.RESERVED, 5, 3, new byte[0])));
        assertEquals("FILE_CREATE name does not end in .ibd: ./db/t1.frm at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().file(RecordType.FILE_CREATE, 9, "./db/t1.frm")));
        assertEquals("FILE_CREATE for space id 0 at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().file(RecordType.FILE_CREATE, 0, "./db/t1.ibd")));
        assertEquals("FILE_RENAME without a NUL in the file name at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().file(RecordType.FILE_RENAME, 9, "./db/t1.ibd")));
        assertEquals("FILE_CHECKPOINT is not the last record of its mtr at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().checkpoint(0x5000).checkpoint(0x5000)));
        assertEquals("unknown file record type 0xc3 at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().raw(0xC3, 1, 0, 0x41)));
        assertEquals("corrupted page identifier at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().raw(0x31, 5)));
        assertEquals("file record 0xb3 with page number 1 at LSN 0x10000 " + p,
                invalidReason(new MtrBuilder().raw(0xB3, 5, 1, 0x41)));
    }

    @Test
    void invalidRecordLength() {
        // varint 0xF8 is not a valid length
        byte[] m = {0x30, (byte) 0xF8, 0, 0, 0, 0, 0, 0};
        assertEquals(new MtrParser.ParseResult(0, INVALID, "record at LSN 0x10000 has an invalid length (mtr at LSN 0x10000)", 0),
                parse(m, FIRST, BIG, null));
        // a length of 1 MiB or more
        byte[] n = cat(new byte[] {0x30}, Varint.encode(MtrParser.MTR_SIZE_MAX));
        assertEquals(INVALID, parse(n, FIRST, BIG, null).stop());
    }

    private static String invalidReason(MtrBuilder b) {
        byte[] m = b.build(1);
        MtrParser.ParseResult r = parse(m, FIRST, BIG, null);
        assertEquals(INVALID, r.stop(), r::reason);
        assertEquals(0, r.acceptedBytes());
        return r.reason();
    }
}
