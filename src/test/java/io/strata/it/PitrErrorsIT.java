package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import io.strata.util.Dirs;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Targets the archive does not cover are refused before anything is written, each with its own
 * exit code and the restorable windows in the message: a target before the oldest backup, one
 * inside a gap (binlogs purged before they were archived), one after the archived end, and one
 * behind an archived file that was deleted from the repository. A server restart is no gap (the
 * running archiver reconnects); a server reset starts a new timeline after a recorded gap.
 */
class PitrErrorsIT {

    @Test
    void targetsOutsideTheArchiveAreRefused() throws Exception {
        Path work = ItSupport.tempDir("pitr-err-");
        Path repo = work.resolve("repo");
        Path target = work.resolve("never-written");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String firstGtid = "0-" + source.serverId() + "-1";
            PitrSupport.archiveOnce(repo, source);
            String b1 = ItSupport.backup(repo, source, "--type", "full");
            burst(source);
            PitrSupport.archiveOnce(repo, source);

            // binlogs purged before they were archived: the end of the current file and the next one
            burst(source);
            BinlogPosition lost = source.binlogPosition();
            burst(source);
            source.exec("FLUSH BINARY LOGS");
            burst(source);
            source.exec("FLUSH BINARY LOGS");
            String keep = source.binlogPosition().file();
            purgeTo(source, keep);
            String b2 = ItSupport.backup(repo, source, "--type", "incremental");
            burst(source);
            source.exec("FLUSH BINARY LOGS");
            burst(source);
            String missing = source.binlogPosition().file();
            source.exec("FLUSH BINARY LOGS");
            burst(source);
            BinlogPosition end = source.binlogPosition();
            StrataCli.Result arch = PitrSupport.archiveOnce(repo, source, 56);
            PitrSupport.assertGapError(repo, arch);
            String lostFile = lost.file();
            String nextLost = sibling(lostFile, 1);
            assertTrue(arch.err().contains("GAP: " + lostFile + " was purged from the server after "), arch.toString());
            assertTrue(arch.err().contains(" bytes of it were archived, and " + nextLost + " before it was archived"), arch.toString());

            JsonNode win = PitrSupport.windows(repo);
            assertEquals(2, win.get("windows").size(), win.toString());
            assertEquals(b1, win.get("windows").get(0).get("from").get("backup").asText());
            assertEquals(b2, win.get("windows").get(1).get("from").get("backup").asText());
            assertEquals(1, win.get("gaps").size(), win.toString());
            assertEquals("gap", win.get("gaps").get(0).get("kind").asText());
            String windows = PitrSupport.windowsText(win);
            JsonNode from1 = win.get("windows").get(0).get("from");

            // before the oldest backup
            StrataCli.Result r = PitrSupport.restore(repo, target, "--until-gtid", firstGtid);
            PitrSupport.assertRefused(r, 50, "ERROR [pitr-before-window]: target GTID " + firstGtid + " is before the oldest backup that the archived binlogs can roll forward ("
                    + b1 + " at " + from1.get("binlogFile").asText() + ":" + from1.get("binlogPosition").asLong() + ", ended " + from1.get("time").asText()
                    + "); restorable windows: " + windows, target);

            // inside the gap
            r = PitrSupport.restore(repo, target, "--until-position", lost.toString());
            PitrSupport.assertRefused(r, 51, "ERROR [pitr-in-gap]: target position " + lost + " lies in a gap of the binlog archive: "
                    + win.get("gaps").get(0).get("description").asText() + "; no backup was taken between that gap and the target; restorable windows: " + windows, target);

            // after the archived end
            burst(source);
            BinlogPosition later = source.binlogPosition();
            JsonNode archived = win.get("archived").get(win.get("archived").size() - 1).get("to");
            r = PitrSupport.restore(repo, target, "--until-position", later.toString());
            PitrSupport.assertRefused(r, 52, "ERROR [pitr-after-window]: target position " + later + " is after the end of the binlog archive ("
                    + archived.get("time").asText() + " at " + archived.get("binlogFile").asText() + ":" + archived.get("binlogPosition").asLong()
                    + "); restorable windows: " + windows, target);

            // an archived file deleted from the repository
            Path dir = Files.list(repo.resolve("binlogs")).findFirst().orElseThrow().resolve("t0001").resolve(missing);
            assertTrue(Files.isDirectory(dir), dir.toString());
            Dirs.delete(dir, false);
            JsonNode damaged = PitrSupport.windows(repo);
            String what = "archived binlog " + missing + " is missing from the repository (no gap was recorded for it, so the archive is damaged)";
            assertEquals(what, damaged.get("gaps").get(1).get("description").asText(), damaged.toString());
            assertEquals("missing", damaged.get("gaps").get(1).get("kind").asText());
            r = PitrSupport.restore(repo, target, "--until-position", end.toString());
            PitrSupport.assertRefused(r, 53, "ERROR [binlog-missing]: target position " + end + " cannot be reached: " + what
                    + "; restorable windows: " + PitrSupport.windowsText(damaged), target);
            StrataCli.Result list = StrataCli.run("list", "--repo", repo.toString());
            assertTrue(list.out().contains("  MISSING: " + what), list.toString());

            // a server restart is no gap: the running archiver reconnects, the old file is complete
            Path out = work.resolve("arch.out");
            Path err = work.resolve("arch.err");
            Process arch2 = StrataCli.start(out, err, "binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--interval", "1");
            try {
                waitFor(err, "resuming after");
                String before = source.binlogPosition().file();
                source.stop();
                source.startServer();
                burst(source);
                String after = source.binlogPosition().file();
                waitFor(err, "reconnected to ");
                waitFor(err, "archived " + after + " [");
                assertTrue(Files.readString(err).contains("archived " + before + " ["), Files.readString(err));
            } finally {
                arch2.destroy();
                assertTrue(arch2.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertEquals(0, arch2.exitValue(), Files.readString(err));
            JsonNode restarted = PitrSupport.windows(repo);
            assertEquals(2, restarted.get("gaps").size(), restarted.toString());

            // a server reset: recorded as a gap, archived as a new timeline
            source.exec("RESET MASTER");
            burst(source);
            arch = PitrSupport.archiveOnce(repo, source, 56);
            PitrSupport.assertGapError(repo, arch);
            assertTrue(arch.err().contains("new timeline 2 from binlog.000001 (server reset: the server's newest binlog binlog.000001 is older than the archived "),
                    arch.toString());
            JsonNode reset = PitrSupport.windows(repo);
            assertEquals("reset", reset.get("gaps").get(reset.get("gaps").size() - 1).get("kind").asText(), reset.toString());
        }
    }

    /** PURGE BINARY LOGS keeps files whose transactions InnoDB has not yet made durable (binlog checkpoint): retry until it purged. */
    private static void purgeTo(MariaDbSandbox source, String keep) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            source.exec("PURGE BINARY LOGS TO '" + keep + "'");
            if (source.query("SHOW BINARY LOGS").get(0).get(0).equals(keep)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the server did not purge its binlogs before " + keep + ": " + source.query("SHOW BINARY LOGS"));
    }

    private static void waitFor(Path log, String text) throws Exception {
        for (int i = 0; i < 600; i++) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("\"" + text + "\" did not appear in " + log + ":\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }

    private static void burst(MariaDbSandbox source) throws InterruptedException {
        try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).seed(System.nanoTime()).start()) {
            Thread.sleep(500);
            w.stop();
        }
    }

    private static String sibling(String name, int plus) {
        int dot = name.lastIndexOf('.');
        String digits = name.substring(dot + 1);
        return name.substring(0, dot + 1) + String.format("%0" + digits.length() + "d", Long.parseLong(digits) + plus);
    }
}
