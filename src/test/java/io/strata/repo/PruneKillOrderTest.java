package io.strata.repo;

import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.strata.repo.HistoryFromManifestsTest.F1;
import static io.strata.repo.HistoryFromManifestsTest.F2;
import static io.strata.repo.HistoryFromManifestsTest.I1;
import static io.strata.repo.HistoryFromManifestsTest.backup;
import static io.strata.repo.HistoryFromManifestsTest.states;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A prune that stops between two history writes (killed; here a write that fails) never leaves an
 * id merged into a removed backup unmarked: the merged ids are marked removed before the backup
 * they resolve to (found by KillCampaignIT: verify then named them as damaged backups).
 */
class PruneKillOrderTest {
    @TempDir
    Path dir;

    @Test
    void theIdsMergedIntoABackupAreMarkedRemovedBeforeIt() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        backup(r, I1, F1, 1);
        // I1 merged into F1 (as a merge into a full leaves it: recorded, its manifest and objects gone)
        r.history().markMerged(I1, F1);
        r.deleteManifest(I1);
        r.deleteBackupObjects(I1);
        backup(r, F2, null, 4);

        // the write of I1's pruned record fails: the prune stops there
        Path blocked = dir.resolve("repo").resolve(Keys.history(I1, Keys.PRUNED));
        Files.createDirectories(blocked.resolve("in-the-way"));
        assertThrows(StrataException.class, () -> Prune.run(r, 1, null, false, line -> { }));

        assertEquals("completed", states(r).get(F1), "F1 was marked removed while the id merged into it still resolves to it");
        assertEquals(true, r.hasManifest(F1), "nothing of F1 is removed before every id that resolves to it is marked");
    }
}
