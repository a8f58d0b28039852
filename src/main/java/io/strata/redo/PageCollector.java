package io.strata.redo;

import io.strata.innodb.FileOp;
import io.strata.innodb.MtrVisitor;
import io.strata.innodb.RecordType;
import io.strata.repo.ChangedPages;

/**
 * Turns the record headers of validated mini-transactions into {@link ChangedPages} (reference
 * b.7, step 2). Every page record names a changed page. Events after which an older copy of a
 * file says nothing mark the space WHOLE (design rule 8): FILE_DELETE (a file dropped; if the
 * space exists again, it was re-imported with ALTER TABLE ... IMPORT TABLESPACE, which writes its
 * pages without redo), TRIM_PAGES (undo truncation), and INIT_PAGE of page 0 of a space the range
 * did not show created (a tablespace re-initialised in place, as undo tablespaces are when the
 * server recreates them).
 *
 * <p>A file created in the range (FILE_CREATE, then INIT_PAGE of its page 0) is not marked: every
 * page it has was written, with redo, after its creation, so the log names them all. A parent that
 * does not know the space id at all has the file stored whole anyway; space ids are never reused
 * except by IMPORT, which FILE_DELETE covers. FILE_RENAME only renames: pages follow the space id.
 */
public final class PageCollector implements MtrVisitor {
    private final ChangedPages pages;
    /** Spaces made WHOLE by the current mtr; marked with its end LSN when it ends. */
    private final java.util.List<Long> wholeInMtr = new java.util.ArrayList<>();
    /** Spaces this range showed created (FILE_CREATE). */
    private final java.util.Set<Long> created = new java.util.HashSet<>();
    private long mtrs;

    /** Adds the pages of every mini-transaction it is shown to {@code pages}. */
    public PageCollector(ChangedPages pages) {
        this.pages = pages;
    }

    public ChangedPages pages() { return pages; }

    /** Mini-transactions seen so far (ended with {@link #endMtr}). */
    public long mtrCount() { return mtrs; }

    @Override
    public void page(int spaceId, int pageNo, int recordType) {
        long space = Integer.toUnsignedLong(spaceId);
        if (pageNo == 0 && recordType == RecordType.INIT_PAGE && !created.contains(space)) {
            wholeInMtr.add(space);
        }
        pages.add(space, pageNo);
    }

    @Override
    public void trimPages(int spaceId, int newSize) {
        wholeInMtr.add(Integer.toUnsignedLong(spaceId));
    }

    @Override
    public void fileOp(FileOp op, int spaceId, String name, String newName) {
        long space = Integer.toUnsignedLong(spaceId);
        switch (op) {
            case CREATE -> created.add(space);
            case DELETE -> {
                created.remove(space);
                wholeInMtr.add(space);
            }
            case RENAME -> pages.mark(space, ChangedPages.RENAMED);
            default -> { }
        }
    }

    @Override
    public void endMtr(long endLsn) {
        for (long space : wholeInMtr) {
            pages.markWhole(space, endLsn);
        }
        wholeInMtr.clear();
        mtrs++;
    }
}
