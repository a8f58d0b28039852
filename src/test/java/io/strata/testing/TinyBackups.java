package io.strata.testing;

import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.SourceInfo;
import io.strata.repo.StoredObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * Completed backups without data files, for tests of history, merge and chain rules: a begin
 * record, a 3-byte redo object (merge copies it byte for byte), the manifest and the end record.
 */
public final class TinyBackups {
    private TinyBackups() {}

    /** The {@code n}-th test backup id (1..59): ids sort by n, as real ids sort by start time. */
    public static String id(int n) {
        return String.format(java.util.Locale.ROOT, "20260101T00%02d00Z-%04x", n, n);
    }

    /** Stores backup {@code id}; a child's threshold is {@code startLsn - 100}, so parents are taken 100 LSNs apart. */
    public static void backup(Repository r, String id, String type, String parent, long startLsn) {
        String now = Instant.now().toString();
        HistoryRecord begin = new HistoryRecord(id, type, HistoryRecord.RUNNING, parent, now, null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        r.history().begin(begin);
        try (StoredObject redo = r.createBackupObject(id, "redo", "redo")) {
            redo.out().write(new byte[] {1, 2, 3});
            redo.commitBatched();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        r.syncBackupObjects();
        SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        Manifest m = Manifest.builder().id(id).type(type).parent(parent).tool("test").beginTime(now).endTime(now).source(src).startLsn(startLsn)
                .startEndLsn(startLsn).endLsn(startLsn + 50).redoEndLsn(startLsn + 50).redoCapacity(1 << 20).redoObject("redo").rawBytes(3)
                .storedBytes(3).threshold(parent == null ? null : startLsn - 100).files(List.of()).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(begin, m));
    }
}
