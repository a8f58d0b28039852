package io.strata.restore;

import io.strata.binlog.BinlogEvent;
import io.strata.binlog.BinlogScanner;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.restore.PitrWindows.BackupPoint;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The archived binlog files a point-in-time replay reads, copied out of the archive into a work
 * directory beside the target: whole files, the last one cut exactly at the stop position, every
 * chunk and every event (size, CRC-32) checked while copying. The copies end where the replay must
 * end, so mariadb-binlog needs no stop option. Counts the transactions after the backup's position
 * and the GTID state the replay leads to.
 */
final class PitrBinlogs {
    private final List<Path> files = new ArrayList<>();
    private final Map<Long, String> gtids;
    private final long startPosition;
    private long transactions;
    private TempTables.Hazard hazard;
    private String unfiltered;

    private PitrBinlogs(String baseGtids, long startPosition) {
        this.gtids = PitrWindows.parseGtidList(baseGtids);
        this.startPosition = startPosition;
    }

    /** The copies, in replay order. */
    List<Path> files() { return files; }

    /** Byte offset in the first file where the replay starts: the backup's binlog position. */
    long startPosition() { return startPosition; }

    /** Transactions (GTID events) the replay applies. */
    long transactions() { return transactions; }

    /** Where the replay is known to fail ({@link TempTables}); when not null, the copies are incomplete and must not be replayed. */
    TempTables.Hazard hazard() { return hazard; }

    /**
     * Where and why a replay of the named tables alone could be wrong ({@link TableScope#unsafe}):
     * the first such Query event of the replayed range as "file:offset: reason"; null when none is.
     */
    String unfiltered() { return unfiltered; }

    /** The GTID state after the replay, as a gtid_binlog_pos list ("0-1-5,1-2-9"). */
    String gtids() { return String.join(",", gtids.values()); }

    /**
     * Copies each file from offset 0 to its end (the stop offset for the last) into {@code dir},
     * checking every event, and watching for statements that cannot replay ({@link TempTables}):
     * the copying stops at the first, and {@link #hazard()} says where.
     *
     * @param context archived files before the first of {@code files} that the check for temporary
     *                tables reads first, not copied ({@link TempTables#from})
     * @param files   the archived files the replay needs, in order ({@link PitrPlan#files()})
     * @param b     the backup the replay starts from: its binlog position and GTID state
     * @param stop  where the replay ends, in the last file
     * @throws StrataException io-error when copying fails; corrupt-data (or binlog-missing) when the
     *         archive is damaged
     */
    static PitrBinlogs copy(BinlogArchive a, List<ArchivedBinlog> context, List<ArchivedBinlog> files, BackupPoint b, Pos stop, Path dir) {
        PitrBinlogs r = new PitrBinlogs(b.gtid(), b.pos().offset());
        TempTables temp = new TempTables(List.of(b));
        for (ArchivedBinlog f : context) {
            temp.read(a, f); // the point is in a later file: nothing is decided here
        }
        try {
            Files.createDirectories(dir);
            for (ArchivedBinlog f : files) {
                long end = f.name().equals(stop.file()) ? stop.offset() : f.usableEnd();
                Path out = dir.resolve(f.name());
                try (InputStream in = new java.io.BufferedInputStream(a.open(f, 0, end), 1 << 16);
                     OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
                    BinlogScanner sc = new BinlogScanner(f.name(), 0, null);
                    BinlogEvent e;
                    boolean first = f.name().equals(b.pos().file());
                    while ((e = sc.next(in, end, os)) != null) {
                        temp.event(f.timeline(), f.name(), e, sc);
                        if (!temp.hazards().isEmpty()) {
                            r.hazard = temp.hazards().get(b);
                            return r;
                        }
                        boolean replayed = !first || e.offset() >= b.pos().offset();
                        if (replayed && r.unfiltered == null) {
                            String why = e.query() != null ? TableScope.unsafe(e.query()) : TableScope.unsafe(e.type());
                            r.unfiltered = why == null ? null : f.name() + ":" + e.offset() + ": " + why;
                        }
                        if (e.gtid() != null && replayed) {
                            r.transactions++;
                            r.gtids.put(e.gtid().domain(), e.gtid().toString());
                        }
                    }
                    if (sc.offset() != end) {
                        throw new StrataException(ErrorCode.CORRUPT_DATA, "archived " + f.name() + " does not end at an event boundary at " + end
                                + " (the last complete event ends at " + sc.offset() + ")", "the archive is damaged");
                    }
                }
                r.files.add(out);
            }
            return r;
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "copying archived binlogs to " + dir + " failed: " + e.getMessage(), null, e);
        }
    }
}
