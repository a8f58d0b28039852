package io.strata.binlog;

import io.strata.error.CorruptDataException;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinlogScannerTest {

    private static List<BinlogEvent> all(byte[] file, long from, Boolean checksums, long limit, ByteArrayOutputStream copy) throws IOException {
        BinlogScanner sc = new BinlogScanner("test.000001", from, checksums);
        ByteArrayInputStream in = new ByteArrayInputStream(file, (int) from, file.length - (int) from);
        List<BinlogEvent> out = new ArrayList<>();
        BinlogEvent e;
        while ((e = sc.next(in, limit, copy)) != null) {
            out.add(e);
        }
        return out;
    }

    @Test
    void queryEventsTellConnectionDatabaseAndStatement() throws IOException {
        for (boolean crc : new boolean[] {true, false}) {
            byte[] file = new BinlogBuilder(crc, 7).fde(false, true).gtid(0, 1, false)
                    .query(42, BinlogEvent.THREAD_SPECIFIC_F, "app", "INSERT INTO t SELECT * FROM tmp")
                    .query(42, 0, "", "COMMIT").bytes();
            BinlogScanner sc = new BinlogScanner("test.000001", 0, null);
            ByteArrayInputStream in = new ByteArrayInputStream(file);
            assertNull(sc.next(in, file.length, null).query());
            assertTrue(sc.serverStart());
            assertNull(sc.next(in, file.length, null).query());
            BinlogEvent q = sc.next(in, file.length, null);
            assertEquals(new BinlogEvent.Query(42, "app", "INSERT INTO t SELECT * FROM tmp", false), q.query());
            assertTrue(q.threadSpecific());
            BinlogEvent commit = sc.next(in, file.length, null);
            assertEquals(new BinlogEvent.Query(42, "", "COMMIT", false), commit.query());
            assertFalse(commit.threadSpecific());
        }
        BinlogScanner rotated = new BinlogScanner("test.000002", 0, null);
        byte[] file = new BinlogBuilder(true, 7).fde(false, false).bytes();
        rotated.next(new ByteArrayInputStream(file), file.length, null);
        assertFalse(rotated.serverStart(), "a file begun by a rotation has create timestamp 0");
    }

    @Test
    void longStatementsAreKeptInPart() throws IOException {
        String sql = "INSERT INTO t VALUES " + "(1),".repeat(2000) + "(2)";
        byte[] file = new BinlogBuilder(true, 7).fde(false).gtid(0, 1, true).query(5, 0, "db", sql).bytes();
        List<BinlogEvent> ev = all(file, 0, null, file.length, null);
        BinlogEvent.Query q = ev.get(2).query();
        assertTrue(q.truncated());
        assertTrue(sql.startsWith(q.text()) && q.text().length() > 4000, q.text().length() + " characters kept");
    }

    @Test
    void findsTransactionBoundariesAndGtids() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 7).fde(true).checkpoint();
        long t1 = b.offset();
        b.at(1_700_000_005L).transaction(1);
        long afterT1 = b.offset();
        b.checkpoint();
        long t2 = b.offset();
        b.gtid(0, 2, true).query("CREATE TABLE t (id INT)");
        long afterT2 = b.offset();
        b.gtid(3, 9, false).query("INSERT INTO m VALUES (1)").query("COMMIT");
        long afterT3 = b.offset();
        b.rotate("test.000002");
        byte[] file = b.bytes();

        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        BinlogScanner sc = new BinlogScanner("test.000001", 0, null);
        ByteArrayInputStream in = new ByteArrayInputStream(file);
        List<Long> boundaries = new ArrayList<>();
        List<String> gtids = new ArrayList<>();
        BinlogEvent e;
        while ((e = sc.next(in, file.length, copy)) != null) {
            if (e.boundaryBefore()) {
                boundaries.add(e.offset());
            }
            if (e.gtid() != null) {
                gtids.add(e.gtid() + "@" + e.timestamp());
            }
        }
        assertArrayEquals(file, copy.toByteArray(), "the copy is the file, byte for byte");
        assertEquals(List.of(4L, b.offsets.get(1), t1, afterT1, t2, afterT2, afterT3), boundaries);
        assertEquals(List.of("0-7-1@1700000005", "0-7-2@1700000005", "3-7-9@1700000005"), gtids);
        assertEquals(file.length, sc.offset());
        assertTrue(sc.atBoundary());
        assertEquals(file.length, sc.lastBoundary());
        assertEquals(Boolean.TRUE, sc.checksums());
    }

    @Test
    void theInUseFlagChangesNeitherChecksumNorIdentity() throws IOException {
        byte[] open = new BinlogBuilder(true, 7).fde(true).transaction(1).bytes();
        byte[] closed = new BinlogBuilder(true, 7).fde(false).transaction(1).bytes();
        assertFalse(Arrays.equals(open, closed));
        BinlogScanner a = new BinlogScanner("a", 0, null);
        BinlogScanner c = new BinlogScanner("c", 0, null);
        a.next(new ByteArrayInputStream(open), open.length, null);
        c.next(new ByteArrayInputStream(closed), closed.length, null);
        assertEquals(c.fileId(), a.fileId());
    }

    @Test
    void withoutChecksumsEventsHaveNoTrailer() throws IOException {
        byte[] file = new BinlogBuilder(false, 1).fde(false).transaction(1).transaction(2).bytes();
        List<BinlogEvent> ev = all(file, 0, null, file.length, null);
        assertEquals(7, ev.size());
        assertEquals(19 + 8, ev.get(3).size(), "an XID event without CRC");
    }

    @Test
    void aDamagedEventIsNamedWithBothChecksums() {
        BinlogBuilder b = new BinlogBuilder(true, 7).fde(false);
        long rows = 0;
        b.gtid(0, 1, false);
        rows = b.offset();
        b.rows(40).xid(1);
        byte[] file = b.bytes();
        file[(int) rows + 30] ^= 0x10;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> all(file, 0, null, file.length, null));
        assertTrue(e.getMessage().matches("event of type 23 and size 63 fails its CRC-32: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} \\(resource=test.000001 offset "
                + rows + "\\)"), e.getMessage());
    }

    @Test
    void aWrongLogPosIsRefused() {
        byte[] file = new BinlogBuilder(false, 7).fde(false).transaction(1).bytes();
        int gtid = 4 + 19 + 68 + 4;
        BinlogBuilder.le(file, gtid + 13, 12345, 4);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> all(file, 0, null, file.length, null));
        assertEquals("event of type 162 and size 38 says it ends at 12345, expected " + (gtid + 38) + " (resource=test.000001 offset " + gtid + ")", e.getMessage());
    }

    @Test
    void withoutChecksumsAZeroPositionIsStillAllowedOnlyInsideAGroup() throws IOException {
        BinlogBuilder b = new BinlogBuilder(false, 7).fde(false).gtid(0, 1, false);
        int rows = (int) b.offset();
        b.rows(40);
        int xid = (int) b.offset();
        b.xid(1);
        byte[] file = b.bytes();
        BinlogBuilder.setLogPos(file, rows, 0, false);
        assertEquals(4, all(file, 0, null, file.length, null).size());
        BinlogBuilder.setLogPos(file, xid, 0, false);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> all(file, 0, null, file.length, null));
        assertEquals("event of type 16 and size 27 says it ends at 0, expected " + (xid + 27)
                + "; only events inside a transaction, before the one that ends it, may leave their position 0 (resource=test.000001 offset " + xid + ")",
                e.getMessage());
    }

    @Test
    void notABinlog() {
        byte[] file = "hello world, this is not a binlog".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> all(file, 0, null, file.length, null));
        assertEquals("not a binary log: the file starts with 68656c6c, expected fe62696e (resource=test.000001 offset 0)", e.getMessage());
    }

    @Test
    void stopsBeforeAnEventCrossingTheLimitAndCopiesNothingOfIt() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 7).fde(false).transaction(1);
        long end1 = b.offset();
        b.transaction(2);
        byte[] file = b.bytes();
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        List<BinlogEvent> ev = all(file, 0, null, end1 + 30, copy);
        assertEquals(4, ev.size());
        assertArrayEquals(Arrays.copyOf(file, (int) end1), copy.toByteArray());
    }

    @Test
    void startsInsideAFileAtABoundary() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 7).fde(false).transaction(1);
        long from = b.offset();
        b.transaction(2).transaction(3);
        byte[] file = b.bytes();
        List<BinlogEvent> ev = all(file, from, true, file.length, null);
        assertEquals(6, ev.size());
        assertEquals(new Gtid(0, 7, 2), ev.get(0).gtid());
        assertEquals(from, ev.get(0).offset());
    }

    @Test
    void aCrashTailEndsTheUsableBytesAtTheOpenTransaction() throws IOException {
        BinlogBuilder b = new BinlogBuilder(true, 7).fde(false).transaction(1);
        long open = b.offset();
        b.gtid(0, 2, false).rows(40);
        byte[] file = b.bytes();
        BinlogScanner sc = new BinlogScanner("t", 0, null);
        ByteArrayInputStream in = new ByteArrayInputStream(file);
        while (sc.next(in, file.length, null) != null) {
            // walk to the end
        }
        assertFalse(sc.atBoundary());
        assertEquals(open, sc.lastBoundary());

        byte[] cut = Arrays.copyOf(file, file.length - 10);
        BinlogScanner.EventTruncated t = assertThrows(BinlogScanner.EventTruncated.class, () -> all(cut, 0, null, Long.MAX_VALUE, null));
        assertEquals(open + 42, t.offset());
    }

    @Test
    void encryptedBinlogsAreRefused() {
        byte[] file = new BinlogBuilder(true, 7).fde(false).bytes();
        byte[] enc = new byte[file.length + 19 + 4 + 4];
        System.arraycopy(file, 0, enc, 0, file.length);
        int at = file.length;
        BinlogBuilder.le(enc, at + 9, 27, 4);
        enc[at + 4] = (byte) BinlogEvent.START_ENCRYPTION;
        BinlogBuilder.le(enc, at + 13, at + 27, 4);
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        c.update(enc, at, 23);
        BinlogBuilder.le(enc, at + 23, c.getValue(), 4);
        StrataException e = assertThrows(StrataException.class, () -> all(enc, 0, null, enc.length, null));
        assertEquals("binary log test.000001 is encrypted (encrypt_binlog=ON) at offset " + at + "; strata cannot read encrypted binlogs", e.getMessage());
    }

    @Test
    void gtidText() {
        assertEquals(new Gtid(0, 1, 42), Gtid.parse("0-1-42"));
        assertEquals("1-2-3", new Gtid(1, 2, 3).toString());
        StrataException e = assertThrows(StrataException.class, () -> Gtid.parse("0-1"));
        assertEquals("\"0-1\" is not a GTID (expected domain-server-sequence, e.g. 0-1-42)", e.getMessage());
        assertNull(new BinlogScanner("x", 0, null).fileId());
    }
}
