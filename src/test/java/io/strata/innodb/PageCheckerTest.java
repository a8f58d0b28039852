package io.strata.innodb;

import org.junit.jupiter.api.Test;

import static io.strata.innodb.PageVerdict.Kind.*;
import static org.junit.jupiter.api.Assertions.*;

class PageCheckerTest {
    private static final TablespaceFlags FCRC = new TablespaceFlags(0x15);
    private static final TablespaceFlags LEGACY = new TablespaceFlags(0x21);
    private static final int PS = 16384;

    private static PageVerdict verify(byte[] p, TablespaceFlags f, long pageNo) {
        return PageChecker.verify(p, 0, f, pageNo);
    }

    @Test
    void pagesWrittenWithoutRedoCarryLsnZeroAndData() {
        byte[] imported = PageBuilder.fullCrc32(PS).lsn(0).build();
        assertTrue(PageChecker.writtenWithoutRedo(imported, 0, PS), "IMPORT TABLESPACE leaves LSN 0 on pages with data");
        assertTrue(verify(imported, FCRC, 3).ok());
        assertFalse(PageChecker.writtenWithoutRedo(new byte[PS], 0, PS), "a page never written is all zero");
        assertFalse(PageChecker.writtenWithoutRedo(PageBuilder.fullCrc32(PS).build(), 0, PS));
    }

    // ---- full_crc32

    @Test
    void fullCrc32Valid() {
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(3).build();
        assertEquals(PageVerdict.valid(), verify(p, FCRC, 3));
        assertTrue(verify(p, FCRC, 3).ok());
    }

    @Test
    void fullCrc32ValidAtOffsetInLargerBuffer() {
        byte[] p = PageBuilder.fullCrc32(4096).pageNo(1).build();
        byte[] buf = new byte[3 * 4096];
        System.arraycopy(p, 0, buf, 4096, 4096);
        assertEquals(VALID, PageChecker.verify(buf, 4096, new TablespaceFlags(0x13), 1).kind());
        assertEquals(ZERO, PageChecker.verify(buf, 8192, new TablespaceFlags(0x13), 2).kind());
    }

    @Test
    void fullCrc32Zero() {
        assertEquals(PageVerdict.zero(), verify(new byte[PS], FCRC, 12));
        assertTrue(verify(new byte[PS], FCRC, 12).ok());
    }

    @Test
    void fullCrc32BitFlip() {
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(3).build();
        int stored = Be.i32(p, PS - 4);
        p[100] ^= 0x01;
        int computed = PageChecksums.fullCrc32(p, 0, PS);
        PageVerdict v = verify(p, FCRC, 3);
        assertEquals(CORRUPT, v.kind());
        assertFalse(v.ok());
        assertEquals(String.format("crc32c stored=0x%08x computed=0x%08x (full_crc32)", stored, computed), v.reason());
    }

    @Test
    void fullCrc32GoldenChecksum() {
        byte[] p = new byte[4096];
        Be.put32(p, 4, 1);
        Be.put32(p, 34, 5);
        assertEquals(Crc32c.compute(p, 0, 4092), PageChecksums.fullCrc32(p, 0, 4096));
        // one non-zero byte with a zero checksum is not a zero page
        assertEquals(CORRUPT, verify(p, new TablespaceFlags(0x13), 1).kind());
    }

    @Test
    void fullCrc32TornPage() {
        // header LSN and trailer LSN differ but the checksum was computed over the torn image
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(3).lsn(0x5000_0001L).build();
        Be.put32(p, PS - 8, 0x4FFF_FFF0);
        Be.put32(p, PS - 4, PageChecksums.fullCrc32(p, 0, PS));
        PageVerdict v = verify(p, FCRC, 3);
        assertEquals(PageVerdict.corrupt("LSN low 32 bits header 0x50000001 trailer 0x4ffffff0"), v);
    }

    @Test
    void fullCrc32EncryptedSkipsLsnTrailer() {
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(3).keyVersion(7).build();
        Be.put32(p, PS - 8, 0xCAFEBABE); // encrypted body: the trailer LSN is ciphertext
        Be.put32(p, PS - 4, PageChecksums.fullCrc32(p, 0, PS));
        assertEquals(VALID, verify(p, FCRC, 3).kind());
    }

    @Test
    void fullCrc32MisplacedPage() {
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(7).build();
        assertEquals(PageVerdict.corrupt("page number 7 at position 8"), verify(p, FCRC, 8));
        assertEquals(VALID, verify(p, FCRC, -1).kind()); // check disabled
    }

