package io.strata.restore;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayTuningTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @Test
    void bufferPoolFollowsTheDataWithinItsBounds() {
        assertEquals(256 * MIB, ReplayTuning.bufferPool(0, 16 * GIB), "never below today's 256M");
        assertEquals(256 * MIB, ReplayTuning.bufferPool(100 * MIB, 16 * GIB));
        // 1 GiB of data + an eighth = 1152 MiB, already a multiple of 128 MiB
        assertEquals(1152 * MIB, ReplayTuning.bufferPool(GIB, 16 * GIB));
        // 1 GiB + 1 byte: rounded up to the next 128 MiB
        assertEquals(1280 * MIB, ReplayTuning.bufferPool(GIB + 8, 16 * GIB));
        // capped at a quarter of the memory
        assertEquals(4 * GIB, ReplayTuning.bufferPool(100 * GIB, 16 * GIB));
        // a small machine keeps the minimum
        assertEquals(256 * MIB, ReplayTuning.bufferPool(10 * GIB, 512 * MIB));
    }

    @Test
    void argsRelaxDurabilityAndAddTheRelaySyncOptionsForTheApplierOnly() {
        List<String> pipe = ReplayTuning.args(false, 384 * MIB);
        assertEquals(List.of("--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-binlog=0", "--innodb-buffer-pool-size=402653184"), pipe);
        List<String> applier = ReplayTuning.args(true, 256 * MIB);
        assertTrue(applier.containsAll(List.of("--sync-relay-log=0", "--sync-relay-log-info=0", "--sync-master-info=0", "--innodb-flush-log-at-trx-commit=0")),
                applier.toString());
        assertFalse(ReplayTuning.describe(false, 384 * MIB).contains("relay"));
        assertTrue(ReplayTuning.describe(true, 384 * MIB).contains("innodb_buffer_pool_size=384M"));
    }

    @Test
    void innodbBytesCountsTablespacesOnly() throws Exception {
        Path t = Files.createTempDirectory("replay-tuning-test");
        Files.write(t.resolve("ibdata1"), new byte[1000]);
        Files.write(t.resolve("undo001"), new byte[200]);
        Files.write(t.resolve("ib_logfile0"), new byte[5000]);
        Files.createDirectories(t.resolve("db"));
        Files.write(t.resolve("db/t.ibd"), new byte[30]);
        Files.write(t.resolve("db/t.frm"), new byte[7]);
        Path undo = Files.createTempDirectory("replay-tuning-undo");
        Files.write(undo.resolve("undo002"), new byte[4]);
        assertEquals(1234, ReplayTuning.innodbBytes(new RestoredLayout(t, t, t, undo)));
        assertEquals(1230, ReplayTuning.innodbBytes(new RestoredLayout(t, t, t, t)));
        io.strata.util.Dirs.deleteQuietly(t, false);
        io.strata.util.Dirs.deleteQuietly(undo, false);
    }

    @Test
    void workersFollowTheCores() {
        assertEquals(4, ReplayOptions.workersFor(1));
        assertEquals(4, ReplayOptions.workersFor(2));
        assertEquals(8, ReplayOptions.workersFor(4));
        assertEquals(16, ReplayOptions.workersFor(64));
    }
}
