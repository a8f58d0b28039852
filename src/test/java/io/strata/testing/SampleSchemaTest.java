package io.strata.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SampleSchemaTest {

    @Test
    void rowValuesArePureFunctionsOfTheIdAndNeedNoEscaping() {
        for (long id = 1; id <= 1000; id++) {
            assertEquals(SampleSchema.k(id), SampleSchema.k(id));
            assertTrue(SampleSchema.c(id).length() <= 120, "c fits VARCHAR(120)");
            assertTrue(SampleSchema.c(id).matches("[a-z0-9-]+"));
            assertTrue(SampleSchema.txt(id).matches("[a-z0-9 ;]+"));
        }
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
