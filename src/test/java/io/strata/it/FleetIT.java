package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: {@code strata backup --all --jobs 2} over a configuration file with two servers, one
 * running and one whose socket leads nowhere: exit 43 (fleet-failed), the summary names db2 as
 * FAILED with server-unreachable and db1 as ok with its backup id, each line of output carries its
 * server's prefix; {@code check --all --json} gives db1 ok and db2 critical (its repository was
 * never created: repo-missing), exit 2; and db1's backup restores to tables equal to its source.
 */
class FleetIT {
    @Test
    void backupAllNamesTheFailedServerAndTheOtherRestores() throws Exception {
        Path work = ItSupport.tempDir("fleet-");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            Path conf = Files.writeString(work.resolve("strata.conf"), """
                    [global]
                    user = root
                    quiet = true

                    [db1]
                    repo = %s
                    socket = %s

                    [db2]
                    repo = %s
                    socket = %s
                    """.formatted(work.resolve("repo-db1"), source.socket(), work.resolve("repo-db2"), work.resolve("nowhere.sock")));
            StrataCli.Result r = StrataCli.run("--config", conf.toString(), "backup", "--all", "--jobs", "2", "--type", "full");
            assertEquals(43, r.exit(), r.toString());
            String db1 = r.out().lines().filter(l -> l.startsWith("db1 ")).findFirst().orElseThrow(() -> new AssertionError(r.toString()));
            String db2 = r.out().lines().filter(l -> l.startsWith("db2 ")).findFirst().orElseThrow(() -> new AssertionError(r.toString()));
            assertTrue(db1.matches("db1\\s+ok\\s+\\S+\\s+full\\s+\\S+s\\s+0"), db1);
            assertTrue(db2.matches("db2\\s+FAILED\\s+-\\s+-\\s+\\S+s\\s+15\\s+ERROR \\[server-unreachable].*"), db2);
            assertTrue(r.err().contains("[db2] ERROR [server-unreachable]"), r.err());
            assertTrue(r.err().contains("ERROR [fleet-failed]: 1 of 2 server backups failed: db2"), r.err());
            String id = db1.split("\\s+")[2];
            assertTrue(r.out().contains("[db1] backup " + id + " completed: full"), r.out());

            // check --all --json: one array, db1's verdict from its repository, db2 critical naming why
            StrataCli.Result c = StrataCli.run("--config", conf.toString(), "check", "--all", "--json");
            assertEquals(2, c.exit(), c.toString());
            JsonNode verdicts = ItSupport.JSON.readTree(c.out());
            assertEquals(2, verdicts.size(), c.toString());
            assertEquals("db1", verdicts.get(0).get("section").asText(), c.toString());
            assertEquals(0, verdicts.get(0).get("status").get("code").asInt(), c.toString());
            assertEquals("db2", verdicts.get(1).get("section").asText(), c.toString());
            assertEquals(2, verdicts.get(1).get("status").get("code").asInt(), c.toString());
            assertTrue(verdicts.get(1).get("status").get("message").asText().startsWith("ERROR [repo-missing]"), c.toString());

            JsonNode m = ItSupport.manifest(work.resolve("repo-db1"), id);
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(work.resolve("repo-db1"), id, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
