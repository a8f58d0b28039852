package io.strata.redo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.LogCrypt;
import io.strata.repo.ChangedPages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Change detection on a real encrypted redo log (fixtures/mariadb-10.11/enclog: MariaDB 10.11.19,
 * innodb_encrypt_log=ON, file_key_management AES_CBC), and reading key 1 of a key file.
 */
class EncryptedLogTest {
    @TempDir
    Path dir;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = EncryptedLogTest.class.getResourceAsStream("/fixtures/mariadb-10.11/enclog/" + name)) {
            return name.endsWith(".gz") ? new GZIPInputStream(in).readAllBytes() : in.readAllBytes();
        }
    }

    @Test
    void pageIdsOfTheEncryptedRecordsReachTheCollector() throws Exception {
        // the fixture is the start of a 16 MiB file: pad it to 4 MiB, more than the reader's margin
        byte[] f = Arrays.copyOf(resource("ib_logfile0.gz"), 4 << 20);
        Path log = dir.resolve("ib_logfile0");
        Files.write(log, f);
        Path keys = dir.resolve("keys.txt");
        Files.write(keys, resource("keys.txt"));
        LogCrypt crypt = LogCrypt.of(LogCrypt.headerInfo(f), RedoKeys.readKey(keys, false), LogCrypt.Mode.CBC);
        ChangedPages pages = new ChangedPages();
        PageCollector pc = new PageCollector(pages);
        try (LiveLog l = LiveLog.open(log, 1024, crypt)) {
            assertEquals(53219, l.checkpoint().checkpointLsn());
            assertEquals(54401, l.scan(44894, 54401, () -> 54401, pc));
        }
        assertEquals(158, pc.mtrCount());
        // d/t.ibd (space 5) was created and written in the range: its pages, not WHOLE; space 6 was
        // created, renamed and dropped: WHOLE; the system tablespace (0) has pages
        assertTrue(pages.pageCount(5) > 0, pages.spaces().toString());
        assertFalse(pages.isWhole(5, 0));
        assertTrue(pages.isWhole(6, 0));
        assertTrue(pages.pageCount(0) > 10);
    }

    @Test
    void theKeyIsProvedOnTheCheckpointBeforeAnythingIsCopied() throws Exception {
        byte[] f = Arrays.copyOf(resource("ib_logfile0.gz"), 4 << 20);
        Path log = dir.resolve("ib_logfile0");
        Files.write(log, f);
        Path keys = dir.resolve("keys.txt");
        Files.write(keys, resource("keys.txt"));
        LogCrypt.Info info = LogCrypt.headerInfo(f);
        io.strata.innodb.LogGeometry g = new io.strata.innodb.LogGeometry(44894, f.length);
        io.strata.innodb.Checkpoint cp = new io.strata.innodb.Checkpoint(53219, 54309);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(log)) {
            RedoKeys.checkKey(LogCrypt.of(info, RedoKeys.readKey(keys, false), LogCrypt.Mode.CBC), ch, log, g, f.length, cp);
            StrataException e = assertThrows(StrataException.class, () ->
                    RedoKeys.checkKey(LogCrypt.of(info, RedoKeys.readKey(keys, false), LogCrypt.Mode.CTR), ch, log, g, f.length, cp));
            assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
            assertTrue(e.getMessage().startsWith("key 1 of file_key_management (CTR) does not decrypt the redo log " + log + ": "), e.getMessage());
            byte[] other = RedoKeys.readKey(keys, false);
            other[5] ^= 1;
            assertThrows(StrataException.class, () -> RedoKeys.checkKey(LogCrypt.of(info, other, LogCrypt.Mode.CBC), ch, log, g, f.length, cp));
        }
    }

    @Test
    void anEncryptedLogWithoutAServerConnectionIsRefused() throws Exception {
        Path log = dir.resolve("ib_logfile0");
        Files.write(log, Arrays.copyOf(resource("ib_logfile0.gz"), 4 << 20));
        StrataException e = assertThrows(StrataException.class, () -> LiveLog.open(log));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
        assertEquals("the redo log " + log + " is encrypted (innodb_encrypt_log=ON) and no server connection gives its key", e.getMessage());
    }

    @Test
    void keyOneIsReadFromTheKeyFileAndNeverShown() throws Exception {
        Path keys = dir.resolve("keys.txt");
        String k1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        Files.writeString(keys, "# comment\n\n2;" + "ff".repeat(32) + "\n1;" + k1 + "\n", StandardCharsets.US_ASCII);
        assertArrayEquals(HexFormat.of().parseHex(k1), RedoKeys.readKey(keys, false));

        Files.writeString(keys, "2;" + "ff".repeat(32) + "\n", StandardCharsets.US_ASCII);
        StrataException none = assertThrows(StrataException.class, () -> RedoKeys.readKey(keys, false));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, none.code());
        assertEquals("the key file " + keys + " of file_key_management has no key 1, the key of the redo log", none.getMessage());

        Files.writeString(keys, "1;" + k1.substring(0, 30) + "zz\n", StandardCharsets.US_ASCII);
        StrataException bad = assertThrows(StrataException.class, () -> RedoKeys.readKey(keys, false));
        assertEquals("key 1 in line 1 of the key file " + keys + " is not 32, 48 or 64 hex digits", bad.getMessage());
        assertFalse(bad.getMessage().contains(k1.substring(0, 30)));

        Files.write(keys, "Salted__12345678garbage".getBytes(StandardCharsets.US_ASCII));
        StrataException salted = assertThrows(StrataException.class, () -> RedoKeys.readKey(keys, false));
        assertTrue(salted.getMessage().endsWith("is encrypted (file_key_management_filekey); strata cannot read the redo log keys from it"), salted.getMessage());

        StrataException missing = assertThrows(StrataException.class, () -> RedoKeys.readKey(dir.resolve("nope"), false));
        assertEquals(ErrorCode.DATADIR_UNREADABLE, missing.code());
    }
}
