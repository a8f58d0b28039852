package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failed and pruned attempts are retired into {@code history/retired}: the history every reader
 * shows is the same before and after, a writer reads only the live records, and a retired
 * pruned backup is still named as pruned.
 */
class RetiredHistoryTest {
    @TempDir
    Path dir;

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** The id of the n-th attempt: one second apart, in order. */
    private static String id(int n) {
        Instant t = T0.plusSeconds(n);
        return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC).format(t)
                + String.format("-%04x", n);
    }

    private static HistoryRecord begin(int n) {
        return new HistoryRecord(id(n), "full", HistoryRecord.RUNNING, null, T0.plusSeconds(n).toString(), null, "test", null, null, null, null,
                null, null, null, null, null, 4242L);
    }

    private static void failed(Repository r, int n) {
        r.history().begin(begin(n));
        r.store().put("backups/" + id(n) + "/data/000001", new byte[] {1});
        r.history().end(begin(n).withState(HistoryRecord.FAILED, T0.plusSeconds(n).toString(), "failure number " + n));
    }

    private static void completed(Repository r, int n) {
        HistoryRecord b = begin(n);
        r.history().begin(b);
        r.store().put("backups/" + id(n) + "/data/000001", new byte[] {2});
        SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        String t = T0.plusSeconds(n).toString();
        Manifest m = Manifest.builder().id(id(n)).type("full").tool("test").beginTime(t).endTime(t).source(src).startLsn(100).startEndLsn(100)
                .endLsn(200).redoEndLsn(200).redoCapacity(1 << 20).redoObject("redo").rawBytes(1).storedBytes(1).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(b, m));
    }

    /** 40 failed, 20 completed of which 15 pruned, an unended attempt of a dead process, then 20 failed again. */
    private Repository build() {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        int n = 0;
        for (int i = 0; i < 40; i++) {
            failed(r, n++);
        }
        List<String> pruned = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            completed(r, n);
            if (i < 15) {
                pruned.add(id(n));
            }
            n++;
        }
        for (String id : pruned) {
            r.history().markPruned(id, "outside the retention (test)");
        }
        r.history().begin(begin(n++)); // no end record, and pid 4242 holds no lock: interrupted
        for (int i = 0; i < 20; i++) {
            failed(r, n++);
        }
        return r;
    }

    private long recordKeys(Repository r) {
        return r.store().list("history/").stream().filter(k -> k.split("/").length == 3).count();
    }

    @Test
    void retiredAttemptsReadAsBeforeAndWritersSkipThem() throws Exception {
        Repository r = build();
        List<HistoryRecord> before = r.history().attempts();
        assertEquals(81, before.size());
        List<String> completedBefore = r.history().completedIds();
        long keysBefore = recordKeys(r);

        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
        }
        // settled: 40 + 15 + 1 + 20 = 76, less the 16 newest attempts (all failed) = 60 retired
        assertTrue(r.store().exists(History.RETIRED_KEY));
        assertEquals(before, r.history().attempts(), "every attempt reads as before, record for record");
        assertEquals(completedBefore, r.history().completedIds());
        assertEquals(5, completedBefore.size());
        assertEquals(81 - 60, r.history().liveAttempts().size());
        // 40 + 1 + 4 failed records gone (begin, end), 15 pruned (begin, end, pruned): 135 record keys fewer
        assertEquals(keysBefore - (41 * 2 - 1) - 4 * 2 - 15 * 3, recordKeys(r));
        assertEquals(List.of(), r.store().list("history/" + id(0) + "/"));
        assertEquals(List.of(), r.store().list("backups/").stream().filter(k -> !r.hasManifest(k.split("/")[1])).toList(),
                "no objects of a failed or pruned attempt are left");

        // a retired pruned backup is still named as pruned; a retired failure as one that did not complete
        StrataException e = assertThrows(StrataException.class, () -> r.manifest(id(40)));
        assertEquals(ErrorCode.BACKUP_NOT_FOUND, e.code());
        assertTrue(e.getMessage().startsWith("backup " + id(40) + " was removed by strata prune at "), e.getMessage());
        assertTrue(r.history().removing(id(40)));
        assertFalse(r.history().removing(id(3)));
        e = assertThrows(StrataException.class, () -> r.manifest(id(3)));
        assertEquals("backup " + id(3) + " did not complete (state failed: failure number 3) and cannot be used", e.getMessage());
        HistoryRecord dead = r.history().find(id(60)).orElseThrow();
        assertEquals("interrupted: the backup process (pid 4242) ended before the backup completed (killed, crashed or machine stopped)", dead.error());
        assertEquals(List.of(), r.history().findings().damaged());
    }

    @Test
    void nothingIsRetiredBeforeABatchIsSettled() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        for (int i = 0; i < Repository.RETIRE_BATCH + History.KEEP_NEWEST - 1; i++) {
            failed(r, i);
        }
        long keys = recordKeys(r);
        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
            assertEquals(0, r.history().retire(Repository.RETIRE_BATCH));
        }
        assertFalse(r.store().exists(History.RETIRED_KEY));
        assertEquals(keys, recordKeys(r));
    }

    @Test
    void aRetireThatCannotWriteLeavesTheRecordsAndFailsNothing() throws Exception {
        Repository r = build();
        List<HistoryRecord> before = r.history().attempts();
        long keys = recordKeys(r);
        // the retired object's place is taken by a directory: its write fails, as on a failing disk
        Files.createDirectories(dir.resolve("repo/" + History.RETIRED_KEY + "/blocker"));
        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete(); // the backup, merge or copy that runs it goes on
        }
        assertEquals(keys, recordKeys(r), "no record removed");
        assertEquals(before, r.history().attempts());
    }

    @Test
    void aReaderBetweenTheRetiredObjectAndTheRemovalSeesEachAttemptOnce() throws Exception {
        Repository r = build();
        List<HistoryRecord> before = r.history().attempts();
        Path repo = dir.resolve("repo");
        // keep a copy of the records, retire, then put some back as a writer stopped half-way leaves them
        Path saved = dir.resolve("saved");
        copyTree(repo.resolve("history"), saved);
        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
        }
        copyTree(saved.resolve(id(3)), repo.resolve("history/" + id(3)));
        copyTree(saved.resolve(id(41)), repo.resolve("history/" + id(41)));
        // and one whose end record was removed but not yet its begin record: the retired record wins
        Files.createDirectories(repo.resolve("history/" + id(5)));
        Files.copy(saved.resolve(id(5) + "/begin"), repo.resolve("history/" + id(5) + "/begin"));
        // and a pruned one of which only the marker is left (retire removes it last): no attempt of its own, never a
        // completed backup, and still being removed for copy and verify
        Files.createDirectories(repo.resolve("history/" + id(42)));
        Files.copy(saved.resolve(id(42) + "/pruned"), repo.resolve("history/" + id(42) + "/pruned"));
        assertEquals(before, r.history().attempts());
        assertEquals(5, r.history().completedIds().size());
        assertTrue(r.history().liveAttempts().stream().noneMatch(h -> h.id().equals(id(42))));
        assertTrue(r.history().removing(id(42)));

        // the next retire removes what was left and keeps the reasons it stored (id 5's "failure number 5", not "interrupted")
        try (RepoLock lock = r.lock()) {
            assertEquals(3, r.history().retire(1));
        }
        for (int n : new int[] {3, 5, 41}) {
            assertEquals(List.of(), r.store().list("history/" + id(n) + "/"));
        }
        assertEquals(before, r.history().attempts());
    }

    @Test
    void aDamagedRetiredObjectIsReportedAndNeverOverwritten() throws Exception {
        Repository r = build();
        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
        }
        Path retired = dir.resolve("repo/" + History.RETIRED_KEY);
        byte[] bytes = Files.readAllBytes(retired);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(retired, bytes);

        List<HistoryRecord> now = r.history().attempts();
        assertEquals(81 - 60, now.size(), "the retired attempts are missing, nothing else");
        assertEquals(5, r.history().completedIds().size());
        List<String> damaged = r.history().findings().damaged();
        assertEquals(1, damaged.size(), damaged.toString());
        assertTrue(damaged.get(0).startsWith("history record history/retired is damaged: "), damaged.get(0));

        for (int i = 100; i < 100 + Repository.RETIRE_BATCH + History.KEEP_NEWEST; i++) {
            failed(r, i);
        }
        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
        }
        assertArrayEquals(bytes, Files.readAllBytes(retired), "a damaged history/retired is left for verify to report");
        assertTrue(Files.exists(dir.resolve("repo/history/" + id(100) + "/end")), "nothing retired meanwhile");
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
