package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChangeSetFormatTest {
    private static final ChangeSetFormat.Header H = new ChangeSetFormat.Header(1000, 2000, 12288, 8 << 20, 7, 1_700_000_000L);

    private static byte[] encode(ChangeSetFormat.Header h, ChangedPages p) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChangeSetFormat.write(out, h, p);
        return out.toByteArray();
    }

    @Test
    void exactBytesOfASmallSet() throws IOException {
        ChangedPages p = new ChangedPages();
        for (int page : new int[] {3, 4, 5, 300}) {
            p.add(5, page);
        }
        p.markWhole(7, 1500);
        p.mark(7, ChangedPages.RENAMED);
        byte[] b = encode(H, p);
        String hex = HexFormat.of().formatHex(b);
        assertEquals("0001" + "00000000000003e8" + "00000000000007d0" + "0000000000003000" + "0000000000800000" + "0000000000000007"
                + "000000006553f100" + "00000002"
                // space 5: flags 0, whole_lsn 0, 4 pages, 2 runs: (gap 3, len-1 2), (gap 300-6=294 = a6 02, len-1 0)
                + "00000005" + "00" + "0000000000000000" + "00000004" + "00000002" + "0302" + "a60200"
                // space 7: WHOLE|RENAMED, whole_lsn 1500, no pages
                + "00000007" + "03" + "00000000000005dc" + "00000000" + "00000000", hex);
        ChangedPages back = new ChangedPages();
        assertEquals(H, ChangeSetFormat.read(new ByteArrayInputStream(b), back, "x"));
        assertArrayEquals(new int[] {3, 4, 5, 300}, back.pages(5));
        assertEquals(1500, back.wholeLsn(7));
        assertTrue(back.isWhole(7, 1499));
        assertFalse(back.isWhole(7, 1500), "an event at or before the parent's start does not make the file whole");
        assertEquals(ChangedPages.WHOLE | ChangedPages.RENAMED, back.flags(7));
    }

    @Test
    void randomRoundTrip() throws IOException {
        Random r = new Random(42);
        ChangedPages p = new ChangedPages();
        for (int i = 0; i < 20_000; i++) {
            long space = r.nextInt(50);
            int start = r.nextInt(1 << 20);
            int len = r.nextInt(10) == 0 ? r.nextInt(200) : 1;
            for (int k = 0; k < len; k++) {
                p.add(space, start + k);
            }
        }
        p.add(4_000_000_000L, Integer.MAX_VALUE - 1);
        byte[] b = encode(H, p);
        ChangedPages back = new ChangedPages();
        ChangeSetFormat.read(new ByteArrayInputStream(b), back, "x");
        assertEquals(p.spaces(), back.spaces());
        for (long s : p.spaces()) {
            assertArrayEquals(p.pages(s), back.pages(s), "space " + s);
        }
        assertTrue(b.length < 3 * p.pageCount(), "encoding should take well under 3 bytes a page: " + b.length + " for " + p.pageCount());
    }

    @Test
    void pageNumbersAbove2To31MakeTheSpaceWhole() {
        ChangedPages p = new ChangedPages();
        p.add(9, 0x8000_0001);
        p.add(9, Integer.MAX_VALUE);
        assertTrue(p.isWhole(9, Long.MAX_VALUE - 1));
        assertEquals(0, p.pageCount());
    }

    @Test
    void corruptionIsNamed() throws IOException {
        ChangedPages p = new ChangedPages();
        p.add(5, 10);
        p.add(6, 11);
        byte[] good = encode(H, p);

        byte[] v = good.clone();
        v[1] = 0;
        assertEquals("change set format version 0 is outside the supported range [1,1] (resource=R)", fail(v));

        byte[] t = java.util.Arrays.copyOf(good, good.length - 1);
        assertEquals("change set is truncated (resource=R)", fail(t));

        byte[] order = good.clone();
        // second entry's space id (offset 54 + 21 + 2 bytes of runs) set below the first
        int second = 54 + 21 + 2;
        order[second + 3] = 4;
        assertEquals("space 4 follows space 5 (space ids must ascend) (resource=R)", fail(order));

        byte[] count = good.clone();
        count[54 + 13 + 3] = 2; // space 5 declares 2 pages
        assertEquals("space 5 declares 2 pages, its runs hold 1 (resource=R)", fail(count));

        byte[] flags = good.clone();
        flags[54 + 4] = 1; // WHOLE without whole_lsn
        assertEquals("space 5 has flags 1 and whole_lsn 0 (WHOLE goes with a non-zero LSN) (resource=R)", fail(flags));

        byte[] extra = java.util.Arrays.copyOf(good, good.length + 1);
        assertEquals("bytes follow the last space entry (resource=R)", fail(extra));
    }

    @Test
    void aNewerVersionIsRefusedAsTooNew() throws IOException {
        byte[] b = encode(H, new ChangedPages());
        b[1] = 2;
        StrataException e = assertThrows(StrataException.class, () -> ChangeSetFormat.read(new ByteArrayInputStream(b), new ChangedPages(), "R"));
        assertEquals(ErrorCode.FORMAT_TOO_NEW, e.code());
        assertEquals("change set R was written by a newer strata, version 2; this one reads up to 1", e.getMessage());
        assertEquals("upgrade strata to read this repository", e.hint());
    }

    private static String fail(byte[] b) {
        return assertThrows(CorruptDataException.class, () -> ChangeSetFormat.read(new ByteArrayInputStream(b), new ChangedPages(), "R")).getMessage();
    }
}
