package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19 (5): {@code restore --delta} of an incremental (full + incremental) onto a copy of the
 * source that diverged (rows changed, a table dropped, a table added) gives the directory a plain
 * restore of the same backup gives, having written less than 20% of its bytes and read less than
 * half of the backup's (chunks the target still holds are not read, under deltas too).
 *
 * <ul>
 * <li>Before recovery ({@code --no-recover}) the delta-restored directory is byte for byte the plain
 *     restore's: same file list, same bytes in every file but the lineage mark (a new random id).</li>
 * <li>The first delta restore, onto a directory a restore with recovery wrote and a server then
 *     changed, compares only the pages the redo logs name (the backup's and the directory's, from
 *     the restore record {@code strata-restored.json}) and still gives the plain restore's bytes.</li>
 * <li>A second delta restore of the same backup reads no file other than InnoDB (all untouched since
 *     the first, which ran no recovery, so the InnoDB files are compared in full), and with
 *     {@code --full-compare} reads them all and changes none (it writes ib_logfile0 only).</li>
 * <li>After a server rebuilt the log (another innodb_log_file_size), the delta restore cannot use it
 *     and compares the touched files in full, with the plain restore's bytes again.</li>
 * <li>A delta restore killed (kill -9) once it removed ib_logfile0 leaves the marker and no
 *     ib_logfile0 (a plain restore refuses the directory, exit 18); the next delta restore completes
 *     it and recovers, and a server on it has the tables of a plain restore with recovery (CHECKSUM
 *     TABLE, CHECK TABLE); both directories list the same files.</li>
 * <li>A delta restore onto a directory a server runs on is refused (exit 60) and writes nothing.</li>
 * </ul>
 */
class DeltaRestoreIT {