    @Test
    void fullCrc32PageNumberIsUnsigned() {
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(0xFFFFFFF0).build();
        assertEquals(VALID, verify(p, FCRC, 0xFFFFFFF0L).kind());
    }

    @Test
    void fullCrc32PageCompressed() {
        TablespaceFlags f = new TablespaceFlags(0x15 | 1 << 5);
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(4).compressedSize(0x0A00).build();
        assertEquals(0x800A, FilHeader.pageType(p, 0));
        assertEquals(VALID, verify(p, f, 4).kind());
        // the checksum is at size-4; bytes after size are not covered (punched hole or garbage)
        p[PS - 1] = 0x55;
        assertEquals(VALID, verify(p, f, 4).kind());
        int stored = Be.i32(p, 0x0A00 - 4);
        p[0x0A00 - 5] ^= 0x40;
        assertEquals(String.format("crc32c stored=0x%08x computed=0x%08x (full_crc32, page_compressed size 2560)",
                stored, Crc32c.compute(p, 0, 0x0A00 - 4)), verify(p, f, 4).reason());
    }

    @Test
    void fullCrc32PageCompressedSizeTooLarge() {
        byte[] p = PageBuilder.fullCrc32(PS).pageNo(4).build();
        p[24] = (byte) 0x80;
        p[25] = 0x40; // 0x40 * 256 = 16384, not below the page size
        assertEquals(PageVerdict.corrupt("page_compressed size 16384 from FIL_PAGE_TYPE 0x8040 is not in [256, 16384) (full_crc32)"),
                verify(p, FCRC, 4));
    }

    // ---- legacy crc32

