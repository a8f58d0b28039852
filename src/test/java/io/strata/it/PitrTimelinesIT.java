package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GTID targets when the server's binlog history restarted (RESET MASTER here; a data directory
 * restored and started without its binlogs does the same): the archive holds two timelines whose
 * GTIDs repeat (0-S-1, 0-S-2, ... in each). A GTID names the newest timeline's transaction, and
 * the restore says that an older timeline holds the same GTID; a GTID only the older timeline
 * holds is still restored from there. Before this, the first timeline's transaction was taken,
 * which no backup of that timeline could reach (exit 50), though the windows listed the target.
 */
class PitrTimelinesIT {

    @Test
    void aGtidNamesTheNewestTimelinesTransaction() throws Exception {
        Path work = ItSupport.tempDir("pitr-tl-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            PitrSupport.createApp(source, 500);
            PitrSupport.archiveOnce(repo, source);
            ItSupport.backup(repo, source, "--type", "full");
            String oldMarker = null;
            for (int id = 1; id <= 30; id++) {
                oldMarker = PitrSupport.markerTransaction(source, id);
            }
            PitrSupport.archiveOnce(repo, source);
            long oldSeq = seq(oldMarker);

            // a new binlog history: GTIDs start again from 1. Not in the second the first full ended: a backup is
            // placed on a timeline by its end second against the binlog's creation second (BinlogArchive.place), and
            // one that ties with the new file's is placed on the newer timeline, where it is outside the archive
            // (PITR from it is refused, never wrong)
            Thread.sleep(1100);
            source.exec("RESET MASTER");
            // nor in the second of the reset: a backup that ends then is left off every timeline (place() cannot tell which
            // binlog.000001 its position is in), and a full backup here can take less than a second
            Thread.sleep(1100);
            ItSupport.backup(repo, source, "--type", "full"); // an incremental is refused: the GTID position no longer extends the base's
            List<String> newMarkers = new java.util.ArrayList<>();
            for (int id = 101; id <= 105; id++) {
                newMarkers.add(PitrSupport.markerTransaction(source, id));
            }
            PitrSupport.archiveOnce(repo, source, 56); // records the reset as a gap: a new timeline
            String target = newMarkers.get(2);
            assertTrue(seq(target) < oldSeq, "the new timeline's GTID " + target + " must repeat one of the old timeline (up to " + oldMarker + ")");

            StrataCli.Result before = PitrSupport.restore(repo, work.resolve("before"), "--until-before-gtid", target);
            assertEquals(0, before.exit(), before.toString());
            assertTrue(before.err().contains("GTID " + target + " names a transaction in more than one timeline of the archive (its binlog history restarted): "
                    + "the newest, timeline 2 at binlog.000001:"), before.toString());
            assertTrue(before.err().contains(", is restored; also in timeline 1 at "), before.toString());
            assertEquals(List.of("1", "30", "101", "102"), markerIds(work.resolve("before")));

            StrataCli.Result upTo = PitrSupport.restore(repo, work.resolve("upto"), "--until-gtid", target);
            assertEquals(0, upTo.exit(), upTo.toString());
            assertEquals(List.of("1", "30", "101", "102", "103"), markerIds(work.resolve("upto")));

            // a GTID only the old timeline holds (its sequence number was never reached again)
            StrataCli.Result old = PitrSupport.restore(repo, work.resolve("old"), "--until-gtid", oldMarker);
            assertEquals(0, old.exit(), old.toString());
            assertTrue(!old.err().contains("more than one timeline"), old.toString());
            assertEquals(List.of("1", "30"), markerIds(work.resolve("old")));
        }
    }

    private static long seq(String gtid) {
        return Long.parseLong(gtid.substring(gtid.lastIndexOf('-') + 1));
    }

    /** The lowest and highest old marker ids (1..30) present, then every new one (101..105), of app.pitr_marks in the restored directory. */
    private static List<String> markerIds(Path dir) throws Exception {
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(dir).start()) {
            List<String> ids = new java.util.ArrayList<>();
            List<List<String>> old = restored.query("SELECT MIN(id), MAX(id), COUNT(*) FROM app.pitr_marks WHERE id <= 30");
            if (!"0".equals(old.get(0).get(2))) {
                assertEquals(old.get(0).get(1), old.get(0).get(2), "old markers 1..N all present: " + old);
                ids.add(old.get(0).get(0));
                ids.add(old.get(0).get(1));
            }
            for (List<String> r : restored.query("SELECT id FROM app.pitr_marks WHERE id > 100 ORDER BY id")) {
                ids.add(r.get(0));
            }
            return ids;
        }
    }
}
