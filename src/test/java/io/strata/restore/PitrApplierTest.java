package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.server.ServerVersion;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PitrApplierTest {
    private static final ServerVersion V10_11 = new ServerVersion(10, 11, 9);
    private static final ServerVersion V11_4 = new ServerVersion(11, 4, 0);

    @Test
    void autoTakesTheApplierBelow114OrWithAFilter() {
        assertTrue(PitrApplier.useApplier(ReplayOptions.Mode.AUTO, List.of(), V10_11));
        assertFalse(PitrApplier.useApplier(ReplayOptions.Mode.AUTO, List.of(), V11_4));
        assertTrue(PitrApplier.useApplier(ReplayOptions.Mode.AUTO, List.of("db.t"), V11_4));
        assertTrue(PitrApplier.useApplier(ReplayOptions.Mode.APPLIER, List.of(), V11_4));
        assertFalse(PitrApplier.useApplier(ReplayOptions.Mode.PIPE, List.of(), V10_11));
        StrataException e = assertThrows(StrataException.class, () -> PitrApplier.useApplier(ReplayOptions.Mode.PIPE, List.of("db.t"), V10_11));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--replay pipe cannot replay only some tables (db.t)", e.getMessage());
    }

    @Test
    void tableFilterPatternsMatchExactlyOneTable() {
        assertEquals("app.t", PitrApplier.wildPattern("app.t"));
        assertEquals("my\\_db.t\\%1", PitrApplier.wildPattern("my_db.t%1"));
        List<String> args = PitrApplier.serverArgs(Path.of("/w/relay"), 4, List.of("a_b.c", "d.e"));
        assertTrue(args.contains("--replicate-wild-do-table=a\\_b.c"), args.toString());
        assertTrue(args.contains("--replicate-wild-do-table=d.e"), args.toString());
        assertTrue(args.contains("--relay-log=/w/relay/relay"), args.toString());
        assertTrue(args.contains("--replicate-same-server-id"), args.toString());
        assertTrue(args.contains("--slave-parallel-threads=4"), args.toString());
    }

    @Test
    void optionsAreChecked() {
        assertEquals(ReplayOptions.Mode.APPLIER, ReplayOptions.Mode.parse("Applier"));
        assertEquals("--replay fast is not pipe, applier or auto", assertThrows(StrataException.class, () -> ReplayOptions.Mode.parse("fast")).getMessage());
        assertEquals("table t is not written db.table", assertThrows(StrataException.class, () -> ReplayOptions.DEFAULT.tables(List.of("t"))).getMessage());
        assertEquals(List.of("a.b"), ReplayOptions.DEFAULT.tables(List.of("a.b")).tables());
        assertThrows(StrataException.class, () -> new ReplayOptions(ReplayOptions.Mode.AUTO, List.of(), 0));
    }

    @Test
    void installLinksTheCopiesInOrderAndWritesTheIndex() throws Exception {
        Path dir = Files.createTempDirectory("pitr-applier-test");
        Path a = Files.writeString(dir.resolve("binlog.000007"), "A");
        Path b = Files.writeString(dir.resolve("binlog.000008"), "BB");
        List<Path> relay = PitrApplier.install(List.of(a, b), dir.resolve("relay"));
        assertEquals(List.of(dir.resolve("relay/relay.000001"), dir.resolve("relay/relay.000002")), relay);
        assertEquals("BB", Files.readString(relay.get(1)));
        assertEquals(relay.get(0) + "\n" + relay.get(1) + "\n", Files.readString(dir.resolve("relay/relay.index")));
        io.strata.util.Dirs.deleteQuietly(dir, false);
    }
}
