package io.strata.repo;

/**
 * One file of a backup.
 *
 * @param path        path relative to the data directory, '/' separated
 * @param kind        "innodb" (copied page by page and verified) or "file" (copied as bytes)
 * @param spaceId     InnoDB space id, null for other files; files are matched across a chain by it
 * @param flags       FSP_SPACE_FLAGS, null for other files
 * @param size        size of the file in bytes (for InnoDB: whole pages as seen when the copy started)
 * @param pages       pages in the file (InnoDB only, else 0)
 * @param storage     "whole" (the object holds the file) or "delta" (the object holds only the
 *                    pages newer than the backup's threshold; the rest comes from the parent chain)
 * @param deltaPages  pages held by a delta object (0 for whole files)
 * @param object      key of the stored object, relative to the backup's folder
 * @param storedBytes size of the stored object
 * @param crc32c      the stored object's content digest, hex
 * @param home        null when {@code path} is relative to the data directory; else the server option whose
 *                    directory held the file ({@link InnodbLayout#DATA_HOME}, {@link InnodbLayout#UNDO_HOME}), and
 *                    {@code path} is relative to that directory
 * @param location    absolute path of the file on the source for a DATA DIRECTORY tablespace
 *                    (what its .isl named); null for every file in the data directory
 * @param stat        for a non-InnoDB file: inode, device and change time when its copy began, and
 *                    when that was; null for InnoDB files and in manifests written before references
 * @param ref         null when {@code object} is this backup's own; else the id of the backup whose
 *                    {@code object} holds the bytes (a reference entry, {@code storedBytes} 0). Readers
 *                    open it through {@link References}, never directly
 */
public record FileEntry(
        String path,
        String kind,
        Long spaceId,
        Integer flags,
        long size,
        long pages,
        String storage,
        long deltaPages,
        String object,
        long storedBytes,
        String crc32c,
        String home,
        String location,
        FileStat stat,
        String ref) {

    /**
     * The few distinct strings every entry of a manifest repeats are shared: the kind, the storage,
     * the home and the backup a reference names (at 50,000 tables a manifest read back held
     * 100,000 copies of each). Paths, object names and digests are nearly all distinct: not
     * shared, as a table of them would cost more than it saves.
     */
    public FileEntry {
        kind = shared(kind);
        storage = shared(storage);
        home = shared(home);
        ref = shared(ref);
    }

    private static String shared(String s) {
        return s == null ? null : s.intern();
    }

    /** An entry of a file whose path is relative to the data directory ({@code home} and {@code location} null). */
    public FileEntry(String path, String kind, Long spaceId, Integer flags, long size, long pages, String storage, long deltaPages,
                     String object, long storedBytes, String crc32c) {
        this(path, kind, spaceId, flags, size, pages, storage, deltaPages, object, storedBytes, crc32c, null, null, null, null);
    }

    /** An entry without {@code stat} and {@code ref}: an InnoDB file, or a file as stored before references. */
    public FileEntry(String path, String kind, Long spaceId, Integer flags, long size, long pages, String storage, long deltaPages,
                     String object, long storedBytes, String crc32c, String home, String location) {
        this(path, kind, spaceId, flags, size, pages, storage, deltaPages, object, storedBytes, crc32c, home, location, null, null);
    }

    /** This entry as the object {@code object} of its own backup, {@code storedBytes} long (not a reference). */
    public FileEntry stored(String object, long storedBytes) {
        return new FileEntry(path, kind, spaceId, flags, size, pages, storage, deltaPages, object, storedBytes, crc32c, home, location, stat, null);
    }

    /** A reference entry: this entry's bytes, held by object {@code object} of backup {@code holder}. */
    public FileEntry referenceTo(String holder, String object) {
        return new FileEntry(path, kind, spaceId, flags, size, pages, storage, deltaPages, object, 0, crc32c, home, location, stat, holder);
    }

    /** Whether the bytes are another backup's object ({@link #ref()}). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isReference() {
        return ref != null;
    }

    /** This entry with {@link #home()} set to {@code h}. */
    public FileEntry withHome(String h) {
        return new FileEntry(path, kind, spaceId, flags, size, pages, storage, deltaPages, object, storedBytes, crc32c, h, location, stat, ref);
    }

    /** This entry counting {@code bytes} stored bytes (for an object several entries name, one of them counts it). */
    public FileEntry withStoredBytes(long bytes) {
        return new FileEntry(path, kind, spaceId, flags, size, pages, storage, deltaPages, object, bytes, crc32c, home, location, stat, ref);
    }

    public static final String WHOLE = "whole";
    public static final String DELTA = "delta";

    public boolean isDelta() {
        return DELTA.equals(storage);
    }
}
