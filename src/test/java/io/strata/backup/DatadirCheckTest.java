package io.strata.backup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process evidence of {@link DatadirCheck}, on this JVM's own /proc entry. */
class DatadirCheckTest {

    @Test
    void aProcessHoldsOpenOnlyWhatItOpened(@TempDir Path dir) throws Exception {
        Path open = Files.writeString(dir.resolve("ib_logfile0"), "x", StandardCharsets.UTF_8);
        Path other = Files.writeString(dir.resolve("other"), "y", StandardCharsets.UTF_8);
        long self = ProcessHandle.current().pid();
        try (FileChannel ch = FileChannel.open(open, StandardOpenOption.READ)) {
            assertTrue(DatadirCheck.holdsOpen(self, open));
            assertTrue(DatadirCheck.holdsOpen(self, dir.resolve(".").resolve("ib_logfile0")), "another name of the same file");
            assertFalse(DatadirCheck.holdsOpen(self, other));
        }
        // no such process: no evidence, so no refusal
        assertTrue(DatadirCheck.holdsOpen(Long.MAX_VALUE, other));
    }

    @Test
    void onlyAMariadbProcessIsTakenForTheServer(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("mysqld.pid"), ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        assertEquals(Optional.empty(), DatadirCheck.serverPid("mysqld.pid", dir), "this JVM is not mariadbd");
        assertEquals(Optional.empty(), DatadirCheck.serverPid(dir.resolve("absent.pid").toString(), dir));
        Files.writeString(dir.resolve("bad.pid"), "not a pid", StandardCharsets.US_ASCII);
        assertEquals(Optional.empty(), DatadirCheck.serverPid("bad.pid", dir));
    }
}
