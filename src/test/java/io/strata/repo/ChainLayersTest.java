package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The stored versions of a file along a chain ({@link Chain#layers}): by space id, renames followed, space 0 by path. */
class ChainLayersTest {
    private static final SourceInfo SRC = new SourceInfo("h:0:/d", "h", 1, "10.11.19-MariaDB", "/d", 16384, 8 << 20, 0, "ibdata1:12M:autoextend", "full_crc32");
    private static final String FULL = "20260101T000000Z-0001";
    private static final String INC1 = "20260102T000000Z-0002";
    private static final String INC2 = "20260103T000000Z-0003";

    private static FileEntry innodb(String path, long space, String storage, String object) {
        return new FileEntry(path, "innodb", space, 0x15, 65536, 4, storage, FileEntry.DELTA.equals(storage) ? 1 : 0, object, 100, "0000000" + space % 10);
    }

    /** A tablespace with no page changed since the parent: a delta of no pages (the shared empty object). */
    private static FileEntry unchanged(String path, long space) {
        return new FileEntry(path, "innodb", space, 0x15, 65536, 4, FileEntry.DELTA, 0, "data/000009", 32, "abcdef01");
    }

    private static Manifest m(String id, String parent, long start, List<FileEntry> files) {
        return Manifest.builder().id(id).type(parent == null ? Manifest.TYPE_FULL : "incremental").parent(parent).source(SRC).startLsn(start)
                .endLsn(start + 10).redoEndLsn(start + 10).threshold(parent == null ? null : start - 100).files(files).build();
    }

    @Test
    void layersFollowSpaceIdsThroughRenamesAndSpaceZeroByPath(@TempDir Path dir) {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        List<FileEntry> full = new ArrayList<>();
        full.add(innodb("ibdata1", 0, FileEntry.WHOLE, "data/000001"));
        full.add(innodb("ibdata2", 0, FileEntry.WHOLE, "data/000002"));
        for (int t = 1; t <= 3000; t++) {
            full.add(new FileEntry("db/t" + t + ".frm", "file", null, null, 900, 0, FileEntry.WHOLE, 0, "data/f" + t, 900, "00000000"));
            full.add(innodb("db/t" + t + ".ibd", 10 + t, FileEntry.WHOLE, "data/i" + t));
        }
        repo.writeManifest(m(FULL, null, 100, full));
        repo.writeManifest(m(INC1, FULL, 200, List.of(
                innodb("ibdata2", 0, FileEntry.DELTA, "data/000001"),
                innodb("db/renamed.ibd", 10 + 2999, FileEntry.DELTA, "data/000002"),
                innodb("db/t7.ibd", 17, FileEntry.WHOLE, "data/000003"),
                unchanged("db/t5.ibd", 15),
                unchanged("db/t6.ibd", 16))));
        repo.writeManifest(m(INC2, INC1, 300, List.of(
                innodb("ibdata2", 0, FileEntry.DELTA, "data/000001"),
                innodb("db/renamed.ibd", 10 + 2999, FileEntry.DELTA, "data/000002"),
                innodb("db/t7.ibd", 17, FileEntry.DELTA, "data/000003"),
                innodb("db/new.ibd", 9999, FileEntry.DELTA, "data/000004"),
                innodb("db/t5.ibd", 15, FileEntry.DELTA, "data/000005"),
                unchanged("db/t6.ibd", 16))));
        Chain chain = Chain.resolve(repo, INC2);
        Manifest inc2 = chain.target();
        // the older members are lean: their InnoDB files alone; the target and a whole chain keep everything
        assertEquals(3002, chain.members().get(0).files().size());
        assertEquals(6002, Chain.resolveWhole(repo, INC2).members().get(0).files().size());
        assertEquals(6, inc2.files().size());
        // ... and leave out their unchanged tablespaces (deltas of no pages), which a merge's chain keeps
        assertEquals(List.of("ibdata2", "db/renamed.ibd", "db/t7.ibd"), chain.members().get(1).files().stream().map(FileEntry::path).toList());
        assertEquals(5, Chain.resolveForMerge(repo, INC2).members().get(1).files().size());

        List<Chain.Layer> sys = chain.layers(inc2.files().get(0));
        assertEquals(List.of(FULL, INC1, INC2), sys.stream().map(l -> l.backup().id()).toList());
        assertEquals(List.of("data/000002", "data/000001", "data/000001"), sys.stream().map(l -> l.entry().object()).toList(), "ibdata2, not ibdata1");

        List<Chain.Layer> renamed = chain.layers(inc2.files().get(1));
        assertEquals(List.of("db/t2999.ibd", "db/renamed.ibd", "db/renamed.ibd"), renamed.stream().map(l -> l.entry().path()).toList());
        assertEquals("data/i2999", renamed.get(0).entry().object());

        // a whole copy in the middle of the chain ends the walk there
        List<Chain.Layer> t7 = chain.layers(inc2.files().get(2));
        assertEquals(List.of(INC1, INC2), t7.stream().map(l -> l.backup().id()).toList());
        assertSame(chain.members().get(1).files().get(2), t7.get(0).entry());

        // an unchanged tablespace in the middle adds no layer to a restore's composition, one to a merge's
        assertEquals(List.of(FULL, INC2), chain.layers(inc2.files().get(4)).stream().map(l -> l.backup().id()).toList());
        assertEquals(List.of(FULL, INC1, INC2), Chain.resolveForMerge(repo, INC2).layers(inc2.files().get(4)).stream().map(l -> l.backup().id()).toList());
        List<Chain.Layer> t6 = chain.layers(inc2.files().get(5));
        assertEquals(List.of(FULL, INC2), t6.stream().map(l -> l.backup().id()).toList());
        assertEquals("data/i6", t6.get(0).entry().object());

        StrataException e = assertThrows(StrataException.class, () -> chain.layers(inc2.files().get(3)));
        assertEquals(ErrorCode.CHAIN_BROKEN, e.code());
        assertEquals("file db/new.ibd (space 9999) is a delta in backup " + INC2 + " but its parent " + INC1 + " has no space 9999", e.getMessage());
    }
}
