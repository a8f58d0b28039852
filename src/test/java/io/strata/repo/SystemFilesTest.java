package io.strata.repo;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Manifest#firstPageOf}: the page number in the system tablespace of the first page of each
 * of its files, from the entries of the earlier files in innodb_data_file_path order, whatever
 * form the names take there; -1 when an entry cannot be told.
 */
class SystemFilesTest {
    private static final int PS = 16384;

    private static FileEntry innodb(String path, long space, long bytes) {
        return new FileEntry(path, "innodb", space, 21, bytes, bytes / PS, FileEntry.WHOLE, 0, "data/" + path, bytes, "00000000");
    }

    private static Manifest manifest(String dataFilePath, FileEntry... files) {
        SourceInfo src = new SourceInfo("s", "h", 1, "10.11", "/d", PS, 1 << 20, 0, dataFilePath, "full_crc32");
        return Manifest.builder().id("20261202T000000Z-0001").type(Manifest.TYPE_FULL).source(src).files(List.of(files)).build();
    }

    @Test
    void laterFilesAreNumberedOnFromTheEarlierOnes() {
        FileEntry a = innodb("ibdata1", 0, 12 << 20);
        FileEntry b = innodb("ibdata2", 0, 12 << 20);
        FileEntry c = innodb("ibdata3", 0, 40 << 20);
        FileEntry t = innodb("db/t.ibd", 5, 1 << 20);
        Manifest m = manifest("./ibdata1:12M;ibdata2:12M;/var/lib/mysql/ibdata3:10M:autoextend", t, c, b, a);
        assertEquals(0, m.firstPageOf(a, PS));
        assertEquals(768, m.firstPageOf(b, PS));
        assertEquals(1536, m.firstPageOf(c, PS));
        assertEquals(0, m.firstPageOf(t, PS), "not the system tablespace");
    }

    @Test
    void oneFileAndUnknownEntries() {
        FileEntry a = innodb("ibdata1", 0, 12 << 20);
        assertEquals(0, manifest("ibdata1:12M:autoextend", a).firstPageOf(a, PS));
        FileEntry b = innodb("ibdata2", 0, 12 << 20);
        assertEquals(-1, manifest("ibdata1:12M;ibdata2:12M:autoextend", b).firstPageOf(b, PS), "no entry of ibdata1");
        FileEntry x = innodb("x/ibdata1", 0, 12 << 20);
        FileEntry y = innodb("y/ibdata1", 0, 12 << 20);
        FileEntry z = innodb("ibdata2", 0, 12 << 20);
        assertEquals(-1, manifest("/a/ibdata1:12M;ibdata2:12M:autoextend", x, y, z).firstPageOf(z, PS), "two entries could be ibdata1");
    }
}
