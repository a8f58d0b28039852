package io.strata.innodb;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ROW_FORMAT=COMPRESSED pages written by a real MariaDB 10.11.19 (fixtures zipN.ibd.gz and zipenc4.ibd.gz,
 * made by src/test/fixtures/make-zip-fixtures.sh; see the fixture README): the checksum over the
 * compressed frame, the page size KEY_BLOCK_SIZE, and what a flipped byte or a torn read does.
 */
class CompressedPageTest {

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = CompressedPageTest.class.getResourceAsStream("/fixtures/mariadb-10.11/" + name)) {
            assertNotNull(in, name);
            return new GZIPInputStream(in).readAllBytes();
        }
    }

    /** Legacy flags of a COMPRESSED table: POST_ANTELOPE | ZIP_SSIZE &lt;&lt; 1 | ATOMIC_BLOBS, 16K logical pages. */
    private static int expectedFlags(int kbs) {
        int zipSsize = Integer.numberOfTrailingZeros(kbs << 10) - 9;
        return 1 | zipSsize << 1 | 1 << 5;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8, 16})
    void everyPageOfARealCompressedFileVerifies(int kbs) throws IOException {
        byte[] f = fixture("zip" + kbs + ".ibd.gz");
        FspHeader h = FspHeader.read(f, 0);
        TablespaceFlags flags = h.flags();
        assertEquals(new TablespaceFlags(expectedFlags(kbs)), flags, flags.describe());
        assertTrue(flags.rowFormatCompressed());
        assertEquals(kbs << 10, flags.physicalPageSize());
        assertEquals(16384, flags.logicalPageSize());
        assertEquals("0x" + Integer.toHexString(expectedFlags(kbs)) + " (legacy, 16K, COMPRESSED KEY_BLOCK_SIZE=" + kbs + ")", flags.describe());

        int ps = flags.physicalPageSize();
        assertEquals(0, f.length % ps);
        int valid = 0;
        Set<Integer> types = new HashSet<>();
        for (int i = 0; i < f.length / ps; i++) {
            PageVerdict v = PageChecker.verify(f, i * ps, flags, i);
            assertTrue(v.ok(), "page " + i + ": " + v);
            if (v.kind() == PageVerdict.Kind.VALID) {
                valid++;
                types.add(FilHeader.pageType(f, i * ps));
                assertEquals(h.spaceId(), FilHeader.spaceId(f, i * ps));
                // 10.11 writes the crc32 variant whatever innodb_checksum_algorithm says
                assertEquals(Be.i32(f, i * ps), PageChecksums.zipCrc32(f, i * ps, ps), "page " + i);
            }
        }
        assertTrue(valid >= 6, "valid pages: " + valid);
        assertTrue(types.containsAll(Set.of(PageType.FSP_HDR, PageType.IBUF_BITMAP, PageType.INODE, PageType.INDEX)), types.toString());
        if (kbs <= 2) {
            assertTrue(types.contains(PageType.ZBLOB), "BLOBs stored off-page in compressed BLOB pages: " + types);
        }
        // the page number check still applies
        assertEquals("CORRUPT: page number 3 at position 4", PageChecker.verify(f, 3 * ps, flags, 4).toString());
    }

    @Test
    void aFlippedByteInTheFrameIsCorruptWithBothComputedValues() throws IOException {
        byte[] f = fixture("zip4.ibd.gz");
        TablespaceFlags flags = FspHeader.read(f, 0).flags();
        int off = 3 * 4096;
        f[off + 1000] ^= 0x40;
        int crc = PageChecksums.zipCrc32(f, off, 4096);
        int adler = PageChecksums.zipAdler32(f, off, 4096);
        assertEquals(String.format("CORRUPT: compressed page checksum stored=0x0f1f8465 computed crc32=0x%08x adler32=0x%08x"
                + " (ROW_FORMAT=COMPRESSED, KEY_BLOCK_SIZE=4K)", crc, adler), PageChecker.verify(f, off, flags, 3).toString());
        // the last byte of the frame is covered (no trailer on a compressed page)
        f[off + 1000] ^= 0x40;
        f[off + 4095] ^= 1;
        assertEquals(PageVerdict.Kind.CORRUPT, PageChecker.verify(f, off, flags, 3).kind());
    }

    @Test
    void aTornReadIsCorrupt() throws IOException {
        byte[] f = fixture("zip8.ibd.gz");
        TablespaceFlags flags = FspHeader.read(f, 0).flags();
        int ps = 8192;
        byte[] torn = new byte[ps];
        // the first 4 KiB of page 4 (a new write under way) over the rest of page 4 as an older copy would
        // hold it: here the rest of page 5, another index page of the same table
        System.arraycopy(f, 4 * ps, torn, 0, 4096);
        System.arraycopy(f, 5 * ps + 4096, torn, 4096, ps - 4096);
        assertEquals(PageVerdict.Kind.VALID, PageChecker.verify(f, 4 * ps, flags, 4).kind());
        assertEquals(PageVerdict.Kind.CORRUPT, PageChecker.verify(torn, 0, flags, 4).kind());
    }

    @Test
    void theChecksumSkipsTheLsnAndKeyVersionFields() throws IOException {
        byte[] f = fixture("zip4.ibd.gz");
        TablespaceFlags flags = FspHeader.read(f, 0).flags();
        int off = 3 * 4096;
        int crc = PageChecksums.zipCrc32(f, off, 4096);
        for (int i = FilHeader.FIL_PAGE_LSN; i < FilHeader.FIL_PAGE_LSN + 8; i++) {
            f[off + i] ^= (byte) 0xff;
        }
        assertEquals(crc, PageChecksums.zipCrc32(f, off, 4096), "FIL_PAGE_LSN [16,24) is not covered");
        f[off + FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION + 5] ^= 1;
        assertEquals(crc, PageChecksums.zipCrc32(f, off, 4096), "[26,34) is not covered");
        f[off + FilHeader.FIL_PAGE_TYPE + 1] ^= 1;
        assertNotEquals(crc, PageChecksums.zipCrc32(f, off, 4096), "FIL_PAGE_TYPE is covered");
        f[off + FilHeader.FIL_PAGE_TYPE + 1] ^= 1;
        f[off + FilHeader.FIL_PAGE_SPACE_ID] ^= 1;
        assertNotEquals(crc, PageChecksums.zipCrc32(f, off, 4096), "FIL_PAGE_SPACE_ID is covered");
        f[off + FilHeader.FIL_PAGE_SPACE_ID] ^= 1;
        assertTrue(PageChecker.verify(f, off, flags, 3).ok());
    }

    @Test
    void olderChecksumsAreAcceptedAsTheServerDoes() throws IOException {
        byte[] f = fixture("zip4.ibd.gz");
        TablespaceFlags flags = FspHeader.read(f, 0).flags();
        int off = 3 * 4096;
        // value computed independently: Python's zlib.adler32 chained over [4,16), [24,26), [34,4096) starting at 0
        assertEquals(0xb20b1685, PageChecksums.zipAdler32(f, off, 4096));
        Be.put32(f, off, 0xb20b1685);
        assertEquals(PageVerdict.Kind.VALID, PageChecker.verify(f, off, flags, 3).kind(), "innodb (Adler-32) checksum");
        Be.put32(f, off, PageChecksums.NO_CHECKSUM_MAGIC);
        assertEquals(PageVerdict.Kind.VALID, PageChecker.verify(f, off, flags, 3).kind(), "innodb_checksum_algorithm=none");
        Be.put32(f, off, 0);
        assertEquals(PageVerdict.Kind.CORRUPT, PageChecker.verify(f, off, flags, 3).kind(), "0 is no checksum on a page with data");
        assertEquals(PageVerdict.Kind.ZERO, PageChecker.verify(new byte[4096], 0, flags, 9).kind());
    }

    @Test
    void encryptedCompressedPagesCarryTheirChecksumAfterTheKeyVersion() throws IOException {
        byte[] f = fixture("zipenc4.ibd.gz");
        TablespaceFlags flags = FspHeader.read(f, 0).flags();
        assertEquals(new TablespaceFlags(expectedFlags(4)), flags);
        // crypt data after 64 descriptors of 40 bytes (16K logical pages), not 16 of 88 bytes as 4K logical pages would have
        assertEquals(38 + 150 + 64 * 40, FspHeader.cryptDataOffset(4096, 16384));
        assertTrue(FspHeader.cryptDataEncrypted(f, 0, flags));
        assertFalse(FspHeader.cryptDataEncrypted(fixture("zip4.ibd.gz"), 0, flags));
        int ps = 4096;
        int encrypted = 0;
        for (int i = 0; i < f.length / ps; i++) {
            int off = i * ps;
            PageVerdict v = PageChecker.verify(f, off, flags, i);
            assertTrue(v.ok(), "page " + i + ": " + v);
            if (v.kind() == PageVerdict.Kind.VALID && i > 0) {
                assertEquals(1, Be.i32(f, off + FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION), "key version of page " + i);
                assertEquals(PageChecksums.zipCrc32(f, off, ps), Be.i32(f, off + FilHeader.FIL_PAGE_FILE_FLUSH_LSN_OR_KEY_VERSION + 4));
                encrypted++;
            }
        }
        assertTrue(encrypted >= 5, "encrypted pages: " + encrypted);
        f[3 * ps + 2000] ^= 1;
        assertEquals(PageVerdict.Kind.CORRUPT, PageChecker.verify(f, 3 * ps, flags, 3).kind());
    }
}
