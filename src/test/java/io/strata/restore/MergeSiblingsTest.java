package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Chain;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.testing.TinyBackups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Which parent a merge folds away: never one that another stored backup rests on, also when that
 * backup names it by an id merged earlier (F &lt;- I1 &lt;- I2 &lt;- {I3a, I3b}: after merging I2,
 * I3b's parent I2 resolves to the result M1; merging I3a must keep M1 for I3b).
 */
class MergeSiblingsTest {
    @TempDir
    Path dir;

    private static final String F = TinyBackups.id(0);
    private static final String I1 = TinyBackups.id(1);
    private static final String I2 = TinyBackups.id(2);
    private static final String I3A = TinyBackups.id(3);
    private static final String I3B = TinyBackups.id(4);

    @Test
    void aParentThatAnotherBackupRestsOnThroughAMergedIdIsKept() {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        TinyBackups.backup(r, F, "full", null, 100);
        TinyBackups.backup(r, I1, "incremental", F, 200);
        TinyBackups.backup(r, I2, "incremental", I1, 300);
        TinyBackups.backup(r, I3A, "incremental", I2, 400);
        TinyBackups.backup(r, I3B, "incremental", I2, 400);
        List<String> log = new ArrayList<>();
        Manifest m1 = MergeRun.run(r, I2, log::add);
        assertEquals(F, m1.parent());
        assertEquals(ErrorCode.BACKUP_NOT_FOUND, assertThrows(StrataException.class, () -> r.manifest(I1)).code(), "I1 was folded");

        Manifest m2 = MergeRun.run(r, I3A, log::add);
        assertEquals(F, m2.parent());
        assertEquals(m1.id(), r.manifest(m1.id()).id(), "M1 is kept: I3b rests on it through I2");
        assertEquals(m1.id(), r.manifest(I2).id(), "I2 still restores its own state, as M1");
        assertEquals(List.of(F, m1.id(), I3B), Chain.resolve(r, I3B).ids());
        assertEquals(m2.id(), r.manifest(I3A).id());
    }
}
