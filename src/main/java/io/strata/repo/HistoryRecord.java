package io.strata.repo;

/**
 * One backup attempt, as "strata list" shows it (compare GreatSQL's mysql.clone_history).
 * Stored as history/ID/begin when the attempt starts and history/ID/end when it ends.
 */
public record HistoryRecord(
        String id,
        String type,
        String state,
        String parent,
        String beginTime,
        String endTime,
        String source,
        Long startLsn,
        Long endLsn,
        String binlogFile,
        Long binlogPosition,
        String gtidBinlogPos,
        String gtidCurrentPos,
        Long rawBytes,
        Long storedBytes,
        String error,
        Long pid) {

    public static final String RUNNING = "running";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    /** A completed backup that strata prune removed; its history stays. */
    public static final String PRUNED = "pruned";
    /**
     * A completed backup whose own state a merge removed (it was the parent folded into the
     * merge's result, or was merged into such a one): its id restores nothing any more.
     */
    public static final String FOLDED = "folded";

    public HistoryRecord withState(String newState, String newEndTime, String newError) {
        return new HistoryRecord(id, type, newState, parent, beginTime, newEndTime, source, startLsn, endLsn,
                binlogFile, binlogPosition, gtidBinlogPos, gtidCurrentPos, rawBytes, storedBytes, newError, pid);
    }

    /** A completed backup's record from its manifest; {@code begin} (source, pid) may be null when its record is lost. */
    public static HistoryRecord completed(HistoryRecord begin, Manifest m) {
        return new HistoryRecord(m.id(), m.type(), COMPLETED, m.parent(), m.beginTime(), m.endTime(), begin == null ? null : begin.source(),
                m.startLsn(), m.endLsn(), m.binlogFile(), m.binlogPosition(), m.gtidBinlogPos(), m.gtidCurrentPos(),
                m.rawBytes(), m.storedBytes(), null, begin == null ? null : begin.pid());
    }
}
