package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server with {@code innodb_encrypt_log=ON} (file_key_management, AES_CBC): a full backup, an
 * incremental by the redo method and one by the tracked method ({@code track --once} between), all
 * under a write load and with DDL between them, restore equal to the source. The incrementals run
 * with the debug check that fails on a changed page the method did not name, so page ids read from
 * the encrypted records are proven right. The restored {@code ib_logfile0} is in the encrypted format
 * with the source's crypt info, and recovers with the key management plugin loaded. A key file whose
 * key 1 is another key is refused (exit 13) before anything is copied, without showing key bytes.
 */
class EncryptedRedoLogIT {
    private static final byte[] ENC_11 = {(byte) 0xF0, (byte) 0x9F, (byte) 0x97, (byte) 0x9D};

    private static byte[] head(Path logFile, int n) throws Exception {
        try (InputStream in = Files.newInputStream(logFile)) {
            return in.readNBytes(n);
        }
    }

    @Test
    void fullRedoAndTrackedIncrementalsOfAnEncryptedLogRestoreEqual() throws Exception {
        MariaDbSandbox.requireMariaDb();
        Path work = ItSupport.tempDir("enclog-");
        Path repo = work.resolve("repo");
        Path keys = work.resolve("keys.txt");
        SecureRandom rnd = new SecureRandom();
        byte[] k1 = new byte[32];
        byte[] k2 = new byte[32];
        rnd.nextBytes(k1);
        rnd.nextBytes(k2);
        Files.writeString(keys, "1;" + HexFormat.of().formatHex(k1) + "\n2;" + HexFormat.of().formatHex(k2) + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        String[] plugin = {"--plugin-load-add=file_key_management", "--file-key-management-filename=" + keys};

        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("32M")
                .extraArgs("--innodb-log-buffer-size=1M", plugin[0], plugin[1], "--innodb-encrypt-log=ON").start()) {
            byte[] sourceHead = head(source.datadir().resolve("ib_logfile0"), 76);
            assertEquals(HexFormat.of().formatHex(ENC_11), HexFormat.of().formatHex(sourceHead, 0, 4), "the source's redo log is not encrypted");
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 3_000);
            }
            source.exec("CREATE DATABASE shop", "CREATE TABLE shop.a (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB",
                    "INSERT INTO shop.a SELECT seq, CONCAT('a', seq) FROM shop.seq_1_to_5000",
                    "CREATE TABLE shop.e (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB ENCRYPTED=YES ENCRYPTION_KEY_ID=2",
                    "INSERT INTO shop.e SELECT seq, CONCAT('e', seq) FROM shop.seq_1_to_5000");
            List<String> ids = new ArrayList<>();
            String[] track = {"track", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once"};
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                ids.add(ItSupport.backup(repo, source, "--type", "full"));

                // DDL whose FILE_CREATE / FILE_RENAME / FILE_DELETE records are encrypted, then the redo method
                source.exec("CREATE TABLE shop.b (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB",
                        "INSERT INTO shop.b SELECT seq, CONCAT('b', seq) FROM shop.seq_1_to_3000",
                        "RENAME TABLE shop.a TO shop.a2", "UPDATE shop.a2 SET v = 'changed' WHERE id % 7 = 0",
                        "UPDATE shop.e SET v = 'changed' WHERE id % 11 = 0",
                        "SET GLOBAL innodb_log_checkpoint_now = ON");
                ids.add(ItSupport.backup(repo, source, "--type", "incremental", "--method", "redo", "--debug-check-method"));

                StrataCli.Result t = StrataCli.run(track);
                assertEquals(0, t.exit(), t.toString());
                source.exec("DROP TABLE shop.b", "CREATE TABLE shop.c (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO shop.c SELECT seq FROM shop.seq_1_to_100",
                        "DELETE FROM shop.e WHERE id % 13 = 0",
                        "ALTER TABLE app.t_fcrc32 ADD INDEX by_c (c)");
                t = StrataCli.run(track);
                assertEquals(0, t.exit(), t.toString());
                source.exec("UPDATE shop.c SET id = id + 1000 WHERE id < 10", "SET GLOBAL innodb_log_checkpoint_now = ON");
                ids.add(ItSupport.backup(repo, source, "--type", "incremental", "--method", "tracked", "--debug-check-method"));
                // a differential on the full: every page changed since the full, found in the encrypted log or by a scan
                source.exec("UPDATE shop.e SET v = 'diff' WHERE id % 17 = 0", "INSERT INTO shop.c SELECT seq + 5000 FROM shop.seq_1_to_50");
                ids.add(ItSupport.backup(repo, source, "--type", "differential", "--debug-check-method"));
                w.stop();
            }

