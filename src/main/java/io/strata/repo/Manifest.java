package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.List;

/**
 * What a completed backup holds; stored last, as "backups/ID/manifest" (content "manifest").
 * Its presence is what makes the backup complete (design rule 7).
 *
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
 */
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
        Detection detection) {

    public static final int FORMAT_VERSION = 1;

    /**
     * Reads and checks the manifest of backup {@code id} ({@code backups/<id>/manifest}, content
     * "manifest"): its format version and that it names the backup it is stored for.
     *
     * @throws io.strata.store.ObjectStore.NoSuchObjectException when it is not stored
     * @throws StrataException corrupt-data for an unreadable or mismatching manifest, format-too-new
     *                         for one written by a newer strata
     */
    static Manifest read(ObjectIo io, ObjectCodec codec, String id) {
        Manifest m = io.readJson(Keys.manifest(id), "manifest", Manifest.class, codec);
        FormatVersion.check("manifest", io.store().describe(Keys.manifest(id)), m.formatVersion(), 1, FORMAT_VERSION);
        if (!id.equals(m.id())) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "manifest of backup " + id + " has format " + m.formatVersion() + " and id " + m.id()
                    + ", expected format " + FORMAT_VERSION + " and id " + id + " (resource=" + io.store().describe(Keys.manifest(id)) + ")", null);
        }
        return m;
    }

    public Manifest(int formatVersion, String id, String type, String parent, String tool, String beginTime, String endTime, SourceInfo source,
                    long startLsn, long startEndLsn, long endLsn, long redoEndLsn, long redoCapacity, String redoObject, String binlogFile,
                    Long binlogPosition, String gtidBinlogPos, String gtidCurrentPos, List<FileEntry> files, long rawBytes, long storedBytes,
                    Long threshold, String method, String note) {
        this(formatVersion, id, type, parent, tool, beginTime, endTime, source, startLsn, startEndLsn, endLsn, redoEndLsn, redoCapacity, redoObject,
                binlogFile, binlogPosition, gtidBinlogPos, gtidCurrentPos, files, rawBytes, storedBytes, threshold, method, note, null, null, null);
    }
}
