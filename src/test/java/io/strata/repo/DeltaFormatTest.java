package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeltaFormatTest {
    static final int PS = 4096;
    static final String WHERE = "delta of app/t.ibd in backup B";

    private static byte[] page(int seed) {
        byte[] p = new byte[PS];
        new Random(seed).nextBytes(p);
        return p;
    }

    /** Raw delta content built by hand: (page number u32 big-endian, page) per entry. */
    private static byte[] entries(long... pageNos) {
        ByteBuffer b = ByteBuffer.allocate(pageNos.length * (4 + PS));
        for (long no : pageNos) {
            b.putInt((int) no);
            b.put(page((int) no));
        }
        return b.array();
    }

    private static DeltaFormat.Reader reader(byte[] raw) {
        return new DeltaFormat.Reader(new ByteArrayInputStream(raw), PS, WHERE);
    }

    @Test
    void roundTrip() throws IOException {
        long[] pageNos = {0, 3, 4, 0x8000_0000L, 0xFFFF_FFFFL};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DeltaFormat.Writer w = new DeltaFormat.Writer(out, PS);
        byte[] buf = new byte[3 + PS];
        for (long no : pageNos) {
            System.arraycopy(page((int) no), 0, buf, 3, PS); // the writer takes the page at an offset
            w.write(no, buf, 3);
        }
        assertEquals(pageNos.length, w.entries());
        byte[] raw = out.toByteArray();
        assertArrayEquals(entries(pageNos), raw, "each entry is the page number, big-endian, then the page verbatim");
        assertEquals("00000003", HexFormat.of().formatHex(raw, 4 + PS, 4 + PS + 4));
        assertEquals("80000000", HexFormat.of().formatHex(raw, 3 * (4 + PS), 3 * (4 + PS) + 4));

        DeltaFormat.Reader r = reader(raw);
        assertEquals(-1, r.pageNo());
        for (long no : pageNos) {
            assertTrue(r.next());
            assertEquals(no, r.pageNo());
            assertArrayEquals(page((int) no), r.page(), "page " + no);
        }
        assertFalse(r.next());
        assertEquals(DeltaFormat.END, r.pageNo());
        assertFalse(r.next(), "the end stays the end");
        assertEquals(pageNos.length, r.entries());
    }

    @Test
    void anEmptyDeltaHasNoEntries() throws IOException {
        DeltaFormat.Reader r = reader(new byte[0]);
        assertFalse(r.next());
        assertEquals(DeltaFormat.END, r.pageNo());
        assertEquals(0, r.entries());
    }

    @Test
    void pagesThatDoNotAscendAreRefused() throws IOException {
        DeltaFormat.Reader r = reader(entries(2, 7, 5));
        assertTrue(r.next());
        assertTrue(r.next());
        CorruptDataException e = assertThrows(CorruptDataException.class, r::next);
        assertEquals("delta of app/t.ibd in backup B lists page 5 after page 7 (pages must ascend)", e.getMessage());
        assertEquals("the backup is damaged; restore another backup", e.hint());
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());

        DeltaFormat.Reader twice = reader(entries(7, 7));
        twice.next();
        assertEquals("delta of app/t.ibd in backup B lists page 7 after page 7 (pages must ascend)",
                assertThrows(CorruptDataException.class, twice::next).getMessage());
    }

    @Test
    void aTruncatedEntryIsRefused() throws IOException {
        byte[] two = entries(7, 9);
        DeltaFormat.Reader insidePage = reader(Arrays.copyOf(two, 4 + PS + 4 + 100));
        assertTrue(insidePage.next());
        assertEquals("delta of app/t.ibd in backup B ends inside the entry of page 9: 104 of 4100 bytes",
                assertThrows(CorruptDataException.class, insidePage::next).getMessage());

        DeltaFormat.Reader insidePageNo = reader(Arrays.copyOf(two, 4 + PS + 2));
        assertTrue(insidePageNo.next());
        assertEquals("delta of app/t.ibd in backup B ends inside the entry after page 7: 2 of 4100 bytes",
                assertThrows(CorruptDataException.class, insidePageNo::next).getMessage());

        DeltaFormat.Reader first = reader(Arrays.copyOf(two, 3));
        assertEquals("delta of app/t.ibd in backup B ends inside its first entry: 3 of 4100 bytes",
                assertThrows(CorruptDataException.class, first::next).getMessage());
    }

    @Test
    void lengthIsEntriesTimesPageNumberAndPage() {
        assertEquals(0, DeltaFormat.length(0, 16384));
        assertEquals(3 * 4100, DeltaFormat.length(3, PS));
        assertEquals(entries(1, 2, 3).length, DeltaFormat.length(3, PS));
        assertEquals(4_000_000_000L * 65540, DeltaFormat.length(4_000_000_000L, 65536), "no int overflow");
    }

    @Test
    void theWriterRefusesPagesOutOfOrder() throws IOException {
        DeltaFormat.Writer w = new DeltaFormat.Writer(new ByteArrayOutputStream(), PS);
        w.write(5, new byte[PS], 0);
        assertEquals("delta entry for page 5 after page 5 (pages must ascend, below 2^32)",
                assertThrows(IllegalArgumentException.class, () -> w.write(5, new byte[PS], 0)).getMessage());
        assertEquals("delta entry for page 4294967296 after page 5 (pages must ascend, below 2^32)",
                assertThrows(IllegalArgumentException.class, () -> w.write(1L << 32, new byte[PS], 0)).getMessage());
    }
}
