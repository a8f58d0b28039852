package io.strata.restore;

import io.strata.binlog.BinlogBuilder;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogSegmentWriter;
import io.strata.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuity of archived binlogs as verify judges it: files of a timeline that do not follow each
 * other are damage unless a gap record explains the break (then a "gap" line and two runs); every
 * event of the covered bytes is read.
 */
class BinlogVerifierTest {
    private static final String DIR = "h-0-00000001";

    @TempDir
    Path dir;

    /** A closed file: magic, format description, {@code n} transactions, rotate. */
    private static byte[] file(long firstSeq, int n, String next) {
        BinlogBuilder b = new BinlogBuilder(true, 1).fde(false);
        for (int i = 0; i < n; i++) {
            b.transaction(firstSeq + i);
        }
        return b.rotate(next).bytes();
    }

    private static void store(BinlogArchive a, String name, byte[] bytes) throws IOException {
        try (BinlogSegmentWriter w = a.createSegment(1, name, 0, bytes.length)) {
            w.stream().write(bytes);
            w.commit(new BinlogArchive.Segment(1, 1, name, 0, bytes.length, bytes.length, true, null, 1700000000L, true, 0, 0,
                    null, null, null, List.of(), 1700000001L, null, "2026-01-01T00:00:00Z"));
        }
    }

    private Repository archive(boolean gap) throws IOException {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        BinlogArchive a = BinlogArchive.load(repo, DIR);
        a.writeSource(new BinlogArchive.Source(1, "h:0:/d", "h", 0, 1, "binlog", "2026-01-01T00:00:00Z"));
        a.writeTimeline(new BinlogArchive.Timeline(1, 1, "binlog.000001", "2026-01-01T00:00:00Z", "first"));
        store(a, "binlog.000001", file(1, 3, "binlog.000002"));
        store(a, "binlog.000002", file(4, 2, "binlog.000003"));
        store(a, "binlog.000004", file(9, 2, "binlog.000005"));
        if (gap) {
            a.writeGap(new BinlogArchive.Gap(1, 1, "binlog.000002", 0, 1, "binlog.000004", List.of("binlog.000003"), "purged by the server first",
                    "2026-01-01T00:00:01Z"));
        }
        return repo;
    }

    private static List<String> verify(Repository repo, List<String> problems) {
        List<String> out = new ArrayList<>();
        new BinlogVerifier(repo, problems::add, out::add).verify(DIR);
        return out;
    }

    @Test
    void aBreakWithoutAGapRecordIsDamage() throws IOException {
        Repository repo = archive(false);
        List<String> problems = new ArrayList<>();
        List<String> out = verify(repo, problems);
        assertEquals(List.of("archived binlogs of timeline 1 break between binlog.000002 (archived to " + file(4, 2, "binlog.000003").length
                + ", closed) and binlog.000004, and no gap is recorded there: archived objects are missing (resource=" + dir.resolve("repo/binlogs/" + DIR) + ")"),
                problems);
        assertEquals("FAILED binlogs of h:0:/d: 1 problem(s)", out.get(out.size() - 1), out.toString());
    }

    @Test
    void aRecordedGapIsReportedNotDamage() throws IOException {
        Repository repo = archive(true);
        List<String> problems = new ArrayList<>();
        List<String> out = verify(repo, problems);
        assertEquals(List.of(), problems);
        assertEquals(3, out.size(), out.toString());
        assertTrue(out.get(0).startsWith("run    binlogs of h:0:/d, t0001 binlog.000001:0 to binlog.000002:"), out.toString());
        // each file: format description and rotate, and three events (GTID, rows, XID) a transaction
        assertTrue(out.get(0).endsWith(": 2 file(s), 2 segment(s), " + (2 * 2 + 5 * 3) + " events read"), out.toString());
        assertTrue(out.get(1).endsWith(": 1 file(s), 1 segment(s), " + (2 + 2 * 3) + " events read"), out.toString());
        assertTrue(out.get(1).startsWith("run    binlogs of h:0:/d, t0001 binlog.000004:0 to binlog.000004:"), out.toString());
        assertEquals("gap    binlogs of h:0:/d after t0001 binlog.000002:0 until t0001 binlog.000004: purged by the server first "
                + "(recorded 2026-01-01T00:00:01Z; not damage)", out.get(2));
    }

    @Test
    void aFlippedByteInASegmentIsNamed() throws IOException {
        Repository repo = archive(true);
        Path seg;
        try (var s = Files.walk(dir.resolve("repo/binlogs"))) {
            seg = s.filter(p -> p.toString().endsWith(".binlog") && p.toString().contains("binlog.000002")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(seg);
        b[b.length / 2] ^= 1;
        Files.write(seg, b);
        List<String> problems = new ArrayList<>();
        verify(repo, problems);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("(resource=" + seg + ")"), problems.toString());
    }

    @Test
    void filesBeforeAPrunedStartAreLeftoversNotDamage() throws IOException {
        Repository repo = archive(false);
        BinlogArchive a = BinlogArchive.load(repo, DIR);
        // a prune that moved the start to binlog.000004 and was killed before it deleted anything
        a.writeTimeline(new BinlogArchive.Timeline(1, 1, "binlog.000004", "2026-01-01T00:00:00Z", "first", null, "binlog.000001", "2026-01-02T00:00:00Z"));
        List<String> problems = new ArrayList<>();
        List<String> out = verify(repo, problems);
        assertEquals(List.of(), problems, "binlog.000001 and 000002, before the pruned start, are not part of the archive");
        assertTrue(out.contains("pruned binlogs of h:0:/d before t0001 binlog.000004: 4 object(s) left by an interrupted prune (not damage; the next prune removes them)"),
                out.toString());
    }
}
