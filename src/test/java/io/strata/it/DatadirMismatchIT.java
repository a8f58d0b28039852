package io.strata.it;

import io.strata.innodb.Checkpoint;
import io.strata.innodb.LogHeader;
import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code backup --datadir} naming another running server's data directory (issue 15, case 6):
 * refused at once with datadir-mismatch (exit 34), before BACKUP STAGE, so the connected server's
 * DDL is never blocked. Two servers set up the same way and idle: the hard case, where their redo
 * checkpoints may sit at the same LSN and only the server process's open files tell them apart.
 */
class DatadirMismatchIT {

    @Test
    void anotherServersDatadirIsRefusedBeforeBackupStage() throws Exception {
        MariaDbSandbox.requireMariaDb();
        Path work = ItSupport.tempDir("datadir-mismatch-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox a = MariaDbSandbox.start(); MariaDbSandbox b = MariaDbSandbox.start()) {
            long started = System.nanoTime();
            StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", a.socket().toString(), "--user", "root",
                    "--datadir", b.datadir().toString());
            double seconds = (System.nanoTime() - started) / 1e9;
            assertEquals(34, r.exit(), r.toString());
            assertTrue(seconds < 30, "took " + seconds + " s");

            long aCheckpoint = Long.parseLong(a.query("SHOW GLOBAL STATUS LIKE 'Innodb_lsn_last_checkpoint'").get(0).get(1));
            long bCheckpoint = newestCheckpoint(b.datadir().resolve("ib_logfile0"));
            long aPid = Long.parseLong(Files.readString(a.baseDir().resolve("mysqld.pid"), StandardCharsets.US_ASCII).trim());
            // which evidence strata found depends on the checkpoints as they were during its run: A may have made one
            // since (read here, after it), so either is right, the LSNs as strata saw them told apart
            String prefix = "ERROR [datadir-mismatch]: --datadir " + b.datadir() + " is not the data directory of the connected server: ";
            String byProcess = prefix + "its process " + aPid + " does not have " + b.datadir().resolve("ib_logfile0") + " open";
            String first = r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
            java.util.regex.Matcher byLsn = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix)
                    + "its redo log ib_logfile0 has its newest checkpoint at LSN (\\d+), the server's last checkpoint is at LSN (\\d+)").matcher(first);
            if (byLsn.matches()) {
                // B runs too and may also have made a checkpoint since
                assertTrue(Long.parseLong(byLsn.group(1)) <= bCheckpoint, r.toString());
                assertTrue(!byLsn.group(2).equals(byLsn.group(1)) && Long.parseLong(byLsn.group(2)) <= aCheckpoint, r.toString());
            } else {
                assertEquals(byProcess, first, r.toString());
            }
            assertTrue(r.err().contains("HINT: point --datadir at the data directory of the server strata connects to (it reports @@datadir "), r.toString());
            assertFalse(r.err().contains("BACKUP STAGE"), r.toString());
            assertFalse(r.err().contains("\tat "), r.toString());
            System.out.println("refused in " + seconds + " s; checkpoints A " + aCheckpoint + ", B " + bCheckpoint);

            // nothing holds a backup lock on A: DDL completes at once
            a.exec("SET SESSION lock_wait_timeout = 5", "CREATE DATABASE ddl_check", "CREATE TABLE ddl_check.after_refusal (id INT PRIMARY KEY) ENGINE=InnoDB");
            assertEquals(List.of(List.of("after_refusal")), a.query("SHOW TABLES FROM ddl_check LIKE 'after_refusal'"));

            // its own directory, named through a symlink, is accepted
            Path link = Files.createSymbolicLink(work.resolve("a-datadir"), a.datadir());
            ItSupport.backup(repo, a, "--datadir", link.toString());
        }
    }

    private static long newestCheckpoint(Path logFile) throws Exception {
        byte[] head = new byte[LogHeader.START_OFFSET];
        try (InputStream in = Files.newInputStream(logFile)) {
            assertEquals(head.length, in.readNBytes(head, 0, head.length));
        }
        return Checkpoint.newest(head, LogHeader.parse(head)).checkpointLsn();
    }
}
