package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.testing.TinyBackups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Merged markers: the merged backup's id resolves to the merge's result, the parent folded away
 * resolves to nothing (backup-not-found saying so), with markers of both kinds and with markers
 * written before kinds existed (docs/repository-format.md, "History records").
 */
class MergedIdsTest {
    @TempDir
    Path dir;

    private static final String F = TinyBackups.id(0);
    private static final String I1 = TinyBackups.id(1);
    private static final String I2 = TinyBackups.id(2);
    private static final String M = TinyBackups.id(3);

    /** F <- I1 <- I2 and M (I2's state on F), as a merge of I2 leaves them before it retires I2 and I1. */
    private Repository chainAndMerge() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        TinyBackups.backup(r, F, "full", null, 100);
        TinyBackups.backup(r, I1, "incremental", F, 200);
        TinyBackups.backup(r, I2, "incremental", I1, 300);
        TinyBackups.backup(r, M, "incremental", F, 300);
        return r;
    }

    private static void retire(Repository r, String id) {
        r.deleteManifest(id);
        r.deleteBackupObjects(id);
    }

    private static void legacyMarker(Repository r, String id, String into) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("mergedInto", into);
        m.put("time", "2026-01-01T00:03:30Z");
        r.writeJson(Keys.history(id, Keys.MERGED), "history", m);
    }

    private static void assertFolded(Repository r, String id, String expectedMessage) {
        StrataException e = assertThrows(StrataException.class, () -> r.manifest(id));
        assertEquals(ErrorCode.BACKUP_NOT_FOUND, e.code());
        assertTrue(e.getMessage().matches(expectedMessage), e.getMessage());
        assertTrue(e.hint().contains("strata list"), e.hint());
        HistoryRecord h = r.history().find(id).orElseThrow();
        assertEquals(HistoryRecord.FOLDED, h.state());
    }

    @Test
    void theFoldedParentRestoresNothingAndTheMergedIdItsOwnState() throws Exception {
        Repository r = chainAndMerge();
        r.history().markMerged(I2, M);
        retire(r, I2);
        r.history().markFolded(I1, M);
        retire(r, I1);

        assertEquals(M, r.manifest(I2).id(), "the merged id restores its own state, now stored as M");
        assertFolded(r, I1, "backup " + I1 + " was folded into " + M + " by a merge at \\S+; its own state is no longer stored");
        assertEquals(F, r.manifest(F).id());
        assertEquals(List.of(F, I2, M), r.history().completedIds(), "a folded id is no completed backup (verify, restore's default skip it)");
        assertTrue(r.history().merge(I1).folded());
        assertTrue(!r.history().merge(I2).folded());
    }

    @Test
    void markersWithoutKindAreReadByTheParentRule() throws Exception {
        Repository r = chainAndMerge();
        legacyMarker(r, I2, M);
        retire(r, I2);
        legacyMarker(r, I1, M);
        retire(r, I1);

        assertEquals(M, r.manifest(I2).id());
        assertFolded(r, I1, "backup " + I1 + " was folded into " + M + " by a merge at 2026-01-01T00:03:30Z; its own state is no longer stored");
        assertEquals(true, r.history().merge(I1).folded());
        assertEquals(false, r.history().merge(I2).folded());
    }

    @Test
    void aMergedIdWhoseSuccessorWasFoldedRestoresNothing() throws Exception {
        Repository r = chainAndMerge();
        r.history().markMerged(I2, M);
        retire(r, I2);
        // a later merge folded M away (the later state lives on elsewhere)
        r.history().markFolded(M, I1);
        retire(r, M);
        assertFolded(r, I2, "backup " + I2 + " was merged into " + M + ", and " + M + " was folded into " + I1
                + " by a merge at \\S+; its own state is no longer stored");
    }

    @Test
    void pruneRemovingTheMergesResultPrunesTheMergedIdAndLeavesTheFoldedOneFolded() throws Exception {
        Repository r = chainAndMerge();
        r.history().markMerged(I2, M);
        retire(r, I2);
        r.history().markFolded(I1, M);
        retire(r, I1);
        String f2 = TinyBackups.id(4);
        TinyBackups.backup(r, f2, "full", null, 500);
        Prune.Result res = Prune.run(r, 1, null, false, line -> { });
        assertEquals(List.of(F, M), List.copyOf(res.plan().remove().keySet()));
        assertEquals(HistoryRecord.PRUNED, r.history().find(I2).orElseThrow().state(), "I2 resolved to M, which is gone");
        assertTrue(r.history().find(I2).orElseThrow().error().contains("merged into " + M + ", which was removed"));
        assertFolded(r, I1, "backup " + I1 + " was folded into " + M + " by a merge at \\S+; its own state is no longer stored");
        assertEquals(List.of(f2), r.history().completedIds());
    }

    @Test
    void theNextWriterRemovesWhatAFoldedIdLeftBehind() throws Exception {
        Repository r = chainAndMerge();
        r.history().markMerged(I2, M);
        retire(r, I2);
        r.history().markFolded(I1, M);
        r.deleteManifest(I1); // killed before its objects were removed
        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
        }
        assertEquals(List.of(), r.store().list("backups/" + I1 + "/"));
        assertEquals(2, r.store().list("backups/" + F + "/").size(), "F keeps its manifest and object");
    }
}
