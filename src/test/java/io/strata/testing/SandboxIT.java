package io.strata.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.strata.testing.MariaDbSandbox.BinlogPosition;

/**
 * Self-test of the harness and of the oracle the backup ITs rely on: binlog replay from the
 * beginning reproduces the source exactly, and replay from a wrong (later) position is caught.
 */
class SandboxIT {

    private static final String DB = "shop";

    @BeforeAll
    static void requireMariaDb() {
        MariaDbSandbox.requireMariaDb();
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void binlogReplayReproducesTheSourceAndAWrongStartPositionIsDetected() throws Exception {
        long t0 = System.nanoTime();
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("16M")
                .bufferPool("256M").start()) {
            String firstBinlog = BinlogReplay.binlogFiles(source).get(0);
            try (Connection c = source.connection()) {
                SampleSchema.create(c, DB);
                SampleSchema.loadRows(c, DB, 5_000);
                Map<String, Integer> flags = SampleSchema.tablespaceFlags(c, DB);
                assertEquals(SampleSchema.FLAGS_FULL_CRC32, flags.get(DB + "/t_fcrc32"));
                assertEquals(SampleSchema.FLAGS_LEGACY_CRC32, flags.get(DB + "/t_legacy"));
                assertEquals(4, flags.keySet().stream().filter(n -> n.startsWith(DB + "/t_part#")).count(), flags::toString);
            }
            BinlogPosition afterLoad = source.binlogPosition();
            log("schema and rows loaded; binlog at " + afterLoad);

            BinlogPosition midLoad;
            WriteLoad.Result result;
            try (WriteLoad load = WriteLoad.on(source, DB).threads(4).start()) {
                Thread.sleep(1_000);
                midLoad = source.binlogPosition();
                Thread.sleep(4_000);
                result = load.stop();
            }
            log("write load: " + result);
            assertTrue(result.perSecond() >= 500, "write load too slow: " + result);

            Map<String, String> expected;
            try (Connection c = source.connection()) {
                expected = TableChecksums.of(c, DB);
                assertEquals(SampleSchema.TABLES.size(), expected.size(), expected::toString);
                assertEquals(List.of(), TableChecksums.checkTables(c, DB));
                log("source row counts: " + TableChecksums.rowCounts(c, DB));
            }

            try (MariaDbSandbox replica = MariaDbSandbox.builder().bufferPool("256M").start()) {
                long r0 = System.nanoTime();
                BinlogReplay.replay(source, firstBinlog, 4, replica.socket());
                log(String.format(java.util.Locale.ROOT, "full replay took %.1f s", (System.nanoTime() - r0) / 1e9));
                try (Connection c = replica.connection()) {
                    TableChecksums.assertSame(expected, TableChecksums.of(c, DB));
                    assertEquals(List.of(), TableChecksums.checkTables(c, DB));
                }
            }

            // Negative control: the state at afterLoad plus the binlog from a later position (midLoad)
            // misses the transactions in between. IDEMPOTENT lets row events that no longer match
            // apply anyway, so the replay finishes and the checksums have to tell.
            try (MariaDbSandbox wrong = MariaDbSandbox.builder().bufferPool("256M").start()) {
                wrong.exec("SET GLOBAL slave_exec_mode = 'IDEMPOTENT'");
                BinlogReplay.replay(source, new BinlogPosition(firstBinlog, 4), afterLoad, wrong.socket());
                BinlogReplay.replay(source, midLoad, null, wrong.socket());
                try (Connection c = wrong.connection()) {
                    String diff = TableChecksums.diff(expected, TableChecksums.of(c, DB));
                    log("negative control (replay from " + midLoad + " instead of " + afterLoad + "): " + diff);
                    assertFalse(diff.isEmpty(), "replaying from a later position went unnoticed");
                }
            }
        }
        log(String.format(java.util.Locale.ROOT, "SandboxIT took %.1f s", (System.nanoTime() - t0) / 1e9));
    }

    private static void log(String s) {
        System.out.println("[SandboxIT] " + s);
    }
}
