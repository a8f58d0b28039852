package io.strata.repo;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.List;

/**
 * What a completed backup holds; stored last, as "backups/ID/manifest" (content "manifest").
 * Its presence is what makes the backup complete (design rule 7).
 *
 * @param formatVersion 3 when a file entry names an object stored in a pack ({@link FileEntry#inPack()}), else 2 when
 *                      a file entry is a reference to another backup's object ({@link FileEntry#ref()}), else 1: a
 *                      strata that reads an older version only then refuses it instead of opening an object it cannot find
 * @param startLsn      checkpoint LSN C the copied redo log starts at
 * @param startEndLsn   end_lsn of that checkpoint block (needed for the new ib_logfile0)
 * @param endLsn        E: Innodb_lsn_current read under BACKUP STAGE BLOCK_COMMIT
 * @param redoEndLsn    where the copied redo ends (an mtr boundary, at least E)
 * @param redoCapacity  capacity of the source's circular log, for reports
 * @param threshold     incremental and differential: pages with FIL_PAGE_LSN above it are stored
 *                      (the parent's start LSN, design rule 3); null for a full backup
 * @param method        how changed pages were found (full-scan, redo, tracked, optimistic), null for a full backup
 * @param note          what the user should know about the base (e.g. an external --start-lsn) and why the method was chosen
 * @param compression   what the stored objects were compressed with ("zstd:3", "lz4", "none";
 *                      null in manifests older than compression)
 * @param encryption    "aes-256-gcm" when the repository is encrypted, else null
 * @param detection     what finding the changed pages cost; null for a full backup and in manifests written before the field existed
 * @param redoCrc32c    the redo object's content digest (CRC-32C of its raw bytes, 8 lower-case hex
 *                      digits, as {@link FileEntry#crc32c()}); null in manifests written before the field existed
 * @param lineage       the history of the source's data directory ({@link Lineage}, as its lineage file said when the
 *                      backup began); null for the origin (never restored by strata) and in manifests written before the field existed
 * @param keyManagement the source's key management ({@link KeyManagement}: encryption plugins and their settings, never key material);
 *                      null when the server had no active ENCRYPTION plugin and nothing encrypted, and in manifests written before the field existed
 * @param innodbLayout  the directories of the source's system tablespace, redo log and undo tablespaces; null in manifests
 *                      written before the field existed (read as every file in the data directory)
 * @param redoLogCrypt  the source's redo log is encrypted (innodb_encrypt_log=ON) and the redo object holds its
 *                      mini-transactions encrypted as stored: the 28 bytes at offset 48 of the source's
 *                      ib_logfile0 header (key id, key version, random message and nonce; no key material) as
 *                      56 lower-case hex digits, which restore writes into the new log's header; null for a plain log
 * @param scope         a partial backup's filters ({@link Scope}: the tables it holds); null for the whole server and in
 *                      manifests written before the field existed
 * @param lowerCaseTableNames the source's {@code @@lower_case_table_names} (0, 1, 2) when the backup began; null in
 *                      manifests written before the field existed (restore then assumes 0, the Linux default)
 */
// the file entries last: a reader of the head ("strata list", the restorable windows) stops
// where they begin (ObjectIo.readJson with a skipped member); the other members keep their order
@com.fasterxml.jackson.annotation.JsonPropertyOrder({"formatVersion", "id", "type", "parent", "tool", "beginTime", "endTime", "source",
        "startLsn", "startEndLsn", "endLsn", "redoEndLsn", "redoCapacity", "redoObject", "binlogFile", "binlogPosition", "gtidBinlogPos",
        "gtidCurrentPos", "rawBytes", "storedBytes", "threshold", "method", "note", "compression", "encryption", "detection", "redoCrc32c",
        "lineage", "keyManagement", "innodbLayout", "redoLogCrypt", "scope", "lowerCaseTableNames", "files"})
