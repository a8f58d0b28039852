package io.strata.repo;

import java.util.Objects;

/**
 * One file of a backup: an entry of a manifest's {@code files}. Written and read as a JSON object
 * of the fields below in this order, then {@code "delta"} ({@link #isDelta()}).
 *
 * <p>Kept compact, as a backup holds two entries per table (its parent's and its own: 100,000 at
 * 50,000 tables): the digest, when it is the usual 8 lowercase hex digits, as an int; the object
 * name, when it is the usual {@code data/NN/NNNNNN} of {@link Keys#dataObject}, as its sequence
 * number; {@code stat} and the space id as primitive fields. Any other spelling is kept as
 * written, so that JSON read is written back the same. About 136 bytes per entry besides its
 * path and other strings, against 264 as a record of boxed and string fields.
 *
 * <p>Fields:
 * <ul>
 * <li>{@code path}:        path relative to the data directory, '/' separated
 * <li>{@code kind}:        "innodb" (copied page by page and verified) or "file" (copied as bytes)
 * <li>{@code spaceId}:     InnoDB space id, null for other files; files are matched across a chain by it
 * <li>{@code flags}:       FSP_SPACE_FLAGS, null for other files
 * <li>{@code size}:        size of the file in bytes (for InnoDB: whole pages as seen when the copy started)
 * <li>{@code pages}:       pages in the file (InnoDB only, else 0)
 * <li>{@code storage}:     "whole" (the object holds the file) or "delta" (the object holds only the
 *                    pages newer than the backup's threshold; the rest comes from the parent chain)
 * <li>{@code deltaPages}:  pages held by a delta object (0 for whole files)
 * <li>{@code object}:      key of the stored object, relative to the backup's folder
 * <li>{@code storedBytes}: size of the stored object
 * <li>{@code crc32c}:      the stored object's content digest, hex
 * <li>{@code home}:        null when {@code path} is relative to the data directory; else the server option whose
 *                    directory held the file ({@link InnodbLayout#DATA_HOME}, {@link InnodbLayout#UNDO_HOME}), and
 *                    {@code path} is relative to that directory
 * <li>{@code location}:    absolute path of the file on the source for a DATA DIRECTORY tablespace
 *                    (what its .isl named); null for every file in the data directory
 * <li>{@code stat}:        for a non-InnoDB file: inode, device and change time when its copy began, and
 *                    when that was; null for InnoDB files and in manifests written before references
 * <li>{@code ref}:         null when {@code object} is this backup's own; else the id of the backup whose
 *                    {@code object} holds the bytes (a reference entry, {@code storedBytes} 0). Readers
 *                    open it through {@link References}, never directly
 * </ul>
 */
@com.fasterxml.jackson.annotation.JsonPropertyOrder({"path", "kind", "spaceId", "flags", "size", "pages", "storage", "deltaPages", "object",
        "storedBytes", "crc32c", "home", "location", "stat", "ref", "delta"})
public final class FileEntry {
    private static final byte HAS_SPACE = 1;
    private static final byte HAS_FLAGS = 2;
    private static final byte HAS_CRC = 4;
    private static final byte HAS_STAT = 8;
    /** The object is a pack member of the usual shape: {@link #objectSeq} is its pack's, {@link #packOffset} and {@link #packLength} where it lies. */
    private static final byte HAS_PACK = 16;

    private final String path;
    private final String kind;
    private final String storage;
    private final String home;
    private final String location;
    private final String ref;
    /** The object name when not of the usual shape; else null and {@link #objectSeq} says it (-1: no object). */
    private final String objectName;
    /** The digest when not of the usual shape (8 lowercase hex digits); else null and {@link #crc} holds it. */
    private final String crcText;
    private final long spaceId;
    private final long size;
    private final long pages;
    private final long deltaPages;
    private final long storedBytes;
    private final long inode;
    private final long device;
    private final long ctime;
    private final long copyBegan;
    private final int flags;
    private final int objectSeq;
    /** Of a pack member ({@link #HAS_PACK}): its first byte in the pack and its length, in bytes; else 0. */
    private final long packOffset;
    private final long packLength;
    private final int crc;
    private final byte has;

