package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrackingTest {
    @TempDir
    Path dir;

    private Tracking tracking() {
        return new Tracking(Repository.openOrCreate(dir.resolve("repo")), "db1:3306:/var/lib/mysql");
    }

    private static void store(Tracking t, long from, long to, int... pages) {
        ChangedPages p = new ChangedPages();
        for (int page : pages) {
            p.add(7, page);
        }
        t.storeSet(new ChangeSetFormat.Header(from, to, 12288, 1 << 20, 1, 100), p);
    }

    @Test
    void identityIsStableAndFileSafe() {
        assertEquals(16, Tracking.identity("db1:3306:/var/lib/mysql").length());
        assertEquals(Tracking.identity("a"), Tracking.identity("a"));
        assertEquals("tracking/" + Tracking.identity("db1:3306:/var/lib/mysql") + "/", tracking().prefix());
    }

    @Test
    void coverageFollowsConsecutiveSetsAndReportsWhereTheyEnd() {
        Tracking t = tracking();
        store(t, 100, 200, 1);
        store(t, 200, 300, 2);
        store(t, 300, 400, 3);
        Tracking.Coverage c = t.coverage(150, 350, null);
        assertNull(c.problem());
        assertEquals(List.of(200L, 300L, 400L), c.sets().stream().map(Tracking.SetRef::to).toList());
        assertEquals(400, c.coveredTo());
        Tracking.Coverage partial = t.coverage(250, 900, null);
        assertNull(partial.problem());
        assertEquals(400, partial.coveredTo(), "the rest, 400..900, is read from the live log");
        ChangedPages p = new ChangedPages();
        assertEquals(2, t.load(partial.sets(), p));
        assertArrayEquals(new int[] {2, 3}, p.pages(7));
        assertEquals(new Tracking.End(400, 100L), t.end());
    }

    @Test
    void setsOfAnotherLineageAreNeverUsed() {
        Tracking t = tracking();
        store(t, 100, 200, 1);
        store(t, 200, 300, 2);
        assertNull(t.lineage(), "no lineage record: the origin");
        assertNull(t.coverage(150, 250, null).problem());
        String restored = "5f0c9e6d2a8b4c1e9d7f3a6b0c2e4d81";
        assertEquals("the change sets follow lineage origin, but the server's data directory is of lineage 5f0c9e6d (it was restored since):"
                + " they describe another history until \"strata track\" starts following this one", t.coverage(150, 250, restored).problem());
        t.recordLineage(restored);
        assertEquals(restored, t.lineage());
        assertNull(t.coverage(150, 250, restored).problem());
        assertTrue(t.coverage(150, 250, null).problem().startsWith("the change sets follow lineage 5f0c9e6d, but the server's data directory is of lineage origin"));
    }

    @Test
    void setsThatBeginLateOrLeaveAHoleAreRefused() {
        Tracking t = tracking();
        assertEquals("the repository holds no change sets of this server (db1:3306:/var/lib/mysql); run \"strata track\" to collect them",
                t.coverage(10, 20, null).problem());
        store(t, 100, 200);
        store(t, 250, 300);
        assertEquals("the change sets begin at LSN 100, after LSN 50 where this backup's changes begin (the tracker was not following the log yet)",
                t.coverage(50, 150, null).problem());
        assertEquals("the change sets leave LSN 200..250 uncovered", t.coverage(150, 280, null).problem());
        assertEquals("the change sets end at LSN 300, before LSN 300 where this backup's changes begin (is strata track running?)",
                t.coverage(300, 400, null).problem());
        assertEquals("the change sets begin at LSN 100, after LSN 10 where this backup's changes begin (the tracker was not following the log yet)",
                t.coverage(10, 50, null).problem());
        assertNull(t.coverage(50, 50, null).problem(), "an empty range (no checkpoint since the parent began) needs no change set");
    }

    @Test
    void aRecordedGapInsideTheRangeIsRefused() {
        Tracking t = tracking();
        store(t, 100, 200);
        t.recordGap(200, 500, "the tracker was not running", 100L);
        store(t, 500, 600);
        String p = t.coverage(150, 550, null).problem();
        assertEquals("change tracking has a gap at LSN 200..500 (the tracker was not running, detected ", p.substring(0, p.indexOf("detected ") + 9));
        assertNull(t.coverage(500, 600, null).problem(), "a range after the gap is covered");
        assertNull(t.coverage(120, 200, null).problem(), "a range before the gap is covered");
        assertEquals(new Tracking.End(600, 100L), t.end());
    }

    @Test
    void pruneKeepsWhatEndsLast() {
        Tracking t = tracking();
        store(t, 100, 200);
        t.recordGap(200, 300, "x", 1L);
        store(t, 300, 400);
        store(t, 400, 500);
        assertEquals(3, t.prune(450), "sets ending at 200 and 400 and the gap; the newest set (to 500) stays");
        assertEquals(List.of(500L), t.sets().stream().map(Tracking.SetRef::to).toList());
        assertEquals(0, t.gaps().size());
        assertEquals(0, t.prune(10_000), "the newest set stays");
        t.recordGap(500, 700, "y", 1L);
        assertEquals(1, t.prune(10_000), "now the gap ends last");
        assertEquals(new Tracking.End(700, 1L), t.end());
    }

    @Test
    void oneTrackerPerServer() throws Exception {
        Tracking t = tracking();
        try (RepoLock l = t.lock()) {
            StrataException e = assertThrows(StrataException.class, () -> tracking().lock());
            assertEquals(ErrorCode.REPO_LOCKED, e.code());
            assertTrue(e.getMessage().startsWith("lock " + dir.resolve("repo").resolve("tracking")) && e.getMessage().endsWith("/lock is already held by this strata process"),
                    e.getMessage());
        }
        try (RepoLock l = t.lock()) {
            // released and taken again
        }
    }
}
