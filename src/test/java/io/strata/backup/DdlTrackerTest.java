package io.strata.backup;

import io.strata.innodb.FileOp;
import io.strata.innodb.RecordType;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which file operations make a tablespace's copy be made again, by the LSN its copy began at. */
class DdlTrackerTest {

    @Test
    void anOperationCountsOnlyWhenItEndedAfterTheCopyBegan() {
        DdlTracker t = new DdlTracker();
        t.fileOp(FileOp.CREATE, 7, "db/t.ibd", null);
        t.page(7, 0, RecordType.INIT_PAGE);
        t.endMtr(1_000);
        t.fileOp(FileOp.RENAME, 7, "db/t.ibd", "db/u.ibd");
        t.endMtr(2_000);

        assertEquals(2_000, t.lastChange(7));
        assertFalse(t.changedAfter(7, 2_000), "the rename ended at the LSN the copy began at: the copied file is the renamed one");
        assertTrue(t.changedAfter(7, 1_999));
        assertTrue(t.changedAfter(7, -1), "a copy whose start is not known counts every operation since C");
        assertFalse(t.changedAfter(8, 0), "space 8 had no file operation");
        assertEquals(Set.of(7L), t.changedSpaces());
        assertTrue(t.changedSinceCheckpoint(7));
    }

    @Test
    void modifyAndOtherPagesAreNoFileOperations() {
        DdlTracker t = new DdlTracker();
        t.fileOp(FileOp.MODIFY, 5, "db/a.ibd", null);
        t.page(5, 3, RecordType.INIT_PAGE);
        t.page(5, 0, RecordType.WRITE);
        t.endMtr(500);
        assertFalse(t.changedAfter(5, -1));
        assertEquals(Set.of(), t.changedSpaces());
    }

    @Test
    void aDeleteIsKeptApartAndATrimCountsFromTheCheckpoint() {
        DdlTracker t = new DdlTracker();
        t.fileOp(FileOp.DELETE, 9, "db/old.ibd", null);
        t.endMtr(300);
        t.trimPages(2, 640);
        t.page(2, 0, RecordType.INIT_PAGE);
        t.endMtr(400);
        assertEquals(Set.of(9L), t.deletedSpaces());
        // a deleted space's id is back at a path only after IMPORT TABLESPACE, whose pages the log does not hold:
        // copied again when its copy began before the delete, whole when it begins after
        assertTrue(t.changedAfter(9, 299), "a space deleted after its copy began is copied again should it be back (IMPORT)");
        assertFalse(t.changedAfter(9, 300), "a delete at or below the copy's start LSN is in the copied log");
        assertTrue(t.changedSinceCheckpoint(9), "a space deleted since C is copied whole should it be back (IMPORT)");
        assertTrue(t.changedAfter(2, 10_000), "an undo tablespace truncated since C is copied again whenever its copy began");
    }

    @Test
    void eachMtrGetsItsOwnEndLsn() {
        DdlTracker t = new DdlTracker();
        t.fileOp(FileOp.CREATE, 11, "db/x.ibd", null);
        t.endMtr(100);
        t.endMtr(900); // an mtr with no file operation does not move space 11
        assertEquals(100, t.lastChange(11));
        assertEquals(-1, t.lastChange(12));
    }
}
