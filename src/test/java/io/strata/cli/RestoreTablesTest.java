package io.strata.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@code restore --table} refuses the options of a restore into a directory (exit 2) before it reads the repository or connects. */
class RestoreTablesTest {
    private static final String TAKES_NONE = ": it restores into a running server and takes none of --target, --backup, --no-recover, --owner, --remap, "
            + "--mariadbd-defaults-file, --innodb-*, --delta, --print-replica-sql and --replay";

    @Test
    void refusesDeltaPrintReplicaSqlAndReplay(@TempDir Path dir) {
        String repo = dir.resolve("no-repo").toString();
        String[] base = {"restore", "--repo", repo, "--table", "shop.orders", "--import", "--socket", dir.resolve("no.sock").toString()};
        assertRefused(concat(base, "--delta"), "--delta");
        assertRefused(concat(base, "--print-replica-sql"), "--print-replica-sql");
        assertRefused(concat(base, "--replay", "applier", "--until-gtid", "0-1-5"), "--replay");
        assertRefused(concat(base, "--delta", "--replay", "pipe"), "--delta, --replay");
    }

    private static void assertRefused(String[] args, String options) {
        InProcess.Run r = InProcess.run(args);
        assertEquals(2, r.exit(), r.err());
        assertEquals("ERROR [usage]: --table cannot be combined with " + options + TAKES_NONE,
                r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(""), r.err());
        assertEquals("HINT: use --until* for a point in time (none: the newest backup), --as and --replace for the destination",
                r.err().lines().filter(l -> l.startsWith("HINT")).findFirst().orElse(""), r.err());
        assertFalse(r.err().contains("scratch directory"), r.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
