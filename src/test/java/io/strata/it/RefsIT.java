package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unchanged non-InnoDB files of an incremental are references to the object of the backup that
 * stored them (docs/repository-format.md, "Reference entries"); a MyISAM data file changed in
 * place with its size kept is stored again. Restores of the chain equal the source byte for byte
 * (non-InnoDB files) and by CHECKSUM TABLE, before and after two merges that remove the holders
 * the references name, and after a prune; verify passes throughout.
 */
class RefsIT {

    /** SHA-256 of every file of {@code db} but InnoDB tablespaces, by name. */
    private static Map<String, String> digests(Path datadir, String db) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(datadir.resolve(db))) {
            for (Path p : s.filter(p -> !p.toString().endsWith(".ibd")).toList()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                try (InputStream in = Files.newInputStream(p)) {
                    md.update(in.readAllBytes());
                }
                out.put(p.getFileName().toString(), HexFormat.of().formatHex(md.digest()));
            }
        }
        return out;
    }

    private static Map<String, JsonNode> files(Path repo, String id) throws IOException {
        Map<String, JsonNode> out = new TreeMap<>();
        for (JsonNode f : ItSupport.manifest(repo, id).get("files")) {
            out.put(f.get("path").asText(), f);
        }
        return out;
    }

    private static String ref(JsonNode f) {
        return f.get("ref").isNull() ? null : f.get("ref").asText();
    }

    private static void restore(Path repo, String id, Path target) {
        StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
        assertEquals(0, r.exit(), r.toString());
    }

    private static void verify(Path repo) {
        StrataCli.Result r = StrataCli.inProcess("verify", "--repo", repo.toString());
        assertEquals(0, r.exit(), r.toString());
    }

    private static String merge(Path repo, String id) {
        StrataCli.Result r = StrataCli.inProcess("merge", "--repo", repo.toString(), id);
        assertEquals(0, r.exit(), r.toString());
        return r.out().split(" ")[1];
    }

    @Test
    void unchangedFilesAreReferencesAndRestoreByteForByte() throws Exception {
        Path work = ItSupport.tempDir("refs-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE DATABASE r",
                    "CREATE TABLE r.fixed (id INT PRIMARY KEY, c CHAR(20) NOT NULL) ENGINE=MyISAM ROW_FORMAT=FIXED",
                    "CREATE TABLE r.untouched (id INT PRIMARY KEY, c VARCHAR(40)) ENGINE=Aria",
                    "CREATE TABLE r.inno (id INT PRIMARY KEY, c VARCHAR(40)) ENGINE=InnoDB",
                    "INSERT INTO r.fixed SELECT seq, CONCAT('row ', seq) FROM r.seq_1_to_500",
                    "INSERT INTO r.untouched SELECT seq, CONCAT('row ', seq) FROM r.seq_1_to_500",
                    "INSERT INTO r.inno SELECT seq, CONCAT('row ', seq) FROM r.seq_1_to_500",
                    "FLUSH TABLES");
            // the files' change times must lie further back than the margin (2 s) when the full copies them
            Thread.sleep(2500);
            String full = ItSupport.backup(repo, source, "--type", "full");
            Map<String, JsonNode> atFull = files(repo, full);
            assertTrue(atFull.get("r/fixed.MYD").get("stat").get("inode").asLong() > 0, atFull.get("r/fixed.MYD").toString());

            long sizeBefore = Files.size(source.datadir().resolve("r/fixed.MYD"));
            source.exec("UPDATE r.fixed SET c = 'changed in place' WHERE id = 250", "FLUSH TABLES r.fixed");
            assertEquals(sizeBefore, Files.size(source.datadir().resolve("r/fixed.MYD")), "a fixed-width row is rewritten in place");
            Thread.sleep(2500); // past the margin, so that I2 can refer to I1's copy of fixed.MYD (within it, I2 would store it again)
            String i1 = ItSupport.backup(repo, source, "--type", "incremental");
            Map<String, JsonNode> f1 = files(repo, i1);
            // 3: its references name members of the full's packs (2 for references to objects of their own)
            assertEquals(3, ItSupport.manifest(repo, i1).get("formatVersion").asInt());
            for (String p : new String[] {"r/untouched.MAD", "r/untouched.MAI", "r/untouched.frm", "r/fixed.frm", "r/inno.frm", "r/db.opt"}) {
                assertEquals(full, ref(f1.get(p)), p + " unchanged: a reference to the full backup's object: " + f1.get(p));
                assertEquals(0, f1.get(p).get("storedBytes").asLong(), f1.get(p).toString());
                assertEquals(atFull.get(p).get("object").asText(), f1.get(p).get("object").asText());
                assertEquals(atFull.get(p).get("crc32c").asText(), f1.get(p).get("crc32c").asText());
            }
            JsonNode myd = f1.get("r/fixed.MYD");
            assertEquals(null, ref(myd), "changed in place with the same size: stored again: " + myd);
            assertEquals(atFull.get("r/fixed.MYD").get("size").asLong(), myd.get("size").asLong());
            assertFalse(atFull.get("r/fixed.MYD").get("crc32c").asText().equals(myd.get("crc32c").asText()));
            long refs = f1.values().stream().filter(f -> ref(f) != null).count();
            assertTrue(refs > 100, "the mysql schema's files are unchanged too: " + refs + " references");

            // nothing changed: every reference names the backup holding the bytes, never another reference
            String i2 = ItSupport.backup(repo, source, "--type", "incremental");
            Map<String, JsonNode> f2 = files(repo, i2);
            assertEquals(full, ref(f2.get("r/untouched.MAD")));
            assertEquals(i1, ref(f2.get("r/fixed.MYD")));
            Map<String, String> sourceFiles = digests(source.datadir(), "r");
            Map<String, String> sums;
            try (Connection c = source.connection()) {
                sums = TableChecksums.of(c, "r");
            }

            restore(repo, i2, work.resolve("t1"));
            assertEquals(sourceFiles, digests(work.resolve("t1"), "r"), "restored non-InnoDB files equal the source's");
            try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(work.resolve("t1")).start(); Connection c = s.connection()) {
                TableChecksums.assertSame(sums, TableChecksums.of(c, "r"));
            }
            verify(repo);

            // merge I1 into the full: the full goes (folded), I2's references to it and to I1 resolve into the merged backup
            String m1 = merge(repo, i1);
            assertFalse(Files.exists(repo.resolve("backups").resolve(full)));
            assertFalse(Files.exists(repo.resolve("backups").resolve(i1)));
            Map<String, JsonNode> fm1 = files(repo, m1);
            assertEquals(null, ref(fm1.get("r/untouched.MAD")), "the merged backup stores what its members referred to in the folded full");
            verify(repo);
            restore(repo, i2, work.resolve("t2"));
            assertEquals(sourceFiles, digests(work.resolve("t2"), "r"));

            // merge I2 into that: the merged backup holding I2's references goes too
            String m2 = merge(repo, i2);
            assertEquals(0, files(repo, m2).values().stream().filter(f -> ref(f) != null).count(), "a synthetic full refers to nothing");
            // prune removes a backup resting on the holder and keeps the holder a kept backup refers to
            String i3 = ItSupport.backup(repo, source, "--type", "incremental");
            assertEquals(m2, ref(files(repo, i3).get("r/untouched.MAD")));
            String d = ItSupport.backup(repo, source, "--type", "differential");
            assertEquals(m2, ItSupport.manifest(repo, d).get("parent").asText());
            assertEquals(m2, ref(files(repo, d).get("r/untouched.MAD")));
            StrataCli.Result pr = StrataCli.inProcess("prune", "--repo", repo.toString(), "--keep-days", "0");
            assertEquals(0, pr.exit(), pr.toString());
            assertTrue(pr.out().contains("remove " + i3 + ": ") && pr.out().contains("keep   " + m2 + ": needed to restore " + d), pr.out());
            assertFalse(Files.exists(repo.resolve("backups").resolve(i3)));
            verify(repo);
            restore(repo, d, work.resolve("t3"));
            assertEquals(sourceFiles, digests(work.resolve("t3"), "r"));
            try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(work.resolve("t3")).start(); Connection c = s.connection()) {
                TableChecksums.assertSame(sums, TableChecksums.of(c, "r"));
            }

            // the holder's object lost: verify of the referring backup names it
            // (a pack member's pack: every member of it is lost with it)
            Path held = ItSupport.storedAt(repo, m2, files(repo, d).get("r/untouched.MAD").get("object").asText()).file();
            Files.delete(held);
            StrataCli.Result v = StrataCli.inProcess("verify", "--repo", repo.toString(), d);
            assertEquals(12, v.exit(), v.toString());
            assertTrue(v.out().contains("FAILED " + d) && v.out().contains(held.toString()), v.toString());
        }
    }
}
