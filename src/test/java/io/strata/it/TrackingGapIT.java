package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.Repository;
import io.strata.repo.Tracking;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the redo log has wrapped past the parent's start and the change sets have a gap, an explicit
 * --method redo or tracked is an error with the reason, and auto falls back to a full scan: never
 * an incremental with a page missing. On a mostly idle server the redo method reads a small
 * fraction of the pages a full scan reads.
 */
class TrackingGapIT {

    private static long lsn(MariaDbSandbox s) {
        return Long.parseLong(s.query("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_LSN_CURRENT'").get(0).get(0));
    }

    private static StrataCli.Result backup(Path repo, MariaDbSandbox source, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                "--user", "root", "--quiet"));
        args.addAll(List.of(extra));
        return StrataCli.run(args.toArray(new String[0]));
    }

    private static String errorLine(StrataCli.Result r) {
        return r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
    }

    @Test
    void aGapMeansAFallbackOrAnErrorNeverAMissedPage() throws Exception {
        Path work = ItSupport.tempDir("gap-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            String full = ItSupport.backup(repo, source, "--type", "full");
            JsonNode fm = ItSupport.manifest(repo, full);
            long t = fm.get("startLsn").asLong();
            String[] track = {"track", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once"};
            StrataCli.Result tr = StrataCli.run(track);
            assertEquals(0, tr.exit(), tr.toString());
            assertTrue(tr.err().contains("[track] no earlier change sets: following the redo log from LSN " + t), tr.toString());

            // the log (8 MiB) wraps several times while no tracker runs
            long from = lsn(source);
            for (int i = 0; lsn(source) < from + 40L * 1024 * 1024; i++) {
                source.exec("UPDATE app.t_fcrc32 SET c = CONCAT('round " + i + " ', id)", "UPDATE app.t_legacy SET c = CONCAT('round " + i + " ', id)");
            }
            tr = StrataCli.run(track);
            assertTrue(tr.err().contains("[track] GAP at LSN "), tr.toString());

            Tracking tracking = new Tracking(Repository.open(repo), fm.get("source").get("serverKey").asText());
            assertEquals(1, tracking.gaps().size());
            Tracking.Gap gap = tracking.gaps().get(0);
            assertTrue(gap.reason().startsWith("the tracker was not running while the log moved on: the server has written "), gap.reason());
            // a recorded gap is coverage lost for good: never exit 0 (issue 15)
            assertTrackingGap(repo, tr, "LSN " + gap.from() + ".." + gap.to() + ": " + gap.reason());

            StrataCli.Result r = backup(repo, source, "--type", "incremental", "--method", "tracked");
            assertEquals(28, r.exit(), r.toString());
            String line = errorLine(r);
            String expectedStart = "ERROR [method-unavailable]: --method tracked cannot be used for this backup: change tracking has a gap at LSN "
                    + gap.from() + ".." + gap.to() + " (" + gap.reason() + ", detected " + gap.detected() + "), inside the range " + t + "..";
            assertTrue(line.startsWith(expectedStart), line + "\nexpected to start with\n" + expectedStart);
            assertTrue(r.err().contains("HINT: use --method auto (it falls back to a method that can be used) or --method full-scan; keep \"strata track\""
                    + " running to make incrementals cheap after the log wraps"), r.toString());

            r = backup(repo, source, "--type", "incremental", "--method", "redo");
            assertEquals(28, r.exit(), r.toString());
            line = errorLine(r);
            assertTrue(line.startsWith("ERROR [method-unavailable]: --method redo cannot be used for this backup: it needs the redo log from the parent's"
                    + " start LSN " + t + ", but the server has written "), line);
            assertTrue(line.endsWith(" bytes of redo log since LSN " + t + ", more than its log holds (8376320 bytes of capacity, innodb_log_file_size)"), line);

            String inc = ItSupport.backup(repo, source, "--type", "incremental");
            JsonNode m = ItSupport.manifest(repo, inc);
            assertEquals(full, m.get("parent").asText(), "the failed attempts are no base");
            assertEquals("full-scan", m.get("method").asText());
            String note = m.get("note").asText();
            assertTrue(note.startsWith("auto: no cheaper method could be used (redo: the server has written "), note);
            assertTrue(note.contains("; tracked: change tracking has a gap at LSN " + gap.from() + ".." + gap.to()), note);
            assertEquals(m.get("detection").get("pagesInFiles").asLong(), m.get("detection").get("pagesRead").asLong(), "a full scan reads every page");

            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, inc, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }

    @Test
    void theRedoMethodReadsWhatChangedOnAMostlyIdleServer() throws Exception {
        Path work = ItSupport.tempDir("idle-");
        Path repo = work.resolve("repo");
        MariaDbSandbox.requireMariaDb();
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("64M").start()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            source.exec("CREATE TABLE app.big (id INT PRIMARY KEY, pad VARCHAR(255)) ENGINE=InnoDB",
                    "INSERT INTO app.big SELECT seq, REPEAT('p', 250) FROM app.seq_1_to_150000",
                    // the full backup's start checkpoint (the incremental's threshold) after the load
                    "SET GLOBAL innodb_log_checkpoint_now = ON");
            ItSupport.backup(repo, source, "--type", "full");
            source.exec("UPDATE app.big SET pad = 'changed' WHERE id % 5000 = 0", "UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 20",
                    "SET GLOBAL innodb_log_checkpoint_now = ON");
            String redo = ItSupport.backup(repo, source, "--type", "incremental", "--method", "redo");
            String scan = ItSupport.backup(repo, source, "--type", "differential", "--method", "full-scan");
            JsonNode rd = ItSupport.manifest(repo, redo).get("detection");
            JsonNode sd = ItSupport.manifest(repo, scan).get("detection");
            long all = rd.get("pagesInFiles").asLong();
            assertTrue(all > 3000, "the data set is too small to show anything: " + all + " pages");
            assertEquals(all, sd.get("pagesRead").asLong(), "the full scan reads every page");
            long stored = 0;
            for (JsonNode f : ItSupport.manifest(repo, redo).get("files")) {
                stored += f.get("deltaPages").asLong();
            }
            // the doublewrite area (128 pages) is always read; the rest is what the redo log named
            assertTrue(rd.get("pagesRead").asLong() < all / 10, "the redo method read " + rd.get("pagesRead") + " of " + all + " pages");
            assertTrue(rd.get("pagesRead").asLong() <= 128 + rd.get("pagesNamed").asLong(), rd.toString());
            assertTrue(stored <= rd.get("pagesRead").asLong(), "stored " + stored + ", read " + rd);
            assertTrue(stored > 128, "the changed pages were stored: " + stored);

            for (String id : List.of(redo, scan)) {
                JsonNode m = ItSupport.manifest(repo, id);
                try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored-" + id), source,
                        m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                    ItSupport.assertSameData(source, restored, "app");
                }
            }
        }
    }

    /** The exact error of a {@code track --once} that recorded one gap, described as {@code gap}: exit 38, one ERROR line and its HINT. */
    static void assertTrackingGap(Path repo, StrataCli.Result tr, String gap) {
        assertEquals(38, tr.exit(), tr.toString());
        assertEquals("ERROR [tracking-gap]: change tracking in " + repo.toAbsolutePath().normalize() + " has 1 new gap(s), redo log ranges whose changed pages"
                        + " no change set will hold: " + gap + "\nHINT: an incremental whose range touches a gap cannot use --method tracked (auto chooses another"
                        + " method); a full backup taken now ends the need for the ranges before it",
                tr.err().substring(tr.err().indexOf("ERROR")).strip(), tr.toString());
    }
}
