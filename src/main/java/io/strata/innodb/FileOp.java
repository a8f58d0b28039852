package io.strata.innodb;

/** File-level redo records that name a tablespace file (mtr0types.h, {@code mfile_type_t}). */
public enum FileOp {
    /** FILE_CREATE: a tablespace file was created. */
    CREATE(RecordType.FILE_CREATE),
    /** FILE_DELETE: a tablespace file was deleted. */
    DELETE(RecordType.FILE_DELETE),
    /** FILE_RENAME: a tablespace file was renamed (name to newName). */
    RENAME(RecordType.FILE_RENAME),
    /** FILE_MODIFY: a tablespace was first modified after a checkpoint, or is listed at a checkpoint. */
    MODIFY(RecordType.FILE_MODIFY);

    private final int type;

    FileOp(int type) { this.type = type; }

    /** The record type byte (hdr &amp; 0xF0). */
    public int type() { return type; }

    static FileOp ofType(int type) {
        for (FileOp op : values()) {
            if (op.type == type) return op;
        }
        return null;
    }
}
