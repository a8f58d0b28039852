package io.strata.repo;

import io.strata.repo.BinlogArchive.Pos;
import io.strata.repo.BinlogArchive.Segment;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * One binlog file of a timeline as the archive holds it: the segments whose summaries exist, and
 * the bytes a reader can take from them. The read rule of {@link BinlogArchive}: from offset 0,
 * always continue with the segment (with its data object) that reaches furthest; where none
 * continues, the covered bytes end. Offsets are byte offsets in the server's file.
 */
public final class ArchivedBinlog {
    private final int timeline;
    private final String name;
    private final List<Segment> segments = new ArrayList<>();
    private final List<Segment> cover = new ArrayList<>();
    private final List<Segment> withoutData = new ArrayList<>();
    private long coveredEnd;
    private long usableEnd;
    private boolean closed;
    private boolean hole;

    ArchivedBinlog(int timeline, String name) {
        this.timeline = timeline;
        this.name = name;
    }

    public int timeline() { return timeline; }

    public String name() { return name; }

    /** The number in the file name ({@code binlog.000042}: 42), -1 without one. */
    public long number() { return BinlogArchive.fileNumber(name); }

    /** Every segment with a summary, by start offset. */
    public List<Segment> segments() { return segments; }

    /** The segments a reader uses, in order, from offset 0 to {@link #coveredEnd()}. */
    public List<Segment> cover() { return cover; }

    /** Segments whose summary exists but whose data object does not. */
    public List<Segment> withoutData() { return withoutData; }

    /** End of the bytes archived without interruption from offset 0. */
    public long coveredEnd() { return coveredEnd; }

    /** The last transaction boundary within the covered bytes: where a replay of this file may end. */
    public long usableEnd() { return usableEnd; }

    /** Whether the covered bytes reach the file's final end. */
    public boolean closed() { return closed; }

    /** Whether segments exist beyond a missing range, or a segment's data object is missing. */
    public boolean damaged() { return hole || !withoutData.isEmpty(); }

    /** The {@code fileId} of the file's segments (CRC-32C of its format description event), null without segments. */
    public String fileId() { return cover.isEmpty() ? (segments.isEmpty() ? null : segments.get(0).fileId()) : cover.get(0).fileId(); }

    /** When the server created the file (seconds since the epoch, server clock), 0 without segments. */
    public long created() { return segments.isEmpty() ? 0 : segments.get(0).fileCreated(); }

    /** Whether the file's events carry a CRC-32 trailer. */
    public boolean checksums() { return !segments.isEmpty() && segments.get(0).checksums(); }

    /** Where a replay of the whole archived file ends: its {@link #usableEnd()}. */
    public Pos end() { return new Pos(timeline, name, usableEnd); }

    /** Adds a segment read or written; {@link #resolve()} (or {@link #reresolve()}) must follow. */
    void add(Segment s, boolean hasData) {
        segments.add(s);
        if (!hasData) {
            withoutData.add(s);
        }
    }

    /** Forgets deleted segments and resolves the cover again. */
    void remove(Collection<Segment> gone) {
        segments.removeAll(gone);
        withoutData.removeAll(gone);
        reresolve();
    }

    void reresolve() {
        cover.clear();
        closed = false;
        hole = false;
        resolve();
    }

    void resolve() {
        segments.sort(Comparator.comparingLong(Segment::start).thenComparing(Comparator.comparingLong(Segment::end).reversed()));
        long p = 0;
        while (true) {
            Segment best = null;
            for (Segment s : segments) {
                if (!withoutData.contains(s) && s.start() <= p && s.end() > p && (best == null || s.end() > best.end())) {
                    best = s;
                }
            }
            if (best == null) {
                break;
            }
            cover.add(best);
            p = best.end();
        }
        coveredEnd = p;
        usableEnd = 0;
        if (!cover.isEmpty()) {
            // the segments ending where coverage ends (a zero-length one may close the file)
            for (Segment s : segments) {
                if (!withoutData.contains(s) && s.end() == p) {
                    closed |= s.closed();
                    usableEnd = Math.max(usableEnd, Math.min(s.boundaryEnd(), p));
                }
            }
        }
        for (Segment s : segments) {
            if (s.start() > p) {
                hole = true;
            }
        }
    }
}
