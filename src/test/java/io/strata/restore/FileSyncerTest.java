package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileSyncerTest {
    @TempDir
    Path dir;

    @Test
    void forcesFilesAndTreesAndNamesAFileItCannotForce() throws IOException {
        Files.createDirectories(dir.resolve("db"));
        Files.write(dir.resolve("db/t.ibd"), new byte[16384]);
        try (FileSyncer s = new FileSyncer(2)) {
            s.add(dir.resolve("db/t.ibd"));
            s.addDirectories(dir);
            s.await();
            Path gone = dir.resolve("db/gone.ibd");
            s.add(gone);
            StrataException e = assertThrows(StrataException.class, s::await);
            assertEquals(ErrorCode.IO_ERROR, e.code());
            assertTrue(e.getMessage().startsWith("cannot make the restored " + gone + " durable: "), e.getMessage());
            s.await(); // a failure is reported once
        }
    }
}
