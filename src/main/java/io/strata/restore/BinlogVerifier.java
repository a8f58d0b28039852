package io.strata.restore;

import io.strata.binlog.BinlogScanner;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.repo.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The binlog part of {@link Verifier}: one archive directory ({@code binlogs/<source>/}, see
 * docs/repository-format.md "Binlog archive"). Checks every record (summaries, timelines, gaps,
 * source), every segment's data object against its summary (frame, chunk CRCs, length, content
 * digest), the events of every file's covered bytes with {@link BinlogScanner} (magic, framing,
 * log_pos, CRC-32; the file identity against the summaries), and continuity: within a file,
 * no segment beyond where its bytes stop and no summary without its data object; within a
 * timeline, each file closed and followed by the next file number, unless a gap record explains
 * the break. Prints each run (files archived without a break) and each recorded gap; a recorded
 * gap is not damage.
 */
final class BinlogVerifier {
    private final Repository repo;
    private final Consumer<String> problem;
    private final Consumer<String> out;
    private int found;
    private int runs;
    private int gaps;
    private long segments;

    BinlogVerifier(Repository repo, Consumer<String> problem, Consumer<String> out) {
        this.repo = repo;
        this.problem = problem;
        this.out = out;
    }

    private void problem(String msg) {
        found++;
        problem.accept(msg);
    }

    /** Runs of files without a break, over every archive verified so far. */
    int runs() { return runs; }

    /** Recorded gaps, over every archive verified so far. */
    int gaps() { return gaps; }

    /** Segments (summaries) read, over every archive verified so far. */
    long segments() { return segments; }

    /** Verifies the archive in {@code binlogs/<dir>/}; problems go to the verifier, runs and gaps to its output. */
    void verify(String dir) {
        List<String> damaged = new ArrayList<>();
        BinlogArchive a;
        try {
            a = BinlogArchive.load(repo, dir, damaged);
        } catch (StrataException e) {
            if (e.code() != ErrorCode.CORRUPT_DATA) {
                throw e;
            }
            problem(e.getMessage());
            out.accept("FAILED binlogs in " + dir + ": the archive cannot be read");
            return;
        }
        damaged.forEach(this::problem);
        String server = a.source() != null ? a.source().serverKey() : a.describe();
        if (a.source() == null) {
            problem("binlog archive " + a.describe() + " has no readable source record");
        }
        for (int t : a.storedTimelines()) {
            verifyTimeline(a, server, t);
        }
        if (!a.prunedLeftovers().isEmpty()) {
            out.accept(String.format(java.util.Locale.ROOT, "pruned binlogs of %s before t%04d %s: %d object(s) left by an interrupted prune (not damage; the next prune removes them)",
                    server, a.prunedStart().timeline(), a.prunedStart().file(), a.prunedLeftovers().size()));
        }
        for (BinlogArchive.Gap g : a.gaps()) {
            gaps++;
            out.accept(String.format(java.util.Locale.ROOT, "gap    binlogs of %s after t%04d %s:%d until t%04d %s: %s (recorded %s; not damage)", server,
                    g.timeline(), g.afterFile() == null ? "(start)" : g.afterFile(), g.afterOffset(), g.nextTimeline(), g.nextFile(), g.reason(), g.detected()));
        }
        if (found > 0) {
            out.accept("FAILED binlogs of " + server + ": " + found + " problem(s)");
        }
    }

