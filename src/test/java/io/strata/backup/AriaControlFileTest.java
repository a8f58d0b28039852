package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AriaControlFileTest {
    /**
     * aria_log_control of a MariaDB 10.11.19 data directory (52 bytes): checkpoint at LSN
     * (1,0x64fcc), newest log aria_log.00000001, largest transaction id 0x126.
     */
    private static final byte[] REAL = HexFormat.of().parseHex(
            "fefe0c018d22b0b2efaf11f1bc6302fc000000011e00160000209c5bb73097c7b758010000cc4f06000100000026010000000000");

    @Test
    void readsTheCheckpointAndTheNewestLogOfARealFile() {
        AriaControlFile f = AriaControlFile.of(REAL);
        assertEquals(1, f.checkpointLogNo());
        assertEquals(1L << 32 | 0x64fcc, f.checkpointLsn());
        assertEquals(1, f.lastLogNo());
        assertNull(AriaControlFile.problem(REAL));
    }

    @Test
    void unchangedWhenNoNewerLogWasCopied() {
        AriaControlFile f = AriaControlFile.of(REAL);
        assertArrayEquals(REAL, f.forLogs(new TreeSet<>(java.util.List.of(1L))));
    }

    @Test
    void namesTheNewestCopiedLogWithAChecksumThatMatches() {
        byte[] b = AriaControlFile.of(REAL).forLogs(new TreeSet<>(java.util.List.of(1L, 2L)));
        assertNull(AriaControlFile.problem(b));
        AriaControlFile patched = AriaControlFile.of(b);
        assertEquals(2, patched.lastLogNo());
        assertEquals(1L << 32 | 0x64fcc, patched.checkpointLsn());
        // only the log number and the changeable part's checksum differ
        int differing = 0;
        for (int i = 0; i < b.length; i++) {
            if (b[i] != REAL[i] && !(i >= 30 && i < 34) && !(i >= 41 && i < 45)) {
                differing++;
            }
        }
        assertEquals(0, differing);
        assertEquals(2, b[41]);
    }

    @Test
    void aLogFromTheCheckpointOnThatIsGoneFailsTheBackup() {
        // the checkpoint is in log 1; only log 2 was copied (log 1 deleted by something other than the server)
        StrataException e = assertThrows(StrataException.class, () -> AriaControlFile.of(REAL).forLogs(new TreeSet<>(java.util.List.of(2L))));
        assertEquals(ErrorCode.REDO_OVERWRITTEN, e.code());
        assertEquals("the Aria log file aria_log.00000001, which Aria's recovery needs from the checkpoint at LSN (1,0x64fcc) read under "
                + "BACKUP STAGE BLOCK_DDL, was gone under BLOCK_COMMIT: something other than the server deleted it (the server purges no Aria log from BACKUP STAGE START to the backup's end)", e.getMessage());
    }

    @Test
    void noLogAtAllIsRefusedByName() {
        StrataException e = assertThrows(StrataException.class, () -> AriaControlFile.of(REAL).forLogs(new TreeSet<>()));
        assertEquals(ErrorCode.REDO_OVERWRITTEN, e.code());
        assertEquals("the Aria control file names log aria_log.00000001, and the Aria log directory (aria_log_dir_path) holds no Aria log file", e.getMessage());
    }

    @Test
    void damagedBytesAreNamed() {
        byte[] b = REAL.clone();
        b[42] ^= 1;
        assertEquals("the checksum of its changeable part does not match", AriaControlFile.problem(b));
        b = REAL.clone();
        b[5] ^= 1;
        assertEquals("the checksum of its fixed part does not match", AriaControlFile.problem(b));
        b = REAL.clone();
        b[0] = 0;
        assertEquals("no magic FE FE 0C at its start", AriaControlFile.problem(b));
        assertEquals("10 bytes (a control file has 45 to 512)", AriaControlFile.problem(new byte[10]));
    }

    @Test
    void readsFromADataDirectoryAndNothingWhenThereIsNone(@TempDir Path dir) throws Exception {
        assertNull(AriaControlFile.read(dir));
        Files.write(dir.resolve("aria_log_control"), REAL);
        assertEquals(1, AriaControlFile.read(dir).lastLogNo());
        byte[] bad = REAL.clone();
        bad[45] ^= 1;
        Files.write(dir.resolve("aria_log_control"), bad);
        StrataException e = assertThrows(StrataException.class, () -> AriaControlFile.read(dir));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertTrue(e.getMessage().endsWith("is not one strata can read: the checksum of its changeable part does not match"), e.getMessage());
    }

    @Test
    void logNumbersOfTopLevelNames() {
        assertEquals(1, AriaControlFile.logNumber("aria_log.00000001"));
        assertEquals(12345678, AriaControlFile.logNumber("aria_log.12345678"));
        assertEquals(-1, AriaControlFile.logNumber("aria_log_control"));
        assertEquals(-1, AriaControlFile.logNumber("db/aria_log.00000001"));
        assertEquals(-1, AriaControlFile.logNumber("aria_log.0000000x"));
    }
}
