package io.strata.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SampleSchemaTest {

    @Test
    void rowValuesFitTheirColumnsAndNeedNoEscaping() {
        Set<Integer> keys = new HashSet<>();
        for (long id = 1; id <= 1000; id++) {
            int k = SampleSchema.k(id);
            assertTrue(k >= 0 && k < 100_000, "k(" + id + ")=" + k);
            keys.add(k);
            assertTrue(SampleSchema.c(id).length() <= 120, "c fits VARCHAR(120)");
            assertTrue(SampleSchema.c(id).matches("[a-z0-9-]+"));
            assertTrue(SampleSchema.txt(id).matches("[a-z0-9 ;]+"));
        }
        // 7919 is prime to 100000, so k repeats only every 100000 ids: k_idx gets one key per row
        assertEquals(1000, keys.size(), "distinct k over ids 1..1000");
    }

    @Test
    void rowValuesAreTheDocumentedFunctionsOfTheId() {
        assertEquals(7919, SampleSchema.k(1));
        assertEquals(2947, SampleSchema.k(13), "13 * 7919 = 102947, mod 100000");
        assertEquals("row-1-a", SampleSchema.c(1));
        assertEquals("row-26-", SampleSchema.c(26), "id % 26 == 0 adds no letters");
        assertEquals("row-27-a", SampleSchema.c(27));
        assertEquals("text of row 1; text of row 1; ", SampleSchema.txt(1), "1 + id % 40 repeats");
        assertEquals(1, SampleSchema.txt(40).split(";", -1).length - 1, "id 40 gives one repeat");
        assertEquals("`a``b`", SampleSchema.quote("a`b"));
    }

    @Test
    void flagsMatchTheFormatReference() {
        // FSP_SPACE_FLAGS for 16 KiB pages: full_crc32 marker bit 4 plus page size 5 -> 0x15;
        // legacy: POST_ANTELOPE (bit 0) and ATOMIC_BLOBS (bit 5) -> 0x21.
        int f = SampleSchema.FLAGS_FULL_CRC32;
        assertEquals(0x10, f & 0x10, "full_crc32 marker");
        assertEquals(5, f & 0xF, "PAGE_SSIZE 16K");
        int l = SampleSchema.FLAGS_LEGACY_CRC32;
        assertEquals(0, l & 0x10, "no full_crc32 marker");
        assertEquals(0x21, l & 0x21, "POST_ANTELOPE and ATOMIC_BLOBS");
        assertEquals(0, (l >> 6) & 0xF, "PAGE_SSIZE 0 = 16K");
    }
}