    private void verifyTimeline(BinlogArchive a, String server, int t) {
        List<ArchivedBinlog> files = a.files(t);
        ArchivedBinlog runFirst = null;
        ArchivedBinlog prev = null;
        long segments = 0;
        long events = 0;
        int runFiles = 0;
        for (ArchivedBinlog f : files) {
            if (prev != null && (f.number() != prev.number() + 1 || !prev.closed())) {
                boolean explained = false;
                for (BinlogArchive.Gap g : a.gaps()) {
                    explained |= g.timeline() == t && prev.name().equals(g.afterFile());
                }
                if (!explained) {
                    problem(String.format(java.util.Locale.ROOT, "archived binlogs of timeline %d break between %s (archived to %d%s) and %s, and no gap is recorded there: archived objects are missing (resource=%s)",
                            t, prev.name(), prev.coveredEnd(), prev.closed() ? ", closed" : ", not closed", f.name(), a.describe()));
                }
                run(server, t, runFirst, prev, runFiles, segments, events);
                runFirst = null;
            }
            if (runFirst == null) {
                runFirst = f;
                runFiles = 0;
                segments = 0;
                events = 0;
            }
            runFiles++;
            segments += f.segments().size();
            events += verifyFile(a, f);
            prev = f;
        }
        if (runFirst != null) {
            run(server, t, runFirst, prev, runFiles, segments, events);
        }
    }

    private void run(String server, int t, ArchivedBinlog first, ArchivedBinlog last, int files, long segments, long events) {
        this.runs++;
        this.segments += segments;
        out.accept(String.format(java.util.Locale.ROOT, "run    binlogs of %s, t%04d %s:0 to %s:%d: %d file(s), %d segment(s), %d events read",
                server, t, first.name(), last.name(), last.usableEnd(), files, segments, events));
    }

    /** Checks one file's segments and events; returns the number of events read. */
    private long verifyFile(BinlogArchive a, ArchivedBinlog f) {
        int before = found;
        for (Segment s : f.withoutData()) {
            if (a.summaryExists(s)) {
                problem(a.missing(s, a.describe(s)).getMessage());
            } // else: compaction replaced it while we looked
        }
        for (Segment s : f.segments()) {
            if (s.start() > f.coveredEnd() && !f.withoutData().contains(s)) {
                problem(String.format(java.util.Locale.ROOT, "archived binlog %s stops at offset %d but a segment starts at %d: the bytes between are missing (resource=%s)",
                        f.name(), f.coveredEnd(), s.start(), a.describe(s)));
                break;
            }
        }
        for (Segment s : f.segments()) {
            if (f.withoutData().contains(s)) {
                continue;
            }
            try {
                a.checkSegment(s);
            } catch (StrataException e) {
                if (e.code() == ErrorCode.NATIVE_LIBRARY) {
                    throw e;
                }
                if (a.summaryExists(s)) {
                    problem(e.getMessage());
                }
            }
            if (s.fileId() != null && f.fileId() != null && !s.fileId().equals(f.fileId())) {
                problem("archived binlog segment of " + f.name() + " belongs to another file (fileId " + s.fileId() + ", the file's is " + f.fileId()
                        + ") (resource=" + a.describe(s) + ")");
            }
        }
        if (found > before || f.coveredEnd() == 0) {
            return 0; // the damage is named; scanning the events would name it again
        }
        long events = 0;
        BinlogScanner sc = new BinlogScanner(f.name(), 0, null);
        try (InputStream in = new java.io.BufferedInputStream(a.open(f, 0, f.coveredEnd()), 1 << 16)) {
            while (sc.next(in, f.coveredEnd(), null) != null) {
                events++;
            }
            if (sc.offset() != f.coveredEnd()) {
                problem("archived binlog " + f.name() + " does not end at an event boundary at " + f.coveredEnd() + " (the last complete event ends at "
                        + sc.offset() + ") (resource=" + a.describe(f.cover().get(f.cover().size() - 1)) + ")");
            } else if (sc.fileId() != null && f.fileId() != null && !sc.fileId().equals(f.fileId())) {
                problem("archived binlog " + f.name() + " holds a file whose identity is " + sc.fileId() + ", its summaries say " + f.fileId()
                        + " (resource=" + a.describe(f.cover().get(0)) + ")");
            }
        } catch (StrataException e) {
            if (e.code() == ErrorCode.NATIVE_LIBRARY) {
                throw e;
            }
            if (f.cover().stream().allMatch(a::summaryExists)) {
                problem(e.getMessage());
            }
        } catch (IOException e) {
            problem("archived binlog " + f.name() + ": " + e.getMessage());
        }
        return events;
    }
}
