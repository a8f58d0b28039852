package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15, item 1 (design rule 9): a data directory restored from an older backup into the
 * server's own path (so the same server key) writes LSNs the newer backups already used. The
 * failure it guards against: full B1, incrementals B2 and B3; B1 restored over the data directory,
 * the restored server writes past B3's end LSN; an incremental on B3 would then restore to data
 * that never existed. Here: first the files of B1 copied in without the lineage file (another
 * tool's restore), whose LSN is behind B3's end: the incremental is refused (exit 35); then B1
 * restored by strata over the emptied data directory: an explicit incremental is refused with the
 * exact message, auto takes a full backup B4 saying why, and B5 is an incremental on B4 whose
 * pages come from change sets. A tracker running across both restores drops the old history's
 * change sets each time (LSN gone back; another lineage), and the binlog archive starts timeline 2
 * at the restored server's first binlog. Every backup restores to the source's
 * tables at its point (CHECKSUM TABLE).
 */
class LineageIT {

    @Test
    void aRestoredDataDirectoryStartsANewHistory() throws Exception {
        Path work = ItSupport.tempDir("lineage-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2000);
            }
            String b1 = ItSupport.backup(repo, source, "--type", "full");
            Map<String, String> at1 = checksums(source);
            write(source, 1);
            String b2 = ItSupport.backup(repo, source);
            Map<String, String> at2 = checksums(source);
            write(source, 2);
            String b3 = ItSupport.backup(repo, source);
            Map<String, String> at3 = checksums(source);
            JsonNode m3 = ItSupport.manifest(repo, b3);
            assertEquals("incremental", m3.get("type").asText());
            assertTrue(m3.get("lineage").isNull(), "a server never restored is of the origin lineage: " + m3.get("lineage"));
            long end3 = m3.get("endLsn").asLong();
            // change sets and archived binlogs of the old history; the tracker keeps running across both restores
            Path trackErr = work.resolve("track.err");
            Process tracker = StrataCli.start(work.resolve("track.out"), trackErr, "track", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--flush-interval", "1");
            try {
                waitFor(trackErr, "[track] stored change set");
                PitrSupport.archiveOnce(repo, source);
                source.stop();

                // B1 restored elsewhere: marked with a new lineage, mode 0640
                Path r1 = work.resolve("r1");
                StrataCli.Result restored = StrataCli.run("restore", "--repo", repo.toString(), "--backup", b1, "--target", r1.toString());
                assertEquals(0, restored.exit(), restored.toString());
                Path mark = r1.resolve("strata-lineage");
                assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(mark)));
                JsonNode other = ItSupport.JSON.readTree(mark.toFile());
                assertEquals(b1, other.get("restoredFrom").asText());
                assertTrue(restored.err().contains("marked " + r1.toAbsolutePath().normalize() + " as lineage " + other.get("lineage").asText().substring(0, 8)
                        + " (strata-lineage): backups of a server started on it begin a new history"), restored.err());

                // another tool's restore: the same files without the mark, in the server's own data directory
                copyInto(r1, source.datadir(), "strata-lineage");
                source.startServer();
                assertEquals(at1, checksums(source), "B1 restored");
                StrataCli.Result refused = backup(repo, source, "--type", "incremental");
                assertEquals(35, refused.exit(), refused.toString());
                List<String> lines = refused.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList();
                assertTrue(lines.get(0).matches("ERROR \\[history-diverged\\]: the server's LSN \\d+ is below the end LSN " + end3 + " of backup " + b3
                        + ": its data directory was restored or replaced since that backup: an incremental on it would join two histories"), lines.toString());
                assertEquals("HINT: take a full backup (--type full or auto) to start the new history", lines.get(1));
                assertEquals(3, completed(repo), "nothing was stored");
                waitFor(trackErr, ": the data directory was replaced or restored, and the ");
                source.stop();

                // strata's restore of B1 into the server's own (emptied) data directory
                emptyDirectory(source.datadir());
                StrataCli.Result again = StrataCli.run("restore", "--repo", repo.toString(), "--backup", b1, "--target", source.datadir().toString());
                assertEquals(0, again.exit(), again.toString());
                JsonNode lineage = ItSupport.JSON.readTree(source.datadir().resolve("strata-lineage").toFile());
                String id = lineage.get("lineage").asText();
                String shortId = id.substring(0, 8);
                source.startServer();
                String firstBinlog = source.query("SHOW MASTER STATUS").get(0).get(0);
                // mariadbd takes the file for no database and says nothing of it
                assertFalse(source.query("SHOW DATABASES").stream().anyMatch(r -> r.get(0).contains("lineage")), source.query("SHOW DATABASES").toString());
                assertFalse(source.errorLog().contains("strata-lineage"), source.errorLog());
                assertEquals(at1, checksums(source));
                write(source, 3); // the restored server's own early changes, which an incremental on B3 would lose
                long lsn = 0;
                for (int round = 4; (lsn = lsnCurrent(source)) <= end3 + (1 << 20); round++) {
                    write(source, round);
                }
                assertTrue(lsn > end3, "the restored server's LSN " + lsn + " passed B3's end " + end3);
                // the tracker reconnects every 2 s: B4 must begin after it began following the new lineage (at the
                // checkpoint it saw then), else the tracked incremental on B4 rightly meets a gap (exit 28)
                String trackLog = waitFor(trackErr, " (lineage " + shortId + "), and the change sets followed lineage origin: the ");

                refused = backup(repo, source, "--type", "incremental");
                assertEquals(35, refused.exit(), refused.toString());
                String why = "the server's data directory was restored by strata from backup " + b1 + " at " + lineage.get("restored").asText()
                        + " (lineage " + shortId + "), but backup " + b3 + " belongs to lineage origin";
                lines = refused.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList();
                assertEquals(List.of("ERROR [history-diverged]: " + why + ": an incremental on it would join two histories",
                        "HINT: take a full backup (--type full or auto) to start the new history, or name a base of lineage " + shortId + " with --base"), lines);

                StrataCli.Result auto = backup(repo, source);
                String b4 = ItSupport.completedId(auto);
                assertTrue(auto.err().contains("NOTE: " + why + ": starting a new history with a full backup"), auto.err());
                Map<String, String> at4 = checksums(source);
                JsonNode m4 = ItSupport.manifest(repo, b4);
                assertEquals("full", m4.get("type").asText());
                assertEquals(id, m4.get("lineage").get("lineage").asText());
                assertEquals(b1, m4.get("lineage").get("restoredFrom").asText());

                // change tracking: the running tracker saw the other tool's restore by its LSN going back and
                // strata's by its lineage, and dropped the old history's change sets both times
                assertTrue(trackLog.contains("[track] GAP at LSN 0..") && trackLog.contains(": the server's data directory was restored by strata from backup " + b1
                        + " at " + lineage.get("restored").asText() + " (lineage " + shortId + "), and the change sets followed lineage origin: the "), trackLog);
                // the binlog archive: a new timeline from the restored server's first binlog
                StrataCli.Result archived = PitrSupport.archiveOnce(repo, source, 56);
                assertTrue(archived.err().contains("new timeline 2 from " + firstBinlog + " (new history: the server's data directory was restored by strata from backup "
                        + b1 + " at " + lineage.get("restored").asText() + " (lineage " + shortId + "), and timeline 1 followed lineage origin)"), archived.err());

                write(source, 100);
                waitFor(trackErr, "[track] stored change set", trackLog.length()); // a set of the new lineage
                StrataCli.Result next = backup(repo, source, "--method", "tracked");
                String b5 = ItSupport.completedId(next);
                assertFalse(next.err().contains("NOTE: the server's"), next.err());
                Map<String, String> at5 = checksums(source);
                JsonNode m5 = ItSupport.manifest(repo, b5);
                assertEquals("incremental", m5.get("type").asText());
                assertEquals("tracked", m5.get("method").asText());
                assertEquals(b4, m5.get("parent").asText());
                assertEquals(id, m5.get("lineage").get("lineage").asText());
                assertTrue(ItSupport.list(repo).toString().contains(shortId), "list shows the lineage");
                assertFalse(at4.equals(at3) || at4.equals(at1), "the new history differs from both points of the old one");

                // every backup restores to its own point
                Map<String, Map<String, String>> expected = Map.of(b2, at2, b3, at3, b4, at4, b5, at5);
                for (String b : List.of(b2, b3, b4, b5)) {
                    Path t = work.resolve("restore-" + b);
                    StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", b, "--target", t.toString());
                    assertEquals(0, r.exit(), r.toString());
                    try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(t).start(); Connection c = s.connection()) {
                        TableChecksums.assertSame(expected.get(b), TableChecksums.of(c, "app"));
                    }
                }
            } finally {
                tracker.destroy();
                assertTrue(tracker.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertEquals(143, tracker.exitValue(), Files.readString(trackErr)); // SIGTERM, after storing what it read
        }
    }

    /** The text of {@code file} once it holds {@code text} after character {@code from} (within 90 s). */
    private static String waitFor(Path file, String text, int from) throws Exception {
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (true) {
            String now = Files.exists(file) ? Files.readString(file) : "";
            if (now.indexOf(text, from) >= 0) {
                return now;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no \"" + text + "\" after character " + from + " of " + file + ":\n" + now);
            }
            Thread.sleep(200);
        }
    }

    private static String waitFor(Path file, String text) throws Exception {
        return waitFor(file, text, 0);
    }

    private static long completed(Path repo) throws Exception {
        long n = 0;
        for (JsonNode b : ItSupport.list(repo)) {
            n += b.get("state").asText().equals("completed") ? 1 : 0;
        }
        return n;
    }

    private static StrataCli.Result backup(Path repo, MariaDbSandbox source, String... extra) {
        return StrataCli.run(ItSupport.concat(new String[] {"backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root"}, extra));
    }

    private static Map<String, String> checksums(MariaDbSandbox s) throws Exception {
        try (Connection c = s.connection()) {
            return TableChecksums.of(c, "app");
        }
    }

    /** Changes every InnoDB table and one non-transactional table, differently for each {@code round}. */
    private static void write(MariaDbSandbox s, int round) {
        s.exec("UPDATE app.t_fcrc32 SET k = k + " + round + ", txt = REPEAT('" + (char) ('a' + round % 26) + "', 500) WHERE id % 3 = " + round % 3,
                "UPDATE app.t_legacy SET k = k + " + round + " WHERE id % 5 = " + round % 5,
                "INSERT INTO app.t_part (k, c) VALUES (" + round + ", 'round " + round + "')",
                "UPDATE app.t_aria SET k = k + " + round + " WHERE id % 7 = " + round % 7);
    }

    private static long lsnCurrent(MariaDbSandbox s) {
        return Long.parseLong(s.query("SHOW GLOBAL STATUS LIKE 'Innodb_lsn_current'").get(0).get(1));
    }

    private static void emptyDirectory(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }

    /** Replaces the contents of {@code to} by a copy of {@code from}, leaving out the top-level file {@code except}. */
    private static void copyInto(Path from, Path to, String except) throws Exception {
        emptyDirectory(to);
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path rel = from.relativize(p);
                if (rel.toString().isEmpty() || rel.toString().equals(except)) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to.resolve(rel));
                } else {
                    Files.copy(p, to.resolve(rel), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