    /**
     * The few distinct strings every entry of a manifest repeats are shared: the kind, the storage,
     * the home and the backup a reference names (at 50,000 tables a manifest read back held
     * 100,000 copies of each). Paths are nearly all distinct: not shared, as a table of them would
     * cost more than it saves.
     */
    @com.fasterxml.jackson.annotation.JsonCreator
    public FileEntry(@com.fasterxml.jackson.annotation.JsonProperty("path") String path,
                     @com.fasterxml.jackson.annotation.JsonProperty("kind") String kind,
                     @com.fasterxml.jackson.annotation.JsonProperty("spaceId") Long spaceId,
                     @com.fasterxml.jackson.annotation.JsonProperty("flags") Integer flags,
                     @com.fasterxml.jackson.annotation.JsonProperty("size") long size,
                     @com.fasterxml.jackson.annotation.JsonProperty("pages") long pages,
                     @com.fasterxml.jackson.annotation.JsonProperty("storage") String storage,
                     @com.fasterxml.jackson.annotation.JsonProperty("deltaPages") long deltaPages,
                     @com.fasterxml.jackson.annotation.JsonProperty("object") String object,
                     @com.fasterxml.jackson.annotation.JsonProperty("storedBytes") long storedBytes,
                     @com.fasterxml.jackson.annotation.JsonProperty("crc32c") String crc32c,
                     @com.fasterxml.jackson.annotation.JsonProperty("home") String home,
                     @com.fasterxml.jackson.annotation.JsonProperty("location") String location,
                     @com.fasterxml.jackson.annotation.JsonProperty("stat") FileStat stat,
                     @com.fasterxml.jackson.annotation.JsonProperty("ref") String ref) {
        this.path = path;
        this.kind = shared(kind);
        this.storage = shared(storage);
        this.home = shared(home);
        this.location = location;
        this.ref = shared(ref);
        this.size = size;
        this.pages = pages;
        this.deltaPages = deltaPages;
        this.storedBytes = storedBytes;
        byte h = 0;
        this.spaceId = spaceId == null ? 0 : spaceId;
        h |= spaceId == null ? 0 : HAS_SPACE;
        this.flags = flags == null ? 0 : flags;
        h |= flags == null ? 0 : HAS_FLAGS;
        int seq = object == null ? -1 : sequenceOf(object);
        Keys.Member member = seq < 0 ? Keys.member(object) : null;
        int packSeq = member == null ? -1 : packSequenceOf(member.pack());
        if (packSeq >= 0) {
            h |= HAS_PACK;
            seq = packSeq;
            this.packOffset = member.offset();
            this.packLength = member.length();
        } else {
            this.packOffset = 0;
            this.packLength = 0;
        }
        this.objectSeq = seq;
        this.objectName = object != null && seq < 0 ? object : null;
        int c = 0;
        String text = null;
        if (crc32c != null) {
            h |= HAS_CRC;
            if (isLowerHex8(crc32c)) {
                c = Integer.parseUnsignedInt(crc32c, 16);
            } else {
                text = crc32c;
            }
        }
        this.crc = c;
        this.crcText = text;
        if (stat != null) {
            h |= HAS_STAT;
            this.inode = stat.inode();
            this.device = stat.device();
            this.ctime = stat.ctime();
            this.copyBegan = stat.copyBegan();
        } else {
            this.inode = 0;
            this.device = 0;
            this.ctime = 0;
            this.copyBegan = 0;
        }
        this.has = h;
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
        return new FileEntry(path, kind, spaceId(), flags(), size, pages, storage, deltaPages, object, storedBytes, crc32c(), home, location, stat(), null);
    }

    /** A reference entry: this entry's bytes, held by object {@code object} of backup {@code holder}. */
    public FileEntry referenceTo(String holder, String object) {
        return new FileEntry(path, kind, spaceId(), flags(), size, pages, storage, deltaPages, object, 0, crc32c(), home, location, stat(), holder);
    }

