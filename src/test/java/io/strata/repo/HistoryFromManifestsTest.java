package io.strata.repo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * History is rebuilt from the manifests (issue 15, items 4 and 6): a lost or misplaced history
 * record hides no backup, and prune deletes nothing a manifest names nor anything resting on a
 * lost manifest. Local repositories, no server.
 */
class HistoryFromManifestsTest {
    static final String F1 = "20260101T000000Z-0001";
    static final String I1 = "20260101T010000Z-0002";
    static final String I2 = "20260101T020000Z-0003";
    static final String I3 = "20260101T030000Z-0004";
    static final String F2 = "20260101T040000Z-0005";

    @TempDir
    Path dir;

    private static HistoryRecord begin(String id, String time) {
        return new HistoryRecord(id, "auto", HistoryRecord.RUNNING, null, time, null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
    }

    /** A completed backup as a backup run leaves it: begin, objects, manifest, end. */
    static void backup(Repository r, String id, String parent, int hour) {
        String t = Instant.parse("2026-01-01T00:00:00Z").plusSeconds(3600L * hour).toString();
        HistoryRecord b = begin(id, t);
        r.history().begin(b);
        r.store().put("backups/" + id + "/data/000001", new byte[] {1, 2, 3});
        r.store().put("backups/" + id + "/redo", new byte[] {4});
        SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        Manifest m = Manifest.builder().id(id).type(parent == null ? "full" : "incremental").parent(parent).threshold(parent == null ? null : 100L + hour)
                .tool("test").beginTime(t).endTime(t).source(src).startLsn(200 + hour).startEndLsn(200 + hour)
                .endLsn(300 + hour).redoEndLsn(300 + hour).redoCapacity(1 << 20).redoObject("redo").rawBytes(3).storedBytes(3).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(b, m));
    }

    static Map<String, String> states(Repository r) {
        Map<String, String> out = new TreeMap<>();
        for (HistoryRecord h : r.history().attempts()) {
            out.put(h.id(), h.state());
        }
        return out;
    }

    private static List<String> prune(Repository r, List<String> warnings) {
        List<String> out = new ArrayList<>();
        Prune.Result res = Prune.run(r, 1, null, false, out::add);
        warnings.addAll(res.warnings());
        return out;
    }

    @Test
    void aBackupWhoseBeginRecordIsLostIsCompletedAndPruneKeepsIt() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        backup(r, I1, F1, 1);
        r.store().delete("history/" + F1 + "/begin");
        assertEquals(Map.of(F1, HistoryRecord.COMPLETED, I1, HistoryRecord.COMPLETED), states(r));
        assertEquals(List.of(F1, I1), r.history().completedIds());

        List<String> warnings = new ArrayList<>();
        List<String> out = prune(r, warnings);
        assertEquals(List.of("keep   " + F1 + ": one of the newest 1 full backup(s)", "keep   " + I1 + ": rests on kept full backup " + F1), out);
        assertEquals(List.of(), warnings);
        assertEquals(3, r.store().list("backups/" + F1 + "/").size(), "data, redo and manifest stay");
    }

    @Test
    void aManifestWithNoHistoryAtAllIsACompletedBackup() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        r.store().delete("history/" + F1 + "/begin");
        r.store().delete("history/" + F1 + "/end");
        HistoryRecord h = r.history().attempts().get(0);
        assertEquals(F1, h.id());
        assertEquals(HistoryRecord.COMPLETED, h.state());
        assertEquals("2026-01-01T00:00:00Z", h.beginTime());
        assertEquals(300L, h.endLsn());

        List<String> warnings = new ArrayList<>();
        assertEquals(List.of("keep   " + F1 + ": one of the newest 1 full backup(s)"), prune(r, warnings));
        assertEquals(3, r.store().list("backups/" + F1 + "/").size());
    }

    @Test
    void aFailedEndRecordDoesNotHideAStoredManifest() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        HistoryRecord b = r.history().find(F1).orElseThrow();
        r.history().end(b.withState(HistoryRecord.FAILED, null, "made up"));
        assertEquals(List.of(F1), r.history().completedIds());
    }

    @Test
    void aMissingMiddleManifestMakesPruneKeepAndWarnNeverDelete() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        backup(r, I1, F1, 1);
        backup(r, I2, I1, 2);
        backup(r, I3, I2, 3);
        backup(r, F2, null, 4);
        r.store().delete("backups/" + I1 + "/manifest");

        List<String> warnings = new ArrayList<>();
        List<String> out = prune(r, warnings);
        assertEquals(List.of(
                "keep   " + I2 + ": its chain is broken (backup " + I1 + " has no manifest): kept, never removed by prune",
                "keep   " + I3 + ": its chain is broken (backup " + I1 + " has no manifest): kept, never removed by prune",
                "keep   " + F2 + ": one of the newest 1 full backup(s)",
                "remove " + F1 + ": full backup outside the retention (--keep-full 1) and needed by no kept backup"), out);
        assertEquals(List.of(
                "broken chain: incremental backup " + I2 + " rests on backup " + I1 + ", whose manifest is missing; it was kept (run \"strata verify\"; remove it by hand once it is not needed)",
                "broken chain: incremental backup " + I3 + " rests on backup " + I1 + ", whose manifest is missing; it was kept (run \"strata verify\"; remove it by hand once it is not needed)",
                "backup " + I1 + " completed but its manifest is missing: its 2 object(s) are kept, nothing can restore it; \"strata verify\" names the backups that rest on it"),
                warnings);
        for (String id : List.of(I1, I2, I3, F2)) {
            assertTrue(!r.store().list("backups/" + id + "/").isEmpty(), id + " keeps its objects");
        }
        assertEquals(List.of(), r.store().list("backups/" + F1 + "/"));
    }

    @Test
    void aRecordStoredInAnotherIdsPlaceIsIgnoredAndReported() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        backup(r, I1, F1, 1);
        // F1's end record copied over I1's
        r.store().put("history/" + I1 + "/end", r.store().get("history/" + F1 + "/end"));
        List<HistoryRecord> a = r.history().attempts();
        assertEquals(List.of(F1, I1), a.stream().map(HistoryRecord::id).toList());
        assertEquals(List.of(HistoryRecord.COMPLETED, HistoryRecord.COMPLETED), a.stream().map(HistoryRecord::state).toList());
        assertEquals(F1, a.get(1).parent());
        assertEquals(List.of("history record history/" + I1 + "/end names backup " + F1 + ", not " + I1 + ": ignored (the manifests decide)"),
                r.history().misplacedRecords());
    }

    @Test
    void aDamagedRecordIsLeftOutAndNamedTheManifestsDecide() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        backup(r, F1, null, 0);
        backup(r, I1, F1, 1);
        java.nio.file.Path end = dir.resolve("repo").resolve("history").resolve(I1).resolve("end");
        byte[] b = java.nio.file.Files.readAllBytes(end);
        b[b.length / 2] ^= 0x20;
        java.nio.file.Files.write(end, b);
        r.store().delete("history/" + F1 + "/begin");
        assertEquals(List.of(F1, I1), r.history().completedIds());
        History.Findings f = r.history().findings();
        assertEquals(1, f.damaged().size(), f.toString());
        assertTrue(f.damaged().get(0).startsWith("history record history/" + I1 + "/end is damaged: "), f.toString());
        assertTrue(f.damaged().get(0).contains("(resource=" + end + ")"), f.toString());
        assertEquals(List.of("history record history/" + F1 + "/begin of completed backup " + F1 + " is missing (the manifest decides)"), f.lost());
    }
}
