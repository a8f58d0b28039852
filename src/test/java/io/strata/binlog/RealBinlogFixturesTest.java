package io.strata.binlog;

import io.strata.error.CorruptDataException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads a binary log written by a real MariaDB 11.8.9 with default binlog settings, in which the
 * events of each transaction's cache carry end_log_pos 0 (MDEV-31273), and one transaction was
 * written with binlog_legacy_event_pos=ON in between (see
 * src/test/resources/fixtures/mariadb-11.8/README.md).
 */
class RealBinlogFixturesTest {
    private static final String NAME = "binlog.000001";

    /** Every event of the fixture as offset:type:log_pos, log_pos as the server wrote it. */
    private static final List<String> EVENTS = List.of(
            "4:15:256", "256:163:285", "285:161:325", "325:162:367", "367:2:450", "450:162:492", "492:2:634", "634:162:676",
            "676:2:818", "818:162:860", "860:160:0", "929:19:0", "974:23:0", "1027:16:1058", "1058:162:1100", "1100:160:0",
            "1161:19:0", "1206:24:0", "1260:160:0", "1348:19:0", "1393:23:0", "1913:16:1944", "1944:162:1986", "1986:160:0",
            "2043:19:0", "2088:23:0", "2131:2:2202", "2202:162:2244", "2244:2:0", "2339:16:2370", "2370:162:2420", "2420:160:0",
            "2477:19:0", "2522:23:0", "2564:2:0", "2649:38:2687", "2687:162:2736", "2736:2:2824", "2824:162:2866", "2866:160:2927",
            "2927:19:2972", "2972:23:3018", "3018:16:3049", "3049:162:3091", "3091:160:0", "3149:19:0", "3194:23:0", "3237:16:3268",
            "3268:4:3312");

    private static byte[] fixture() throws IOException {
        try (InputStream in = RealBinlogFixturesTest.class.getResourceAsStream("/fixtures/mariadb-11.8/" + NAME + ".gz")) {
            assertNotNull(in, NAME);
            return new GZIPInputStream(in).readAllBytes();
        }
    }

    private static List<BinlogEvent> scan(byte[] file, long from, Boolean checksums) throws IOException {
        BinlogScanner sc = new BinlogScanner(NAME, from, checksums);
        ByteArrayInputStream in = new ByteArrayInputStream(file, (int) from, file.length - (int) from);
        List<BinlogEvent> out = new ArrayList<>();
        BinlogEvent e;
        while ((e = sc.next(in, file.length, null)) != null) {
            out.add(e);
        }
        assertEquals(file.length, sc.offset());
        return out;
    }

    @Test
    void rowEventsAtEndLogPosZeroScanWithTheirBoundariesAndGtids() throws IOException {
        byte[] file = fixture();
        assertEquals(3312, file.length);
        BinlogScanner sc = new BinlogScanner(NAME, 0, null);
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        ByteArrayInputStream in = new ByteArrayInputStream(file);
        List<String> events = new ArrayList<>();
        List<Long> boundaries = new ArrayList<>();
        List<String> gtids = new ArrayList<>();
        BinlogStats stats = new BinlogStats();
        BinlogEvent e;
        while ((e = sc.next(in, file.length, copy)) != null) {
            events.add(e.offset() + ":" + e.type() + ":" + BinlogScanner.u32(file, (int) e.offset() + 13));
            if (e.boundaryBefore()) {
                boundaries.add(e.offset());
            }
            if (e.gtid() != null) {
                gtids.add(e.gtid().toString());
            }
            stats.add(e);
        }
        assertEquals(EVENTS, events);
        assertEquals(20, events.stream().filter(s -> s.endsWith(":0")).count(), "events the server left without a position");
        assertArrayEquals(file, copy.toByteArray(), "the copy is the file, byte for byte");
        assertEquals(List.of(4L, 256L, 285L, 325L, 450L, 634L, 818L, 1058L, 1944L, 2202L, 2370L, 2687L, 2824L, 3049L, 3268L), boundaries);
        List<String> expected = new ArrayList<>();
        for (int seq = 1; seq <= 11; seq++) {
            expected.add("0-1-" + seq);
        }
        assertEquals(expected, gtids);
        assertEquals(11, stats.groups());
        assertEquals(file.length, sc.offset());
        assertTrue(sc.atBoundary());
        assertEquals(file.length, sc.lastBoundary());
        assertEquals(Boolean.TRUE, sc.checksums());

        // from a boundary inside the file: the open transaction of 0-1-5 and those after it
        List<BinlogEvent> tail = scan(file, 1058, true);
        assertEquals(new Gtid(0, 1, 5), tail.get(0).gtid());
        assertEquals(35, tail.size());
    }

