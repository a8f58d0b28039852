package io.strata.repo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * An attempt of this process whose end record could not be written (the agent runs many backups
 * under one pid): it reads as failed, not running, while the same process holds the writer lock
 * for a later backup, and that backup's clean-up removes its objects. The attempt in flight
 * still reads as running.
 */
class UnendedAttemptTest {
    @TempDir
    Path dir;

    private static HistoryRecord begin(String id) {
        return new HistoryRecord(id, "full", HistoryRecord.RUNNING, null, Instant.now().toString(), null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
    }

    @Test
    void anAttemptWhoseEndRecordWasLostIsFailedWhileThisProcessRunsTheNext() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        String lost = "20260101T000000Z-0001";
        HistoryRecord first = begin(lost);
        r.history().begin(first);
        r.store().put("backups/" + lost + "/data/000001", new byte[] {1, 2, 3});
        // the end record's place is taken by a directory: its write fails, as on a failing disk
        Files.createDirectories(dir.resolve("repo/history/" + lost + "/end/blocker"));
        assertThrows(RuntimeException.class, () -> r.history().end(first.withState(HistoryRecord.FAILED, Instant.now().toString(), "disk failing")));
        Files.delete(dir.resolve("repo/history/" + lost + "/end/blocker"));
        Files.delete(dir.resolve("repo/history/" + lost + "/end"));

        String next = "20260101T000100Z-0002";
        try (RepoLock lock = r.lock()) {
            assertEquals(ProcessHandle.current().pid(), r.lockHolderPid(), "this process holds the writer lock");
            r.history().begin(begin(next));
            r.store().put("backups/" + next + "/data/000001", new byte[] {4});
            List<HistoryRecord> attempts = r.history().attempts();
            assertEquals(List.of(lost, next), attempts.stream().map(HistoryRecord::id).toList());
            assertEquals(HistoryRecord.FAILED, attempts.get(0).state());
            assertEquals("interrupted: the backup process (pid " + ProcessHandle.current().pid()
                    + ") ended before the backup completed (killed, crashed or machine stopped)", attempts.get(0).error());
            assertEquals(HistoryRecord.RUNNING, attempts.get(1).state(), "the attempt in flight");
            r.cleanupIncomplete();
            assertEquals(List.of("backups/" + next + "/data/000001"), r.store().list("backups/"), "the lost attempt's objects are removed, the running one's kept");
        }
    }
}
