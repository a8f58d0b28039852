package io.strata.innodb;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class FormatBasicsTest {
    @Test
    void crc32cCheckValue() {
        byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, Crc32c.compute(b, 0, b.length));
    }

    @Test
    void varintBoundaries() {
        long[] values = {0, 0x7F, 0x80, 0x407F, 0x4080, 0x20407F, 0x204080, 0x1020407F, 0x10204080, 0xFFFFFFFFL};
        int[] lengths = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
        for (int i = 0; i < values.length; i++) {
            byte[] e = Varint.encode(values[i]);
            assertEquals(lengths[i], e.length, "length of " + values[i]);
            assertEquals(lengths[i], Varint.length(e[0]));
            assertEquals(values[i], Varint.decode(e, 0));
        }
        assertArrayEquals(new byte[] {(byte) 0x80, 0x00}, Varint.encode(0x80));
        assertArrayEquals(new byte[] {(byte) 0xC0, 0x00, 0x00}, Varint.encode(0x4080));
        assertArrayEquals(new byte[] {(byte) 0xF0, 0, 0, 0, 0}, Varint.encode(0x10204080));
    }

    @Test
    void varintInvalid() {
        assertEquals(-1, Varint.decode(new byte[] {(byte) 0xF1, 0, 0, 0, 0}, 0));
        assertEquals(-1, Varint.decode(new byte[] {(byte) 0xFF, 0, 0, 0, 0}, 0));
        // 5-byte form above 0xEFDFBF7F overflows 32 bits
        assertEquals(0xFFFFFFFFL, Varint.decode(new byte[] {(byte) 0xF0, (byte) 0xEF, (byte) 0xDF, (byte) 0xBF, 0x7F}, 0));
        assertEquals(-1, Varint.decode(new byte[] {(byte) 0xF0, (byte) 0xEF, (byte) 0xDF, (byte) 0xBF, (byte) 0x80}, 0));
        assertThrows(IllegalArgumentException.class, () -> Varint.encode(-1));
        assertThrows(IllegalArgumentException.class, () -> Varint.encode(0x1_0000_0000L));
    }

    @Test
    void flagsFullCrc32Default() {
        TablespaceFlags f = new TablespaceFlags(0x15);
        assertTrue(f.isValid());
        assertTrue(f.fullCrc32());
        assertEquals(16384, f.logicalPageSize());
        assertEquals(16384, f.physicalPageSize());
        assertFalse(f.pageCompressed());
        assertFalse(f.rowFormatCompressed());
        assertEquals("0x15 (full_crc32, 16K)", f.describe());
    }

    @Test
    void flagsFullCrc32PageCompressed() {
        TablespaceFlags f = new TablespaceFlags(0x15 | 2 << 5); // lz4
        assertTrue(f.isValid());
        assertTrue(f.pageCompressed());
        assertEquals(2, f.compressionAlgorithm());
        assertEquals("0x55 (full_crc32, 16K, page_compressed algorithm 2)", f.describe());
        assertEquals(4096, new TablespaceFlags(0x13).physicalPageSize());
        assertEquals(65536, new TablespaceFlags(0x17).physicalPageSize());
    }

    @Test
    void flagsLegacyDynamic() {
        TablespaceFlags f = new TablespaceFlags(0x21);
        assertTrue(f.isValid());
        assertFalse(f.fullCrc32());
        assertEquals(16384, f.logicalPageSize());
        assertEquals(16384, f.physicalPageSize());
        assertFalse(f.pageCompressed());
        assertFalse(f.rowFormatCompressed());
        assertEquals("0x21 (legacy, 16K, DYNAMIC)", f.describe());
        assertEquals("0x0 (legacy, 16K, REDUNDANT)", new TablespaceFlags(0).describe());
        assertEquals("0x1 (legacy, 16K, COMPACT)", new TablespaceFlags(1).describe());
    }

    @Test
    void flagsLegacyCompressedAndPageCompressed() {
        TablespaceFlags zip8k = new TablespaceFlags(0x21 | 4 << 1); // KEY_BLOCK_SIZE=8
        assertTrue(zip8k.isValid());
        assertTrue(zip8k.rowFormatCompressed());
        assertEquals(16384, zip8k.logicalPageSize());
        assertEquals(8192, zip8k.physicalPageSize());
        assertEquals("0x29 (legacy, 16K, COMPRESSED KEY_BLOCK_SIZE=8)", zip8k.describe());
        TablespaceFlags pc = new TablespaceFlags(0x21 | 1 << 16);
        assertTrue(pc.isValid());
        assertTrue(pc.pageCompressed());
        assertEquals(8192, new TablespaceFlags(4 << 6 | 0x21).logicalPageSize());
    }

    @Test
    void dictionaryFlagsLoseTheirMemoryOnlyBits() {
        // a fresh PAGE_COMPRESSED=1 table (zlib, level 6) as INNODB_SYS_TABLESPACES reports it on 10.11.19
        assertFalse(TablespaceFlags.isValid(0x60000035));
        TablespaceFlags f = TablespaceFlags.fromDictionary(0x60000035L);
        assertEquals(0x35, f.raw());
        assertEquals("0x35 (full_crc32, 16K, page_compressed algorithm 1)", f.describe());
        // DATA DIRECTORY (bit 25) on a legacy DYNAMIC table; the column is unsigned, so bit 31 arrives as a long
        assertEquals(0x21, TablespaceFlags.fromDictionary(0x21L | 1L << 25).raw());
        assertEquals(0x21 | 1 << 16, TablespaceFlags.fromDictionary(0xF0000021L | 1L << 16).raw());
        // bits page 0 can hold are kept, so invalid flags stay invalid
        assertFalse(TablespaceFlags.fromDictionary(0x115).isValid());
    }

    @Test
    void flagsInvalid() {
        assertFalse(TablespaceFlags.isValid(0x10)); // full_crc32 without page size
        assertFalse(TablespaceFlags.isValid(0x12)); // full_crc32 2K
        assertFalse(TablespaceFlags.isValid(0x115)); // full_crc32 with bit 8
        assertFalse(TablespaceFlags.isValid(0x15 | 7 << 5)); // unknown algorithm 7
        assertFalse(TablespaceFlags.isValid(0x20)); // ATOMIC_BLOBS without POST_ANTELOPE
        assertFalse(TablespaceFlags.isValid(5 << 6 | 0x21)); // legacy PAGE_SSIZE 5 (16K must be 0)
        assertFalse(TablespaceFlags.isValid(1 << 11 | 0x21)); // buggy 10.1 flags
        assertFalse(TablespaceFlags.isValid(1 << 17 | 0x21));
        assertFalse(TablespaceFlags.isValid(6 << 1 | 0x21)); // KEY_BLOCK_SIZE 32K on 16K pages
        assertFalse(TablespaceFlags.isValid(4 << 1 | 0x01)); // COMPRESSED without ATOMIC_BLOBS
        assertTrue(TablespaceFlags.isValid(1 << 10 | 0x21)); // old DATA_DIR bit is ignored
        assertEquals("0x10 (invalid)", new TablespaceFlags(0x10).describe());
        assertThrows(IllegalStateException.class, () -> new TablespaceFlags(0x10).logicalPageSize());
    }

    @Test
    void filHeaderFields() {
        byte[] buf = new byte[16384 + 7];
        byte[] page = PageBuilder.fullCrc32(16384).pageNo(9).spaceId(0x8001).lsn(0x0102030405060708L)
                .type(PageType.INDEX).build();
        System.arraycopy(page, 0, buf, 7, page.length);
        Be.put64(buf, 7 + 26, 0xAABBCCDD00000000L);
        FilHeader h = FilHeader.read(buf, 7);
        assertEquals(new FilHeader(0, 9, 8, 10, 0x0102030405060708L, 17855, 0xAABBCCDD00000000L, 0x8001), h);
        assertEquals(0x0102030405060708L, FilHeader.pageLsn(buf, 7));
        assertEquals(9, FilHeader.pageNo(buf, 7));
        assertEquals(0x8001, FilHeader.spaceId(buf, 7));
    }

    @Test
    void fspHeaderAndCryptData() {
        byte[] p = new byte[16384];
        Be.put32(p, 38, 7);
        Be.put32(p, 46, 640);
        Be.put32(p, 50, 192);
        Be.put32(p, 54, 0x15);
        assertEquals(new FspHeader(7, 640, 192, new TablespaceFlags(0x15)), FspHeader.read(p, 0));
        assertEquals(10428, FspHeader.cryptDataOffset(16384));
        assertEquals(38 + 150 + 88 * 16, FspHeader.cryptDataOffset(4096)); // 256-page extents
        assertEquals(38 + 150 + 56 * 64, FspHeader.cryptDataOffset(8192));
        assertEquals(38 + 150 + 40 * 512, FspHeader.cryptDataOffset(32768));
        assertEquals(38 + 150 + 40 * 1024, FspHeader.cryptDataOffset(65536));
        assertFalse(FspHeader.hasCryptData(p, 0, 16384));
        byte[] magic = {0x73, 0x0E, 0x0C, 0x52, 0x45, 0x74};
        System.arraycopy(magic, 0, p, 10428, 6);
        assertTrue(FspHeader.hasCryptData(p, 0, 16384));
        assertFalse(FspHeader.cryptDataEncrypted(p, 0, 16384));
        p[10428 + 6] = 1;
        assertTrue(FspHeader.cryptDataEncrypted(p, 0, 16384));
    }

    @Test
    void extentSizes() {
        assertEquals(256, FspHeader.extentPages(4096));
        assertEquals(128, FspHeader.extentPages(8192));
        assertEquals(64, FspHeader.extentPages(16384));
        assertEquals(64, FspHeader.extentPages(32768));
        assertEquals(64, FspHeader.extentPages(65536));
    }
}
