package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * full → incremental → incremental → differential → incremental, each under write load with DDL
 * between the backups (and during one), restores from every member to the source's state at
 * that member's binlog position.
 */
class ChainIT {

    private static final String[][] DDL_BETWEEN = {
            {"CREATE DATABASE shop", "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB",
                    "INSERT INTO shop.items SELECT seq, CONCAT('item ', seq) FROM shop.seq_1_to_5000"},
            {"ALTER TABLE shop.items ADD INDEX by_name (name)", "CREATE TABLE shop.gone (id INT PRIMARY KEY) ENGINE=InnoDB",
                    "INSERT INTO shop.gone VALUES (1), (2)", "TRUNCATE TABLE app.t_legacy", "INSERT INTO app.t_legacy (id, k, c) SELECT 5000000 + seq, seq, 'x' FROM app.seq_1_to_50"},
            {"DROP TABLE shop.gone", "RENAME TABLE shop.items TO shop.products", "ALTER TABLE app.t_part FORCE"},
            {"OPTIMIZE TABLE app.t_fcrc32", "CREATE TABLE shop.late (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", "INSERT INTO shop.late VALUES (1, 1)"},
    };

    @Test
    void everyMemberOfAChainRestores() throws Exception {
        Path work = ItSupport.tempDir("chain-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 10_000);
            }
            String[] types = {"full", "incremental", "incremental", "differential", "incremental"};
            List<String> ids = new ArrayList<>();
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(600).start()) {
                for (int i = 0; i < types.length; i++) {
                    Thread.sleep(700);
                    if (i == 2) {
                        // DDL during an incremental: a throttled copy while tables are rebuilt
                        Thread ddl = new Thread(() -> source.exec("ALTER TABLE app.t_fcrc32 FORCE", "CREATE TABLE shop.during (id INT PRIMARY KEY) ENGINE=InnoDB",
                                "INSERT INTO shop.during VALUES (42)"));
                        ddl.start();
                        ids.add(ItSupport.backup(repo, source, "--type", types[i], "--throttle", "20"));
                        ddl.join();
                    } else {
                        ids.add(ItSupport.backup(repo, source, "--type", types[i]));
                    }
                    if (i < DDL_BETWEEN.length) {
                        source.exec(DDL_BETWEEN[i]);
                    }
                }
                Thread.sleep(500);
                w.stop();
            }

            JsonNode list = ItSupport.list(repo);
            assertEquals(types.length, list.size());
            for (int i = 0; i < types.length; i++) {
                assertEquals(types[i], list.get(i).get("type").asText());
                assertEquals("completed", list.get(i).get("state").asText());
            }
            assertTrue(list.get(0).get("parent").isNull());
            assertEquals(ids.get(0), list.get(1).get("parent").asText());
            assertEquals(ids.get(1), list.get(2).get("parent").asText());
            assertEquals(ids.get(0), list.get(3).get("parent").asText(), "a differential is based on the full backup");
            assertEquals(ids.get(3), list.get(4).get("parent").asText());
            assertEquals(List.of(ids.get(0), ids.get(1), ids.get(2)), toList(list.get(2).get("needs")));
            assertEquals(List.of(ids.get(0), ids.get(3), ids.get(4)), toList(list.get(4).get("needs")));

            for (int i = 1; i < types.length; i++) {
                JsonNode m = ItSupport.manifest(repo, ids.get(i));
                JsonNode parent = ItSupport.manifest(repo, m.get("parent").asText());
                assertEquals(parent.get("startLsn").asLong(), m.get("threshold").asLong(), "design rule 3: threshold = parent's start LSN");
                long deltas = 0;
                for (JsonNode f : m.get("files")) {
                    deltas += f.get("storage").asText().equals("delta") ? 1 : 0;
                }
                assertTrue(deltas > 0, "an incremental stored no file as a delta: " + ids.get(i));
                assertTrue(m.get("storedBytes").asLong() < ItSupport.manifest(repo, ids.get(0)).get("storedBytes").asLong(),
                        "incremental " + ids.get(i) + " is not smaller than the full backup");
            }

            for (int i = 0; i < ids.size(); i++) {
                JsonNode m = ItSupport.manifest(repo, ids.get(i));
                try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, ids.get(i), work.resolve("restored-" + i), source,
                        m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                    ItSupport.assertSameData(source, restored, "app", "shop");
                }
            }
        }
    }

    private static List<String> toList(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
