package io.strata.innodb;

/**
 * Receives what {@link MtrParser} finds, one mini-transaction at a time and only after the mtr's
 * CRC-32C and records validated. Page and space ids are unsigned 32-bit values.
 */
public interface MtrVisitor {
    /** A page record with same_page = 0 (every record type except EXTENDED/TRIM_PAGES). */
    default void page(int spaceId, int pageNo, int recordType) {}

    /** EXTENDED/TRIM_PAGES: the tablespace is truncated to {@code newSize} pages (undo truncation). */
    default void trimPages(int spaceId, int newSize) {}

    /** FILE_CREATE, FILE_DELETE, FILE_MODIFY ({@code newName} null) or FILE_RENAME. */
    default void fileOp(FileOp op, int spaceId, String name, String newName) {}

    /** FILE_CHECKPOINT with a non-zero LSN. */
    default void checkpoint(long lsn) {}

    /** End of an accepted mtr; {@code endLsn} is the LSN just after its CRC. */
    default void endMtr(long endLsn) {}

    /**
     * Whether {@link #page} is wanted for every page record; false: only for INIT_PAGE of page 0
     * (the records are checked all the same). Saves the parser an event per record for a visitor
     * that looks at tablespace-level changes only.
     */
    default boolean wantsEveryPage() { return true; }

    /** A visitor that ignores everything. */
    MtrVisitor NONE = new MtrVisitor() {};
}
