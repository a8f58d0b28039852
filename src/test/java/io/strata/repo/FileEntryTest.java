package io.strata.repo;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A manifest entry reads and writes the same JSON whatever it keeps in memory: the digest and the
 * object name of the usual shape ("data/NN/NNNNNN", 8 lowercase hex digits) are kept as numbers,
 * any other spelling as it was written.
 */
class FileEntryTest {
    private static final FileEntry INNODB = new FileEntry("db1/t1.ibd", "innodb", 4_000_000_123L, 21, 98304, 6, FileEntry.DELTA, 2,
            "data/23/000123", 8192, "0bad1dea");
    private static final FileEntry PLAIN = new FileEntry("db1/t1.frm", "file", null, null, 1176, 0, FileEntry.WHOLE, 0, "data/99/1234599", 251,
            "e6cffa96", null, null, new FileStat(1234567, 2049, 1_733_400_000_123_456_789L, 1_733_400_001_000_000_000L), null);
    private static final FileEntry REF = PLAIN.referenceTo("20261205T170000Z-ab12", "data/00/000100");
    private static final FileEntry ODD = new FileEntry("undo001", "innodb", 1L, 0, 16384, 1, FileEntry.WHOLE, 0, "data/7/07", 10, "ABCDEF01",
            InnodbLayout.UNDO_HOME, "/elsewhere/undo001", null, null);
    private static final FileEntry NULLS = new FileEntry("x", "file", null, null, 0, 0, FileEntry.WHOLE, 0, null, 0, null);

    @Test
    void writesTheSameJson() throws Exception {
        assertEquals(EXPECTED, Json.MAPPER.writeValueAsString(List.of(INNODB, PLAIN, REF, ODD, NULLS)));
    }

    @Test
    void readsBackEqual() throws Exception {
        List<FileEntry> back = List.of(Json.MAPPER.readValue(EXPECTED, FileEntry[].class));
        assertEquals(List.of(INNODB, PLAIN, REF, ODD, NULLS), back);
        assertEquals(EXPECTED, Json.MAPPER.writeValueAsString(back));
        assertEquals("data/23/000123", back.get(0).object());
        assertEquals("0bad1dea", back.get(0).crc32c());
        assertEquals(4_000_000_123L, back.get(0).spaceId());
        assertEquals(21, back.get(0).flags());
        assertEquals("data/99/1234599", back.get(1).object());
        assertEquals(new FileStat(1234567, 2049, 1_733_400_000_123_456_789L, 1_733_400_001_000_000_000L), back.get(1).stat());
        assertEquals("data/7/07", back.get(3).object());
        assertEquals("ABCDEF01", back.get(3).crc32c());
        assertNull(back.get(4).object());
        assertNull(back.get(4).crc32c());
        assertNull(back.get(4).stat());
        assertNull(back.get(4).spaceId());
        assertNull(back.get(4).flags());
    }

    @Test
    void equalityCoversEveryField() {
        assertEquals(INNODB, INNODB.withHome(null));
        assertEquals(INNODB.hashCode(), INNODB.withHome(null).hashCode());
        assertNotEquals(INNODB, INNODB.withStoredBytes(8193));
        assertNotEquals(INNODB, INNODB.stored("data/24/000124", 8192));
        assertNotEquals(PLAIN, REF);
        assertNotEquals(INNODB, new FileEntry("db1/t1.ibd", "innodb", 4_000_000_123L, 21, 98304, 6, FileEntry.DELTA, 2, "data/23/000123", 8192, "0bad1deb"));
    }

    @Test
    void objectNamesAreSpelledAsBefore() {
        for (int seq : new int[] {0, 1, 7, 99, 100, 123, 999_999, 1_000_000, 12_345_678, Integer.MAX_VALUE}) {
            assertEquals(String.format(java.util.Locale.ROOT, "data/%02d/%06d", seq % 100, seq), Keys.dataObject(seq));
        }
        assertEquals("data/23/000123", Keys.dataObject(123));
    }

    @Test
    void objectNamesOfEveryWidthRoundTrip() {
        for (int seq : new int[] {0, 1, 99, 100, 999_999, 1_000_000, 12_345_678, Integer.MAX_VALUE}) {
            String name = Keys.dataObject(seq);
            FileEntry f = new FileEntry("p", "file", null, null, 0, 0, FileEntry.WHOLE, 0, name, 0, "00000000");
            assertEquals(name, f.object());
        }
        for (String odd : new String[] {"data/00/0000001", "data/01/000000", "data/00/-00001", "data/00/+00000", "data/0a/000000", "data/00/00000",
                "data/00/99999999999", "other/00/000000", "data/00/000000/x", "data/00/1000000000"}) {
            FileEntry f = new FileEntry("p", "file", null, null, 0, 0, FileEntry.WHOLE, 0, odd, 0, "00000000");
            assertEquals(odd, f.object(), odd);
        }
    }

    /** What the record FileEntry wrote before it kept digests and object names as numbers. */
    static final String EXPECTED = """
            [ {
              "path" : "db1/t1.ibd",
              "kind" : "innodb",
              "spaceId" : 4000000123,
              "flags" : 21,
              "size" : 98304,
              "pages" : 6,
              "storage" : "delta",
              "deltaPages" : 2,
              "object" : "data/23/000123",
              "storedBytes" : 8192,
              "crc32c" : "0bad1dea",
              "home" : null,
              "location" : null,
              "stat" : null,
              "ref" : null,
              "delta" : true
            }, {
              "path" : "db1/t1.frm",
              "kind" : "file",
              "spaceId" : null,
              "flags" : null,
              "size" : 1176,
              "pages" : 0,
              "storage" : "whole",
              "deltaPages" : 0,
              "object" : "data/99/1234599",
              "storedBytes" : 251,
              "crc32c" : "e6cffa96",
              "home" : null,
              "location" : null,
              "stat" : {
                "inode" : 1234567,
                "device" : 2049,
                "ctime" : 1733400000123456789,
                "copyBegan" : 1733400001000000000
              },
              "ref" : null,
              "delta" : false
            }, {
              "path" : "db1/t1.frm",
              "kind" : "file",
              "spaceId" : null,
              "flags" : null,
              "size" : 1176,
              "pages" : 0,
              "storage" : "whole",
              "deltaPages" : 0,
              "object" : "data/00/000100",
              "storedBytes" : 0,
              "crc32c" : "e6cffa96",
              "home" : null,
              "location" : null,
              "stat" : {
                "inode" : 1234567,
                "device" : 2049,
                "ctime" : 1733400000123456789,
                "copyBegan" : 1733400001000000000
              },
              "ref" : "20261205T170000Z-ab12",
              "delta" : false
            }, {
              "path" : "undo001",
              "kind" : "innodb",
              "spaceId" : 1,
              "flags" : 0,
              "size" : 16384,
              "pages" : 1,
              "storage" : "whole",
              "deltaPages" : 0,
              "object" : "data/7/07",
              "storedBytes" : 10,
              "crc32c" : "ABCDEF01",
              "home" : "innodb_undo_directory",
              "location" : "/elsewhere/undo001",
              "stat" : null,
              "ref" : null,
              "delta" : false
            }, {
              "path" : "x",
              "kind" : "file",
              "spaceId" : null,
              "flags" : null,
              "size" : 0,
              "pages" : 0,
              "storage" : "whole",
              "deltaPages" : 0,
              "object" : null,
              "storedBytes" : 0,
              "crc32c" : null,
              "home" : null,
              "location" : null,
              "stat" : null,
              "ref" : null,
              "delta" : false
            } ]""";
}
