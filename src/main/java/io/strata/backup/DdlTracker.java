package io.strata.backup;

import io.strata.innodb.FileOp;
import io.strata.innodb.MtrVisitor;
import io.strata.innodb.RecordType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the copied redo log, from the checkpoint C on, for tablespaces created, renamed,
 * re-initialised (INIT_PAGE of page 0), truncated (TRIM_PAGES) or deleted (design rule 6), and
 * keeps for each space the end LSN of the newest mini-transaction that did so.
 *
 * <p>Under BACKUP STAGE BLOCK_DDL a space is copied again when such an operation ended after the
 * copy of its file began ({@link #changedAfter}): an operation that ended at or below the copy's
 * start LSN is in the copied log. It is NOT guaranteed done on disk by then: the server writes a
 * file operation's record to the log and flushes it, and only then creates, renames or deletes the
 * file, so the copy may have opened the file as it was before. The rule is still safe because that
 * window is caught elsewhere: the path and space-id checks of the rescan under BLOCK_DDL (a path
 * that now holds another space, or a file not copied yet, is copied) and the page-0 check
 * ({@code FileCopier.CopyStart#foreign}: the copy read page 0 of another space). Crash recovery of
 * the restored log then repeats the operation, as it would after a crash of the source at that
 * moment. TRIM_PAGES (undo truncation, which shrinks the file after
 * its record is flushed) counts from C whatever the copy's start: undo tablespaces are small, and
 * copying one again costs little.
 *
 * <p>Called by the redo copier's thread; read by the copy threads.
 */
final class DdlTracker implements MtrVisitor {
    /** Space id → end LSN of the newest mtr that created, renamed, re-initialised or deleted it. */
    private final Map<Long, Long> changed = new ConcurrentHashMap<>();
    /** Spaces truncated by TRIM_PAGES since C. */
    private final Set<Long> trimmed = ConcurrentHashMap.newKeySet();
    private final Set<Long> deleted = ConcurrentHashMap.newKeySet();
    /** Spaces the mtr being replayed changes; its end LSN comes with {@link #endMtr}. Redo thread only. */
    private final List<Long> pending = new ArrayList<>();

    @Override
    public boolean wantsEveryPage() { return false; }

    @Override
    public void page(int spaceId, int pageNo, int recordType) {
        if (pageNo == 0 && recordType == RecordType.INIT_PAGE) {
            pending.add(Integer.toUnsignedLong(spaceId));
        }
    }

    @Override
    public void trimPages(int spaceId, int newSize) {
        long id = Integer.toUnsignedLong(spaceId);
        trimmed.add(id);
        pending.add(id);
    }

    @Override
    public void fileOp(FileOp op, int spaceId, String name, String newName) {
        long id = Integer.toUnsignedLong(spaceId);
        switch (op) {
            case CREATE, RENAME -> pending.add(id);
            case DELETE -> {
                // a space id comes back after its file was deleted only by IMPORT TABLESPACE (DISCARD deletes
                // the file; the import writes its pages with no redo): a space that is at a path again under
                // BLOCK_DDL, or when its copy starts, is copied (again) whole, as PageCollector (design rule 8)
                // makes such a space WHOLE for the change-detection methods
                deleted.add(id);
                pending.add(id);
            }
            default -> { } // FILE_MODIFY names a file the mtr changes; it creates or moves none
        }
    }

    @Override
    public void endMtr(long endLsn) {
        for (Long id : pending) {
            changed.merge(id, endLsn, Math::max);
        }
        pending.clear();
    }

    /** Every space created, renamed, re-initialised, truncated or deleted in the log copied so far (since C). */
    Set<Long> changedSpaces() { return Set.copyOf(changed.keySet()); }

    /** Whether {@code spaceId} is among {@link #changedSpaces()}, without copying the set. */
    boolean changedSinceCheckpoint(long spaceId) { return changed.containsKey(spaceId); }

    /**
     * Whether the copy of {@code spaceId}'s file, begun when the server's log had reached
     * {@code copyStartLsn} or later, must be made again: a file operation on the space ended above
     * that LSN, or the space was truncated since C. A negative {@code copyStartLsn} (not known)
     * counts every operation since C.
     */
    boolean changedAfter(long spaceId, long copyStartLsn) {
        Long at = changed.get(spaceId);
        return trimmed.contains(spaceId) || (at != null && at > copyStartLsn);
    }

    /** The end LSN of the newest operation that {@link #changedSpaces} counts for {@code spaceId}, or -1. */
    long lastChange(long spaceId) {
        Long at = changed.get(spaceId);
        return at == null ? -1 : at;
    }

    Set<Long> deletedSpaces() { return Set.copyOf(deleted); }
}