    @Test
    void legacyCrc32Valid() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(3).build();
        assertEquals(VALID, verify(p, LEGACY, 3).kind());
        assertEquals(Be.i32(p, 0), Be.i32(p, PS - 8));
    }

    @Test
    void legacyZero() {
        assertEquals(ZERO, verify(new byte[PS], LEGACY, 5).kind());
        // bytes 26..33 (old flush LSN) are ignored for the zero rule
        byte[] p = new byte[PS];
        Be.put64(p, 26, 0x12345678L);
        assertEquals(ZERO, verify(p, LEGACY, 0).kind());
        assertEquals(ZERO, verify(p, new TablespaceFlags(0), 0).kind());
    }

    @Test
    void legacyCrc32BitFlip() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(3).build();
        int stored = Be.i32(p, 0);
        p[5000] ^= 0x10;
        PageVerdict v = verify(p, LEGACY, 3);
        assertEquals(CORRUPT, v.kind());
        assertEquals(String.format("checksum field1=0x%08x field2=0x%08x computed crc32=0x%08x innodb new=0x%08x old=0x%08x (legacy)",
                stored, stored, PageChecksums.crc32(p, 0, PS), PageChecksums.innodbNew(p, 0, PS),
                PageChecksums.innodbOld(p, 0)), v.reason());
    }

    @Test
    void legacyTornPage() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(3).lsn(0x77_0000_0010L).build();
        Be.put32(p, PS - 4, 0x0F);
        assertEquals(PageVerdict.corrupt("LSN low 32 bits header 0x00000010 trailer 0x0000000f"), verify(p, LEGACY, 3));
    }

    @Test
    void legacyMisplaced() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(7).build();
        assertEquals(PageVerdict.corrupt("page number 7 at position 8"), verify(p, LEGACY, 8));
    }

    @Test
    void legacyCrc32With4kPages() {
        TablespaceFlags f = new TablespaceFlags(3 << 6 | 0x21);
        byte[] p = PageBuilder.legacy(4096, PageBuilder.Algo.CRC32).pageNo(2).build();
        assertEquals(VALID, PageChecker.verify(p, 0, f, 2).kind());
    }

    // ---- legacy innodb fold and none

    @Test
    void legacyInnodbValid() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.INNODB).pageNo(3).build();
        assertEquals(VALID, verify(p, LEGACY, 3).kind());
    }

    @Test
    void legacyInnodbBitFlip() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.INNODB).pageNo(3).build();
        p[200] ^= 0x01;
        assertEquals(CORRUPT, verify(p, LEGACY, 3).kind());
        // field 2 only covers [0, 26): damage there is seen by the old checksum
        byte[] q = PageBuilder.legacy(PS, PageBuilder.Algo.INNODB).pageNo(3).build();
        Be.put32(q, PS - 8, Be.i32(q, PS - 8) ^ 1);
        assertEquals(CORRUPT, verify(q, LEGACY, 3).kind());
    }

    @Test
    void legacyInnodbFieldOneZeroAccepted() {
        // field 1 = 0 is tolerated in non-strict mode when field 2 matches the old checksum
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.INNODB).pageNo(3).build();
        Be.put32(p, 0, 0);
        Be.put32(p, PS - 8, PageChecksums.innodbOld(p, 0)); // the old checksum covers field 1
        assertEquals(VALID, verify(p, LEGACY, 3).kind());
    }

    @Test
    void foldGoldenValues() {
        assertEquals(0L, PageChecksums.fold(new byte[0], 0, 0));
        // one byte b: ((((0 ^ b ^ M2) << 8) + 0) ^ M) + b
        long m2 = 1653893711L, m = 1463735687L;
        assertEquals((((5 ^ m2) << 8) ^ m) + 5, PageChecksums.fold(new byte[] {5}, 0, 1));
    }

    @Test
    void legacyNoChecksum() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.NONE).pageNo(3).build();
        assertEquals(VALID, verify(p, LEGACY, 3).kind());
    }

    @Test
    void legacyEncryptedPostChecksum() {
        byte[] p = PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(3).keyVersion(1).build();
        // encryption replaces the body; fields 1 and 2 keep the plaintext checksum, 30..33 the new one
        p[1000] ^= 0x7F;
        assertEquals(CORRUPT, verify(p, LEGACY, 3).kind());
        Be.put32(p, 30, PageChecksums.crc32(p, 0, PS));
        assertEquals(VALID, verify(p, LEGACY, 3).kind());
    }

    @Test
    void keyVersionNamesPagesStoredEncrypted() {
        assertEquals(7, PageChecker.keyVersion(PageBuilder.fullCrc32(PS).pageNo(3).keyVersion(7).build(), 0, FCRC));
        assertEquals(0, PageChecker.keyVersion(PageBuilder.fullCrc32(PS).pageNo(3).build(), 0, FCRC));
        assertEquals(1, PageChecker.keyVersion(PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(3).keyVersion(1).build(), 0, LEGACY));
        assertEquals(0, PageChecker.keyVersion(PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(3).build(), 0, LEGACY));
        // page 0 is never encrypted; in the older layout its bytes 26..29 may hold a flush LSN
        assertEquals(0, PageChecker.keyVersion(PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(0).keyVersion(5).build(), 0, LEGACY));
    }

    @Test
    void legacyUnverifiable() {
        TablespaceFlags zip = new TablespaceFlags(0x21 | 4 << 1);
        byte[] p = PageBuilder.legacy(8192, PageBuilder.Algo.CRC32).pageNo(3).build();
        // ROW_FORMAT=COMPRESSED pages are verified (CompressedPageTest has real ones): the uncompressed
        // crc32 layout is not theirs, the compressed-page checksum at [0,4) is
        assertEquals(CORRUPT, PageChecker.verify(p, 0, zip, 3).kind());
        Be.put32(p, 0, PageChecksums.zipCrc32(p, 0, 8192));
        assertEquals(VALID, PageChecker.verify(p, 0, zip, 3).kind());
        assertEquals(ZERO, PageChecker.verify(new byte[8192], 0, zip, 3).kind());

        TablespaceFlags pc = new TablespaceFlags(0x21 | 1 << 16);
        byte[] q = PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).type(PageType.PAGE_COMPRESSED).pageNo(3).build();
        // an ordinary page carrying type 34354 in a page_compressed tablespace is no page_compressed frame
        assertEquals(CORRUPT, verify(q, pc, 3).kind());
        // without the page_compressed flag the page type is not trusted: normal checksum rules
        assertEquals(VALID, verify(q, LEGACY, 3).kind());
    }

    // ---- legacy page_compressed (fil_page_compress_for_non_full_crc32 of 10.11)

    private static final TablespaceFlags LEGACY_PC = new TablespaceFlags(0x21 | 1 << 16);

    private static byte[] frame(byte[] inner, int algo) {
        return PageBuilder.legacyPageCompressed(inner, algo);
    }

    private static byte[] compressibleInner(int pageNo) {
        byte[] p = PageBuilder.compressibleLegacy(PS, pageNo, 0x1234_5678_9AL);
        assertEquals(VALID, verify(p, LEGACY, pageNo).kind());
        return p;
    }

    @Test
    void legacyPageCompressedFramesAreDecompressedAndTheirPageChecked() {
        for (int algo : new int[] {LegacyPageCompression.ZLIB, LegacyPageCompression.LZ4}) {
            byte[] f = frame(compressibleInner(7), algo);
            assertEquals(VALID, verify(f, LEGACY_PC, 7).kind(), "algorithm " + algo);
            assertEquals(PageVerdict.corrupt("page number 7 at position 8"), verify(f, LEGACY_PC, 8));

            byte[] torn = f.clone();
            torn[45] ^= 0x40; // a write caught half way: the payload is not what was compressed
            PageVerdict v = verify(torn, LEGACY_PC, 7);
            assertEquals(CORRUPT, v.kind(), "algorithm " + algo + ": " + v);
        }
        // a payload that decompresses, but to a page whose checksum is wrong
        byte[] inner = compressibleInner(7);
        inner[2000] = 'b';
        PageVerdict v = verify(frame(inner, LegacyPageCompression.ZLIB), LEGACY_PC, 7);
        assertEquals(CORRUPT, v.kind());
        assertTrue(v.reason().startsWith("page held by the page_compressed frame: checksum field1="), v.reason());
    }

    @Test
    void legacyPageCompressedFrameChecks() {
        byte[] f = frame(compressibleInner(7), LegacyPageCompression.ZLIB);
        byte[] noMagic = f.clone();
        Be.put32(noMagic, 0, 0x12345678);
        assertEquals(PageVerdict.corrupt("page_compressed checksum field 0x12345678, expected 0xdeadbeef (legacy)"), verify(noMagic, LEGACY_PC, 7));
        byte[] longPayload = f.clone();
        longPayload[38] = (byte) 0x3F;
        longPayload[39] = (byte) 0xFF;
        assertEquals(PageVerdict.corrupt("page_compressed payload length 16383 is not in [1, 16344] (legacy)"), verify(longPayload, LEGACY_PC, 7));
        byte[] lzma = f.clone();
        Be.put64(lzma, 26, 4);
        assertEquals(PageVerdict.unverifiable("legacy page_compressed page compressed with lzma, which strata cannot decompress to check"),
                verify(lzma, LEGACY_PC, 7));
        byte[] unknown = f.clone();
        Be.put64(unknown, 26, 1L << 40 | 1);
        assertEquals(PageVerdict.corrupt("page_compressed algorithm field 0x10000000001 is no known algorithm (legacy)"), verify(unknown, LEGACY_PC, 7));
        byte[] lsn = f.clone();
        lsn[20] ^= 1; // the frame's copy of FIL_PAGE_LSN differs from the page it holds
        assertEquals(PageVerdict.corrupt("page_compressed frame and the page it holds differ at header byte 20 (legacy)"), verify(lsn, LEGACY_PC, 7));
        byte[] encrypted = f.clone();
        encrypted[24] = (byte) (PageType.PAGE_COMPRESSED_ENCRYPTED >> 8);
        encrypted[25] = (byte) PageType.PAGE_COMPRESSED_ENCRYPTED;
        assertEquals(PageVerdict.unverifiable("legacy page_compressed and encrypted page (FIL_PAGE_TYPE 37401)"), verify(encrypted, LEGACY_PC, 7));
        // pages the server leaves uncompressed follow the ordinary rules
        assertEquals(VALID, verify(compressibleInner(7), LEGACY_PC, 7).kind());
    }

    @Test
    void invalidFlagsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> verify(new byte[PS], new TablespaceFlags(0x10), 0));
        assertEquals("cannot verify pages with invalid tablespace flags 0x10 (invalid)", e.getMessage());
    }

    @Test
    void shortBufferRejected() {
        assertThrows(IndexOutOfBoundsException.class, () -> verify(new byte[PS - 1], FCRC, 0));
    }

    @Test
    void doublewriteRange() {
        assertFalse(PageChecker.isDoublewrite(0, 63, 16384));
        assertTrue(PageChecker.isDoublewrite(0, 64, 16384));
        assertTrue(PageChecker.isDoublewrite(0, 191, 16384));
        assertFalse(PageChecker.isDoublewrite(0, 192, 16384));
        assertFalse(PageChecker.isDoublewrite(5, 100, 16384));
        assertTrue(PageChecker.isDoublewrite(0, 256, 4096));   // 256-page extents
        assertFalse(PageChecker.isDoublewrite(0, 768, 4096));
        assertTrue(PageChecker.isDoublewrite(0, 128, 8192));
        assertTrue(PageChecker.isDoublewrite(0, 64, 65536));
        assertFalse(PageChecker.isDoublewrite(0, 192, 65536));
    }
}
