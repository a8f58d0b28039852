package io.strata.innodb;

/** FIL_PAGE_TYPE values (fil0fil.h, FIL_PAGE_*; MariaDB 10.11). Unknown values are legal and kept. */
public final class PageType {
    private PageType() {}

    public static final int ALLOCATED = 0;
    public static final int UNDO_LOG = 2;
    public static final int INODE = 3;
    public static final int IBUF_FREE_LIST = 4;
    public static final int IBUF_BITMAP = 5;
    public static final int SYS = 6;
    public static final int TRX_SYS = 7;
    public static final int FSP_HDR = 8;
    public static final int XDES = 9;
    public static final int BLOB = 10;
    public static final int ZBLOB = 11;
    public static final int ZBLOB2 = 12;
    public static final int UNKNOWN = 13;
    public static final int INSTANT = 18;
    public static final int RTREE = 17854;
    public static final int INDEX = 17855;
    /** Legacy-format page_compressed page (FIL_PAGE_PAGE_COMPRESSED). */
    public static final int PAGE_COMPRESSED = 34354;
    /** Legacy-format page_compressed and encrypted page (FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED). */
    public static final int PAGE_COMPRESSED_ENCRYPTED = 37401;
    /** full_crc32 page_compressed marker bit (1 &lt;&lt; FIL_PAGE_COMPRESS_FCRC32_MARKER); low 15 bits = size / 256. */
    public static final int FCRC32_COMPRESSED_MARKER = 1 << 15;
}