    @Test
    void legacyPositionsAndZerosMixInOneFile() throws IOException {
        byte[] file = fixture();
        // 0-1-10 was written with binlog_legacy_event_pos=ON: its row events carry their position
        // (2866..3018); 0-1-11 after it, with the setting OFF again, carries 0 in the same kinds
        List<String> legacy = EVENTS.subList(EVENTS.indexOf("2824:162:2866"), EVENTS.indexOf("3018:16:3049") + 1);
        List<String> after = EVENTS.subList(EVENTS.indexOf("3049:162:3091"), EVENTS.indexOf("3237:16:3268") + 1);
        assertEquals(List.of("2824:162:2866", "2866:160:2927", "2927:19:2972", "2972:23:3018", "3018:16:3049"), legacy);
        assertEquals(List.of("3049:162:3091", "3091:160:0", "3149:19:0", "3194:23:0", "3237:16:3268"), after);
        List<BinlogEvent> ev = scan(file, 2824, true);
        assertEquals(11, ev.size());
        assertEquals(new Gtid(0, 1, 10), ev.get(0).gtid());
        assertEquals(new Gtid(0, 1, 11), ev.get(5).gtid());

        // the switch may come inside a transaction: one event with a position between two without
        byte[] mixed = file.clone();
        BinlogBuilder.setLogPos(mixed, 3149, 3194, true);
        assertEquals(49, scan(mixed, 0, null).size());
    }

    @Test
    void aFlippedByteInARowEventWithoutPositionFailsItsCrc() throws IOException {
        byte[] file = fixture();
        // the Write_rows event of the 38-row INSERT ... SELECT (offset 1393, 520 bytes, end_log_pos 0)
        assertEquals("1393:23:0", EVENTS.get(20));
        file[1393 + 260] ^= 0x01;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> scan(file, 0, null));
        assertEquals("event of type 23 and size 520 fails its CRC-32: stored 0x1525ea0b, computed 0xdb169bc0 (resource=binlog.000001 offset 1393)",
                e.getMessage());
    }

    @Test
    void aZeroPositionOutsideAGroupOrOnItsEdgesIsRefused() throws IOException {
        // offset, type, size: a GTID event, an XID, a COMMIT query, XA PREPARE, a GTID list, a
        // binlog checkpoint, a rotate, and the GTID event of a transaction written with positions
        long[][] cases = {{1058, 162, 42}, {1027, 16, 31}, {2131, 2, 71}, {2649, 38, 38}, {256, 163, 29}, {285, 161, 40}, {3268, 4, 44},
                {2824, 162, 42}};
        for (long[] c : cases) {
            byte[] file = fixture();
            BinlogBuilder.setLogPos(file, (int) c[0], 0, true);
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> scan(file, 0, null), "offset " + c[0]);
            assertEquals("event of type " + c[1] + " and size " + c[2] + " says it ends at 0, expected " + (c[0] + c[2])
                    + "; only events inside a transaction, before the one that ends it, may leave their position 0 (resource=binlog.000001 offset "
                    + c[0] + ")", e.getMessage());
        }
    }

    @Test
    void aZeroPositionIsRefusedWhereNoGroupIsOpen() throws IOException {
        // told that 860 is a boundary (it is not: 0-1-4 is open there), the scanner sees an event
        // without position where no group is open
        byte[] file = fixture();
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> scan(file, 860, true));
        assertEquals("event of type 160 and size 69 says it ends at 0, expected 929; only events inside a transaction, before the one that ends it,"
                + " may leave their position 0 (resource=binlog.000001 offset 860)", e.getMessage());
    }

    @Test
    void aWrongNonZeroPositionInsideAGroupIsStillRefused() throws IOException {
        byte[] file = fixture();
        BinlogBuilder.setLogPos(file, 1393, 1914, true);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> scan(file, 0, null));
        assertEquals("event of type 23 and size 520 says it ends at 1914, expected 1913 (resource=binlog.000001 offset 1393)", e.getMessage());
    }
}