    @Test
    void deltaRestoreOfADivergedCopyEqualsAPlainRestore() throws Exception {
        Path work = ItSupport.tempDir("delta-");
        Path repo = work.resolve("repo");
        String id;
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection(); var st = c.createStatement()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
                // the bulk of the result, as in a real server: most pages are never touched between backup and delta
                st.execute("CREATE TABLE app.big (id INT PRIMARY KEY, pad VARCHAR(2000)) ENGINE=InnoDB");
                st.execute("INSERT INTO app.big SELECT seq, REPEAT(MD5(seq), 30) FROM app.seq_1_to_60000");
                st.execute("CREATE TABLE app.doomed (id INT PRIMARY KEY, v INT) ENGINE=InnoDB");
                st.execute("INSERT INTO app.doomed SELECT seq, seq FROM app.seq_1_to_1000");
            }
            try (WriteLoad w = WriteLoad.on(source, "app").threads(1).rate(40).start()) {
                ItSupport.backup(repo, source);
                source.exec("UPDATE app.big SET pad = REPEAT('y', 900) WHERE id BETWEEN 30000 AND 30100");
                // the changed pages written to big.ibd, so that the incremental stores them (else the redo log carries them)
                source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
                ItSupport.waitForCheckpoint(source);
                // restored is full + incremental: big.ibd is the full's copy with the incremental's pages laid over it
                id = ItSupport.backup(repo, source, "--type", "incremental");
            }
        }
        JsonNode bigEntry = null;
        for (JsonNode f : ItSupport.manifest(repo, id).get("files")) {
            bigEntry = f.get("path").asText().equals("app/big.ibd") ? f : bigEntry;
        }
        assertEquals("delta", bigEntry.get("storage").asText(), bigEntry.toString());
        assertTrue(bigEntry.get("deltaPages").asLong() > 0, bigEntry.toString());

        // A: the copy of the source, then a server on it diverges
        Path a = work.resolve("a");
        run(0, "restore", "--repo", repo.toString(), "--backup", id, "--target", a.toString());
        // the source's innodb_log_file_size, as its my.cnf would give it: the server keeps the log crash recovery left
        try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(a).innodbLogFileSize("8M").start()) {
            s.exec("UPDATE app.big SET pad = REPEAT('x', 900) WHERE id % 40 = 0 AND id <= 6000",
                    "UPDATE app.t_fcrc32 SET k = k + 1 WHERE id % 50 = 0",
                    "DELETE FROM app.t_aria WHERE id % 7 = 0",
                    "DROP TABLE app.doomed",
                    "CREATE TABLE app.added (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB",
                    "INSERT INTO app.added SELECT seq, MD5(seq) FROM app.seq_1_to_2000");
            // a server runs on A: refused, nothing written
            List<String> before = listing(a);
            StrataCli.Result busy = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--delta", "--target", a.toString());
            assertEquals(60, busy.exit(), busy.toString());
            assertTrue(busy.err().contains("ERROR [delta-target-in-use]: restore --delta target " + a.toAbsolutePath().normalize() + " is in use: "), busy.toString());
            assertTrue(busy.err().contains("HINT: stop the server that runs on it"), busy.toString());
            assertEquals(before, listing(a));
        }

        // before recovery: byte for byte the plain restore's
        Path plain0 = work.resolve("plain0");
        run(0, "restore", "--repo", repo.toString(), "--backup", id, "--target", plain0.toString(), "--no-recover");
        StrataCli.Result d = run(0, "restore", "--repo", repo.toString(), "--backup", id, "--delta", "--target", a.toString(), "--no-recover", "--json");
        JsonNode delta = ItSupport.JSON.readTree(d.out()).get("delta");
        long written = delta.get("bytesWritten").asLong();
        long result = delta.get("resultBytes").asLong();
        System.out.printf("delta restore onto the diverged copy: wrote %,d of %,d bytes (%.2f%%), %d files changed, %d removed%n",
                written, result, 100.0 * written / result, delta.get("filesWritten").asLong(), delta.get("filesRemoved").asLong());
        assertTrue(written < result / 5, "wrote " + written + " of " + result + " bytes");
        // the stored chunks whose bytes the target still holds were not read: those of big.ibd's untouched part, the unchanged files
        long decoded = delta.get("bytesDecoded").asLong();
        System.out.printf("delta restore onto the diverged copy: decoded %,d of %,d bytes of the backup%n", decoded, result);
        assertTrue(decoded > 0 && decoded < result / 2, "decoded " + decoded + " of " + result + " bytes");
        assertTrue(delta.get("filesRemoved").asLong() >= 2, d.toString()); // at least app/added.frm and app/added.ibd
        // A was restored with recovery and a server ran on it since: only the pages the redo logs name were compared
        assertTrue(d.err().contains("page(s) the redo logs name since then"), d.toString());
        long readFirst = delta.get("bytesRead").asLong();
        assertSameBytes(plain0, a);
        assertFalse(Files.exists(a.resolve("strata-restore-unfinished")));

        // again, after a delta restore without recovery (no log facts): the files other than InnoDB, untouched since, are not read;
        // the InnoDB files are compared in full (their times alone are not trusted); nothing left to change but ib_logfile0
        StrataCli.Result same = run(0, "restore", "--repo", repo.toString(), "--backup", id, "--delta", "--target", a.toString(), "--no-recover", "--json");
        JsonNode d1 = ItSupport.JSON.readTree(same.out()).get("delta");
        assertEquals(0, d1.get("filesWritten").asLong(), same.toString());
        long plainFiles = 0;
        for (JsonNode f : ItSupport.manifest(repo, id).get("files")) {
            plainFiles += f.get("kind").asText().equals("innodb") ? 0 : 1;
        }
        assertTrue(plainFiles > 10, "files other than InnoDB: " + plainFiles);
        // all of them but those the first delta restore wrote just before its record's snapshot (within a file-time tick: not trusted)
        long unread = d1.get("filesUnread").asLong();
        assertTrue(unread <= plainFiles && unread >= plainFiles - delta.get("filesWritten").asLong(), unread + " of " + plainFiles + ": " + same);
        assertTrue(same.err().contains("so InnoDB files are compared in full: the last restore did not run crash recovery"), same.toString());
        assertSameBytes(plain0, a);

        // --full-compare is an option of --delta: refused alone, nothing written
        StrataCli.Result alone = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", work.resolve("x").toString(), "--full-compare");
        assertEquals(2, alone.exit(), alone.toString());
        assertTrue(alone.err().contains("ERROR [usage]: --full-compare is an option of --delta"), alone.toString());
        assertFalse(Files.exists(work.resolve("x")));

        // --full-compare: every file compared with the backup's all the same
        StrataCli.Result again = run(0, "restore", "--repo", repo.toString(), "--backup", id, "--delta", "--target", a.toString(), "--no-recover", "--json",
                "--full-compare");
        JsonNode d2 = ItSupport.JSON.readTree(again.out()).get("delta");
        assertEquals(0, d2.get("filesWritten").asLong(), again.toString());
        assertEquals(0, d2.get("filesRemoved").asLong(), again.toString());
        assertEquals(0, d2.get("filesUnread").asLong(), again.toString());
        long readAll = d2.get("bytesRead").asLong();
        System.out.printf("delta restore: read %,d bytes of the target on the pages the logs named, %,d with --full-compare%n", readFirst, readAll);
        assertTrue(readAll > result / 2 && readFirst * 2 < readAll, readFirst + " bytes read on the named pages, " + readAll + " in full: " + again);
        assertEquals(Files.size(a.resolve("ib_logfile0")), d2.get("bytesWritten").asLong(), again.toString());
        // files other than InnoDB are compared byte for byte (decoded whole); of the InnoDB files only the chunks of the full's copies
        // that the incremental's pages override are decoded (the full's bytes under them are needed to compare the rest)
        long decodedAgain = d2.get("bytesDecoded").asLong();
        long others = 0;
        for (JsonNode f : ItSupport.manifest(repo, id).get("files")) {
            others += f.get("kind").asText().equals("innodb") ? 0 : f.get("size").asLong();
        }
        assertTrue(decodedAgain >= others && decodedAgain - others < (result - others) / 3,
                decodedAgain + " bytes decoded (" + others + " of files other than InnoDB): " + again);

        // kill -9 once ib_logfile0 is gone, with work left (a damaged, cut big.ibd): marked unfinished, no server can start, the next delta completes it
        try (FileChannel ch = FileChannel.open(a.resolve("app/big.ibd"), StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[16384]), 5 * 16384);
            ch.truncate(ch.size() / 2);
        }
        Process killed = StrataCli.start(work.resolve("kill.out"), work.resolve("kill.err"), "restore", "--repo", repo.toString(), "--backup", id,
                "--delta", "--target", a.toString(), "--no-recover");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (killed.isAlive() && System.nanoTime() < deadline
                && !(Files.exists(a.resolve("strata-restore-unfinished")) && !Files.exists(a.resolve("ib_logfile0")))) {
            Thread.sleep(5);
        }
        assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(killed.pid())).start().waitFor());
        assertTrue(killed.waitFor(10, TimeUnit.SECONDS));
        assertTrue(Files.exists(a.resolve("strata-restore-unfinished")), "no marker after the kill: " + listing(a));
        assertFalse(Files.exists(a.resolve("ib_logfile0")), "ib_logfile0 after the kill");
        StrataCli.Result refused = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", a.toString(), "--no-recover");
        assertEquals(18, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("holds the files of a restore that did not finish"), refused.toString());

        StrataCli.Result done = run(0, "restore", "--repo", repo.toString(), "--backup", id, "--delta", "--target", a.toString(), "--json");
        JsonNode d3 = ItSupport.JSON.readTree(done.out()).get("delta");
        assertTrue(d3.get("filesWritten").asLong() >= 1, done.toString());
        assertFalse(Files.exists(a.resolve("strata-restore-unfinished")));
        Path plain = work.resolve("plain");
        run(0, "restore", "--repo", repo.toString(), "--backup", id, "--target", plain.toString());
        assertEquals(listing(plain), listing(a));
        Map<String, String> expected;
        try (MariaDbSandbox p = MariaDbSandbox.builder().startOn(plain).start(); Connection c = p.connection()) {
            expected = TableChecksums.of(c, "app");
        }
        try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(a).start(); Connection c = s.connection()) {
            Map<String, String> actual = TableChecksums.of(c, "app");
            assertTrue(actual.containsKey("app.doomed") && !actual.containsKey("app.added"), actual.keySet().toString());
            assertTrue(expected.size() >= 8, expected.keySet().toString());
            TableChecksums.assertSame(expected, actual);
            assertEquals(List.of(), TableChecksums.checkTables(c, "app"));
        }

        // a server that rebuilt the log (another innodb_log_file_size) since: the touched files are compared in full
        try (MariaDbSandbox s = MariaDbSandbox.builder().startOn(a).innodbLogFileSize("24M").start()) {
            s.exec("UPDATE app.big SET pad = REPEAT('z', 900) WHERE id % 97 = 0");
        }
        StrataCli.Result rebuilt = run(0, "restore", "--repo", repo.toString(), "--backup", id, "--delta", "--target", a.toString(), "--no-recover");
        assertTrue(rebuilt.err().contains("is not the file crash recovery left (the log was resized or re-created)"), rebuilt.toString());
        assertSameBytes(plain0, a);
    }

    /**
     * {@code a} lists the files of {@code plain} and holds the same bytes in each, but the lineage
     * mark and the restore record (random id, inodes) and the option file's own paths.
     */
    private static void assertSameBytes(Path plain0, Path a) throws IOException {
        assertEquals(listing(plain0), listing(a));
        for (String f : listing(a)) {
            Path p = a.resolve(f);
            if (f.equals(io.strata.restore.RestoredLayout.OPTION_FILE)) {
                // the option file names its own directory (datadir, InnoDB directories): equal but for that (11.8's three undo
                // tablespaces make restore write it; a 10.11 source with the defaults has none)
                assertEquals(Files.readString(plain0.resolve(f)).replace(plain0.toAbsolutePath().normalize().toString(), "TARGET"),
                        Files.readString(p).replace(a.toAbsolutePath().normalize().toString(), "TARGET"), f + " differs from the plain restore's");
            } else if (Files.isRegularFile(p) && !f.equals("strata-lineage") && !f.equals(io.strata.restore.RestoredState.FILE_NAME)) {
                assertArrayEquals(Files.readAllBytes(plain0.resolve(f)), Files.readAllBytes(p), f + " differs from the plain restore's");
            }
        }
    }

    private static StrataCli.Result run(int exit, String... args) {
        StrataCli.Result r = StrataCli.run(args);
        assertEquals(exit, r.exit(), r.toString());
        return r;
    }

    /** Relative paths of every file and directory below {@code dir}, sorted. */
    static List<String> listing(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return new ArrayList<>(s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList());
        }
    }
}
