package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A prune that stopped after its marker: the backup reads as pruned and the next writer finishes the removal. */
class PrunedHistoryTest {
    @TempDir
    Path dir;

    private static String completedBackup(Repository r, String id) throws Exception {
        String now = Instant.now().toString();
        HistoryRecord begin = new HistoryRecord(id, "full", HistoryRecord.RUNNING, null, now, null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        r.history().begin(begin);
        r.store().put("backups/" + id + "/data/000001", new byte[] {1, 2, 3});
        SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        Manifest m = Manifest.builder().id(id).type("full").tool("test").beginTime(now).endTime(now).source(src).startLsn(100).startEndLsn(100)
                .endLsn(200).redoEndLsn(200).redoCapacity(1 << 20).redoObject("redo").rawBytes(3).storedBytes(3).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(begin, m));
        return id;
    }

    @Test
    void anInterruptedPruneIsFinishedByTheNextWriter() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        String id = completedBackup(r, "20260101T000000Z-0001");
        r.history().markPruned(id, "outside the retention (test)");
        HistoryRecord h = r.history().attempts().get(0);
        assertEquals(HistoryRecord.PRUNED, h.state());
        assertTrue(h.error().matches("removed by strata prune at \\S+: outside the retention \\(test\\)"), h.error());
        assertEquals(List.of(), r.history().completedIds());

        try (RepoLock lock = r.lock()) {
            r.cleanupIncomplete();
        }
        assertEquals(List.of(), r.store().list("backups/"));
        StrataException e = assertThrows(StrataException.class, () -> r.manifest(id));
        assertEquals(ErrorCode.BACKUP_NOT_FOUND, e.code());
        assertTrue(e.getMessage().startsWith("backup " + id + " was removed by strata prune at "), e.getMessage());
        assertEquals(3, r.store().list("history/" + id + "/").size(), "begin, end and pruned stay");
    }
}
