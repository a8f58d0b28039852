package io.strata.repo;

import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.strata.repo.HistoryFromManifestsTest.F1;
import static io.strata.repo.HistoryFromManifestsTest.F2;
import static io.strata.repo.HistoryFromManifestsTest.I1;
import static io.strata.repo.HistoryFromManifestsTest.I2;
import static io.strata.repo.HistoryFromManifestsTest.backup;
import static io.strata.repo.HistoryFromManifestsTest.states;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Found by KillCampaignIT, where verify then named merged ids as damaged backups: prune marks
 * removed every id whose state a removed backup holds, also one merged into an id that was itself
 * merged later, and does so before it marks the backup, so a prune that stops between two history
 * writes (killed; here a write that fails) leaves none of them resolving to a removed backup.
 */
class PruneKillOrderTest {
    @TempDir
    Path dir;

    /** F1 with I2 merged into I1 and I1 merged into F1 (records as merges leave them), then a newer full F2. */
    private Repository mergedTwice() {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        backup(r, I1, F1, 1);
        backup(r, I2, I1, 2);
        r.history().markMerged(I2, I1);
        r.history().markMerged(I1, F1);
        for (String id : new String[] {I1, I2}) {
            r.deleteManifest(id);
            r.deleteBackupObjects(id);
        }
        backup(r, F2, null, 4);
        return r;
    }

    @Test
    void anIdMergedIntoAMergedIdIsMarkedRemovedWithTheBackupThatHoldsIt() {
        Repository r = mergedTwice();
        Prune.run(r, 1, null, false, line -> { });
        Map<String, String> s = states(r);
        assertEquals("pruned", s.get(F1), s.toString());
        assertEquals("pruned", s.get(I1), s.toString());
        assertEquals("pruned", s.get(I2), s.toString());
        assertEquals("completed", s.get(F2), s.toString());
    }

    @Test
    void theIdsMergedIntoABackupAreMarkedRemovedBeforeIt() throws Exception {
        Repository r = mergedTwice();
        // the write of I1's pruned record fails: the prune stops there
        Files.createDirectories(dir.resolve("repo").resolve(Keys.history(I1, Keys.PRUNED)).resolve("in-the-way"));
        assertThrows(StrataException.class, () -> Prune.run(r, 1, null, false, line -> { }));

        assertEquals("completed", states(r).get(F1), "F1 was marked removed while an id merged into it still resolves to it");
        assertTrue(r.hasManifest(F1), "nothing of F1 is removed before every id that resolves to it is marked");
    }

    @Test
    void resolveFollowsMergesToTheEndAndStopsOnACycle() {
        assertEquals("c", Prune.resolve(Map.of("a", "b", "b", "c"), "a"));
        assertEquals("x", Prune.resolve(Map.of("a", "b"), "x"));
        Prune.resolve(Map.of("a", "b", "b", "a"), "a"); // ends
    }
}
