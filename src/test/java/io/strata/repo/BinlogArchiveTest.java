package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinlogArchiveTest {
    private static final byte[] FILE = new byte[300];

    static {
        for (int i = 0; i < FILE.length; i++) {
            FILE[i] = (byte) (i * 31 + 7);
        }
    }

    private static BinlogArchive.Segment store(BinlogArchive a, long start, long end, boolean closed) throws IOException {
        try (BinlogSegmentWriter w = a.createSegment(1, "binlog.000003", start, end)) {
            w.stream().write(FILE, (int) start, (int) (end - start));
            return w.commit(new BinlogArchive.Segment(1, 1, "binlog.000003", start, end, end, closed, "abcd0123", 1700000000L, true, end > start ? 1 : 0, 1,
                    1700000000L, 1700000000L, 1700000000L, List.of(), 1700000001L, null, "2024-01-01T00:00:00Z"));
        }
    }

    private static byte[] read(BinlogArchive a, ArchivedBinlog f, long from, long to) throws IOException {
        try (InputStream in = a.open(f, from, to)) {
            return in.readAllBytes();
        }
    }

    @Test
    void segmentsJoinAndOverlapsAreHarmless(@TempDir Path dir) throws IOException {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        BinlogArchive a = BinlogArchive.load(repo, "host-3306-00000001");
        store(a, 0, 100, false);
        store(a, 100, 180, false);
        store(a, 180, 300, true);
        // a copy of [0, 180) as one object, as a compaction would leave it before deleting the two it replaces
        store(a, 0, 180, false);

        BinlogArchive b = BinlogArchive.load(repo, "host-3306-00000001");
        ArchivedBinlog f = b.file(1, "binlog.000003");
        assertEquals(300, f.coveredEnd());
        assertTrue(f.closed());
        assertFalse(f.damaged());
        assertEquals(List.of(0L, 180L), f.cover().stream().map(BinlogArchive.Segment::start).toList());
        assertArrayEquals(FILE, read(b, f, 0, 300));
        assertArrayEquals(Arrays.copyOfRange(FILE, 150, 250), read(b, f, 150, 250));
    }

    @Test
    void aCompleteFileIsCompactedIntoOneSegment(@TempDir Path dir) throws IOException {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        BinlogArchive a = BinlogArchive.load(repo, "h");
        store(a, 0, 100, false);
        store(a, 100, 300, false);
        store(a, 300, 300, true); // the file closed with nothing more in it
        ArchivedBinlog f = a.file(1, "binlog.000003");
        assertTrue(f.closed());
        BinlogCompaction.deleteCovered(a, f);
        assertTrue(a.file(1, "binlog.000003").closed(), "the zero-length segment that closes the file is not \"covered\"");
        BinlogArchive.Segment whole = BinlogCompaction.compact(a, a.file(1, "binlog.000003"));
        assertEquals(0, whole.start());
        assertEquals(300, whole.end());
        assertEquals(2, whole.events());

        BinlogArchive b = BinlogArchive.load(repo, "h");
        f = b.file(1, "binlog.000003");
        assertEquals(List.of(whole), f.segments());
        assertTrue(f.closed());
        assertArrayEquals(FILE, read(b, f, 0, 300));
        try (var keys = Files.walk(dir.resolve("repo/binlogs/h/t0001/binlog.000003"))) {
            assertEquals(2, keys.filter(Files::isRegularFile).count());
        }
    }

    @Test
    void aMissingDataObjectEndsTheCoverageAndIsNamed(@TempDir Path dir) throws IOException {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        BinlogArchive a = BinlogArchive.load(repo, "h");
        store(a, 0, 100, false);
        BinlogArchive.Segment mid = store(a, 100, 180, false);
        store(a, 180, 300, true);
        Files.delete(Path.of(a.describe(mid)));
        BinlogArchive b = BinlogArchive.load(repo, "h");
        ArchivedBinlog f = b.file(1, "binlog.000003");
        assertEquals(100, f.coveredEnd());
        assertFalse(f.closed());
        assertTrue(f.damaged());
        assertEquals(List.of(mid.start()), f.withoutData().stream().map(BinlogArchive.Segment::start).toList());
        StrataException e = b.missing(mid, b.describe(mid));
        assertEquals(ErrorCode.BINLOG_MISSING, e.code());
        assertEquals("archived binlog binlog.000003 bytes [100, 180) are missing from the repository (resource=" + b.describe(mid) + ")", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.open(f, 0, 150));
    }

    @Test
    void dataWithoutSummaryIsNotPartOfTheArchive(@TempDir Path dir) throws IOException {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        BinlogArchive a = BinlogArchive.load(repo, "h");
        store(a, 0, 100, false);
        try (var w = repo.store().create(a.segmentKey(1, "binlog.000003", 100, 200))) {
            w.stream().write(new byte[10]);
            w.commit();
        }
        BinlogArchive b = BinlogArchive.load(repo, "h");
        assertEquals(100, b.file(1, "binlog.000003").coveredEnd());
        assertEquals(List.of(a.segmentKey(1, "binlog.000003", 100, 200)), b.orphanData());
        // an archiver killed while it wrote a segment leaves a temporary file (an unfinished upload in S3)
        var unfinished = repo.store().create(a.segmentKey(1, "binlog.000003", 100, 300));
        unfinished.stream().write(new byte[10]);
        Path tmpDir = dir.resolve("repo").resolve(a.prefix()).resolve("t0001/binlog.000003");
        assertEquals(1, countTemps(tmpDir));
        assertEquals(2, BinlogCompaction.tidy(b));
        assertEquals(0, countTemps(tmpDir));
        unfinished.close(); // what the killed process would have done: nothing is left to discard
        assertTrue(BinlogArchive.load(repo, "h").orphanData().isEmpty());
        assertFalse(repo.store().exists(a.segmentKey(1, "binlog.000003", 100, 200)));
    }

    private static long countTemps(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".tmp-")).count();
        }
    }

    @Test
    void aLostLockStopsTheSummaryThatWouldCommitASegment(@TempDir Path dir) throws IOException {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        BinlogArchive a = BinlogArchive.load(repo, "h");
        store(a, 0, 100, false);
        RepoLock lost = new RepoLock() {
            @Override
            public void check() {
                throw new StrataException(ErrorCode.REPO_LOCKED, "lost the lock");
            }

            @Override
            public void close() {}
        };
        a.guardWrites(lost);
        StrataException e = assertThrows(StrataException.class, () -> store(a, 100, 200, false));
        assertEquals(ErrorCode.REPO_LOCKED, e.code());
        assertThrows(StrataException.class, () -> a.writeGap(new BinlogArchive.Gap(1, 1, "binlog.000003", 100, 1, "binlog.000005", List.of("binlog.000004"),
                "test", "2024-01-01T00:00:00Z")));
        // the data object was stored, its summary was not: the segment is not part of the archive
        BinlogArchive b = BinlogArchive.load(repo, "h");
        assertEquals(100, b.file(1, "binlog.000003").coveredEnd());
        assertEquals(List.of(a.segmentKey(1, "binlog.000003", 100, 200)), b.orphanData());
        assertTrue(b.gaps().isEmpty());
    }

    /** A JSON record of the archive, where it is stored below the archive's directory, and its content name. */
    private record Stored(String key, String content, Object record) {}

    /** One record of each kind the archive reads, with format version v. */
    private static List<Stored> recordsOfVersion(int v) {
        return List.of(
                new Stored("source", "binlog-source", new BinlogArchive.Source(v, "db:3306:/d", "db", 3306, 1, "/d/binlog", "2024-01-01T00:00:00Z")),
                new Stored("t0001/timeline", "binlog-timeline", new BinlogArchive.Timeline(v, 1, "binlog.000001", "2024-01-01T00:00:00Z", "first")),
                new Stored("gaps/20240101T000000000Z-t0001-binlog.000001", "binlog-gap", new BinlogArchive.Gap(v, 1, "binlog.000001", 400, 1,
                        "binlog.000003", List.of("binlog.000002"), "purged", "2024-01-01T00:00:00Z")),
                new Stored("asof/20240101T000000000Z", "binlog-asof", new BinlogArchive.AsOf(v, 1, "binlog.000001", 400, 1704067200L)),
                new Stored("t0001/binlog.000001/000000000000-000000000400.sum", "binlog-summary", new BinlogArchive.Segment(v, 1, "binlog.000001",
                        0, 400, 400, false, "abcd0123", 1700000000L, true, 3, 1, null, null, null, List.of(), 1700000001L, "00000000",
                        "2024-01-01T00:00:00Z")));
    }

    @Test
    void aRecordOfANewerFormatIsTooNewAndAnOlderOneIsDamage(@TempDir Path dir) {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        for (int v : new int[] {2, 0}) {
            for (Stored r : recordsOfVersion(v)) {
                String source = "v" + v + "-" + r.content();
                String key = BinlogArchive.PREFIX + source + "/" + r.key();
                repo.writeJson(key, r.content(), r.record());
                StrataException e = assertThrows(StrataException.class, () -> BinlogArchive.load(repo, source), key);
                String where = dir.resolve("repo").resolve(key).toString();
                if (v == 2) {
                    assertEquals(ErrorCode.FORMAT_TOO_NEW, e.code(), key);
                    assertEquals(r.content() + " " + where + " was written by a newer strata, version 2; this one reads up to 1", e.getMessage());
                    assertEquals("upgrade strata to read this repository", e.hint());
                } else {
                    assertEquals(ErrorCode.CORRUPT_DATA, e.code(), key);
                    assertEquals(r.content() + " format version 0 is outside the supported range [1,1] (resource=" + where + ")", e.getMessage());
                }
            }
        }
        for (Stored r : recordsOfVersion(1)) {
            repo.writeJson(BinlogArchive.PREFIX + "v1/" + r.key(), r.content(), r.record());
        }
        BinlogArchive a = BinlogArchive.load(repo, "v1");
        assertEquals("db:3306:/d", a.source().serverKey());
        assertEquals(List.of(1), List.copyOf(a.timelines().keySet()));
        assertEquals(1, a.gaps().size());
        assertEquals(400, a.asOf().offset());
        assertEquals(1, a.file(1, "binlog.000001").segments().size());
    }

    @Test
    void aBackupThatEndedInTheSecondAResetCreatedTheFileIsPlacedNowhere(@TempDir Path dir) {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        String p = BinlogArchive.PREFIX + "tie/";
        repo.writeJson(p + "source", "binlog-source", new BinlogArchive.Source(1, "db:3306:/d", "db", 3306, 1, "/d/binlog", "2024-01-01T00:00:00Z"));
        for (int t = 1; t <= 2; t++) {
            String tl = String.format("t%04d", t);
            repo.writeJson(p + tl + "/timeline", "binlog-timeline", new BinlogArchive.Timeline(1, t, "binlog.000001", "2024-01-01T00:00:00Z",
                    t == 1 ? "first" : "reset"));
            // binlog.000001 of each history: created at second 1000, then again (RESET MASTER) at second 2000
            repo.writeJson(p + tl + "/binlog.000001/000000000000-000000000400.sum", "binlog-summary", new BinlogArchive.Segment(1, t,
                    "binlog.000001", 0, 400, 400, false, "abcd000" + t, t * 1000L, true, 3, 1, null, null, null, List.of(), t * 1000L + 1,
                    "00000000", "2024-01-01T00:00:00Z"));
        }
        BinlogArchive a = BinlogArchive.load(repo, "tie");
        assertEquals(1000, a.file(1, "binlog.000001").created());
        assertEquals(2000, a.file(2, "binlog.000001").created());
        assertEquals(new BinlogArchive.Pos(0, "binlog.000001", 300), a.place("binlog.000001", 300, 999), "before any file of that name");
        assertEquals(new BinlogArchive.Pos(1, "binlog.000001", 300), a.place("binlog.000001", 300, 1000), "the first history's own second");
        assertEquals(new BinlogArchive.Pos(1, "binlog.000001", 300), a.place("binlog.000001", 300, 1999));
        // ended in the second of the reset: its position may be in either file, so it is no starting point
        assertEquals(new BinlogArchive.Pos(0, "binlog.000001", 300), a.place("binlog.000001", 300, 2000));
        assertEquals(new BinlogArchive.Pos(2, "binlog.000001", 300), a.place("binlog.000001", 300, 2001));
        assertTrue(a.createdInTheSecondOfAReset("binlog.000001", 2000));
        for (long s : new long[] {999, 1000, 1999, 2001}) {
            assertFalse(a.createdInTheSecondOfAReset("binlog.000001", s), "second " + s);
        }
    }

    @Test
    void namesAndOrder() {
        assertEquals("db1.example-3306-", BinlogArchive.sourceDir("db1.example:3306:/var/lib/mysql", "db1.example", 3306).substring(0, 17));
        assertEquals(42, BinlogArchive.fileNumber("mysql-bin.000042"));
        BinlogArchive.Pos a = new BinlogArchive.Pos(1, "binlog.000009", 500);
        BinlogArchive.Pos b = new BinlogArchive.Pos(1, "binlog.000010", 4);
        BinlogArchive.Pos c = new BinlogArchive.Pos(2, "binlog.000001", 4);
        assertTrue(a.compareTo(b) < 0 && b.compareTo(c) < 0);
        assertEquals("binlog.000009:500", a.toString());
    }
}
