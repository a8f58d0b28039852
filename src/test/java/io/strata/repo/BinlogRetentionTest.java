package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.restore.PitrWindows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.strata.repo.TinyRepo.binlog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention of archived binlogs without a server: which files prune removes and why, the
 * archive's recorded start afterwards (so that nothing reads as damage), --keep-days alone, a
 * server with no kept backup, an interrupted prune, and a running archiver.
 */
class BinlogRetentionTest {
    static final Instant NOW = Instant.now();

    @TempDir
    Path dir;

    private static long daysAgo(int d) {
        return NOW.minus(Duration.ofDays(d)).getEpochSecond();
    }

    /** Stores file {@code n} of timeline 1 created {@code daysAgo} days ago as {@code parts} segments of 1000 bytes, closed unless {@code open}. */
    private static void store(BinlogArchive a, int n, int daysAgo, int parts, boolean open) throws IOException {
        for (int i = 0; i < parts; i++) {
            long start = i * 1000L;
            boolean closed = !open && i == parts - 1;
            try (BinlogSegmentWriter w = a.createSegment(1, binlog(n), start, start + 1000)) {
                w.stream().write(new byte[1000]);
                w.commit(new BinlogArchive.Segment(1, 1, binlog(n), start, start + 1000, start + 1000, closed, "0000000" + n, daysAgo(daysAgo), true, 1, 1,
                        null, null, null, List.of(), daysAgo(daysAgo) + 1, null, NOW.toString()));
            }
        }
    }

    /**
     * Backups of {@link TinyRepo#SERVER}: F1 20 days ago in binlog.000002, F2 8 days ago in
     * binlog.000004, F3 2 days ago in binlog.000005; archived binlog.000001 to 000006 (file n
     * created 30 - 5n days ago), a gap record after binlog.000002 (000003 came late).
     */
    private TinyRepo threeFulls() throws IOException {
        return threeFulls(new TinyRepo(dir.resolve("repo")));
    }

    private static TinyRepo threeFulls(TinyRepo t) throws IOException {
        t.backup("full", null, NOW.minus(Duration.ofDays(20)), Duration.ofMinutes(1), 2);
        t.backup("full", null, NOW.minus(Duration.ofDays(8)), Duration.ofMinutes(1), 4);
        t.backup("full", null, NOW.minus(Duration.ofDays(2)), Duration.ofMinutes(1), 5);
        BinlogArchive a = t.archive();
        for (int n = 1; n <= 6; n++) {
            store(a, n, 30 - 5 * n, 1, n == 6);
        }
        a.writeGap(new BinlogArchive.Gap(BinlogArchive.FORMAT_VERSION, 1, binlog(1), 1000, 1, binlog(2), List.of(), "test", NOW.minus(Duration.ofDays(25)).toString()));
        return t;
    }

    private static List<String> archivedFiles(TinyRepo t) {
        List<String> out = new ArrayList<>();
        for (ArchivedBinlog f : t.archive().files(1)) {
            out.add(f.name());
        }
        return out;
    }

    @Test
    void keepDaysAloneRemovesTheOldFullAndTheBinlogsOnlyItsWindowNeeded() throws IOException {
        keepDaysAlone(threeFulls());
    }

