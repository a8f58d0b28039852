package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A chain never crosses from one lineage to another (design rule 9), whoever wrote it. */
class ChainLineageTest {
    private static final SourceInfo SRC = new SourceInfo("h:0:/d", "h", 1, "10.11.19-MariaDB", "/d", 16384, 8 << 20, 0, "ibdata1:12M:autoextend", "full_crc32");
    private static final Lineage L = new Lineage(Lineage.FORMAT, 1, "5f0c9e6d2a8b4c1e9d7f3a6b0c2e4d81", "20260101T000000Z-0001", "/r", null, "2026-01-05T00:00:00Z");

    private static Manifest m(String id, String parent, long start, Lineage lineage) {
        return Manifest.builder().id(id).type(parent == null ? Manifest.TYPE_FULL : "incremental").parent(parent).source(SRC).startLsn(start)
                .endLsn(start + 10).redoEndLsn(start + 10).threshold(parent == null ? null : start - 100).lineage(lineage).build();
    }

    @Test
    void aChainOfOneLineageResolvesAndOneThatCrossesIsBroken(@TempDir Path dir) {
        Repository repo = Repository.openOrCreate(dir.resolve("repo"));
        repo.writeManifest(m("20260101T000000Z-0001", null, 100, null));
        repo.writeManifest(m("20260102T000000Z-0002", "20260101T000000Z-0001", 200, null));
        repo.writeManifest(m("20260103T000000Z-0003", "20260102T000000Z-0002", 300, L));
        assertEquals(List.of("20260101T000000Z-0001", "20260102T000000Z-0002"), Chain.resolve(repo, "20260102T000000Z-0002").ids());
        StrataException e = assertThrows(StrataException.class, () -> Chain.resolve(repo, "20260103T000000Z-0003"));
        assertEquals(ErrorCode.CHAIN_BROKEN, e.code());
        assertEquals("backup 20260103T000000Z-0003 is of lineage 5f0c9e6d but its parent 20260102T000000Z-0002 is of lineage origin:"
                + " the chain joins two histories of the data directory and restores to data that never existed", e.getMessage());
    }
}
