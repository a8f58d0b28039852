package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A temporary table spanning a backup point (issue 15, item 9): with binlog_format=MIXED a
 * connection creates a temporary table, a full backup is taken while it stays open, and then the
 * connection copies the table into a real one. The statement is logged as a statement on the
 * temporary table, which the backup does not hold, so a replay from that backup fails there.
 * {@code list --windows} ends the backup's window before that transaction and says why; a restore
 * to a later point is refused (replay-failed) before anything is written; a point after a backup
 * taken once the table was dropped restores and equals the source, temporary tables created and
 * used after that backup included (the backups' binlog file begins at a rotation, so the check
 * cannot know every table open before it, and must still not refuse those).
 */
class PitrTempTableIT {

    @Test
    void aTemporaryTableAcrossTheBackupPointEndsTheWindow() throws Exception {
        Path work = ItSupport.tempDir("pitr-temp-");
        Path repo = work.resolve("repo");
        MariaDbSandbox.requireMariaDb();
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).extraArgs("--binlog-format=MIXED").start()) {
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 300);
                st.execute("CREATE TABLE app.copied (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB");
            }
            // the backups' file begins at a rotation, not a server start: which tables were open before it is unknown
            source.exec("FLUSH BINARY LOGS");
            PitrSupport.archiveOnce(repo, source);
            String b1;
            BinlogPosition fails;
            BinlogPosition afterUse;
            long connection;
            try (Connection a = source.connection(); Statement st = a.createStatement()) {
                st.execute("USE app");
                st.execute("CREATE TEMPORARY TABLE scratch (id INT, v VARCHAR(20))");
                st.execute("INSERT INTO scratch VALUES (1, 'one'), (2, 'two'), (3, 'three')");
                try (ResultSet rs = st.executeQuery("SELECT CONNECTION_ID()")) {
                    rs.next();
                    connection = rs.getLong(1);
                }
                b1 = ItSupport.backup(repo, source, "--type", "full");
                source.exec("INSERT INTO app.copied VALUES (100, 'before the use')");
                fails = source.binlogPosition();
                st.execute("INSERT INTO app.copied SELECT * FROM scratch");
                afterUse = source.binlogPosition();
            } // the connection ends: the server logs DROP TEMPORARY TABLE IF EXISTS scratch
            source.exec("INSERT INTO app.copied VALUES (101, 'after the drop')");
            String b2 = ItSupport.backup(repo, source, "--type", "incremental");
            source.exec("INSERT INTO app.copied VALUES (102, 'after the second backup')", "UPDATE app.copied SET v = 'changed' WHERE id = 1");
            // a temporary table created and used after the second backup replays
            try (Connection c = source.connection(); Statement st = c.createStatement()) {
                st.execute("USE app");
                st.execute("CREATE TEMPORARY TABLE later (id INT, v VARCHAR(20))");
                st.execute("BEGIN");
                st.execute("INSERT INTO later VALUES (200, 'from later')");
                st.execute("INSERT INTO app.copied SELECT * FROM later");
                st.execute("COMMIT");
                st.execute("UPDATE app.copied JOIN later USING (id) SET app.copied.v = 'joined'");
            }
            BinlogPosition end = source.binlogPosition();
            PitrSupport.archiveOnce(repo, source);

            JsonNode win = PitrSupport.windows(repo);
            assertEquals(2, win.get("windows").size(), win.toString());
            JsonNode w1 = win.get("windows").get(0);
            JsonNode w2 = win.get("windows").get(1);
            assertEquals(b1, w1.get("from").get("backup").asText(), win.toString());
            assertEquals(fails.file(), w1.get("to").get("binlogFile").asText(), win.toString());
            assertEquals(fails.position(), w1.get("to").get("binlogPosition").asLong(), win.toString());
            JsonNode cut = w1.get("replayFails");
            assertEquals(b1, cut.get("backup").asText(), win.toString());
            assertEquals(connection, cut.get("connection").asLong(), win.toString());
            assertEquals("scratch", cut.get("table").asText(), win.toString());
            String latest = java.time.Instant.parse(cut.get("at").get("time").asText()).minusSeconds(1).toString();
            String description = "not restorable from backup " + b1 + ": temporary table scratch of connection " + connection
                    + " spans the backup point; restore from a later backup, or to " + fails + " at the latest (--until-position " + fails + ", or --until " + latest + ")";
            assertEquals(description, cut.get("description").asText());
            assertEquals(b2, w2.get("from").get("backup").asText(), win.toString());
            assertTrue(w2.get("replayFails").isNull(), win.toString());
            assertEquals("[\"" + b2 + "\"]", w2.get("backups").toString());

            StrataCli.Result text = StrataCli.run("list", "--repo", repo.toString(), "--windows");
            assertEquals(0, text.exit(), text.toString());
            assertTrue(text.out().contains("\n    backups in this window: " + b1 + "\n    replay fails after " + fails + ": " + description + "\n"), text.toString());

            // a target after the use, restored from the first backup: refused before anything is written
            Path refused = work.resolve("never-written");
            StrataCli.Result r = PitrSupport.restore(repo, refused, "--until-position", afterUse.toString());
            PitrSupport.assertRefused(r, 55, "ERROR [replay-failed]: the replay to target position " + afterUse + " would fail: " + description, refused);

            // a target after the second backup restores and equals the source
            Path target = work.resolve("after-second");
            r = PitrSupport.restore(repo, target, "--until-position", end.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains(": backup " + b2 + " (incremental) and "), r.toString());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