    @Test
    void inAnEncryptedRepositoryTheNewStartIsSealedLikeEveryRecord() throws IOException {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        Repository repo = Repository.openOrCreate(io.strata.store.StoreLocation.local(dir.resolve("enc")), new io.strata.codec.Secret.Key(key));
        TinyRepo t = keepDaysAlone(threeFulls(new TinyRepo(repo)));
        Path record = dir.resolve("enc").resolve(t.archive().prefix()).resolve("t0001/timeline");
        String raw = new String(java.nio.file.Files.readAllBytes(record), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(raw.startsWith("STRT") && !raw.contains("prunedFrom") && !raw.contains("binlog.0000"), "the rewritten timeline record is not sealed: " + raw);
    }

    /** Prune --keep-days 7 on {@link #threeFulls}: F1 and binlog.000001 to 000003 go; the archive starts at F2's file. */
    private static TinyRepo keepDaysAlone(TinyRepo t) throws IOException {
        String f1 = t.repo().history().completedIds().get(0);
        String f2 = t.repo().history().completedIds().get(1);
        List<String> dry = new ArrayList<>();
        Prune.Result d = Prune.run(t.repo(), null, 7, true, dry::add);
        assertEquals(List.of(f1), List.copyOf(d.plan().remove().keySet()));
        assertEquals(List.of(binlog(1), binlog(2), binlog(3), binlog(4), binlog(5), binlog(6)), archivedFiles(t), "a dry run removed binlogs");
        String line = "would remove binlogs of " + TinyRepo.SERVER + " t0001 binlog.000001 to t0001 binlog.000003: 3 file(s), 3 segment(s), ";
        assertTrue(dry.stream().anyMatch(l -> l.startsWith(line) && l.endsWith(" bytes: t0001 binlog.000004 holds the binlog position binlog.000004:400 of backup "
                + f2 + ", the oldest kept backup of this server: every window a kept backup promises starts there or later; keep from t0001 binlog.000004")), dry.toString());

        List<String> out = new ArrayList<>();
        Prune.Result r = Prune.run(t.repo(), null, 7, false, out::add);
        assertEquals(List.of(f1), List.copyOf(r.plan().remove().keySet()));
        BinlogRetention.SourcePlan p = r.binlogs().get(0);
        assertEquals(List.of(binlog(1), binlog(2), binlog(3)), p.removed().stream().map(BinlogRetention.RemovedFile::file).toList());
        assertEquals(d.binlogs().get(0).bytes(), p.bytes());
        assertEquals(1, p.records(), "the gap record after binlog.000001 goes with it");
        assertTrue(out.contains(dry.stream().filter(l -> l.startsWith(line)).findFirst().orElseThrow().replace("would remove", "remove")), out.toString());
        assertEquals(List.of(binlog(4), binlog(5), binlog(6)), archivedFiles(t));
        BinlogArchive a = t.archive();
        assertEquals(List.of(), a.gaps());
        assertEquals(List.of(), a.prunedLeftovers());
        BinlogArchive.Timeline tl = a.timelines().get(1);
        assertEquals(binlog(4), tl.firstFile());
        assertEquals(binlog(1), tl.prunedFrom());
        assertEquals(new BinlogArchive.Pos(1, binlog(4), 0), a.prunedStart());
        // the archive starts where the kept full's window starts: no break, one window from F2
        PitrWindows w = PitrWindows.of(t.repo(), TinyRepo.SERVER);
        assertEquals(List.of(), w.breaks());
        assertEquals(f2, w.windows().get(0).from().id());
        assertEquals(1, w.windows().size());

        // a second prune finds nothing more to remove
        List<String> again = new ArrayList<>();
        Prune.Result r2 = Prune.run(t.repo(), null, 7, false, again::add);
        assertEquals(List.of(), r2.binlogs().get(0).removed());
        assertTrue(again.contains("keep   binlogs of " + TinyRepo.SERVER + " from t0001 binlog.000004: t0001 binlog.000004 holds the binlog position "
                + "binlog.000004:400 of backup " + f2 + ", the oldest kept backup of this server: every window a kept backup promises starts there or later"), again.toString());
        return t;
    }

    @Test
    void aRetentionIsRequired() {
        StrataException e = assertThrows(StrataException.class, () -> Prune.plan(List.of(), null, null, NOW));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("prune needs a retention: --keep-full N, --keep-days D, or both", e.getMessage());
    }

    @Test
    void aServerWithoutKeptBackupsKeepsItsArchiveUnlessKeepDaysLimitsIt() throws IOException {
        TinyRepo t = new TinyRepo(dir.resolve("repo"));
        BinlogArchive a = t.archive();
        for (int n = 1; n <= 5; n++) {
            store(a, n, 30 - 5 * n, 1, n == 5);
        }
        List<String> out = new ArrayList<>();
        BinlogRetention.SourcePlan p = Prune.run(t.repo(), 2, null, false, out::add).binlogs().get(0);
        assertEquals(List.of(), p.removed());
        assertEquals("no backup of this server is kept, so no window limits the archive: it is kept whole (--keep-days D removes its files older than D days)",
                p.reason());
        // files 1..5 were created 25, 20, 15, 10, 5 days ago: with 12 days, 000001 and 000002 were written entirely before the cutoff
        p = Prune.run(t.repo(), null, 12, false, out::add).binlogs().get(0);
        assertEquals(List.of(binlog(1), binlog(2)), p.removed().stream().map(BinlogRetention.RemovedFile::file).toList());
        assertEquals(List.of(binlog(3), binlog(4), binlog(5)), archivedFiles(t));
        // however old, the newest file stays: an archiver continues from it
        p = Prune.run(t.repo(), null, 1, false, out::add).binlogs().get(0);
        assertEquals(List.of(binlog(3), binlog(4)), p.removed().stream().map(BinlogRetention.RemovedFile::file).toList());
        assertEquals(List.of(binlog(5)), archivedFiles(t));
    }

    @Test
    void anInterruptedPruneLeavesNothingThatReadsAsDamage() throws IOException {
        TinyRepo t = threeFulls();
        BinlogArchive a = t.archive();
        // killed right after the new start was recorded: every old object is still there
        a.writeTimeline(a.timelines().get(1).prunedTo(binlog(4), NOW.toString()));
        a = t.archive();
        assertEquals(List.of(binlog(4), binlog(5), binlog(6)), archivedFiles(t));
        assertEquals(7, a.prunedLeftovers().size(), "three files (summary and data each) and the gap record: " + a.prunedLeftovers());
        assertEquals(List.of(), PitrWindows.of(t.repo(), TinyRepo.SERVER).breaks());
        // the next prune (keep-full 3 keeps everything: F1's file binlog.000002 would be needed, but it is gone already) removes the leftovers
        List<String> out = new ArrayList<>();
        BinlogRetention.SourcePlan p = Prune.run(t.repo(), 3, null, false, out::add).binlogs().get(0);
        assertEquals(List.of(), p.removed());
        assertEquals(7, p.records());
        assertTrue(out.contains("note   binlogs of " + TinyRepo.SERVER + ": 7 object(s) left by an interrupted prune before t0001 binlog.000004 go too"), out.toString());
        assertEquals(List.of(), t.repo().store().list(t.archive().prefix() + "t0001/binlog.000001/"));
        assertEquals(List.of(), t.archive().prunedLeftovers());
    }

    @Test
    void whileAnArchiverRunsTheFilesItMayTouchStay() throws IOException {
        TinyRepo t = new TinyRepo(dir.resolve("repo"));
        t.backup("full", null, NOW.minus(Duration.ofDays(1)), Duration.ofMinutes(1), 5);
        BinlogArchive a = t.archive();
        store(a, 1, 20, 1, false);
        store(a, 2, 15, 2, false); // closed but not compacted yet
        store(a, 3, 10, 1, false);
        store(a, 4, 5, 1, false);
        store(a, 5, 1, 1, true);
        try (RepoLock held = t.repo().lock(BinlogArchive.lockName(a.dir()), "held", null)) {
            List<String> out = new ArrayList<>();
            BinlogRetention.SourcePlan p = Prune.run(t.repo(), 1, null, false, out::add).binlogs().get(0);
            assertEquals(List.of(binlog(1)), p.removed().stream().map(BinlogRetention.RemovedFile::file).toList());
            assertTrue(p.reason().endsWith("; t0001 binlog.000002 stays (not yet closed and compacted while an archiver runs)"), p.reason());
            assertTrue(p.notes().get(0).startsWith("an archiver (pid " + ProcessHandle.current().pid() + ") is running"), p.notes().toString());
        }
        List<String> out = new ArrayList<>();
        BinlogRetention.SourcePlan p = Prune.run(t.repo(), 1, null, false, out::add).binlogs().get(0);
        assertEquals(List.of(binlog(2), binlog(3), binlog(4)), p.removed().stream().map(BinlogRetention.RemovedFile::file).toList());
        assertNull(t.repo().lockHolderPid(BinlogArchive.lockName(a.dir())), "prune released the archiver's lock");
    }
}
