package io.strata.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Crash, restart, start on an existing datadir, and a server that fails to start. */
class SandboxLifecycleIT {

    @BeforeAll
    static void requireMariaDb() {
        MariaDbSandbox.requireMariaDb();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void killRestartAndStartOnExistingDatadir() {
        long t0 = System.nanoTime();
        try (MariaDbSandbox first = MariaDbSandbox.builder().start()) {
            System.out.printf(java.util.Locale.ROOT, "[SandboxLifecycleIT] sandbox up in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            first.exec("CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY) ENGINE=InnoDB",
                    "INSERT INTO d.t VALUES (1), (2), (3)");
            first.kill();
            assertFalse(first.isRunning());
            first.startServer(); // InnoDB crash recovery
            assertEquals(List.of(List.of("3")), first.query("SELECT COUNT(*) FROM d.t"));
            first.stop();

            try (MariaDbSandbox second = MariaDbSandbox.builder().startOn(first.datadir()).logBin(true).start()) {
                assertEquals(List.of(List.of("3")), second.query("SELECT COUNT(*) FROM d.t"));
                assertEquals(List.of(List.of("0")), second.query("SELECT @@innodb_flush_log_at_trx_commit - 2"));
                second.exec("INSERT INTO d.t VALUES (4)");
                assertTrue(second.binlogPosition().position() > 4);
                assertTrue(Files.exists(second.binlogBasename().resolveSibling("binlog.index")));
            }
            assertTrue(Files.isDirectory(first.datadir().resolve("d")), "startOn must not delete a datadir it does not own");
        }
    }

    @Test
    void startupFailureReportsTheErrorLogAndCleansUp() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MariaDbSandbox.builder().extraArgs("--no-such-option-for-strata=1").start());
        assertTrue(e.getMessage().contains("no-such-option-for-strata"), e.getMessage());
        assertTrue(e.getMessage().contains("tail of"), e.getMessage());
        // the sandbox's own directory, named by the message (another test JVM may be making or
        // removing sandboxes beside it meanwhile, so the directory is checked, not counted)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("--- tail of (\\S+)/error\\.log ---").matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        java.nio.file.Path base = java.nio.file.Path.of(m.group(1));
        assertTrue(base.getFileName().toString().startsWith("sbx-"), base.toString());
        if (!MariaDbSandbox.keepSandboxes()) {
            assertFalse(Files.exists(base), "failed sandbox directory " + base + " was not removed");
        }
    }
}
