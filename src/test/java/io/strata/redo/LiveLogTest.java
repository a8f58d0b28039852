package io.strata.redo;

import io.strata.innodb.Checkpoint;
import io.strata.innodb.LogFileWriter;
import io.strata.innodb.LogGeometry;
import io.strata.innodb.LogHeader;
import io.strata.innodb.MtrBuilder;
import io.strata.innodb.MtrVisitor;
import io.strata.innodb.RecordType;
import io.strata.repo.ChangedPages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The live-log reader on a circular log built in the test, which wraps past the end of the file. */
class LiveLogTest {
    private static final long FIRST = 12288;
    private static final int CAPACITY = 4 << 20; // more than LiveLog.MARGIN
    private static final long START = FIRST + CAPACITY - 3000; // the range wraps at FIRST + CAPACITY

    @TempDir
    Path dir;

    /** The log file, the LSN of each mtr start, and the LSN after the last mtr. */
    private record Log(Path file, List<Long> mtrStarts, long end) {}

    private Log build(int mtrs) throws IOException {
        LogGeometry g = new LogGeometry(FIRST, LogHeader.START_OFFSET + CAPACITY);
        byte[] file = new byte[LogHeader.START_OFFSET + CAPACITY];
        System.arraycopy(LogFileWriter.header(FIRST, "MariaDB 10.11.19"), 0, file, 0, LogHeader.BLOCK_SIZE);
        System.arraycopy(LogFileWriter.checkpointBlock(START, START), 0, file, Checkpoint.CHECKPOINT_1, Checkpoint.BLOCK_SIZE);
        long lsn = START;
        List<Long> starts = new ArrayList<>();
        for (int i = 0; i < mtrs; i++) {
            MtrBuilder b = new MtrBuilder();
            if (i == 3) {
                b.file(RecordType.FILE_DELETE, 9, "./db/gone.ibd");
            } else if (i == 5) {
                b.file(RecordType.FILE_CREATE, 11, "./db/new.ibd");
            } else if (i == 6) {
                b.page(RecordType.INIT_PAGE, 11, 0, new byte[0]);
            } else if (i == 7) {
                b.page(RecordType.INIT_PAGE, 12, 0, new byte[0]);
            } else {
                b.page(RecordType.WRITE, 5, 100 + i, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
                b.samePage(RecordType.WRITE, new byte[] {0, 1, 2});
            }
            byte[] probe = b.build(0);
            long termLsn = lsn + probe.length - 5;
            byte[] m = b.build(g.sequenceBit(termLsn));
            for (int k = 0; k < m.length; k++) {
                file[(int) g.offset(lsn + k)] = m[k];
            }
            starts.add(lsn);
            lsn += m.length;
        }
        Path p = dir.resolve("ib_logfile0");
        Files.write(p, file);
        return new Log(p, starts, lsn);
    }

    @Test
    void readsAWrappedRangeInSmallPiecesAndCollectsPageIds() throws Exception {
        Log l = build(400);
        assertTrue(l.end() > FIRST + CAPACITY, "the test log must wrap");
        ChangedPages pages = new ChangedPages();
        PageCollector pc = new PageCollector(pages);
        try (LiveLog log = LiveLog.open(l.file(), 1024)) {
            assertEquals(START, log.checkpoint().checkpointLsn());
            long got = log.scan(START, l.end(), () -> l.end(), pc);
            assertEquals(l.end(), got);
        }
        assertEquals(400, pc.mtrCount());
        int[] expected = new int[396];
        for (int i = 0, k = 0; i < 400; i++) {
            if (i != 3 && i != 5 && i != 6 && i != 7) {
                expected[k++] = 100 + i;
            }
        }
        assertArrayEquals(expected, pages.pages(5));
        assertEquals(l.mtrStarts().get(4), pages.wholeLsn(9), "FILE_DELETE marks its space whole as of the end of its mtr");
        assertTrue(pages.isWhole(9, START));
        assertFalse(pages.isWhole(11, START), "a file created in the range has every page named by the log");
        assertArrayEquals(new int[] {0}, pages.pages(11));
        assertEquals(l.mtrStarts().get(8), pages.wholeLsn(12), "page 0 re-initialised in place: whole");
    }

    @Test
    void stopsAtTheLastMtrThatEndsBeforeTheLimit() throws Exception {
        Log l = build(10);
        long mid = l.mtrStarts().get(6) + 3;
        try (LiveLog log = LiveLog.open(l.file(), 1024)) {
            assertEquals(l.mtrStarts().get(6), log.scan(START, mid, () -> l.end(), new PageCollector(new ChangedPages())));
        }
    }

    @Test
    void refusesWhatTheServerMayHaveOverwritten() throws Exception {
        Log l = build(50);
        try (LiveLog log = LiveLog.open(l.file(), 1024)) {
            long current = START + CAPACITY - LiveLog.MARGIN + 1;
            assertNull(log.whyNotHeld(START, START + CAPACITY - LiveLog.MARGIN - 1));
            LiveLog.Unavailable e = assertThrows(LiveLog.Unavailable.class,
                    () -> log.scan(START, l.end(), () -> current, new PageCollector(new ChangedPages())));
            assertEquals("the server has written " + (current - START) + " bytes of redo log since LSN " + START
                    + ", more than its log holds (" + CAPACITY + " bytes of capacity, innodb_log_file_size)", e.getMessage());
            assertEquals("the server's redo log now begins at LSN 12288 (it was resized or re-created since LSN 100)", log.whyNotHeld(100, 200));
        }
    }

    @Test
    void aDamagedMtrEndsTheScanWithItsLsn() throws Exception {
        Log l = build(20);
        byte[] f = Files.readAllBytes(l.file());
        LogGeometry g = new LogGeometry(FIRST, f.length);
        long bad = l.mtrStarts().get(12);
        f[(int) g.offset(bad + 4)] ^= 0x40;
        Files.write(l.file(), f);
        List<Long> seen = new ArrayList<>();
        try (LiveLog log = LiveLog.open(l.file(), 1024)) {
            LiveLog.Unavailable e = assertThrows(LiveLog.Unavailable.class,
                    () -> log.scan(START, l.end(), () -> l.end(), new MtrVisitor() {
                        @Override
                        public void endMtr(long endLsn) {
                            seen.add(endLsn);
                        }
                    }));
            assertTrue(e.getMessage().startsWith("the redo log holds no valid mini-transaction at LSN " + bad + ", below LSN " + l.end()
                    + " (mtr checksum mismatch at LSN 0x" + Long.toHexString(bad)), e.getMessage());
            assertTrue(e.getMessage().endsWith("; the server overwrote or rewrote it"), e.getMessage());
        }
        assertEquals(bad, seen.get(seen.size() - 1), "every mtr before the damaged one was reported");
        assertFalse(seen.contains(l.end()));
    }

    @Test
    void scanToEndReadsAStoppedServersLogToItsLastValidMtr() throws Exception {
        Log l = build(400);
        ChangedPages pages = new ChangedPages();
        try (LiveLog log = LiveLog.open(l.file(), 1024)) {
            // across the wrap, in 1 KiB pieces, to the zeros after the last mtr
            assertEquals(l.end(), log.scanToEnd(START, new PageCollector(pages)));
        }
        assertEquals(396, pages.pageCount(5));
        // a damaged mtr is where the log ends, as crash recovery finds it; what follows is not reported
        byte[] f = Files.readAllBytes(l.file());
        LogGeometry g = new LogGeometry(FIRST, f.length);
        long bad = l.mtrStarts().get(200);
        f[(int) g.offset(bad + 6)] ^= 0x01;
        Files.write(l.file(), f);
        ChangedPages before = new ChangedPages();
        try (LiveLog log = LiveLog.open(l.file(), 1024)) {
            assertEquals(bad, log.scanToEnd(START, new PageCollector(before)));
        }
        assertEquals(196, before.pageCount(5), "the mtrs before the damaged one (four of the first 200 name no page of space 5)");
        assertEquals(100 + 199, before.pages(5)[195]);
    }
}
