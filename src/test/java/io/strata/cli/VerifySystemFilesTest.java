package io.strata.cli;

import io.strata.innodb.PageBuilder;
import io.strata.innodb.PageType;
import io.strata.repo.FileEntry;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.SourceInfo;
import io.strata.repo.StoredObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code strata verify} of a backup of a system tablespace of two files (ibdata1 of one page,
 * ibdata2 holding the tablespace's page 1): sound when the manifest's innodb_data_file_path names
 * both; when it names ibdata1 and ibdata3, not ibdata2, the pages of ibdata2 cannot be numbered,
 * and verify says so as the one problem (exit 12) instead of checking them under wrong page
 * numbers. (A path of one file is not looked at: every file of space 0 counts as its first.)
 */
class VerifySystemFilesTest {
    private static final int PS = 16384;
    /** full_crc32 with 16 KiB pages (FSP_FLAGS_FCRC32_MASK_MARKER | page_ssize 5). */
    private static final int FLAGS = 0x15;

    @TempDir
    Path dir;

    /** A completed full backup {@code id} of files ibdata1 and ibdata2 whose manifest records {@code dataFilePath}. */
    private static void backup(Repository r, String id, String dataFilePath) throws Exception {
        String now = Instant.now().toString();
        HistoryRecord begin = new HistoryRecord(id, "full", HistoryRecord.RUNNING, null, now, null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        r.history().begin(begin);
        List<String> crcs = new ArrayList<>();
        for (int n = 1; n <= 2; n++) {
            // ibdata2's first page is the tablespace's page 1, numbered on from ibdata1's one page
            byte[] page = PageBuilder.fullCrc32(PS).spaceId(0).pageNo(n - 1).type(n == 1 ? PageType.FSP_HDR : PageType.INDEX).build();
            try (StoredObject w = r.createBackupObject(id, Repository.dataObject(n), "innodb-file")) {
                w.out().write(page);
                w.commitBatched();
                crcs.add(w.crc32c());
            }
        }
        try (StoredObject redo = r.createBackupObject(id, "redo", "redo")) {
            redo.commitBatched();
        }
        r.syncBackupObjects();
        List<FileEntry> files = new ArrayList<>();
        for (int n = 1; n <= 2; n++) {
            files.add(new FileEntry("ibdata" + n, "innodb", 0L, FLAGS, PS, 1, FileEntry.WHOLE, 0, Repository.dataObject(n),
                    r.backupObjectSize(id, Repository.dataObject(n)), crcs.get(n - 1)));
        }
        SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", PS, 1 << 20, 0, dataFilePath, "full_crc32");
        Manifest m = Manifest.builder().id(id).type("full").tool("test").beginTime(now).endTime(now).source(src).startLsn(50000)
                .startEndLsn(50000).endLsn(50000).redoEndLsn(50000).redoCapacity(1 << 20).redoObject("redo").rawBytes(2 * PS)
                .storedBytes(2 * PS).files(files).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(begin, m));
    }

    @Test
    void aFileInnodbDataFilePathDoesNotNameCannotBeNumbered() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        String named = "20260101T000000Z-0001";
        String unnamed = "20260101T000000Z-0002";
        backup(r, named, "ibdata1:16K;ibdata2:16K:autoextend");
        backup(r, unnamed, "ibdata1:16K;ibdata3:16K:autoextend");
        String repo = dir.resolve("repo").toString();

        InProcess.Run ok = InProcess.run("verify", "--repo", repo, named);
        assertEquals(0, ok.exit(), ok.err());

        InProcess.Run bad = InProcess.run("verify", "--repo", repo, unnamed);
        assertEquals(12, bad.exit(), bad.err());
        // the one problem: ibdata1 and the redo log are sound, and no page of ibdata2 is called damaged
        assertEquals("ERROR [corrupt-data]: 1 problem(s) found; the first: ibdata2 of backup " + unnamed + ": the backup holds no single entry"
                + " for each file of innodb_data_file_path ibdata1:16K;ibdata3:16K:autoextend, so its pages cannot be numbered",
                bad.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(""), bad.err());
        // verify changed nothing: both backups are still completed
        assertEquals(List.of(named, unnamed), r.history().completedIds());
    }
}
