package io.strata.redo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which redo log layouts strata accepts, decided by the files and their format word. */
class RedoLayoutTest {
    @TempDir
    Path dir;

    private static byte[] realLog(String version) throws IOException {
        try (InputStream in = RedoLayoutTest.class.getResourceAsStream("/fixtures/mariadb-" + version + "/ib_logfile0.head.gz")) {
            return new GZIPInputStream(in).readAllBytes();
        }
    }

    private Path logWithWord(int word) throws IOException {
        byte[] b = new byte[12288];
        ByteBuffer.wrap(b).putInt(word);
        return Files.write(dir.resolve("ib_logfile0"), b);
    }

    @Test
    void realLogsOf1011And118AreRead() throws IOException {
        for (String v : new String[] {"10.11", "11.8"}) {
            Files.write(dir.resolve("ib_logfile0"), realLog(v));
            assertEquals(dir.resolve("ib_logfile0"), RedoLayout.require(dir, v + ".9-MariaDB"));
        }
    }

    @Test
    void theFormatOf105To107IsRefusedWithItsReason() throws IOException {
        Path f = logWithWord(0x50485953);
        StrataException e = assertThrows(StrataException.class, () -> RedoLayout.require(dir, "10.5.29-MariaDB-0+deb11u1-log"));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
        assertEquals("MariaDB 10.5.29-MariaDB-0+deb11u1-log writes its redo log " + f
                + " in the format of MariaDB 10.5 to 10.7 (format word 0x50485953 \"PHYS\", 512-byte log blocks);"
                + " strata reads the format of MariaDB 10.8 and later", e.getMessage());
        assertEquals("back up this server with mariadb-backup of its own version, or upgrade it to MariaDB 10.11 or 11.8"
                + " (10.6 is out of support since July 2026)", e.hint());
        // encrypted 10.5 logs set bit 31
        logWithWord(0xD0485953);
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, assertThrows(StrataException.class, () -> RedoLayout.require(dir, "10.6.1-MariaDB")).code());
    }

    @Test
    void anUnknownFormatWordIsRefusedByWhatWasFound() throws IOException {
        Path f = logWithWord(0x50687974);
        StrataException e = assertThrows(StrataException.class, () -> RedoLayout.require(dir, "12.3.1-MariaDB"));
        assertEquals("the redo log " + f + " of MariaDB 12.3.1-MariaDB has a format word 0x50687974 that strata does not know;"
                + " strata reads the format of MariaDB 10.8 to 11.8 (0x50687973 \"Phys\")", e.getMessage());
        logWithWord(103);
        e = assertThrows(StrataException.class, () -> RedoLayout.require(dir, "10.4.1-MariaDB"));
        assertEquals("the redo log " + f + " is in the format of MariaDB 10.4 or older (format word 0x00000067);"
                + " strata reads the format of MariaDB 10.8 and later", e.getMessage());
    }

    @Test
    void archivedLogFilesAreRefusedByLayout() throws IOException {
        Files.write(dir.resolve("ib_00000000000000012288.log"), new byte[16]);
        Files.write(dir.resolve("ib_00000000000008400896.log"), new byte[16]);
        StrataException e = assertThrows(StrataException.class, () -> RedoLayout.require(dir, "12.3.1-MariaDB"));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
        assertEquals("MariaDB 12.3.1-MariaDB keeps its redo log in archived files (ib_00000000000000012288.log, ib_00000000000008400896.log in "
                + dir + ", innodb_log_archive=ON) instead of a circular ib_logfile0; strata does not read that layout yet", e.getMessage());
    }

    @Test
    void aMissingLogIsNamed() {
        StrataException e = assertThrows(StrataException.class, () -> RedoLayout.require(dir, "11.8.9-MariaDB"));
        assertEquals(ErrorCode.DATADIR_UNREADABLE, e.code());
        assertEquals("the redo log " + dir.resolve("ib_logfile0") + " does not exist", e.getMessage());
    }
}
