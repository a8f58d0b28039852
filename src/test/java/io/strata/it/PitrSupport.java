package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Helpers of the point-in-time recovery tests: the archiver, windows as list shows them, the source's own view of its binlog. */
final class PitrSupport {
    private PitrSupport() {}

    static StrataCli.Result archiveOnce(Path repo, MariaDbSandbox source) {
        return archiveOnce(repo, source, 0);
    }

    /** {@code binlog archive --once}, which must exit with {@code exit} (56 when it records a gap). */
    static StrataCli.Result archiveOnce(Path repo, MariaDbSandbox source, int exit) {
        StrataCli.Result r = StrataCli.run("binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once");
        assertEquals(exit, r.exit(), r.toString());
        return r;
    }

    /**
     * The exact error of a {@code binlog archive --once} that recorded the gaps its GAP lines name
     * (issue 15, case 9: a recorded gap is lost coverage and never exits 0).
     */
    static void assertGapError(Path repo, StrataCli.Result arch) {
        List<String> reasons = arch.err().lines().filter(l -> l.startsWith("GAP: ")).map(l -> l.substring(5)).toList();
        assertEquals("ERROR [binlog-gap]: the binlog archive in " + repo + " has " + reasons.size() + " new gap(s), binlogs the archive will never hold: "
                        + String.join("; ", reasons) + "\nHINT: no point inside a gap can be restored, and a point after it only from a backup taken after it: "
                        + "take a backup now, then see \"strata list --windows\"",
                arch.err().substring(arch.err().indexOf("ERROR")).strip(), arch.toString());
        assertEquals(1, arch.err().split("ERROR", -1).length - 1, arch.toString());
    }

    static StrataCli.Result restore(Path repo, Path target, String... until) {
        List<String> args = new ArrayList<>(List.of("restore", "--repo", repo.toString(), "--target", target.toString()));
        args.addAll(List.of(until));
        return StrataCli.run(args.toArray(new String[0]));
    }

    /** The one server's entry of {@code list --windows --json}. */
    static JsonNode windows(Path repo) throws IOException {
        StrataCli.Result r = StrataCli.run("list", "--repo", repo.toString(), "--windows", "--json");
        assertEquals(0, r.exit(), r.toString());
        JsonNode all = ItSupport.JSON.readTree(r.out());
        assertEquals(1, all.size(), r.out());
        return all.get(0);
    }

    /** The restorable windows as error messages name them (WindowReport.describeWindows), rebuilt from the JSON. */
    static String windowsText(JsonNode server) {
        List<String> parts = new ArrayList<>();
        for (JsonNode w : server.get("windows")) {
            JsonNode f = w.get("from");
            JsonNode t = w.get("to");
            parts.add("from " + f.get("time").asText() + " (backup " + f.get("backup").asText() + " at " + f.get("binlogFile").asText() + ":"
                    + f.get("binlogPosition").asLong() + gtid(f) + ") to " + t.get("time").asText() + " (" + t.get("binlogFile").asText() + ":"
                    + t.get("binlogPosition").asLong() + gtid(t) + ")");
        }
        return String.join("; ", parts);
    }

    private static String gtid(JsonNode p) {
        return p.has("gtid") && !p.get("gtid").asText().isEmpty() ? ", GTID " + p.get("gtid").asText() : "";
    }

    /** The first ERROR line; asserts the exit code, that no stack trace was printed and that the target was not created. */
    static void assertRefused(StrataCli.Result r, int exit, String firstLine, Path target) {
        assertEquals(exit, r.exit(), r.toString());
        String first = r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
        assertEquals(firstLine, first, r.toString());
        assertFalse(r.err().contains("\tat "), "stack trace printed: " + r);
        assertFalse(target.toFile().exists(), "the refused restore wrote to its target " + target);
    }

    /**
     * Where the transaction with this GTID ends, as the source itself reports it (SHOW BINLOG
     * EVENTS: the End_log_pos of the event that commits it).
     */
    static BinlogPosition endOf(MariaDbSandbox source, String gtid) {
        List<List<String>> logs = source.query("SHOW BINARY LOGS");
        for (int i = logs.size() - 1; i >= 0; i--) {
            String file = logs.get(i).get(0);
            List<List<String>> ev = source.query("SHOW BINLOG EVENTS IN '" + file + "'");
            for (int j = 0; j < ev.size(); j++) {
                String info = ev.get(j).get(5);
                if (ev.get(j).get(2).equals("Gtid") && info != null && (info.endsWith("GTID " + gtid) || info.equals("GTID " + gtid))) {
                    for (int k = j + 1; k < ev.size(); k++) {
                        String type = ev.get(k).get(2);
                        String text = ev.get(k).get(5);
                        if (type.equals("Xid") || type.equals("Query") && text != null && text.trim().equalsIgnoreCase("COMMIT")) {
                            return new BinlogPosition(file, Long.parseLong(ev.get(k).get(4)));
                        }
                    }
                }
            }
        }
        throw new AssertionError("GTID " + gtid + " is not in the source's binlog");
    }

    /** The sample schema "app" with {@code rows} rows per table, and app.pitr_marks, the marker transactions' table. */
    static void createApp(MariaDbSandbox source, int rows) throws Exception {
        try (Connection c = source.connection()) {
            io.strata.testing.SampleSchema.create(c, "app");
            io.strata.testing.SampleSchema.loadRows(c, "app", rows);
        }
        source.exec("CREATE TABLE app.pitr_marks (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB");
    }

    /** Commits one row into app.pitr_marks and returns its GTID. */
    static String markerTransaction(MariaDbSandbox s) throws Exception {
        return markerTransaction(s, 1);
    }

    /** Commits row {@code id} into app.pitr_marks (a table no load touches) and returns its GTID. */
    static String markerTransaction(MariaDbSandbox s, int id) throws Exception {
        try (Connection c = s.connection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO app.pitr_marks VALUES (" + id + ", 'the target')");
            try (ResultSet rs = st.executeQuery("SELECT @@last_gtid")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Starts the restored directory, replays the source's binlog from {@code from}, compares every table. */
    static void assertSameAfterReplay(MariaDbSandbox source, Path restoredDir, BinlogPosition from) throws Exception {
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(restoredDir).start()) {
            BinlogReplay.replay(source, from.file(), from.position(), restored.socket());
            ItSupport.assertSameData(source, restored, "app");
        }
    }
}
