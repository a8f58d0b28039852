package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The consistency oracle of design.md "Testing", shared by the integration tests. */
final class ItSupport {
    static final ObjectMapper JSON = new ObjectMapper();

    private ItSupport() {}

    /** A source that keeps binlogs and has a small redo log, so that a backup under load wraps it. */
    static MariaDbSandbox source() {
        MariaDbSandbox.requireMariaDb();
        return MariaDbSandbox.builder().logBin(true).innodbLogFileSize("8M")
                .extraArgs("--innodb-log-buffer-size=1M").start();
    }

    static JsonNode list(Path repo) throws IOException {
        StrataCli.Result r = StrataCli.run("list", "--repo", repo.toString(), "--json");
        assertEquals(0, r.exit(), r.toString());
        return JSON.readTree(r.out());
    }

    static JsonNode manifest(Path repo, String id) throws IOException {
        StrataCli.Result r = StrataCli.run("show", "--repo", repo.toString(), id, "--json");
        assertEquals(0, r.exit(), r.toString());
        return JSON.readTree(r.out());
    }

    static String backup(Path repo, MariaDbSandbox source, String... extra) {
        String[] base = {"backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        StrataCli.Result r = StrataCli.run(args);
        assertEquals(0, r.exit(), r.toString());
        String line = r.out().lines().filter(l -> l.startsWith("backup ")).findFirst().orElseThrow();
        return line.split(" ")[1];
    }

    /**
     * Restores {@code id}, starts a server on it, replays the source's binlog from
     * {@code binlogFile:position}, and returns the restored server (caller closes it).
     */
    static MariaDbSandbox restoreAndReplay(Path repo, String id, Path target, MariaDbSandbox source, String binlogFile, long position) {
        return restoreAndReplay(repo, id, target, source, binlogFile, position, false);
    }

    /**
     * With {@code idempotent}, row events that find no matching row are skipped instead of
     * stopping the replay: the negative control replays from a wrong position and must end in
     * different tables, not in an error.
     */
    static MariaDbSandbox restoreAndReplay(Path repo, String id, Path target, MariaDbSandbox source, String binlogFile, long position,
                                           boolean idempotent) {
        StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
        assertEquals(0, r.exit(), r.toString());
        // a large transaction's row events arrive as one BINLOG statement, larger than the default 16 MiB
        MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--max-allowed-packet=1G").start();
        if (idempotent) {
            restored.exec("SET GLOBAL slave_exec_mode = 'IDEMPOTENT'");
        }
        BinlogReplay.replay(source, binlogFile, position, restored.socket());
        return restored;
    }

    /** Asserts the restored server equals the source table by table and that CHECK TABLE is clean. */
    static void assertSameData(MariaDbSandbox source, MariaDbSandbox restored, String... dbs) throws SQLException {
        try (Connection a = source.connection(); Connection b = restored.connection()) {
            Map<String, String> expected = TableChecksums.of(a, dbs);
            Map<String, String> actual = TableChecksums.of(b, dbs);
            assertTrue(expected.size() >= 5, "too few tables compared: " + expected.keySet());
            TableChecksums.assertSame(expected, actual);
            List<String> problems = TableChecksums.checkTables(b, dbs);
            assertTrue(problems.isEmpty(), "CHECK TABLE on the restored server: " + problems);
        }
    }

    static Path tempDir(String prefix) throws IOException {
        Path base = Path.of("target", "it-work");
        Files.createDirectories(base);
        return Files.createTempDirectory(base.toAbsolutePath(), prefix);
    }
}
