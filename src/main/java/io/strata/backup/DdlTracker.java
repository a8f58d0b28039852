package io.strata.backup;

import io.strata.innodb.FileOp;
import io.strata.innodb.MtrVisitor;
import io.strata.innodb.RecordType;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the copied redo log for tablespaces created, renamed, re-initialised or truncated
 * while pages were being copied (design rule 6). Under BACKUP STAGE BLOCK_DDL every such space
 * that still exists is copied again, whole.
 */
final class DdlTracker implements MtrVisitor {
    private final Set<Long> changed = ConcurrentHashMap.newKeySet();
    private final Set<Long> deleted = ConcurrentHashMap.newKeySet();

    @Override
    public void page(int spaceId, int pageNo, int recordType) {
        if (pageNo == 0 && recordType == RecordType.INIT_PAGE) {
            changed.add(Integer.toUnsignedLong(spaceId));
        }
    }

    @Override
    public void trimPages(int spaceId, int newSize) {
        changed.add(Integer.toUnsignedLong(spaceId));
    }

    @Override
    public void fileOp(FileOp op, int spaceId, String name, String newName) {
        long id = Integer.toUnsignedLong(spaceId);
        switch (op) {
            case CREATE, RENAME -> changed.add(id);
            case DELETE -> deleted.add(id);
            default -> { }
        }
    }

    Set<Long> changedSpaces() { return Set.copyOf(changed); }

    Set<Long> deletedSpaces() { return Set.copyOf(deleted); }
}
