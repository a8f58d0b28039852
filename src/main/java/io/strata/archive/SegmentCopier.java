package io.strata.archive;

import io.strata.archive.BinlogArchiver.ServerLog;
import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.binlog.BinlogStats;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogCompaction;
import io.strata.repo.BinlogSegmentWriter;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Copies the new bytes of one binlog file of the server into the archive as a segment. Only bytes
 * below a safe end are copied: for the active file the position SHOW MASTER STATUS reported (a
 * transaction boundary), for a closed file its size; if the file's events do not end exactly
 * there (not yet written out, or cut short by a crash), the copy ends at the last complete event,
 * or for the active file at the last transaction boundary. Every event is checked (size, log_pos
 * where the server writes one, CRC-32) while it is copied. A closed file, once complete, is compacted into one segment.
 */
final class SegmentCopier {
    private final BinlogArchive archive;
    private final Path binlogDir;
    private final Consumer<String> log;

    SegmentCopier(BinlogArchive archive, Path binlogDir, Consumer<String> log) {
        this.archive = archive;
        this.binlogDir = binlogDir;
        this.log = log;
    }

    /**
     * Stores what the archive lacks of file {@code f} of timeline {@code tl}, from where
     * {@code af} (the archived file, null when none) ends.
     *
     * @param safeEnd for the active file, the offset SHOW MASTER STATUS reported
     * @param asOf    the server's clock minus one second, read before the safe end (seconds since the epoch)
     * @return the segment stored, or null when there was nothing new or the file vanished or was
     *         replaced meanwhile (the next round records that)
     */
    BinlogArchive.Segment copy(int tl, ServerLog f, ArchivedBinlog af, boolean active, long safeEnd, long asOf) {
        long from = af == null ? 0 : af.coveredEnd();
        Path path = binlogDir.resolve(f.name());
        Boolean checksums = null;
        String fileId = null;
        long created = 0;
        if (from > 0) {
            FileStart fs = fileStart(path);
            if (fs == null) {
                return null; // purged meanwhile: the next round records the gap
            }
            if (!fs.fileId().equals(af.fileId())) {
                return null; // replaced meanwhile: the next round starts a new timeline
            }
            checksums = fs.checksums();
            fileId = fs.fileId();
            created = fs.created();
        }
        long limit = active ? safeEnd : f.size();
        if (limit < from || limit == from && (active || af == null)) {
            return null; // nothing new (a shorter file is explained by the reset check of the next round)
        }
        try {
            // usually the safe end is the end of a complete event: one pass checks and copies
            Stored done = store(tl, f, path, from, limit, active, checksums, fileId, created, asOf);
            if (done == null) {
                // the file does not end there (not yet written out, or cut short by a crash):
                // find the last complete event, or for the active file the last transaction boundary
                Scan probe = scan(path, from, limit, checksums, null);
                long cut = active ? probe.lastBoundary : probe.end;
                if (!active && cut < f.size()) {
                    log.accept("note: " + f.name() + " ends with " + (f.size() - cut) + " bytes of an incomplete event (the server stopped while writing it); they are not archived");
                }
                if (cut == from && (active || af == null)) {
                    return null;
                }
                done = store(tl, f, path, from, cut, active, checksums, fileId, created, asOf);
                if (done == null) {
                    throw new StrataException(ErrorCode.IO_ERROR, f.name() + " changed while it was archived: it no longer ends with a complete event at " + cut, null);
                }
            }
            BinlogArchive.Segment seg = done.segment();
            List<BinlogArchive.DomainRange> ranges = seg.gtids();
            log.accept("archived " + f.name() + " [" + seg.start() + ", " + seg.end() + ")" + (active ? "" : ", complete") + ": " + seg.events() + " events, "
                    + seg.groups() + " transactions" + (ranges.isEmpty() ? "" : ", last GTID " + ranges.get(ranges.size() - 1).last()));
            if (seg.closed() && seg.boundaryEnd() < seg.end()) {
                log.accept("note: " + f.name() + " ends inside a transaction at " + seg.boundaryEnd() + " (the server stopped while writing it; that transaction did not commit)");
            }
            if (seg.closed()) {
                // a complete file is kept as one object; its segments go once that one is stored
                BinlogArchive.Segment whole = BinlogCompaction.compact(archive, archive.file(tl, f.name()));
                if (whole != null) {
                    log.accept("compacted " + f.name() + " into one segment [0, " + whole.end() + ")");
                }
            }
            return seg;
        } catch (NoSuchFileException e) {
            // purged meanwhile; nothing was committed, the next round records the gap
            return null;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "archiving " + path + " failed: " + e.getMessage(), null, e);
        }
    }

    /** What the format description event of a binlog file says: its identity, creation time, and whether events carry a CRC-32. */
    record FileStart(String fileId, long created, boolean checksums) {}

    /** Reads a file's format description event; null when the file is gone. */
    static FileStart fileStart(Path p) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(p))) {
            BinlogScanner sc = new BinlogScanner(p.toString(), 0, null);
            BinlogEvent e = sc.next(in, Long.MAX_VALUE, null);
            if (e == null || e.type() != BinlogEvent.FORMAT_DESCRIPTION) {
                return null;
            }
            return new FileStart(sc.fileId(), sc.created(), Boolean.TRUE.equals(sc.checksums()));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot read " + p + ": " + e.getMessage(), null, e);
        }
    }

    private record Stored(BinlogArchive.Segment segment) {}

    /**
     * Stores {@code [from, cut)} as a segment, checking every event while copying it; returns null,
     * having stored nothing, when the file's events do not end exactly at {@code cut}.
     */
    private Stored store(int tl, ServerLog f, Path path, long from, long cut, boolean active, Boolean checksums, String fileId, long created, long asOf)
            throws IOException {
        try (BinlogSegmentWriter w = archive.createSegment(tl, f.name(), from, cut)) {
            Scan copied;
            try {
                copied = scan(path, from, cut, checksums, w.stream());
            } catch (BinlogScanner.EventTruncated t) {
                return null;
            }
            if (copied.end != cut) {
                return null;
            }
            BinlogStats st = copied.stats;
            List<BinlogArchive.DomainRange> ranges = new ArrayList<>();
            for (BinlogStats.Range r : st.domains()) {
                ranges.add(new BinlogArchive.DomainRange(r.domain(), r.minSeq(), r.maxSeq(), r.first().toString(), r.last().toString()));
            }
            // the active file's safe end is a position the server reported: a transaction boundary
            long boundaryEnd = active || copied.atBoundary ? cut : copied.lastBoundary;
            return new Stored(w.commit(new BinlogArchive.Segment(BinlogArchive.FORMAT_VERSION, tl, f.name(), from, cut, boundaryEnd, !active,
                    fileId != null ? fileId : copied.fileId, fileId != null ? created : copied.created,
                    checksums != null ? checksums : Boolean.TRUE.equals(copied.checksums),
                    st.events(), st.groups(), st.firstTime(), st.lastTime(), st.maxTime(), ranges, asOf, null, Instant.now().toString())));
        }
    }

    private static final class Scan {
        long end;
        long lastBoundary;
        boolean atBoundary;
        String fileId;
        long created;
        Boolean checksums;
        final BinlogStats stats = new BinlogStats();
    }

    private Scan scan(Path path, long from, long limit, Boolean checksums, OutputStream copy) throws IOException {
        Scan r = new Scan();
        try (InputStream raw = Files.newInputStream(path)) {
            raw.skipNBytes(from);
            InputStream in = new BufferedInputStream(raw, 1 << 16);
            BinlogScanner sc = new BinlogScanner(path.toString(), from, from == 0 ? null : checksums);
            while (true) {
                BinlogEvent e;
                try {
                    e = sc.next(in, limit, copy);
                } catch (BinlogScanner.EventTruncated t) {
                    if (copy != null) {
                        throw t;
                    }
                    break; // a file being written: the events before it count
                }
                if (e == null) {
                    break;
                }
                r.stats.add(e);
            }
            r.end = sc.offset();
            r.lastBoundary = sc.lastBoundary();
            r.atBoundary = sc.atBoundary();
            r.fileId = sc.fileId();
            r.created = sc.created();
            r.checksums = sc.checksums();
            return r;
        }
    }
}