            // a key file whose key 1 is not the one the server encrypted its log with: refused before any copy
            String goodKeys = Files.readString(keys, StandardCharsets.US_ASCII);
            Files.writeString(keys, "1;" + HexFormat.of().formatHex(k2) + "\n", StandardCharsets.US_ASCII);
            StrataCli.Result wrong = StrataCli.run("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                    "--type", "incremental", "--method", "redo");
            Files.writeString(keys, goodKeys, StandardCharsets.US_ASCII);
            assertEquals(13, wrong.exit(), wrong.toString());
            String line = wrong.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
            assertTrue(line.startsWith("ERROR [server-unsupported]: key 1 of file_key_management (CBC) does not decrypt the redo log "
                    + source.datadir().resolve("ib_logfile0") + ": "), wrong.toString());
            assertTrue(!wrong.err().contains(HexFormat.of().formatHex(k2)) && !wrong.err().contains(HexFormat.of().formatHex(k1)), "key bytes shown");

            String crypt = HexFormat.of().formatHex(sourceHead, 48, 76);
            String[] methods = {null, "redo", "tracked", null};
            for (int i = 0; i < ids.size(); i++) {
                JsonNode m = ItSupport.manifest(repo, ids.get(i));
                assertEquals(crypt, m.get("redoLogCrypt").asText(), "the manifest carries the source header's crypt info");
                if (methods[i] != null) {
                    assertEquals(methods[i], m.get("method").asText(), m.toString());
                    assertTrue(m.get("detection").get("pagesNamed").asLong() > 0, m.toString());
                }
            }
            assertEquals("differential", ItSupport.manifest(repo, ids.get(3)).get("type").asText());
            JsonNode tracked = ItSupport.manifest(repo, ids.get(2));
            assertTrue(tracked.get("detection").get("changeSetsRead").asInt() > 0, "the tracked method read no change set: " + tracked.get("note"));

            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString(), ids.get(2));
            assertEquals(0, v.exit(), v.toString());

            // the ib_logfile0 restore builds: the encrypted format with the source's crypt info, and the
            // copied mtrs as the server encrypted them; the server started by hand with the plugin recovers it
            JsonNode m0 = ItSupport.manifest(repo, ids.get(0));
            Path raw = work.resolve("restored-raw");
            StrataCli.Result nr = StrataCli.run("restore", "--repo", repo.toString(), "--backup", ids.get(0), "--target", raw.toString(), "--no-recover");
            assertEquals(0, nr.exit(), nr.toString());
            byte[] restoredHead = head(raw.resolve("ib_logfile0"), 76);
            assertEquals(HexFormat.of().formatHex(ENC_11), HexFormat.of().formatHex(restoredHead, 0, 4));
            assertEquals(crypt, HexFormat.of().formatHex(restoredHead, 48, 76));
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(raw).extraArgs("--max-allowed-packet=1G", plugin[0], plugin[1]).start()) {
                assertTrue(restored.errorLog().contains("InnoDB: Starting crash recovery from checkpoint LSN=" + m0.get("startLsn").asLong()),
                        restored.errorLog());
                assertTrue(restored.errorLog().lines().noneMatch(l -> l.contains("[ERROR]")), restored.errorLog());
                BinlogReplay.replay(source, m0.get("binlogFile").asText(), m0.get("binlogPosition").asLong(), restored.socket());
                ItSupport.assertSameData(source, restored, "app", "shop");
            }

            // the incrementals: restore runs recovery itself, with the key management the manifest recorded
            for (int i = 1; i < ids.size(); i++) {
                JsonNode m = ItSupport.manifest(repo, ids.get(i));
                Path target = work.resolve("restored-" + i);
                StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", ids.get(i), "--target", target.toString());
                assertEquals(0, r.exit(), r.toString());
                try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--max-allowed-packet=1G", plugin[0], plugin[1]).start()) {
                    BinlogReplay.replay(source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), restored.socket());
                    ItSupport.assertSameData(source, restored, "app", "shop");
                }
            }
        }
    }
}