    /** Whether the bytes are another backup's object ({@link #ref()}). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isReference() {
        return ref != null;
    }

    /** This entry with {@link #home()} set to {@code h}. */
    public FileEntry withHome(String h) {
        return new FileEntry(path, kind, spaceId(), flags(), size, pages, storage, deltaPages, object(), storedBytes, crc32c(), h, location, stat(), ref);
    }

    /** This entry counting {@code bytes} stored bytes (for an object several entries name, one of them counts it). */
    public FileEntry withStoredBytes(long bytes) {
        return new FileEntry(path, kind, spaceId(), flags(), size, pages, storage, deltaPages, object(), bytes, crc32c(), home, location, stat(), ref);
    }

    public static final String WHOLE = "whole";
    public static final String DELTA = "delta";

    @com.fasterxml.jackson.annotation.JsonProperty("delta")
    public boolean isDelta() {
        return DELTA.equals(storage);
    }

    /** Path relative to the data directory (or to {@link #home()}), '/' separated. */
    @com.fasterxml.jackson.annotation.JsonProperty("path")
    public String path() { return path; }

    /** "innodb" (copied page by page and verified) or "file" (copied as bytes). */
    @com.fasterxml.jackson.annotation.JsonProperty("kind")
    public String kind() { return kind; }

    /** InnoDB space id, null for other files (a new Long per call). */
    @com.fasterxml.jackson.annotation.JsonProperty("spaceId")
    public Long spaceId() { return (has & HAS_SPACE) != 0 ? Long.valueOf(spaceId) : null; }

    /** FSP_SPACE_FLAGS, null for other files. */
    @com.fasterxml.jackson.annotation.JsonProperty("flags")
    public Integer flags() { return (has & HAS_FLAGS) != 0 ? Integer.valueOf(flags) : null; }

    /** Size of the file in bytes (for InnoDB: whole pages as seen when the copy started). */
    @com.fasterxml.jackson.annotation.JsonProperty("size")
    public long size() { return size; }

    /** Pages in the file (InnoDB only, else 0). */
    @com.fasterxml.jackson.annotation.JsonProperty("pages")
    public long pages() { return pages; }

    /** {@link #WHOLE} or {@link #DELTA}. */
    @com.fasterxml.jackson.annotation.JsonProperty("storage")
    public String storage() { return storage; }

    /** Pages held by a delta object (0 for whole files). */
    @com.fasterxml.jackson.annotation.JsonProperty("deltaPages")
    public long deltaPages() { return deltaPages; }

    /** Key of the stored object, relative to the backup's folder (built again from its sequence number per call when of the usual shape). */
    @com.fasterxml.jackson.annotation.JsonProperty("object")
    public String object() {
        if (objectName != null) {
            return objectName;
        }
        if (objectSeq < 0) {
            return null;
        }
        return (has & HAS_PACK) != 0 ? new Keys.Member(Keys.packObject(objectSeq), packOffset, packLength).name() : Keys.dataObject(objectSeq);
    }

    /**
     * Whether the stored object is a member of a pack ({@code pack/NNNNNN@OFFSET+LENGTH}, format
     * change 52), its own or, for a reference, another backup's: a manifest holding such an entry
     * has version {@link Manifest#FORMAT_VERSION} 3.
     */
    public boolean inPack() {
        return (has & HAS_PACK) != 0 || objectName != null && Keys.member(objectName) != null;
    }

    /** Size in bytes of the stored object. */
    @com.fasterxml.jackson.annotation.JsonProperty("storedBytes")
    public long storedBytes() { return storedBytes; }

    /** The stored object's content digest, hex (built again per call when of the usual shape). */
    @com.fasterxml.jackson.annotation.JsonProperty("crc32c")
    public String crc32c() {
        if ((has & HAS_CRC) == 0) {
            return null;
        }
        return crcText != null ? crcText : hex8(crc);
    }

    /** Null, or the server option whose directory holds the file ({@link InnodbLayout#DATA_HOME}, {@link InnodbLayout#UNDO_HOME}). */
    @com.fasterxml.jackson.annotation.JsonProperty("home")
    public String home() { return home; }

