package io.strata.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.strata.repo.FileEntry;

/** The order in which a restore's writers take the files ({@link RestoreRun#writeOrder}). */
class RestoreWriteOrderTest {
    private static FileEntry file(String path, long size) {
        return new FileEntry(path, "innodb", 9L, 0x15, size, size / 16384, FileEntry.WHOLE, 0, "data/000001", size, "00000000", null, null);
    }

    private static List<String> paths(List<FileEntry> files) {
        return files.stream().map(FileEntry::path).toList();
    }

    @Test
    void largestClassFirstThenDirectoriesTakeTurns() {
        List<FileEntry> files = List.of(
                file("db1/a.ibd", 98304), file("db1/b.ibd", 98304), file("db1/c.ibd", 98304),
                file("db2/a.ibd", 98304), file("db2/b.ibd", 114688),
                file("db1/a.frm", 1000), file("db1/b.frm", 1000), file("db2/a.frm", 1000),
                file("ibdata1", 12582912), file("db3/big.ibd", 1 << 30), file("db.opt", 0), file("db2/db.opt", 0));
        assertEquals(List.of(
                "db3/big.ibd", "ibdata1",
                // 64-128 KiB: db2 first (its largest file leads), then db1, then db2 again, then the rest of db1
                "db2/b.ibd", "db1/a.ibd", "db2/a.ibd", "db1/b.ibd", "db1/c.ibd",
                "db1/a.frm", "db2/a.frm", "db1/b.frm",
                "db.opt", "db2/db.opt"),
                paths(RestoreRun.writeOrder(files)));
    }

    @Test
    void keepsEveryEntryOnce() {
        List<FileEntry> files = new java.util.ArrayList<>();
        for (int d = 0; d < 7; d++) {
            for (int t = 0; t < 30; t++) {
                files.add(file("db" + d + "/t" + t + ".ibd", 65536 + 16384L * (t % 3)));
                files.add(file("db" + d + "/t" + t + ".frm", 900 + t));
            }
        }
        List<FileEntry> order = RestoreRun.writeOrder(files);
        assertEquals(files.size(), order.size());
        assertEquals(new java.util.HashSet<>(files), new java.util.HashSet<>(order));
        // the .ibd files (64-96 KiB, one size class) come first, each run of 7 from the 7 directories
        for (int i = 0; i < 210; i += 7) {
            assertEquals(7, paths(order.subList(i, i + 7)).stream().filter(p -> p.endsWith(".ibd")).map(p -> p.substring(0, p.indexOf('/'))).distinct().count(),
                    "files " + i + ".." + (i + 6) + ": " + paths(order.subList(i, i + 7)));
        }
    }
}
