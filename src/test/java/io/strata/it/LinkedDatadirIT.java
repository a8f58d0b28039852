package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A data directory that is a symbolic link (/var/lib/mysql -> /srv/mysql: a data directory moved
 * to another disk), which @@datadir then names, holding a database directory that is a link too
 * (MariaDB reads its tables through it). The walk of the data directory did not follow links:
 * such a backup completed with the system tablespace and the redo log and none of the tables'
 * files (a linked database alone: all but its tables), exit 0. Now, under a write load, every
 * file of both databases is stored and the restored server, with the source's binlog replayed
 * from the backup's position, equals the source (CHECKSUM TABLE).
 */
class LinkedDatadirIT {
    @Test
    void aLinkedDataDirectoryAndALinkedDatabaseAreBackedUpWhole() throws Exception {
        Path work = ItSupport.tempDir("linked-datadir-");
        Path repo = work.resolve("repo");
        Path real = Files.createDirectories(work.resolve("srv/mysql"));
        try (MariaDbSandbox fresh = MariaDbSandbox.builder().start()) {
            try (Connection c = fresh.connection()) {
                SampleSchema.create(c, "shop");
                SampleSchema.loadRows(c, "shop", 500);
            }
            fresh.stop();
            copyTree(fresh.datadir(), real);
        }
        // the database shop moved to another disk and linked, as MariaDB allows (its tables are read through the link)
        Path shop = Files.createDirectories(work.resolve("other")).resolve("shop");
        Files.move(real.resolve("shop"), shop);
        Files.createSymbolicLink(real.resolve("shop"), shop);
        Path link = Files.createSymbolicLink(work.resolve("datadir"), real);
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).startOn(link).start()) {
            assertEquals(link + "/", source.query("SELECT @@datadir").get(0).get(0), "the server names the link");
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String id;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).start()) {
                Thread.sleep(500);
                id = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(300);
                assertTrue(w.stop().transactions() > 50);
            }
            JsonNode m = ItSupport.manifest(repo, id);
            for (String db : List.of("app", "shop")) {
                long stored = 0;
                for (JsonNode f : m.get("files")) {
                    stored += f.get("path").asText().startsWith(db + "/") ? 1 : 0;
                }
                long onDisk;
                try (Stream<Path> s = Files.list(real.resolve(db))) {
                    onDisk = s.filter(Files::isRegularFile).count();
                }
                assertTrue(onDisk >= 20, db + ": the sample schema's files: " + onDisk);
                assertEquals(onDisk, stored, "every file of " + db + " stored");
            }
            try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored"), source,
                    m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
                ItSupport.assertSameData(source, restored, "app", "shop");
            }
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        List<Path> all;
        try (Stream<Path> s = Files.walk(from)) {
            all = s.toList();
        }
        for (Path p : all) {
            Path t = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) {
                Files.createDirectories(t);
            } else {
                Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }
}
