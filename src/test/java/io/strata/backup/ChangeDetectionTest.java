package io.strata.backup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChangeDetectionTest {
    @TempDir
    Path dir;

    @Test
    void aFileIsChangedWhenItsModificationOrStatusChangeTimeIsLater() throws Exception {
        Path f = Files.writeString(dir.resolve("t.ibd"), "x");
        Instant now = Instant.now();
        assertTrue(ChangeDetection.changedSince(f, now.minus(Duration.ofMinutes(1))));
        assertFalse(ChangeDetection.changedSince(f, now.plus(Duration.ofMinutes(1))));
        // a copy that keeps an old modification time (cp -p, rsync -t) still has a new status-change time
        Files.setLastModifiedTime(f, FileTime.from(now.minus(Duration.ofDays(1))));
        assertTrue(ChangeDetection.changedSince(f, now.minus(Duration.ofMinutes(1))));
        assertTrue(ChangeDetection.changedSince(dir.resolve("missing.ibd"), now), "a file that cannot be judged is scanned");
    }
}