public record Manifest(
        int formatVersion,
        String id,
        String type,
        String parent,
        String tool,
        String beginTime,
        String endTime,
        SourceInfo source,
        long startLsn,
        long startEndLsn,
        long endLsn,
        long redoEndLsn,
        long redoCapacity,
        String redoObject,
        String binlogFile,
        Long binlogPosition,
        String gtidBinlogPos,
        String gtidCurrentPos,
        List<FileEntry> files,
        long rawBytes,
        long storedBytes,
        Long threshold,
        String method,
        String note,
        String compression,
        String encryption,
        Detection detection,
        String redoCrc32c,
        Lineage lineage,
        KeyManagement keyManagement,
        InnodbLayout innodbLayout,
        String redoLogCrypt,
        Scope scope,
        Integer lowerCaseTableNames) {

    /** The newest manifest version: written when a file entry names an object in a pack ({@link FileEntry#inPack()}), and the newest one read. */
    public static final int FORMAT_VERSION = 3;
    /** The version of a manifest with reference entries ({@link FileEntry#ref()}) and no entry in a pack. */
    public static final int REFERENCE_FORMAT_VERSION = 2;
    /** The version of a manifest without reference entries: what every strata reads. */
    public static final int PLAIN_FORMAT_VERSION = 1;
    /** The stored {@code type} of a full backup (a merge that folds into a full stores it too). */
    public static final String TYPE_FULL = "full";

    /**
     * Reads and checks the manifest of backup {@code id} ({@code backups/<id>/manifest}, content
     * "manifest"): its format version and that it names the backup it is stored for.
     *
     * @throws io.strata.store.ObjectStore.NoSuchObjectException when it is not stored
     * @throws StrataException corrupt-data for an unreadable or mismatching manifest, format-too-new
     *                         for one written by a newer strata
     */
    static Manifest read(ObjectIo io, ObjectCodec codec, String id) {
        return read(io, codec, id, false);
    }

    /**
     * As {@link #read(ObjectIo, ObjectCodec, String)}; {@code head}: without the file entries
     * ({@link #files()} empty), which are read past, not built (what "strata list" and the
     * restorable windows need of each backup).
     */
    static Manifest read(ObjectIo io, ObjectCodec codec, String id, boolean head) {
        Manifest m = io.readJson(Keys.manifest(id), "manifest", Manifest.class, codec, head ? "files" : null);
        FormatVersion.check("manifest", io.store().describe(Keys.manifest(id)), m.formatVersion(), 1, FORMAT_VERSION);
        if (!id.equals(m.id())) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "manifest of backup " + id + " has format " + m.formatVersion() + " and id " + m.id()
                    + ", expected format " + FORMAT_VERSION + " and id " + id + " (resource=" + io.store().describe(Keys.manifest(id)) + ")", null);
        }
        return m;
    }

    /** A builder with every field unset (null, 0, no files); the format version is derived from the files unless set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding every field of this manifest, to change a few (a merged backup's manifest). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.formatVersion = formatVersion;
        b.id = id;
        b.type = type;
        b.parent = parent;
        b.tool = tool;
        b.beginTime = beginTime;
        b.endTime = endTime;
        b.source = source;
        b.startLsn = startLsn;
        b.startEndLsn = startEndLsn;
        b.endLsn = endLsn;
        b.redoEndLsn = redoEndLsn;
        b.redoCapacity = redoCapacity;
        b.redoObject = redoObject;
        b.binlogFile = binlogFile;
        b.binlogPosition = binlogPosition;
        b.gtidBinlogPos = gtidBinlogPos;
        b.gtidCurrentPos = gtidCurrentPos;
        b.files = files;
        b.rawBytes = rawBytes;
        b.storedBytes = storedBytes;
        b.threshold = threshold;
        b.method = method;
        b.note = note;
        b.compression = compression;
        b.encryption = encryption;
        b.detection = detection;
        b.redoCrc32c = redoCrc32c;
        b.lineage = lineage;
        b.keyManagement = keyManagement;
        b.innodbLayout = innodbLayout;
        b.redoLogCrypt = redoLogCrypt;
        b.scope = scope;
        b.lowerCaseTableNames = lowerCaseTableNames;
        return b;
    }

    /**
     * Whether this is a full backup (type {@value #TYPE_FULL}; a merge into a full stores that type
     * too). Not a JSON field: the stored format is the record's components only.
     */
    @JsonIgnore
    public boolean isFull() {
        return TYPE_FULL.equals(type);
    }

    /**
     * The system tablespace's page number of the first page of {@code f}'s file: 0 but for the
     * second and later files of a system tablespace of several (space 0; innodb_data_file_path
     * ibdata1:12M;ibdata2:12M:autoextend), whose pages InnoDB numbers on from the earlier files':
     * the sum of the earlier files' whole pages ({@code size} of their entries, in the order
     * innodb_data_file_path names them); -1 when an entry of those files cannot be told.
     *
     * @param pageSize the system tablespace's physical page size, bytes
     */
    public long firstPageOf(FileEntry f, int pageSize) {
        if (f.spaceId() == null || f.spaceId() != 0 || source == null || source.dataFilePath() == null || !source.dataFilePath().contains(";")) {
            return 0;
        }
        long first = 0;
        for (String part : source.dataFilePath().split(";")) {
            FileEntry e = systemFile(part.split(":")[0]);
            if (e == null) {
                return -1;
            }
            if (e == f || e.path().equals(f.path())) {
                return first;
            }
            first += e.size() / pageSize;
        }
        return -1;
    }

    /**
     * The entry of space 0 that a name of innodb_data_file_path ("ibdata2", "./ibdata2", an
     * absolute path) stands for: the one whose path is that name, else the only one with its file
     * name; null when none or several.
     */
    private FileEntry systemFile(String name) {
        String normal = java.nio.file.Path.of(name).normalize().toString();
        String fileName = java.nio.file.Path.of(name).getFileName().toString();
        FileEntry byName = null;
        int sameName = 0;
        for (FileEntry e : files) {
            if (e.spaceId() == null || e.spaceId() != 0 || !"innodb".equals(e.kind())) {
                continue;
            }
            if (e.path().equals(normal)) {
                return e;
            }
            if (java.nio.file.Path.of(e.path()).getFileName().toString().equals(fileName)) {
                byName = e;
                sameName++;
            }
        }
        return sameName == 1 ? byName : null;
    }

    /** The id of {@link #lineage()}: null for the origin. Not a JSON field. */
    @JsonIgnore
    public String lineageId() {
        return Lineage.idOf(lineage);
    }

    /**
     * Sets a manifest's fields by name, in any order; {@link #build()} makes the record. The
     * fields mean what the record's components say; nothing is checked here (the writer checks
     * nothing either: {@link #read} checks the format version and the id).
     */
    public static final class Builder {
        /** 0: derived by {@link #build()} from the files (2 with a reference entry, else 1). */
        private int formatVersion;
        private String id;
        private String type;
        private String parent;
        private String tool;
        private String beginTime;
        private String endTime;
        private SourceInfo source;
        private long startLsn;
        private long startEndLsn;
        private long endLsn;
        private long redoEndLsn;
        private long redoCapacity;
        private String redoObject;
        private String binlogFile;
        private Long binlogPosition;
        private String gtidBinlogPos;
        private String gtidCurrentPos;
        private List<FileEntry> files = List.of();
        private long rawBytes;
        private long storedBytes;
        private Long threshold;
        private String method;
        private String note;
        private String compression;
        private String encryption;
        private Detection detection;
        private String redoCrc32c;
        private String redoLogCrypt;
        private Lineage lineage;
        private KeyManagement keyManagement;
        private InnodbLayout innodbLayout;
        private Scope scope;
        private Integer lowerCaseTableNames;

        private Builder() {}

        public Builder formatVersion(int formatVersion) {
            this.formatVersion = formatVersion;
            return this;
        }

        public Builder id(String id) {
            this.id = id;
            return this;
        }

        public Builder type(String type) {
            this.type = type;
            return this;
        }

        public Builder parent(String parent) {
            this.parent = parent;
            return this;
        }

        public Builder tool(String tool) {
            this.tool = tool;
            return this;
        }

        public Builder beginTime(String beginTime) {
            this.beginTime = beginTime;
            return this;
        }

        public Builder endTime(String endTime) {
            this.endTime = endTime;
            return this;
        }

        public Builder source(SourceInfo source) {
            this.source = source;
            return this;
        }

        public Builder startLsn(long startLsn) {
            this.startLsn = startLsn;
            return this;
        }

        public Builder startEndLsn(long startEndLsn) {
            this.startEndLsn = startEndLsn;
            return this;
        }

        public Builder endLsn(long endLsn) {
            this.endLsn = endLsn;
            return this;
        }

        public Builder redoEndLsn(long redoEndLsn) {
            this.redoEndLsn = redoEndLsn;
            return this;
        }

        public Builder redoCapacity(long redoCapacity) {
            this.redoCapacity = redoCapacity;
            return this;
        }

        public Builder redoObject(String redoObject) {
            this.redoObject = redoObject;
            return this;
        }

        public Builder binlogFile(String binlogFile) {
            this.binlogFile = binlogFile;
            return this;
        }

        public Builder binlogPosition(Long binlogPosition) {
            this.binlogPosition = binlogPosition;
            return this;
        }

        public Builder gtidBinlogPos(String gtidBinlogPos) {
            this.gtidBinlogPos = gtidBinlogPos;
            return this;
        }

        public Builder gtidCurrentPos(String gtidCurrentPos) {
            this.gtidCurrentPos = gtidCurrentPos;
            return this;
        }

        public Builder files(List<FileEntry> files) {
            this.files = files;
            return this;
        }

        public Builder rawBytes(long rawBytes) {
            this.rawBytes = rawBytes;
            return this;
        }

        public Builder storedBytes(long storedBytes) {
            this.storedBytes = storedBytes;
            return this;
        }

        public Builder threshold(Long threshold) {
            this.threshold = threshold;
            return this;
        }

        public Builder method(String method) {
            this.method = method;
            return this;
        }

        public Builder note(String note) {
            this.note = note;
            return this;
        }

        public Builder compression(String compression) {
            this.compression = compression;
            return this;
        }

        public Builder encryption(String encryption) {
            this.encryption = encryption;
            return this;
        }

        public Builder detection(Detection detection) {
            this.detection = detection;
            return this;
        }

        public Builder redoCrc32c(String redoCrc32c) {
            this.redoCrc32c = redoCrc32c;
            return this;
        }

        public Builder lineage(Lineage lineage) {
            this.lineage = lineage;
            return this;
        }

        public Builder keyManagement(KeyManagement keyManagement) {
            this.keyManagement = keyManagement;
            return this;
        }

        public Builder innodbLayout(InnodbLayout innodbLayout) {
            this.innodbLayout = innodbLayout;
            return this;
        }

        public Builder redoLogCrypt(String redoLogCrypt) {
            this.redoLogCrypt = redoLogCrypt;
            return this;
        }

        public Builder scope(Scope scope) {
            this.scope = scope;
            return this;
        }

        public Builder lowerCaseTableNames(Integer lowerCaseTableNames) {
            this.lowerCaseTableNames = lowerCaseTableNames;
            return this;
        }

        /** The manifest, with the fields set so far. */
        public Manifest build() {
            int v = formatVersion != 0 ? formatVersion
                    : files.stream().anyMatch(FileEntry::inPack) ? FORMAT_VERSION
                    : files.stream().anyMatch(FileEntry::isReference) ? REFERENCE_FORMAT_VERSION : PLAIN_FORMAT_VERSION;
            return new Manifest(v, id, type, parent, tool, beginTime, endTime, source,
                    startLsn, startEndLsn, endLsn, redoEndLsn, redoCapacity, redoObject, binlogFile, binlogPosition, gtidBinlogPos, gtidCurrentPos,
                    files, rawBytes, storedBytes, threshold, method, note, compression, encryption, detection, redoCrc32c, lineage, keyManagement, innodbLayout, redoLogCrypt, scope, lowerCaseTableNames);
        }
    }
}
