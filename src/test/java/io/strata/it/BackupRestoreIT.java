package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The foundation's acceptance test: a full backup taken under a write load of at least 500
 * transactions/s, with the redo log wrapping during the copy, restores to a server whose tables
 * equal the source's once the source's binlog is replayed from the recorded position.
 */
class BackupRestoreIT {

    @Test
    void fullBackupUnderLoadRestoresToTheSource() throws Exception {
        Path work = ItSupport.tempDir("full-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 30_000);
            }
            String id;
            WriteLoad.Result load;
            MariaDbSandbox.BinlogPosition later;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(4).rate(1500).start()) {
                Thread.sleep(1500);
                long before = w.committed();
                long t0 = System.nanoTime();
                // throttled so that the copy lasts long enough for the 8 MiB redo log to wrap
                id = ItSupport.backup(repo, source, "--throttle", "3");
                double tps = (w.committed() - before) / ((System.nanoTime() - t0) / 1e9);
                assertTrue(tps >= 500, "write load during the backup was only " + tps + " tx/s");
                Thread.sleep(1000);
                later = source.binlogPosition();
                Thread.sleep(1000);
                load = w.stop();
            }
            assertTrue(load.transactions() > 1000, load.toString());

            JsonNode m = ItSupport.manifest(repo, id);
            long c = m.get("startLsn").asLong();
            long redoEnd = m.get("redoEndLsn").asLong();
            long capacity = m.get("redoCapacity").asLong();
            assertTrue(redoEnd - c > capacity, "the redo log did not wrap during the backup: copied " + (redoEnd - c) + " bytes, capacity " + capacity);
            assertTrue(m.get("endLsn").asLong() <= redoEnd && m.get("endLsn").asLong() > c);

            JsonNode entry = ItSupport.list(repo).get(0);
            assertEquals(id, entry.get("id").asText());
            assertEquals("full", entry.get("type").asText());
            assertEquals("completed", entry.get("state").asText());
            assertTrue(entry.get("parent").isNull());
            assertEquals(m.get("binlogFile").asText(), entry.get("binlogFile").asText());
            assertEquals(m.get("binlogPosition").asLong(), entry.get("binlogPosition").asLong());
            assertFalse(entry.get("gtidBinlogPos").asText().isEmpty());
            assertTrue(entry.get("storedBytes").asLong() > 10_000_000L);

            String file = m.get("binlogFile").asText();
            long pos = m.get("binlogPosition").asLong();
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored"), source, file, pos)) {
                ItSupport.assertSameData(source, restored, "app");
                try (Connection a = source.connection(); Connection b = restored.connection()) {
                    assertEquals(TableChecksums.rowCounts(a, "mysql").get("mysql.global_priv"), TableChecksums.rowCounts(b, "mysql").get("mysql.global_priv"));
                }
            }

            // negative control: replaying from a later position than recorded loses the
            // transactions in between, and the oracle must see it
            try (MariaDbSandbox wrong = ItSupport.restoreAndReplay(repo, id, work.resolve("wrong"), source, later.file(), later.position(), true);
                 Connection a = source.connection(); Connection b = wrong.connection()) {
                Map<String, String> expected = TableChecksums.of(a, "app");
                Map<String, String> actual = TableChecksums.of(b, "app");
                long differing = expected.keySet().stream().filter(k -> !expected.get(k).equals(actual.get(k))).count();
                assertTrue(differing >= 1, "the oracle cannot tell a wrong replay position apart: " + expected + " vs " + actual);
            }
        }
    }

    @Test
    void restoreWithoutRecoveryLeavesItToTheFirstStart() throws Exception {
        Path work = ItSupport.tempDir("norecover-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String id;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).start()) {
                Thread.sleep(500);
                id = ItSupport.backup(repo, source);
                w.stop();
            }
            JsonNode m = ItSupport.manifest(repo, id);
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--target", work.resolve("t").toString(), "--no-recover");
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("recovery left to the first start"), r.out());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(work.resolve("t")).start()) {
                assertTrue(restored.errorLog().contains("Starting crash recovery from checkpoint LSN=" + m.get("startLsn").asLong()), restored.errorLog());
                io.strata.testing.BinlogReplay.replay(source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), restored.socket());
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
