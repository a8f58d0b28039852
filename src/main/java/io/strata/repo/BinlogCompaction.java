package io.strata.repo;

import io.strata.repo.BinlogArchive.DomainRange;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps a binlog archive small and tidy; only the archiver, holding the archive's lock, calls it.
 * A complete file is kept as one segment: its segments are replaced by one, the new one stored
 * (data, then summary) before the old ones are deleted (summary, then data), so a reader finds the
 * file whole at every moment and never minds the overlap. What an interrupted archiver left (a
 * compaction half done, data objects without a summary) is finished or removed at the next start.
 */
public final class BinlogCompaction {
    private BinlogCompaction() {}

    /**
     * Replaces the segments of a complete, undamaged file by one segment {@code [0, end)} whose
     * summary adds up theirs.
     *
     * @return the new segment, or null when there was nothing to do (the file is open, damaged, or one segment already)
     * @throws StorageException when reading or storing fails; the archive then still holds the old segments
     */
    public static Segment compact(BinlogArchive archive, ArchivedBinlog f) {
        if (!f.closed() || f.damaged() || f.cover().size() < 2) {
            return null;
        }
        List<Segment> old = new ArrayList<>(f.cover());
        Segment first = old.get(0);
        Segment last = old.get(old.size() - 1);
        long events = 0;
        long groups = 0;
        Long firstTime = null;
        Long lastTime = null;
        Long maxTime = null;
        Map<Long, DomainRange> ranges = new TreeMap<>();
        for (Segment s : old) {
            events += s.events();
            groups += s.groups();
            firstTime = firstTime == null ? s.firstTime() : firstTime;
            lastTime = s.lastTime() == null ? lastTime : s.lastTime();
            maxTime = maxTime == null ? s.maxTime() : s.maxTime() == null ? maxTime : Math.max(maxTime, s.maxTime());
            for (DomainRange r : s.gtids()) {
                DomainRange x = ranges.get(r.domain());
                ranges.put(r.domain(), x == null ? r : new DomainRange(r.domain(), Math.min(x.minSeq(), r.minSeq()), Math.max(x.maxSeq(), r.maxSeq()), x.first(), r.last()));
            }
        }
        Segment merged;
        try (BinlogSegmentWriter w = archive.createSegment(f.timeline(), f.name(), 0, f.coveredEnd()); InputStream in = archive.open(f, 0, f.coveredEnd())) {
            in.transferTo(w.stream());
            merged = w.commit(new Segment(BinlogArchive.FORMAT_VERSION, f.timeline(), f.name(), 0, f.coveredEnd(), last.boundaryEnd(), true, first.fileId(),
                    first.fileCreated(), first.checksums(), events, groups, firstTime, lastTime, maxTime, new ArrayList<>(ranges.values()), last.asOf(), null,
                    Instant.now().toString()));
        } catch (IOException e) {
            throw StorageException.local("compact", archive.where(archive.segmentKey(f.timeline(), f.name(), 0, f.coveredEnd())), e);
        }
        deleteCovered(archive, archive.file(f.timeline(), f.name()));
        return merged;
    }

    /** Deletes the segments of a file that another segment with data covers entirely (left by a compaction). */
    public static void deleteCovered(BinlogArchive archive, ArchivedBinlog f) {
        List<Segment> gone = new ArrayList<>();
        for (Segment s : f.segments()) {
            for (Segment o : f.segments()) {
                if (o != s && !f.withoutData().contains(o) && o.start() <= s.start() && o.end() >= s.end() && o.length() > s.length()
                        && (o.closed() || !s.closed())) {
                    gone.add(s);
                    break;
                }
            }
        }
        for (Segment s : gone) {
            String key = archive.segmentKey(s.timeline(), s.file(), s.start(), s.end());
            archive.delete(BinlogArchive.sumKeyOf(key));
            archive.delete(key);
        }
        if (!gone.isEmpty()) {
            f.remove(gone);
        }
    }

    /**
     * Finishes what an interrupted archiver left: unfinished uploads discarded (object storage),
     * data objects that never got a summary deleted (design rule 2), covered segments deleted,
     * complete files compacted.
     *
     * @return how many unfinished uploads and data objects without a summary were removed
     */
    public static int tidy(BinlogArchive archive) {
        int removed = archive.discardUnfinished();
        for (String k : archive.orphanData()) {
            archive.delete(k);
            removed++;
        }
        archive.orphanData().clear();
        for (ArchivedBinlog f : archive.allFiles()) {
            deleteCovered(archive, f);
            compact(archive, f);
        }
        return removed;
    }
}
