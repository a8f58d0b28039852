package io.strata.innodb;

/**
 * Redo record types of the 10.8+ log (mtr0types.h, {@code mrec_type_t}, {@code mrec_ext_t},
 * {@code mfile_type_t}; MariaDB 10.11).
 *
 * <pre>
 * header byte: bit 7 same_page (page records) / file record marker, bits 6..4 type, bits 3..0 length
 * page record types (hdr &amp; 0x70)       file record types (hdr &amp; 0xF0, first records of an mtr)
 * 0x00 FREE_PAGE   0x40 MEMSET          0x80 FILE_CREATE     0xB0 FILE_MODIFY
 * 0x10 INIT_PAGE   0x50 MEMMOVE         0x90 FILE_DELETE     0xF0 FILE_CHECKPOINT
 * 0x20 EXTENDED    0x60 RESERVED        0xA0 FILE_RENAME
 * 0x30 WRITE       0x70 OPTION
 * </pre>
 */
public final class RecordType {
    private RecordType() {}

    public static final int FREE_PAGE = 0x00;
    public static final int INIT_PAGE = 0x10;
    public static final int EXTENDED = 0x20;
    public static final int WRITE = 0x30;
    public static final int MEMSET = 0x40;
    public static final int MEMMOVE = 0x50;
    public static final int RESERVED = 0x60;
    public static final int OPTION = 0x70;

    public static final int FILE_CREATE = 0x80;
    public static final int FILE_DELETE = 0x90;
    public static final int FILE_RENAME = 0xA0;
    public static final int FILE_MODIFY = 0xB0;
    public static final int FILE_CHECKPOINT = 0xF0;

    /** EXTENDED subtype that truncates a tablespace to page_no pages (undo truncation). */
    public static final int TRIM_PAGES = 10;

    /** Name of a page record type (hdr &amp; 0x70). */
    public static String pageRecordName(int type) {
        return switch (type & 0x70) {
            case FREE_PAGE -> "FREE_PAGE";
            case INIT_PAGE -> "INIT_PAGE";
            case EXTENDED -> "EXTENDED";
            case WRITE -> "WRITE";
            case MEMSET -> "MEMSET";
            case MEMMOVE -> "MEMMOVE";
            case RESERVED -> "RESERVED";
            default -> "OPTION";
        };
    }
}
