package io.strata.repo;

import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Retention decisions on chains and differentials, without a server. */
class PruneTest {
    static final Instant NOW = Instant.parse("2026-06-30T00:00:00Z");

    private final List<Prune.Item> items = new ArrayList<>();

    private void add(String id, String type, String parent, int daysAgo) {
        add(id, type, parent, daysAgo, "s1");
    }

    private void add(String id, String type, String parent, int daysAgo, String server) {
        items.add(new Prune.Item(id, type, parent, server, NOW.minus(Duration.ofDays(daysAgo)).minusSeconds(items.size())));
    }

    /** Two weeks: F1 I1 D1 (differential on F1) I2 (on D1) | F2 I3 I4 D2 (on F2) | F3 I5. */
    private void twoWeeks() {
        add("F1", "full", null, 20);
        add("I1", "incremental", "F1", 19);
        add("D1", "differential", "F1", 18);
        add("I2", "incremental", "D1", 17);
        add("F2", "full", null, 13);
        add("I3", "incremental", "F2", 12);
        add("I4", "incremental", "I3", 11);
        add("D2", "differential", "F2", 10);
        add("F3", "full", null, 6);
        add("I5", "incremental", "F3", 5);
    }

    @Test
    void keepFullKeepsTheNewestFullsWithEverythingOnThem() {
        twoWeeks();
        Prune.Plan p = Prune.plan(items, 2, null, NOW);
        assertEquals(Set.of("F2", "I3", "I4", "D2", "F3", "I5"), p.keep().keySet());
        assertEquals(Set.of("F1", "I1", "D1", "I2"), p.remove().keySet());
        assertEquals("rests on kept full backup F2", p.keep().get("I4"));
        assertEquals("incremental backup on full F1 outside the retention (--keep-full 2) and needed by no kept backup", p.remove().get("I2"));
        Prune.Plan one = Prune.plan(items, 1, null, NOW);
        assertEquals(Set.of("F3", "I5"), one.keep().keySet());
    }

    @Test
    void keepDaysKeepsTheWindowAndItsBaseAndTheirChains() {
        twoWeeks();
        // the 11-day window holds D2, F3, I5; I4 (a few seconds older than 11 days) is its base and needs I3 and F2
        Prune.Plan p = Prune.plan(items, 1, 11, NOW);
        assertEquals(Set.of("F2", "I3", "I4", "D2", "F3", "I5"), p.keep().keySet());
        assertEquals("taken within the last 11 day(s)", p.keep().get("D2"));
        assertEquals("the newest backup before the 11-day cutoff 2026-06-19T00:00:00Z: the base for points in time from the cutoff to the next backup",
                p.keep().get("I4"));
        assertEquals("needed to restore I4", p.keep().get("I3"));
        // 17.5 days: I2 (17 days) is inside, D1 before it is its base; I2 and D1 need F1; I1 goes
        Prune.Plan q = Prune.plan(items, 1, 18, NOW);
        assertEquals(Set.of("F1", "D1", "I2", "F2", "I3", "I4", "D2", "F3", "I5"), q.keep().keySet());
        assertEquals(Set.of("I1"), q.remove().keySet());
    }

    @Test
    void aKeptDifferentialKeepsItsFullButNotTheIncrementalsBetween() {
        add("F1", "full", null, 10);
        add("I1", "incremental", "F1", 9);
        add("I2", "incremental", "I1", 8);
        add("D1", "differential", "F1", 7);
        add("F2", "full", null, 6);
        Prune.Plan p = Prune.plan(items, 1, 7, NOW);
        // D1 (7 days + seconds ago) is the window's base; it needs F1 only
        assertEquals(Set.of("F1", "D1", "F2"), p.keep().keySet());
        assertEquals(Set.of("I1", "I2"), p.remove().keySet());
    }

    @Test
    void retentionIsPerServer() {
        add("A1", "full", null, 10, "a");
        add("A2", "full", null, 5, "a");
        add("B1", "full", null, 9, "b");
        Prune.Plan p = Prune.plan(items, 1, null, NOW);
        assertEquals(Set.of("A2", "B1"), p.keep().keySet());
        assertEquals(Set.of("A1"), p.remove().keySet());
    }

    @Test
    void aBrokenChainIsKeptAndReportedNeverRemoved() {
        // F1 I1 [I2's manifest lost] I3 I4 | F2: retention alone would remove everything on F1
        add("F1", "full", null, 6);
        add("I1", "incremental", "F1", 5);
        add("I3", "incremental", "I2", 3);
        add("I4", "incremental", "I3", 2);
        add("F2", "full", null, 1);
        Prune.Plan p = Prune.plan(items, 1, null, NOW);
        assertEquals(Set.of("F2", "I3", "I4"), p.keep().keySet());
        assertEquals(Set.of("F1", "I1"), p.remove().keySet());
        assertEquals("its chain is broken (backup I2 has no manifest): kept, never removed by prune", p.keep().get("I4"));
        assertEquals(List.of(
                "broken chain: incremental backup I3 rests on backup I2, whose manifest is missing; it was kept (run \"strata verify\"; remove it by hand once it is not needed)",
                "broken chain: incremental backup I4 rests on backup I2, whose manifest is missing; it was kept (run \"strata verify\"; remove it by hand once it is not needed)"),
                p.warnings());
        assertEquals(List.of(), Prune.plan(List.of(items.get(0), items.get(1), items.get(4)), 1, null, NOW).warnings());
    }

    @Test
    void keepFullZeroIsRefused() {
        StrataException e = assertThrows(StrataException.class, () -> Prune.plan(items, 0, null, NOW));
        assertEquals("--keep-full must be at least 1, got 0", e.getMessage());
    }
}
