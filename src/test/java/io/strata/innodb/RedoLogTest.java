package io.strata.innodb;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class RedoLogTest {
    @Test
    void headerRoundTrip() {
        byte[] h = LogFileWriter.header(0x1234_5678L, "Backup 10.11.19");
        assertEquals(512, h.length);
        LogHeader p = LogHeader.parse(h);
        assertEquals(new LogHeader(LogHeader.FORMAT_10_8, 0x1234_5678L, "Backup 10.11.19", 0), p);
        assertFalse(p.encrypted());
        assertTrue(p.writtenByBackup());
        assertEquals(0x50687973, Be.i32(h, 0));
        assertEquals(Crc32c.compute(h, 0, 508), Be.i32(h, 508));
    }

    @Test
    void headerBadChecksum() {
        byte[] h = LogFileWriter.header(12288, "MariaDB 10.11.19");
        int stored = Be.i32(h, 508);
        h[20] ^= 1;
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> LogHeader.parse(h));
        assertEquals(String.format("redo log header checksum mismatch: stored=0x%08x computed=0x%08x",
                stored, Crc32c.compute(h, 0, 508)), e.getMessage());
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
    }

    @Test
    void headerOldFormatRefused() {
        byte[] h = new byte[512];
        Be.put32(h, 0, 0x50485953); // "PHYS", 10.5..10.7
        Be.put32(h, 508, Crc32c.compute(h, 0, 508));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> LogHeader.parse(h));
        assertEquals("redo log format 0x50485953 is not the redo log format of MariaDB 10.8 and later, which strata supports (10.11, 11.4, 11.8)",
                e.getMessage());
        assertEquals("start the data directory once with MariaDB 10.11 or later so that it upgrades the redo log, or back it up with mariadb-backup of its own version",
                e.hint());
    }

    @Test
    void headerEncrypted() {
        byte[] h = LogFileWriter.header(12288, "MariaDB 10.11.19");
        Be.put32(h, 0, LogHeader.FORMAT_ENC_11);
        Be.put32(h, 508, Crc32c.compute(h, 0, 508));
        assertTrue(LogHeader.parse(h).encrypted());
        byte[] g = LogFileWriter.header(12288, "MariaDB 10.9.1");
        Be.put32(g, 48, 1); // FORMAT_10_8 with crypt info: 10.8..10.10 encrypted
        Be.put32(g, 508, Crc32c.compute(g, 0, 508));
        assertTrue(LogHeader.parse(g).encrypted());
        assertFalse(LogHeader.parse(g).writtenByBackup());
    }

    @Test
    void headerFirstLsnTooSmall() {
        byte[] h = LogFileWriter.header(12288, "x");
        Be.put64(h, 8, 100);
        Be.put32(h, 508, Crc32c.compute(h, 0, 508));
        assertEquals("redo log first_lsn 0x64 is below the minimum 0x3000",
                assertThrows(CorruptDataException.class, () -> LogHeader.parse(h)).getMessage());
    }

    @Test
    void writerRejectsLongCreator() {
        assertThrows(IllegalArgumentException.class, () -> LogFileWriter.header(12288, "x".repeat(32)));
        assertThrows(IllegalArgumentException.class, () -> LogFileWriter.header(12288, "Bäckup"));
    }

    @Test
    void checkpointBlockRoundTrip() {
        byte[] b = LogFileWriter.checkpointBlock(0x10000, 0x10010);
        assertEquals(64, b.length);
        assertEquals(Optional.of(new Checkpoint(0x10000, 0x10010)), Checkpoint.parse(b, 0, 12288));
        assertEquals(Optional.empty(), Checkpoint.parse(b, 0, 0x10001)); // C below first_lsn
        b[3] ^= 1;
        assertEquals(Optional.empty(), Checkpoint.parse(b, 0, 12288));
    }

    @Test
    void checkpointEndBelowStartInvalid() {
        byte[] b = new byte[64];
        Be.put64(b, 0, 0x20000);
        Be.put64(b, 8, 0x1FFFF);
        Be.put32(b, 60, Crc32c.compute(b, 0, 60));
        assertEquals(Optional.empty(), Checkpoint.parse(b, 0, 12288));
        assertEquals("end LSN 0x1ffff is below checkpoint LSN 0x20000", Checkpoint.invalidReason(b, 0, 12288));
    }

    private static byte[] fileWith(byte[] cp1, byte[] cp2) {
        byte[] f = new byte[12288];
        System.arraycopy(LogFileWriter.header(12288, "MariaDB 10.11.19"), 0, f, 0, 512);
        if (cp1 != null) System.arraycopy(cp1, 0, f, 4096, 64);
        if (cp2 != null) System.arraycopy(cp2, 0, f, 8192, 64);
        return f;
    }

    @Test
    void newestPicksLargerCheckpoint() {
        byte[] f = fileWith(LogFileWriter.checkpointBlock(0x9000, 0x9100), LogFileWriter.checkpointBlock(0x8000, 0x8100));
        LogHeader h = LogHeader.parse(f);
        assertEquals(new Checkpoint(0x9000, 0x9100), Checkpoint.newest(f, h));
        f = fileWith(LogFileWriter.checkpointBlock(0x8000, 0x8100), LogFileWriter.checkpointBlock(0x9000, 0x9100));
        assertEquals(new Checkpoint(0x9000, 0x9100), Checkpoint.newest(f, h));
    }

    @Test
    void newestTieGoesToBlockTwo() {
        byte[] f = fileWith(LogFileWriter.checkpointBlock(0x9000, 0x9100), LogFileWriter.checkpointBlock(0x9000, 0x9200));
        assertEquals(new Checkpoint(0x9000, 0x9200), Checkpoint.newest(f, LogHeader.parse(f)));
    }

    @Test
    void newestSkipsInvalidBlock() {
        byte[] cp2 = LogFileWriter.checkpointBlock(0xA000, 0xA000);
        cp2[20] = 1; // reserved bytes must be zero (the CRC is still right)
        Be.put32(cp2, 60, Crc32c.compute(cp2, 0, 60));
        byte[] f = fileWith(LogFileWriter.checkpointBlock(0x9000, 0x9100), cp2);
        assertEquals(new Checkpoint(0x9000, 0x9100), Checkpoint.newest(f, LogHeader.parse(f)));
    }

    @Test
    void newestNoneValid() {
        byte[] cp1 = LogFileWriter.checkpointBlock(0x9000, 0x9100);
        int stored = Be.i32(cp1, 60);
        cp1[0] = 1;
        byte[] f = fileWith(cp1, null);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> Checkpoint.newest(f, LogHeader.parse(f)));
        assertEquals(String.format("no valid checkpoint in redo log: block 1 (offset 4096): checksum stored=0x%08x"
                        + " computed=0x%08x; block 2 (offset 8192): checksum stored=0x00000000 computed=0x%08x",
                stored, Crc32c.compute(cp1, 0, 60), Crc32c.compute(new byte[60], 0, 60)), e.getMessage());
    }

    @Test
    void geometry() {
        LogGeometry g = new LogGeometry(20000, 12288 + 1000);
        assertEquals(1000, g.capacity());
        assertEquals(12288, g.offset(20000));
        assertEquals(12288 + 999, g.offset(20999));
        assertEquals(12288, g.offset(21000));
        assertEquals(1, g.sequenceBit(20999));
        assertEquals(0, g.sequenceBit(21000));
        assertEquals(0, g.sequenceBit(21999));
        assertEquals(1, g.sequenceBit(22000));
        assertThrows(IllegalArgumentException.class, () -> g.offset(19999));
        assertThrows(IllegalArgumentException.class, () -> new LogGeometry(20000, 12288));
    }

    @Test
    void fileCheckpointMtrBytes() {
        byte[] m = LogFileWriter.fileCheckpointMtr(0x0102030405060708L);
        assertEquals(16, m.length);
        assertArrayEquals(new byte[] {(byte) 0xFA, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1}, java.util.Arrays.copyOf(m, 12));
        assertEquals(Crc32c.compute(m, 0, 11), Be.i32(m, 12));
    }

    @Test
    void logicallyEmptyLogParses() {
        long c = 0x3000 + 0x500;
        byte[] start = LogFileWriter.fileStart("Backup 10.11.19", c, c);
        LogHeader h = LogHeader.parse(start);
        assertEquals(c, h.firstLsn());
        assertEquals(new Checkpoint(c, c), Checkpoint.newest(start, h));
        byte[] m = LogFileWriter.fileCheckpointMtr(c);
        long[] seen = new long[2];
        MtrParser.ParseResult r = MtrParser.parse(m, 0, m.length, c, new LogGeometry(c, 12288 + 16), false,
                new MtrVisitor() {
                    @Override public void checkpoint(long lsn) { seen[0] = lsn; }
                    @Override public void endMtr(long endLsn) { seen[1] = endLsn; }
                });
        assertEquals(new MtrParser.ParseResult(16, MtrParser.Stop.NEED_MORE, "buffer ends at mtr boundary LSN 0x3510", 1), r);
        assertArrayEquals(new long[] {c, c + 16}, seen);
    }
}
