package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: a statement writing to a MyISAM table holds BACKUP STAGE BLOCK_DDL; a backup with
 * {@code --lock-wait-timeout 3} reports the wait naming the blocker, then fails with exit 44
 * naming the blocker's connection id, user and statement, is recorded failed with that reason,
 * and leaves the blocker's statement to complete and the server running.
 */
class LockWaitIT {
    @Test
    void aBackupStageThatWaitsTooLongFailsNamingTheBlocker() throws Exception {
        Path work = ItSupport.tempDir("lockwait-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE lk", "CREATE TABLE lk.m (x INT) ENGINE=MyISAM");
            try (Connection blocker = source.connection()) {
                long id;
                try (Statement st = blocker.createStatement(); ResultSet rs = st.executeQuery("SELECT CONNECTION_ID()")) {
                    rs.next();
                    id = rs.getLong(1);
                }
                String sql = "INSERT INTO lk.m (x) SELECT SLEEP(12)";
                CompletableFuture<Integer> running = CompletableFuture.supplyAsync(() -> {
                    try (Statement st = blocker.createStatement()) {
                        return st.executeUpdate(sql);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                while (source.query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id + " AND INFO IS NOT NULL").get(0).get(0).equals("0")) {
                    Thread.sleep(50);
                }
                StrataCli.Result r = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                        "--lock-wait-timeout", "3", "--progress", "text");
                assertEquals(44, r.exit(), r.toString());
                String error = r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElseThrow(() -> new AssertionError(r.toString()));
                assertTrue(error.matches("ERROR \\[lock-wait-timeout]: BACKUP STAGE \\S+ waited more than 3 s \\(--lock-wait-timeout\\) for connection "
                        + id + " \\(user root, \\d+ s.*\\): \"" + java.util.regex.Pattern.quote(sql) + "\""), error);
                assertTrue(r.err().contains("HINT: let that statement finish (or end it yourself: KILL QUERY " + id + ")"), r.err());
                assertTrue(r.err().lines().anyMatch(l -> l.contains("[lock-wait] BACKUP STAGE") && l.contains("for connection " + id + " (user root")), r.err());
                assertFalse(r.err().contains("Exception"), r.err());

                assertEquals(1, running.get().intValue(), "the blocker's statement completed");
                assertEquals("1", source.query("SELECT COUNT(*) FROM lk.m").get(0).get(0));
                JsonNode list = ItSupport.list(repo);
                assertEquals("failed", list.get(0).get("state").asText(), list.toString());
                assertTrue(list.get(0).get("error").asText().contains("waited more than 3 s (--lock-wait-timeout) for connection " + id), list.toString());
            }
        }
    }
}
