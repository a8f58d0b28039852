package io.strata.repo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lineage file: written, read back, the origin when absent, an unreadable mark when damaged. */
class LineageTest {

    @Test
    void aWrittenFileReadsBackWithMode0640(@TempDir Path dir) throws Exception {
        Lineage l = Lineage.restored("20261201T000000Z-abcd", "/r", "until=2026-12-01 01:00:00");
        l.write(dir);
        Path f = dir.resolve(Lineage.FILE_NAME);
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(l, Lineage.read(dir));
        assertTrue(l.lineage().matches("[0-9a-f]{32}"), l.lineage());
        assertEquals(l.lineage().substring(0, 8), Lineage.shortId(l));
        assertEquals("restored by strata from backup 20261201T000000Z-abcd to until=2026-12-01 01:00:00 at " + l.restored()
                + " (lineage " + l.lineage().substring(0, 8) + ")", Lineage.describe(l));
        // written again (a point-in-time restore names its target): replaced, no temporary file left
        Lineage again = Lineage.restored("20261201T000000Z-abcd", "/r", null);
        again.write(dir);
        assertEquals(again, Lineage.read(dir));
        assertNotEquals(l.lineage(), again.lineage());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void noFileIsTheOrigin(@TempDir Path dir) throws Exception {
        assertNull(Lineage.read(dir));
        assertTrue(Lineage.same(null, null));
        assertEquals("origin", Lineage.shortId((Lineage) null));
        assertEquals("never restored by strata (lineage origin)", Lineage.describe(null));
    }

    @Test
    void aDamagedOrForeignFileIsAnUnreadableMarkOfItsOwn() throws Exception {
        String good = "{\"format\":\"strata-lineage\",\"version\":1,\"lineage\":\"00112233445566778899aabbccddeeff\",\"restoredFrom\":\"B1\","
                + "\"repository\":\"/r\",\"pitrTarget\":null,\"restored\":\"2026-12-01T00:00:00Z\",\"later\":1}";
        Lineage ok = Lineage.parse(good.getBytes(StandardCharsets.UTF_8));
        assertEquals("00112233445566778899aabbccddeeff", ok.lineage());
        assertFalse(ok.unreadable());
        for (String bad : new String[] {"", "garbage", good.replace("\"version\":1", "\"version\":2"), good.replace("strata-lineage", "other"),
                good.replace("00112233445566778899aabbccddeeff", "short"), good.replace("\"restoredFrom\":\"B1\"", "\"restoredFrom\":null")}) {
            Lineage l = Lineage.parse(bad.getBytes(StandardCharsets.UTF_8));
            assertTrue(l.unreadable(), bad);
            assertTrue(l.lineage().matches("unreadable-[0-9a-f]{8}"), l.lineage());
            assertFalse(Lineage.same(l, null), bad);
            assertFalse(Lineage.same(l, ok), bad);
            // the same bytes give the same mark: later backups of the same directory still chain
            assertEquals(l, Lineage.parse(bad.getBytes(StandardCharsets.UTF_8)));
            assertEquals(l.lineage(), Lineage.shortId(l));
        }
        assertNotEquals(Lineage.parse("a".getBytes(StandardCharsets.UTF_8)).lineage(), Lineage.parse("b".getBytes(StandardCharsets.UTF_8)).lineage());
    }
}
