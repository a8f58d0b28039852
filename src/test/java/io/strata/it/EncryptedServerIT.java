package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Server-encrypted InnoDB (issue 14, part enc) with {@code file_key_management}, on one server.
 *
 * <ol>
 *   <li>A table {@code ENCRYPTED=YES ENCRYPTION_KEY_ID=2} created and filled just before the backup,
 *       its page 0 still all zero on disk (checked), and the same table after a flush: both backups
 *       complete, record the key management as required for that file, and restore equal.</li>
 *   <li>The flushed table's backup restored with the key file moved: exit 36 naming the plugin and
 *       the option before anything is written (the target stays empty); with
 *       {@code --mariadbd-defaults-file} naming the moved key file it restores equal.</li>
 *   <li>{@code innodb_encrypt_tables=ON} with two encryption threads and tables of both page
 *       layouts (full_crc32 and the older crc32 one, whose encrypted pages carry their own
 *       checksum), under a write load: full, incremental and differential backups, with the
 *       rotation threads re-encrypting or decrypting tablespaces during each backup. file_key_management
 *       has one version per key, so "rotation" here is what really rewrites pages with it: toggling
 *       {@code innodb_encrypt_tables} OFF and ON makes the threads decrypt and encrypt every
 *       tablespace of default encryption (innodb_encryption_rotation_iops slows them so that
 *       they run while the backups copy). {@code verify} passes and every backup restores equal to
 *       the source (binlog replay from its position, CHECKSUM TABLE of every table).</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EncryptedServerIT {
    private Path work;
    private Path repo;
    private Path keys;
    private MariaDbSandbox source;
    private List<String> keyArgs;

    @BeforeAll
    void start() throws IOException {
        MariaDbSandbox.requireMariaDb();
        work = ItSupport.tempDir("enc-");
        repo = work.resolve("repo");
        keys = work.resolve("keys.txt");
        Files.writeString(keys, "1;" + "a1".repeat(32) + "\n2;" + "b2".repeat(32) + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        keyArgs = List.of("--plugin-load-add=file_key_management", "--file-key-management-filename=" + keys);
        List<String> args = new ArrayList<>(keyArgs);
        args.addAll(List.of("--innodb-encrypt-tables=OFF", "--innodb-encryption-threads=2", "--innodb-encryption-rotate-key-age=1",
                "--innodb-encryption-rotation-iops=20", "--innodb-log-buffer-size=1M"));
        source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("32M").extraArgs(args.toArray(String[]::new)).start();
    }

    @AfterAll
    void stop() {
        if (source != null) {
            source.close();
        }
    }

    @Test
    @Order(1)
    void aTableCreatedJustBeforeTheBackupHasTheSameOutcomeAsAFlushedOne() throws Exception {
        source.exec("CREATE DATABASE d", "CREATE TABLE d.plain (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", "INSERT INTO d.plain VALUES (1, 1), (2, 2)",
                "CREATE TABLE d.e2 (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB ENCRYPTED=YES ENCRYPTION_KEY_ID=2",
                "INSERT INTO d.e2 SELECT seq, REPEAT(CHAR(65 + seq % 26), 60) FROM d.seq_1_to_3000");
        Path e2 = source.datadir().resolve("d/e2.ibd");
        assertTrue(page0IsZero(e2), "page 0 of d/e2.ibd was flushed before the backup: the case is not tested");
        String fresh = ItSupport.backup(repo, source);

        source.exec("FLUSH TABLES d.e2 FOR EXPORT", "UNLOCK TABLES");
        assertFalse(page0IsZero(e2), "FLUSH TABLES ... FOR EXPORT left page 0 zero");
        String flushed = ItSupport.backup(repo, source);

        for (String id : List.of(fresh, flushed)) {
            JsonNode km = ItSupport.manifest(repo, id).get("keyManagement");
            assertTrue(km.get("required").asBoolean(), id + ": " + km);
            assertEquals("[\"d/e2.ibd\"]", km.get("encrypted").toString(), id + ": " + km);
            JsonNode plugin = km.get("plugins").get(0);
            assertEquals("file_key_management", plugin.get("name").asText());
            assertEquals("file_key_management.so", plugin.get("library").asText());
            assertEquals(keys.toString(), plugin.get("variables").get("file_key_management_filename").asText());
            assertEquals("OFF", km.get("innodb").get("innodb_encrypt_tables").asText());
        }
        assertTrue(ItSupport.manifest(repo, fresh).get("keyManagement").get("reasons").get(0).asText().startsWith("d/e2.ibd is encrypted ("));

        Map<String, String> expected;
        try (Connection c = source.connection()) {
            expected = TableChecksums.of(c, "d");
        }
        assertEquals(2, expected.size(), expected.toString());
        for (String id : List.of(fresh, flushed)) {
            Path target = work.resolve("restored-" + id);
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("crash recovery loads the recorded key management: file_key_management"), r.err());
            try (MariaDbSandbox restored = startWithKeys(target, keyArgs); Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, "d"));
            }
        }
    }

    @Test
    @Order(2)
    void restoreWithoutTheKeyFileFailsBeforeWritingAndSucceedsWithADefaultsFile() throws Exception {
        String id = ItSupport.list(repo).get(1).get("id").asText();
        Path moved = work.resolve("moved-keys.txt");
        Files.move(keys, moved, StandardCopyOption.ATOMIC_MOVE);
        try {
            Path target = work.resolve("no-keys");
            Files.createDirectories(target);
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
            assertEquals(36, r.exit(), r.toString());
            assertEquals("ERROR [key-management-missing]: backup " + id + " holds encrypted InnoDB data (d/e2.ibd is encrypted (INNODB_TABLESPACES_ENCRYPTION"
                    + " scheme 1, min key version 1)), but crash recovery cannot get its keys: plugin file_key_management needs the file " + keys
                    + " (option file_key_management_filename), which is not readable; nothing was written",
                    r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse(r.err()));
            assertTrue(r.err().contains("HINT: give mariadbd the key configuration with --mariadbd-defaults-file FILE"), r.err());
            try (var s = Files.list(target)) {
                assertEquals(0, s.count(), "the restore wrote into the target");
            }

            Path cnf = work.resolve("recovery.cnf");
            Files.writeString(cnf, "[mysqld]\nplugin-load-add=file_key_management\nfile-key-management-filename=" + moved + "\n", StandardCharsets.UTF_8);
            r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString(), "--mariadbd-defaults-file", cnf.toString());
            assertEquals(0, r.exit(), r.toString());
            Map<String, String> expected;
            try (Connection c = source.connection()) {
                expected = TableChecksums.of(c, "d");
            }
            try (MariaDbSandbox restored = startWithKeys(target, List.of("--plugin-load-add=file_key_management", "--file-key-management-filename=" + moved));
                 Connection c = restored.connection()) {
                TableChecksums.assertSame(expected, TableChecksums.of(c, "d"));
            }
        } finally {
            Files.move(moved, keys, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    @Test
    @Order(3)
    void encryptTablesWithRotationDuringFullIncrementalAndDifferential() throws Exception {
        try (Connection c = source.connection()) {
            SampleSchema.create(c, "app");
            SampleSchema.loadRows(c, "app", 4000);
        }
        source.exec("CREATE TABLE app.t_key2 (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB ENCRYPTED=YES ENCRYPTION_KEY_ID=2",
                "INSERT INTO app.t_key2 SELECT seq, REPEAT('k', 150) FROM app.seq_1_to_4000");
        String[] types = {"full", "incremental", "differential"};
        String[] toggle = {"ON", "OFF", "ON"};
        List<String> ids = new ArrayList<>();
        int rotating = 0;
        try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
            for (int i = 0; i < types.length; i++) {
                source.exec("SET GLOBAL innodb_encrypt_tables = " + toggle[i]);
                java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
                Thread poll = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        seen.accumulateAndGet(rotatingSpaces(), Math::max);
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                poll.start();
                try {
                    ids.add(ItSupport.backup(repo, source, "--type", types[i]));
                } finally {
                    poll.interrupt();
                    poll.join();
                }
                rotating += seen.get();
                source.exec("UPDATE app.t_key2 SET v = REPEAT('m', 150) WHERE id % 7 = " + i);
            }
            Thread.sleep(300);
            w.stop();
        }
        assertTrue(rotating > 0, "no tablespace was being encrypted or decrypted while the backups ran");
        StringBuilder encrypted = new StringBuilder();
        for (String id : ids) {
            encrypted.append(ItSupport.manifest(repo, id).get("keyManagement").get("encrypted"));
        }
        assertTrue(encrypted.toString().contains("app/t_fcrc32.ibd") && encrypted.toString().contains("app/t_legacy.ibd"),
                "innodb_encrypt_tables=ON encrypted no table of default encryption in either layout during the backups: " + encrypted);
        for (int i = 0; i < ids.size(); i++) {
            JsonNode km = ItSupport.manifest(repo, ids.get(i)).get("keyManagement");
            assertTrue(km.get("required").asBoolean(), km.toString());
            assertTrue(km.get("encrypted").toString().contains("app/t_key2.ibd"), km.toString());
            // OFF: the threads decrypt while the backup copies; the files still encrypted say why the keys are needed
            assertEquals(toggle[i].equals("ON"), km.get("reasons").toString().contains("innodb_encrypt_tables=ON when the backup began"), km.toString());
        }
        StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString());
        assertEquals(0, v.exit(), v.toString());
        assertTrue(v.out().contains("of those pages are encrypted by the server: their checksum over the encrypted page was checked, "
                + "their decrypted contents were not (strata holds no keys; recovery needs the recorded key management)"), v.toString());

        for (String id : ids) {
            JsonNode m = ItSupport.manifest(repo, id);
            Path target = work.resolve("restored-" + id);
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            try (MariaDbSandbox restored = startWithKeys(target, keyArgs)) {
                BinlogReplay.replay(source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), restored.socket());
                ItSupport.assertSameData(source, restored, "app", "d");
            }
        }
    }

    /** Tablespaces the encryption threads are working on (a key rotation page number set, or rotating). */
    private int rotatingSpaces() {
        return Integer.parseInt(source.query("SELECT COUNT(*) FROM information_schema.INNODB_TABLESPACES_ENCRYPTION"
                + " WHERE KEY_ROTATION_PAGE_NUMBER IS NOT NULL OR ROTATING_OR_FLUSHING = 1").get(0).get(0));
    }

    private static MariaDbSandbox startWithKeys(Path target, List<String> keyArgs) {
        List<String> args = new ArrayList<>(keyArgs);
        args.add("--max-allowed-packet=1G");
        return MariaDbSandbox.builder().startOn(target).extraArgs(args.toArray(String[]::new)).start();
    }

    private static boolean page0IsZero(Path ibd) throws IOException {
        try (InputStream in = Files.newInputStream(ibd)) {
            byte[] b = in.readNBytes(16384);
            for (byte x : b) {
                if (x != 0) {
                    return false;
                }
            }
            return b.length == 16384;
        }
    }
}