    /** Absolute path of a DATA DIRECTORY tablespace's file on the source, else null. */
    @com.fasterxml.jackson.annotation.JsonProperty("location")
    public String location() { return location; }

    /** A non-InnoDB file's inode, device and change time when its copy began, and when that was; else null (a new FileStat per call). */
    @com.fasterxml.jackson.annotation.JsonProperty("stat")
    public FileStat stat() { return (has & HAS_STAT) != 0 ? new FileStat(inode, device, ctime, copyBegan) : null; }

    /** Null when {@link #object()} is this backup's own; else the id of the backup whose object holds the bytes. */
    @com.fasterxml.jackson.annotation.JsonProperty("ref")
    public String ref() { return ref; }

    /**
     * The sequence number {@code n} of an object name that is exactly {@link Keys#dataObject}{@code (n)}
     * ("data/" + n mod 100 in two digits + "/" + n in at least six digits); -1 for any other name.
     */
    static int sequenceOf(String name) {
        int len = name.length();
        if (len < 14 || len > 18 || !name.startsWith("data/") || name.charAt(7) != '/') {
            return -1;
        }
        long n = 0;
        for (int i = 8; i < len; i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        if (n > Integer.MAX_VALUE || len > 14 && name.charAt(8) == '0') {
            return -1; // too large, or padded beyond six digits
        }
        char d1 = name.charAt(5);
        char d2 = name.charAt(6);
        if (d1 != (char) ('0' + n % 100 / 10) || d2 != (char) ('0' + n % 10)) {
            return -1;
        }
        return (int) n;
    }

    /** The {@code n} of a pack name that is exactly {@link Keys#packObject}{@code (n)}; -1 for any other name. */
    private static int packSequenceOf(String pack) {
        int len = pack.length();
        if (len < 11 || len > 15 || len > 11 && pack.charAt(5) == '0') {
            return -1;
        }
        long n = Long.parseLong(pack, Keys.PACK_DIR.length(), len, 10); // digits only: Keys.member checked them
        return n > Integer.MAX_VALUE ? -1 : (int) n;
    }

    private static boolean isLowerHex8(String s) {
        if (s.length() != 8) {
            return false;
        }
        for (int i = 0; i < 8; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static String hex8(int v) {
        char[] out = new char[8];
        for (int i = 7; i >= 0; i--) {
            out[i] = Character.forDigit(v & 0xf, 16);
            v >>>= 4;
        }
        return new String(out);
    }

    @Override
    public boolean equals(Object o) {
        // the fields as kept: one spelling has one form (sequenceOf, isLowerHex8), so equal fields mean equal values
        return o instanceof FileEntry f && has == f.has && size == f.size && pages == f.pages && deltaPages == f.deltaPages
                && storedBytes == f.storedBytes && spaceId == f.spaceId && flags == f.flags && objectSeq == f.objectSeq && packOffset == f.packOffset && packLength == f.packLength && crc == f.crc
                && inode == f.inode && device == f.device && ctime == f.ctime && copyBegan == f.copyBegan
                && Objects.equals(path, f.path) && Objects.equals(kind, f.kind) && Objects.equals(storage, f.storage)
                && Objects.equals(objectName, f.objectName) && Objects.equals(crcText, f.crcText) && Objects.equals(home, f.home)
                && Objects.equals(location, f.location) && Objects.equals(ref, f.ref);
    }

    @Override
    public int hashCode() {
        return Objects.hash(path, kind, spaceId, flags, size, pages, storage, deltaPages, objectSeq, objectName, storedBytes, crc, crcText, home, location,
                ctime, ref, has);
    }

    @Override
    public String toString() {
        return "FileEntry[path=" + path + ", kind=" + kind + ", spaceId=" + spaceId() + ", flags=" + flags() + ", size=" + size + ", pages=" + pages
                + ", storage=" + storage + ", deltaPages=" + deltaPages + ", object=" + object() + ", storedBytes=" + storedBytes + ", crc32c=" + crc32c()
                + ", home=" + home + ", location=" + location + ", stat=" + stat() + ", ref=" + ref + "]";
    }
}
