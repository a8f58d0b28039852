package io.strata.restore;

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

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * verify reads pages of a format it cannot check (a legacy page_compressed frame compressed with
 * lzma) without calling them damage, and says how many it left unchecked, per file.
 */
class VerifierUncheckedPagesTest {
    private static final int PS = 16384;
    private static final String ID = "20260101T000000Z-0001";

    @Test
    void pagesStrataCannotCheckAreNotedNotCountedAsDamage(@TempDir Path dir) throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        String now = Instant.now().toString();
        HistoryRecord begin = new HistoryRecord(ID, "full", HistoryRecord.RUNNING, null, now, null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        r.history().begin(begin);
        int flags = 0x21 | 1 << 16; // legacy, DYNAMIC, page_compressed
        byte[] file = new byte[3 * PS];
        System.arraycopy(PageBuilder.legacy(PS, PageBuilder.Algo.CRC32).pageNo(0).type(PageType.FSP_HDR).build(), 0, file, 0, PS);
        for (int p = 1; p < 3; p++) {
            ByteBuffer f = ByteBuffer.wrap(file, p * PS, PS);
            f.putInt(0xDEADBEEF).putInt(p).putInt(-1).putInt(-1).putLong(1000 + p).putShort((short) PageType.PAGE_COMPRESSED)
                    .putLong(4).putInt(5).putShort((short) 100); // lzma, space 5, 100 bytes of payload
            for (int i = 0; i < 100; i++) {
                f.put((byte) (i * 7 + 1));
            }
        }
        String crc;
        try (StoredObject w = r.createBackupObject(ID, Repository.dataObject(1), "innodb-file")) {
            w.out().write(file);
            w.commitBatched();
            crc = w.crc32c();
        }
        try (StoredObject redo = r.createBackupObject(ID, "redo", "redo")) {
            redo.commitBatched();
        }
        r.syncBackupObjects();
        long stored = r.backupObjectSize(ID, Repository.dataObject(1));
        FileEntry fe = new FileEntry("d/pc.ibd", "innodb", 5L, flags, file.length, 3, FileEntry.WHOLE, 0, Repository.dataObject(1), stored, crc);
        SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", PS, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        Manifest m = Manifest.builder().id(ID).type("full").tool("test").beginTime(now).endTime(now).source(src).startLsn(50000)
                .startEndLsn(50000).endLsn(50000).redoEndLsn(50000).redoCapacity(1 << 20).redoObject("redo").rawBytes(file.length)
                .storedBytes(stored).files(List.of(fe)).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(begin, m));

        List<String> out = new ArrayList<>();
        Verifier v = new Verifier(r, out::add);
        v.run(ID);
        assertEquals(List.of(), v.problems(), String.join("\n", out));
        assertTrue(out.get(0).startsWith("ok     " + ID + " (full): 2 objects, 3 InnoDB pages"), out.get(0));
        assertEquals("note   " + ID + ": 2 page(s) of d/pc.ibd were copied but could not be checked (not damage): legacy page_compressed page"
                + " compressed with lzma, which strata cannot decompress to check", out.get(1));
    }
}
