package io.strata.backup;

import io.strata.innodb.FspHeader;
import io.strata.innodb.PageBuilder;
import io.strata.innodb.PageType;
import io.strata.repo.FileEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KeyManagementProbe#cryptDataOnPage0}: of a system tablespace of two files
 * (innodb_data_file_path ibdata1:12M;ibdata2:12M:autoextend) only ibdata1 begins with page 0.
 * ibdata2 begins with an ordinary page (the tablespace's page 768) whose bytes where page 0 keeps
 * its crypt data happen to read as crypt data with scheme 1: that is no evidence of encryption.
 * Before, such bytes made the probe count ibdata2 as encrypted (and a backup of a server without
 * a key management plugin then failed with key-management-missing).
 */
class KeyManagementProbeTest {
    private static final int PS = 16384;
    /** full_crc32 with 16 KiB pages (FSP_FLAGS_FCRC32_MASK_MARKER | page_ssize 5). */
    private static final int FLAGS = 0x15;

    @TempDir
    Path dir;

    /** A page whose bytes at the crypt data offset of page 0 are the crypt data magic and scheme 1. */
    private static byte[] readsAsEncrypted(byte[] page) {
        byte[] magic = {0x73, 0x0E, 0x0C, 0x52, 0x45, 0x74}; // CRYPT_MAGIC (fil0crypt.cc, MariaDB 10.11)
        int at = FspHeader.cryptDataOffset(PS);
        System.arraycopy(magic, 0, page, at, magic.length);
        page[at + magic.length] = (byte) FspHeader.CRYPT_SCHEME_1;
        return page;
    }

    private Path write(String name, byte[] page) throws Exception {
        return Files.write(dir.resolve(name), page);
    }

    private static FileEntry entry(String path, long space) {
        return new FileEntry(path, "innodb", space, FLAGS, PS, 1, FileEntry.WHOLE, 0, "data/000001", PS, "00000000");
    }

    @Test
    void onlyTheFirstSystemFileIsReadForPage0() throws Exception {
        Path ibdata1 = write("ibdata1", PageBuilder.fullCrc32(PS).spaceId(0).pageNo(0).type(PageType.FSP_HDR).build());
        Path ibdata2 = write("ibdata2", readsAsEncrypted(PageBuilder.fullCrc32(PS).spaceId(0).pageNo(768).build()));
        assertFalse(KeyManagementProbe.cryptDataOnPage0(entry("ibdata1", 0), ibdata1, ibdata1));
        assertFalse(KeyManagementProbe.cryptDataOnPage0(entry("ibdata2", 0), ibdata2, ibdata1), "ibdata2 holds no page 0");
        // the same bytes where a page 0 is: encrypted (the first file named in another form, and a table's page 0)
        assertTrue(KeyManagementProbe.cryptDataOnPage0(entry("ibdata2", 0), ibdata2, dir.resolve("sub/../ibdata2")));
        Path t = write("t.ibd", readsAsEncrypted(PageBuilder.fullCrc32(PS).spaceId(5).pageNo(0).type(PageType.FSP_HDR).build()));
        assertTrue(KeyManagementProbe.cryptDataOnPage0(entry("db/t.ibd", 5), t, ibdata1));
    }
}
