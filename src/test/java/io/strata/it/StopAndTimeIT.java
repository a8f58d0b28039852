package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Timing traps (issue 15, item 12): SIGTERM to the archiver right after new transactions still
 * archives them (a last pass, up to the position SHOW MASTER STATUS gave before the signal); list
 * prints its times with their zone, the same under any TZ, and a time without a zone given to
 * --until is read in that zone (UTC): under TZ=America/New_York it restores the point it names.
 */
class StopAndTimeIT {
    private static final Pattern LIST_TIME = Pattern.compile("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC");

    /** Whether the archive holds a summary of {@code file} ending exactly at {@code end}. */
    private static boolean archivedUpTo(Path repo, String file, long end) throws Exception {
        String name = String.format("-%012d.sum", end);
        try (Stream<Path> s = Files.walk(repo.resolve("binlogs"))) {
            return s.anyMatch(p -> p.getParent().getFileName().toString().equals(file) && p.getFileName().toString().endsWith(name));
        }
    }

    @Test
    void sigtermArchivesWhatIsNewAndTimesFromListMeanTheSamePointInEveryZone() throws Exception {
        // a short name: the point-in-time restore puts its server's socket below it (at most 107 bytes)
        Path work = ItSupport.tempDir("st-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE app", "CREATE TABLE app.marks (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB",
                    "INSERT INTO app.marks (note) VALUES ('before the backup')");
            String id = ItSupport.backup(repo, source, "--type", "full");
            BinlogPosition before = source.binlogPosition();

            // the archiver's first round archives up to `before`; then it sleeps for ten minutes
            Process archiver = StrataCli.start(work.resolve("arch.out"), work.resolve("arch.err"), "binlog", "archive", "--repo", repo.toString(),
                    "--socket", source.socket().toString(), "--user", "root", "--interval", "600");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.isDirectory(repo.resolve("binlogs")) && archivedUpTo(repo, before.file(), before.position()))) {
                assertTrue(archiver.isAlive() && System.nanoTime() < deadline, "the first round never reached " + before + ": "
                        + Files.readString(work.resolve("arch.err"), StandardCharsets.UTF_8));
                Thread.sleep(100);
            }
            for (int i = 0; i < 20; i++) {
                source.exec("INSERT INTO app.marks (note) VALUES ('after the first round " + i + "')");
            }
            BinlogPosition last = source.binlogPosition();
            assertTrue(last.position() > before.position() && last.file().equals(before.file()), before + " -> " + last);
            String until = source.query("SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:%s')").get(0).get(0);
            Thread.sleep(2100); // the last round's "complete until" (its server time less one second) is past `until`

            archiver.destroy(); // SIGTERM
            assertTrue(archiver.waitFor(60, TimeUnit.SECONDS), "the archiver did not stop");
            String err = StrataCli.readLog(work.resolve("arch.err"));
            assertEquals(0, archiver.exitValue(), err);
            assertTrue(err.contains("stopping: a last pass archives what the server wrote until now (a second signal stops at once)\n"), err);
            assertTrue(err.contains("stopped by a signal; the archive ends at " + last + "\n"), "SHOW MASTER STATUS before the signal: " + last + "\n" + err);
            assertTrue(archivedUpTo(repo, last.file(), last.position()), "no segment ends at " + last);

            // list: every time with its zone, the same text whatever TZ says
            StrataCli.Result utc = StrataCli.runWithEnv(Map.of("TZ", "UTC"), "list", "--repo", repo.toString());
            StrataCli.Result ny = StrataCli.runWithEnv(Map.of("TZ", "America/New_York"), "list", "--repo", repo.toString());
            assertEquals(0, ny.exit(), ny.toString());
            assertEquals(utc.out(), ny.out());
            String row = ny.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow(() -> new AssertionError(ny.out()));
            Matcher m = LIST_TIME.matcher(row);
            assertTrue(m.find() && m.find(), "begin and end carry their zone: " + row);

            // --until without a zone is UTC, as list prints: under New York's zone it still names `until`
            Path target = work.resolve("restored");
            StrataCli.Result r = StrataCli.runWithEnv(Map.of("TZ", "America/New_York"), "restore", "--repo", repo.toString(), "--target", target.toString(),
                    "--until", until);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().startsWith("restored time " + until.replace(' ', 'T') + "Z into " + target), r.toString());
            assertTrue(r.out().contains("binlog position of the restored data: " + last + " "), r.toString());
            assertTrue(r.out().contains(": backup " + id + " (full) and 20 transaction(s)"), r.toString());
        }
    }
}
