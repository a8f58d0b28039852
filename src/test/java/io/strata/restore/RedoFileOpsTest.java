package io.strata.restore;

import io.strata.repo.FileEntry;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The file records' names reduced to the manifest's paths, and which stored files they keep in a table restore. */
class RedoFileOpsTest {

    @Test
    void namesBecomeTheManifestsLogicalPaths() {
        assertEquals("app/#sql-alter-7e4-7.ibd", RedoFileOps.logical("./app/#sql-alter-7e4-7.ibd"));
        assertEquals("shop/orders#P#p0.ibd", RedoFileOps.logical("/srv/fast/shop/orders#P#p0.ibd"));
        assertEquals("shop/orders.ibd", RedoFileOps.logical("shop/orders.ibd"));
        assertEquals("t.ibd", RedoFileOps.logical("t.ibd"));
    }

    @Test
    void anInnodbFileIsKeptBySpaceIdOrPath() {
        RedoFileOps ops = new RedoFileOps(Set.of(22L), Set.of("fresh/renamed4.ibd", "app/#sql-alter-7e4-7.ibd"), 3);
        // the rebuilt table's file: the name the log gave it (#sql-alter) is gone, its space id is the same
        assertTrue(ops.touches(innodb("app/t_fcrc32.ibd", 22L)));
        assertTrue(ops.touches(innodb("fresh/renamed4.ibd", 9L)));
        assertFalse(ops.touches(innodb("app/big.ibd", 23L)));
        assertFalse(ops.touches(new FileEntry("fresh/renamed4.frm", "file", null, null, 100, 0, FileEntry.WHOLE, 0, "data/000003", 120, "0a0b0c0d")));
        assertFalse(RedoFileOps.NONE.touches(innodb("app/t_fcrc32.ibd", 22L)));
    }

    private static FileEntry innodb(String path, long spaceId) {
        return new FileEntry(path, "innodb", spaceId, 21, 65536, 4, FileEntry.WHOLE, 0, "data/000001", 123, "0a0b0c0d");
    }
}
