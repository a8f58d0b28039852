package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compressed, encrypted, and compressed and encrypted backups taken under write load restore to
 * the source's state (the binlog-replay oracle) and verify; a wrong or missing key, an altered
 * chunk and a truncated object are each refused with their own message and exit code.
 */
class CompressionEncryptionIT {
    private static final String KEY_HEX = "8f4c2a9e1b7d3f605a1c9e8d7b6a5f4e3d2c1b0a99887766554433221100ffee";

    private record Case(String name, Path repo, String id, String[] keyArgs, String compression, String encryption) {}

    @Test
    void compressedAndEncryptedBackupsRestoreToTheSource() throws Exception {
        Path work = ItSupport.tempDir("codec-");
        Path key = write(work.resolve("key"), KEY_HEX + "\n");
        Path pass = write(work.resolve("pass"), "correct horse battery staple\n");
        String[] byKey = {"--encrypt-key-file", key.toString()};
        String[] byPass = {"--encrypt-passphrase-file", pass.toString()};
        List<Case> cases = new ArrayList<>();
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 10_000);
            }
            Path zstd = work.resolve("repo-zstd");
            Path lz4 = work.resolve("repo-lz4");
            Path enc = work.resolve("repo-enc");
            Path both = work.resolve("repo-both");
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(600).start()) {
                Thread.sleep(500);
                String zstdFull = ItSupport.backup(zstd, source, "--type", "full", "--compress", "zstd:3");
                cases.add(new Case("zstd:3 full", zstd, zstdFull, new String[0], "zstd:3", null));
                Thread.sleep(500);
                cases.add(new Case("zstd:3 incremental", zstd, ItSupport.backup(zstd, source, "--type", "incremental", "--compress", "zstd:3"),
                        new String[0], "zstd:3", null));
                cases.add(new Case("lz4 full", lz4, ItSupport.backup(lz4, source, "--type", "full", "--compress", "lz4"), new String[0], "lz4", null));
                cases.add(new Case("encrypted full", enc, ItSupport.backup(enc, source, ItSupport.concat(new String[] {"--type", "full"}, byKey)),
                        byKey, "none", "aes-256-gcm"));
                ItSupport.backup(both, source, ItSupport.concat(new String[] {"--type", "full", "--compress", "zstd"}, byPass));
                Thread.sleep(500);
                cases.add(new Case("zstd+encrypted incremental", both,
                        ItSupport.backup(both, source, ItSupport.concat(new String[] {"--type", "incremental", "--compress", "zstd"}, byPass)),
                        byPass, "zstd:1", "aes-256-gcm"));
                Thread.sleep(300);
                w.stop();
            }

            for (Case k : cases) {
                JsonNode m = ItSupport.manifest(k.repo(), k.id(), k.keyArgs());
                assertEquals(k.compression(), m.get("compression").asText(), k.name());
                assertEquals(k.encryption(), m.get("encryption").isNull() ? null : m.get("encryption").asText(), k.name());
                if (!k.compression().equals("none") && m.get("type").asText().equals("full")) {
                    assertTrue(m.get("storedBytes").asLong() * 2 < m.get("rawBytes").asLong(), k.name() + " stored " + m.get("storedBytes")
                            + " of " + m.get("rawBytes"));
                }
                StrataCli.Result v = StrataCli.run(ItSupport.concat(new String[] {"verify", "--repo", k.repo().toString(), k.id()}, k.keyArgs()));
                assertEquals(0, v.exit(), k.name() + ": " + v);
                assertTrue(v.out().contains("ok     " + k.id()), v.out());
                try (MariaDbSandbox restored = ItSupport.restoreAndReplay(k.repo(), k.id(), work.resolve("restored-" + k.name().replaceAll("\\W", "-")), source,
                        m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), false, k.keyArgs())) {
                    ItSupport.assertSameData(source, restored, "app");
                }
            }

            // merge works inside an encrypted repository (new objects sealed with its key) and needs the key
            String incr = cases.get(cases.size() - 1).id();
            StrataCli.Result noKey = StrataCli.run("merge", "--repo", both.toString(), incr);
            assertEquals(40, noKey.exit(), noKey.toString());
            StrataCli.Result merged = StrataCli.run(ItSupport.concat(new String[] {"merge", "--repo", both.toString(), incr}, byPass));
            assertEquals(0, merged.exit(), merged.toString());
            StrataCli.Result afterMerge = StrataCli.run(ItSupport.concat(new String[] {"verify", "--repo", both.toString(), incr}, byPass));
            assertEquals(0, afterMerge.exit(), afterMerge.toString());
            assertTrue(afterMerge.out().contains("(full)"), "the merged backup is a synthetic full: " + afterMerge.out());

            // point in time in an encrypted repository: the binlogs archived with the passphrase,
            // a restore to just after a marker transaction; the command opens the repository once
            // and so derives the key from the passphrase once (PBKDF2), for the backup and the binlogs
            source.exec("CREATE TABLE app.pitr_marker (id INT PRIMARY KEY)");
            source.exec("INSERT INTO app.pitr_marker VALUES (1)");
            String marker = source.query("SELECT @@gtid_binlog_pos").get(0).get(0);
            source.exec("INSERT INTO app.pitr_marker VALUES (2)");
            StrataCli.Result archived = StrataCli.run(ItSupport.concat(new String[] {"binlog", "archive", "--repo", both.toString(),
                    "--socket", source.socket().toString(), "--user", "root", "--once"}, byPass));
            assertEquals(0, archived.exit(), archived.toString());
            Path pitrTarget = work.resolve("restored-pitr");
            StrataCli.Result pitr = StrataCli.run(ItSupport.concat(new String[] {"restore", "--repo", both.toString(), "--target", pitrTarget.toString(),
                    "--until-gtid", marker}, byPass));
            assertEquals(0, pitr.exit(), pitr.toString());
            assertEquals(1, pitr.err().lines().filter(l -> l.startsWith("repository key derived from the passphrase once (PBKDF2-HMAC-SHA256, ")).count(),
                    pitr.toString());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(pitrTarget).start()) {
                assertEquals(List.of(List.of("1")), restored.query("SELECT id FROM app.pitr_marker ORDER BY id"));
            }

            // nothing of the schema is readable in an encrypted repository: table names are in
            // the manifests and .frm files, which the unencrypted repository shows in clear
            byte[] name = "t_fcrc32".getBytes(StandardCharsets.US_ASCII);
            assertTrue(anyFileContains(zstd, name), "negative control: the unencrypted repository names the table");
            assertFalse(anyFileContains(enc, name), "an encrypted repository holds a table name in clear");
            assertFalse(anyFileContains(both, name), "an encrypted repository holds a table name in clear");
            assertFalse(anyFileContains(enc, KEY_HEX.getBytes(StandardCharsets.US_ASCII)), "the key is never stored");
        }
    }

    @Test
    void keysAreCheckedAndTamperingIsFoundNamedAndRefused() throws Exception {
        Path work = ItSupport.tempDir("keys-");
        Path key = write(work.resolve("key"), KEY_HEX + "\n");
        Path otherKey = write(work.resolve("other-key"), KEY_HEX.replace('8', '9') + "\n");
        Path pass = write(work.resolve("pass"), "a passphrase\n");
        Path repo = work.resolve("repo");
        String root = repo.toAbsolutePath().normalize().toString();
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            String id = ItSupport.backup(repo, source, "--type", "full", "--compress", "zstd", "--encrypt-key-file", key.toString());

            // missing key: every reader says so with its own exit code, and a backup writes nothing
            String missing = "ERROR [key-missing]: repository " + root + " is encrypted and no key was given\n"
                    + "HINT: it was created with a key file: give it with --encrypt-key-file FILE\n";
            for (String[] cmd : List.of(new String[] {"list", "--repo", root}, new String[] {"show", "--repo", root, id},
                    new String[] {"verify", "--repo", root}, new String[] {"restore", "--repo", root, "--target", work.resolve("t0").toString()},
                    new String[] {"backup", "--repo", root, "--socket", source.socket().toString(), "--user", "root"})) {
                StrataCli.Result r = StrataCli.run(cmd);
                assertEquals(40, r.exit(), cmd[0] + ": " + r);
                assertEquals(missing, r.err(), cmd[0]);
            }
            assertFalse(Files.exists(work.resolve("t0")) && Files.list(work.resolve("t0")).findAny().isPresent());
            assertEquals(1, ItSupport.list(repo, "--encrypt-key-file", key.toString()).size(), "the refused backup left no attempt");

            // wrong key, and a passphrase where a key file is needed
            StrataCli.Result wrong = StrataCli.run("restore", "--repo", root, "--target", work.resolve("t1").toString(), "--encrypt-key-file", otherKey.toString());
            assertEquals(41, wrong.exit(), wrong.toString());
            assertEquals("ERROR [key-wrong]: wrong key for repository " + root + ": the key does not match the repository's key check\n"
                    + "HINT: give the key file or passphrase this repository was created with\n", wrong.err());
            StrataCli.Result kind = StrataCli.run("list", "--repo", root, "--encrypt-passphrase-file", pass.toString());
            assertEquals(41, kind.exit(), kind.toString());
            assertTrue(kind.err().startsWith("ERROR [key-wrong]: wrong key for repository " + root
                    + ": the repository is encrypted with a key file, but a passphrase was given\n"), kind.err());

            // a key for a repository that is not encrypted is refused, not ignored
            Path plain = work.resolve("plain");
            ItSupport.backup(plain, source, "--type", "full");
            StrataCli.Result notEnc = StrataCli.run("backup", "--repo", plain.toString(), "--socket", source.socket().toString(), "--user", "root",
                    "--encrypt-key-file", key.toString());
            assertEquals(2, notEnc.exit(), notEnc.toString());
            assertTrue(notEnc.err().startsWith("ERROR [usage]: repository " + plain + " is not encrypted, but a key or passphrase was given"), notEnc.err());

            // alter one sealed chunk of ibdata1 and repair its CRC: only GCM can tell
            JsonNode m = ItSupport.manifest(repo, id, "--encrypt-key-file", key.toString());
            Path ibdata = object(repo, id, m, "ibdata1");
            byte[] b = Files.readAllBytes(ibdata);
            int header = 4 + 2 + 1 + "innodb-file".length() + 1 + 16;
            int chunk1 = header + 13 + readInt(b, header + 4);
            b[chunk1 + 13 + 50] ^= 0x01;
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(b, chunk1 + 13, readInt(b, chunk1 + 4));
            writeInt(b, chunk1 + 9, (int) crc.getValue());
            Files.write(ibdata, b, StandardOpenOption.TRUNCATE_EXISTING);
            String altered = "chunk 1 (raw offset 1048576) failed authentication: it was altered, or moved from another object or position (resource=" + ibdata + ")";

            // truncate the stored copy of a table (a pack member: the pack is cut in its middle, and the members after it go too)
            ItSupport.StoredAt at = ItSupport.storedAt(repo, id, entry(m, "app/t_legacy.ibd").get("object").asText());
            List<String> cut = ItSupport.cutBy(repo, id, m, at.file(), at.offset() + at.length() / 2);
            at.truncateAt(at.length() / 2);
            String table = at.named();
            int problems = 1 + (at.member() ? cut.size() : 1);

            StrataCli.Result v = StrataCli.run("verify", "--repo", root, "--encrypt-key-file", key.toString());
            assertEquals(12, v.exit(), v.toString());
            assertTrue(v.out().contains("FAILED " + id + ": " + problems + " problem(s)"), v.out());
            assertTrue(v.out().contains("  ibdata1 of backup " + id + ": " + altered + "\n"), v.out());
            assertTrue(v.out().lines().anyMatch(l -> l.startsWith("  app/t_legacy.ibd of backup " + id + ": object is truncated after ")
                    && l.endsWith("(resource=" + table + ")")), v.out());
            assertTrue(v.err().startsWith("ERROR [corrupt-data]: " + problems + " problem(s) found; the first: "), v.err());

            Path target = work.resolve("refused");
            StrataCli.Result r = StrataCli.run("restore", "--repo", root, "--target", target.toString(), "--encrypt-key-file", key.toString());
            assertEquals(12, r.exit(), r.toString());
            assertTrue(r.err().contains("ERROR [corrupt-data]: "), r.err());
            assertTrue(r.err().contains(altered) || r.err().contains("(resource=" + (at.member() ? at.file() + "@" : table + ")")), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
            assertFalse(Files.exists(target), "a refused restore leaves the target as it found it: absent");
        }
    }

    static JsonNode entry(JsonNode manifest, String path) {
        for (JsonNode f : manifest.get("files")) {
            if (f.get("path").asText().equals(path)) {
                return f;
            }
        }
        throw new AssertionError(path + " not in the manifest");
    }

    static Path object(Path repo, String id, JsonNode manifest, String path) {
        for (JsonNode f : manifest.get("files")) {
            if (f.get("path").asText().equals(path)) {
                return repo.resolve("backups").resolve(id).resolve(f.get("object").asText()).toAbsolutePath().normalize();
            }
        }
        throw new AssertionError(path + " not in the manifest");
    }

    /** A key or passphrase file, readable by its owner only (strata refuses others). */
    static Path write(Path p, String content) throws IOException {
        Files.writeString(p, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return p;
    }

    static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    static void writeInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static boolean anyFileContains(Path dir, byte[] needle) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                byte[] b = Files.readAllBytes(p);
                outer:
                for (int i = 0; i + needle.length <= b.length; i++) {
                    for (int j = 0; j < needle.length; j++) {
                        if (b[i + j] != needle[j]) {
                            continue outer;
                        }
                    }
                    return true;
                }
            }
        }
        return false;
    }
}
