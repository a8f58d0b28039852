package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash-safe Aria tables (TRANSACTIONAL=1) written throughout a backup, on a server that takes an
 * Aria checkpoint every second: the restored tables equal the source's once the binlog is
 * replayed from the recorded position.
 *
 * <p>An Aria checkpoint writes the dirty pages of the Aria page cache to the table files and then
 * records, in {@code aria_log_control}, the point of the Aria log from which crash recovery
 * starts. A copy of a table file taken before such a checkpoint lacks what it wrote; with the
 * control file copied after it, recovery starts past those changes and they are lost (the
 * binlog replay then fails with error 1032 "Can't find record" or the checksums differ). Before
 * the control file was taken ahead of the table files, a backup here lost Aria rows.
 *
 * <p>A quarter of the tables have no page checksums (PAGE_CHECKSUM=0): their pages are taken
 * when two reads in a row agree.
 *
 * <p>The same with {@code aria_log_dir_path} outside the data directory: the log and control
 * file are taken from there and restored at the top of the data directory. Before, strata found
 * no control file in the data directory and stored the table files without any Aria log.
 */
class AriaOnlineIT {
    private static final int TABLES = 12;

    @Test
    void ariaTablesWrittenDuringTheBackupRestoreEqual() throws Exception {
        Path work = ItSupport.tempDir("aria-");
        backupWhileWrittenRestoresEqual(work, null);
    }

    @Test
    void theAriaLogIsTakenFromAriaLogDirPath() throws Exception {
        Path work = ItSupport.tempDir("aria-dir-");
        Path logs = work.resolve("aria-logs");
        java.nio.file.Files.createDirectories(logs);
        JsonNode m = backupWhileWrittenRestoresEqual(work, logs);
        java.util.Set<String> stored = new java.util.TreeSet<>();
        m.get("files").forEach(f -> {
            if (f.get("path").asText().startsWith("aria_log")) {
                stored.add(f.get("path").asText());
            }
        });
        java.util.Set<String> there = new java.util.TreeSet<>();
        try (java.util.stream.Stream<Path> l = java.nio.file.Files.list(logs)) {
            l.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("aria_log")).forEach(there::add);
        }
        assertTrue(there.contains("aria_log_control") && there.contains("aria_log.00000001"), there.toString());
        assertEquals(there, stored, "the stored Aria log is the one in aria_log_dir_path");
    }

    /** Writes Aria tables through a throttled backup, restores it, replays the binlog and compares; {@code ariaLogs}: the server's aria_log_dir_path, or null. @return the backup's manifest */
    private JsonNode backupWhileWrittenRestoresEqual(Path work, Path ariaLogs) throws Exception {
        Path repo = work.resolve("repo");
        MariaDbSandbox.requireMariaDb();
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--aria-checkpoint-interval=1", "--innodb-log-buffer-size=1M"));
        if (ariaLogs != null) {
            args.add("--aria-log-dir-path=" + ariaLogs);
        }
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("8M")
                .extraArgs(args.toArray(String[]::new)).start()) {
            source.exec("CREATE DATABASE ar");
            for (int t = 0; t < TABLES; t++) {
                source.exec("CREATE TABLE ar.t" + t + " (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, c VARCHAR(200) NOT NULL,"
                                + " KEY k_idx (k)) ENGINE=Aria TRANSACTIONAL=1" + (t % 4 == 0 ? " PAGE_CHECKSUM=0" : ""),
                        "INSERT INTO ar.t" + t + " (k, c) SELECT seq % 97, REPEAT(CHAR(65 + seq % 26), 150) FROM ar.seq_1_to_3000");
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread[] writers = new Thread[3];
            for (int w = 0; w < writers.length; w++) {
                writers[w] = new Thread(() -> {
                    try (Connection c = source.connection(); Statement st = c.createStatement()) {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        while (!stop.get()) {
                            String t = "ar.t" + r.nextInt(TABLES);
                            int id = 1 + r.nextInt(3500);
                            switch (r.nextInt(3)) {
                                case 0 -> st.executeUpdate("INSERT INTO " + t + " (k, c) VALUES (" + r.nextInt(97) + ", REPEAT('x', " + r.nextInt(200) + "))");
                                case 1 -> st.executeUpdate("UPDATE " + t + " SET k = k + 1, c = REPEAT('u', " + r.nextInt(200) + ") WHERE id = " + id);
                                default -> st.executeUpdate("DELETE FROM " + t + " WHERE id = " + id);
                            }
                            writes.incrementAndGet();
                        }
                    } catch (SQLException | RuntimeException e) {
                        failed.set(e);
                    }
                }, "aria-writer-" + w);
                writers[w].start();
            }
            String id;
            try {
                Thread.sleep(1500);
                long before = writes.get();
                // throttled: the table files are copied over several seconds, across several Aria checkpoints
                id = ItSupport.backup(repo, source, "--throttle", "2");
                assertTrue(writes.get() - before > 200, "too few Aria writes during the backup: " + (writes.get() - before));
                Thread.sleep(500);
            } finally {
                stop.set(true);
                for (Thread w : writers) {
                    w.join();
                }
            }
            assertEquals(null, failed.get());

            JsonNode m = ItSupport.manifest(repo, id);
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong());
                 Connection a = source.connection(); Connection b = restored.connection()) {
                Map<String, String> expected = TableChecksums.of(a, "ar");
                assertEquals(TABLES, expected.size(), expected.toString());
                TableChecksums.assertSame(expected, TableChecksums.of(b, "ar"));
                assertEquals(java.util.List.of(), TableChecksums.checkTables(b, "ar"));
            }
            return m;
        }
    }
}
