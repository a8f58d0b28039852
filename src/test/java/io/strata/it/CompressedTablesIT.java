package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.ChunkedReader;
import io.strata.repo.Repository;
import io.strata.repo.StoredObject;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, ROW_FORMAT=COMPRESSED: t_fcrc32 with KEY_BLOCK_SIZE=8 (its TEXT column) and the four
 * partitions of t_part with KEY_BLOCK_SIZE=4 and a LONGBLOB, both with values stored off-page, under
 * the write load plus a thread rewriting BLOBs. full ← incremental (redo method) and full ←
 * differential (full scan) ← incremental (tracked method, {@code strata track} running), the redo and
 * tracked ones with the debug check that reads every page, each restore to
 * the source's data (the oracle: binlog replay from the recorded position, CHECKSUM TABLE, CHECK
 * TABLE); the last two merged restore the same; verify passes, and reports a byte flipped inside a
 * stored compressed page (a stored object rewritten with valid framing) by the page's checksum.
 */
class CompressedTablesIT {

    /** Rewrites BLOBs of random rows of both compressed tables until closed: BLOB pages freed and allocated while pages are copied. */
    private static final class BlobWriter implements AutoCloseable {
        private final Thread thread;
        private final AtomicLong updates = new AtomicLong();
        private volatile boolean running = true;
        private volatile Throwable error;

        BlobWriter(MariaDbSandbox source) {
            thread = new Thread(() -> {
                Random random = new Random(7);
                try (Connection c = source.connection();
                     PreparedStatement part = c.prepareStatement("UPDATE app.t_part SET b = (SELECT GROUP_CONCAT(SHA2(CONCAT(?, '-', seq), 256)"
                             + " SEPARATOR '') FROM app.seq_1_to_120) WHERE id = ?");
                     PreparedStatement text = c.prepareStatement("UPDATE app.t_fcrc32 SET txt = REPEAT(SHA2(?, 256), 180) WHERE id = ?")) {
                    for (long n = 0; running; n++) {
                        PreparedStatement st = n % 2 == 0 ? part : text;
                        st.setString(1, "w" + n);
                        st.setInt(2, 1 + random.nextInt(3_000));
                        st.executeUpdate();
                        updates.incrementAndGet();
                        Thread.sleep(15);
                    }
                } catch (SQLException | InterruptedException | RuntimeException e) {
                    error = e;
                }
            }, "blob-writer");
            thread.setDaemon(true);
            thread.start();
        }

        /** Stops the thread; throws what ended it early. */
        long stop() throws InterruptedException {
            running = false;
            thread.join(30_000);
            if (error != null) {
                throw new AssertionError("BLOB writer failed after " + updates.get() + " updates", error);
            }
            return updates.get();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(30_000);
        }
    }

    /** The oracle: restore {@code id}, replay the source's binlog from its recorded position, compare every table. */
    private static void assertRestoresEqual(Path repo, String id, Path work, MariaDbSandbox source) throws Exception {
        JsonNode m = ItSupport.manifest(repo, id);
        try (MariaDbSandbox restored = ItSupport.restoreAndReplay(repo, id, work.resolve("restored-" + id), source,
                m.get("binlogFile").asText(), m.get("binlogPosition").asLong())) {
            ItSupport.assertSameData(source, restored, "app");
        }
    }

    @Test
    void compressedTablesUnderLoadRestoreMergeAndVerify() throws Exception {
        Path work = ItSupport.tempDir("zip-");
        Path repo = work.resolve("repo");
        MariaDbSandbox.requireMariaDb();
        // a log large enough to keep the full backup's checkpoint for the redo method
        try (MariaDbSandbox source = MariaDbSandbox.builder().logBin(true).innodbLogFileSize("64M")
                .extraArgs("--innodb-log-buffer-size=1M").start()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 3_000);
            }
            source.exec("ALTER TABLE app.t_fcrc32 ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
                    "ALTER TABLE app.t_part ADD COLUMN b LONGBLOB, ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4",
                    // 9.6 KB of hex digits per value: stored off-page in compressed BLOB pages
                    "UPDATE app.t_fcrc32 SET txt = (SELECT GROUP_CONCAT(SHA2(CONCAT(t_fcrc32.id, '-', seq), 256) SEPARATOR '')"
                            + " FROM app.seq_1_to_150) WHERE id % 7 = 0",
                    "UPDATE app.t_part SET b = (SELECT GROUP_CONCAT(SHA2(CONCAT(t_part.id, '+', seq), 256) SEPARATOR '')"
                            + " FROM app.seq_1_to_150) WHERE id % 5 = 0");
            try (Connection c = source.connection()) {
                Map<String, Integer> flags = SampleSchema.tablespaceFlags(c, "app");
                assertEquals(0x29, flags.get("app/t_fcrc32"), "KEY_BLOCK_SIZE=8: legacy flags, ZIP_SSIZE 4: " + flags);
                for (int p = 0; p < 4; p++) {
                    assertEquals(0x27, flags.get("app/t_part#P#p" + p), "KEY_BLOCK_SIZE=4: legacy flags, ZIP_SSIZE 3: " + flags);
                }
            }

            // the rebuilds above must lie before the backups' checkpoints, or every backup copies
            // their redo (FILE_CREATE of the new spaces) and stores those files whole (design rule 8)
            source.exec("SET GLOBAL innodb_log_checkpoint_now = ON");

            String full;
            String incr;
            String diff;
            String onDiff;
            Process tracker = null;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).start(); BlobWriter blobs = new BlobWriter(source)) {
                Thread.sleep(500);
                full = ItSupport.backup(repo, source, "--type", "full", "--quiet");
                // change sets for the last incremental (tracked method)
                tracker = StrataCli.start(work.resolve("track.out"), work.resolve("track.err"), "track", "--repo", repo.toString(),
                        "--socket", source.socket().toString(), "--user", "root", "--flush-interval", "1");
                Thread.sleep(700);
                source.exec("SET GLOBAL innodb_log_checkpoint_now = ON");
                incr = ItSupport.backup(repo, source, "--type", "incremental", "--method", "redo", "--debug-check-method", "--quiet");
                Thread.sleep(700);
                source.exec("SET GLOBAL innodb_log_checkpoint_now = ON");
                diff = ItSupport.backup(repo, source, "--type", "differential", "--method", "full-scan", "--quiet");
                Thread.sleep(700);
                source.exec("SET GLOBAL innodb_log_checkpoint_now = ON");
                Thread.sleep(2500); // the tracker stores a change set every second
                onDiff = ItSupport.backup(repo, source, "--type", "incremental", "--method", "tracked", "--debug-check-method", "--quiet");
                Thread.sleep(300);
                assertTrue(blobs.stop() > 20, "BLOBs were rewritten during the backups");
                w.stop();
            } finally {
                if (tracker != null) {
                    tracker.destroy(); // SIGTERM
                    assertTrue(tracker.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the tracker did not stop on SIGTERM");
                }
            }

            for (String id : new String[] {full, incr, diff, onDiff}) {
                JsonNode m = ItSupport.manifest(repo, id);
                long deltaPages = 0;
                for (JsonNode f : m.get("files")) {
                    String path = f.get("path").asText();
                    int ps = path.equals("app/t_fcrc32.ibd") ? 8192 : path.startsWith("app/t_part#P#p") ? 4096 : 0;
                    if (ps == 0) {
                        continue;
                    }
                    assertEquals(ps == 8192 ? 0x29 : 0x27, f.get("flags").asInt(), f.toString());
                    assertEquals(f.get("pages").asLong() * ps, f.get("size").asLong(), "size = pages x KEY_BLOCK_SIZE: " + f);
                    assertEquals(id.equals(full) ? "whole" : "delta", f.get("storage").asText(), f.toString());
                    deltaPages += f.path("deltaPages").asLong();
                }
                assertTrue(id.equals(full) || deltaPages > 0, "the compressed tables changed, so " + id + " stores pages of them: " + m);
            }
            assertEquals("redo", ItSupport.manifest(repo, incr).get("method").asText());
            JsonNode tracked = ItSupport.manifest(repo, onDiff);
            assertEquals("tracked", tracked.get("method").asText(), tracked.toString());
            assertTrue(tracked.get("detection").get("changeSetsRead").asInt() > 0, tracked.toString());
            assertEquals(full, ItSupport.manifest(repo, diff).get("parent").asText());
            assertEquals(diff, ItSupport.manifest(repo, onDiff).get("parent").asText());

            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, v.exit(), v.toString());

            for (String id : new String[] {full, incr, diff}) {
                assertRestoresEqual(repo, id, work, source);
            }
            // fold the incremental on the differential into it (two deltas of each compressed file
            // merge; the differential, with no other child, is folded away)
            StrataCli.Result mr = StrataCli.run("merge", "--repo", repo.toString(), onDiff);
            assertEquals(0, mr.exit(), mr.toString());
            String merged = mr.out().split(" ")[1];
            assertEquals("differential", ItSupport.manifest(repo, merged).get("type").asText());
            assertEquals(0, StrataCli.run("verify", "--repo", repo.toString()).exit());
            assertRestoresEqual(repo, merged, work, source);

            // a byte flipped inside an index page of a stored compressed file, in an object whose
            // framing is intact: verify finds it by the page's own checksum
            String object = null;
            for (JsonNode f : ItSupport.manifest(repo, full).get("files")) {
                if (f.get("path").asText().equals("app/t_part#P#p1.ibd")) {
                    object = f.get("object").asText();
                }
            }
            Repository r = Repository.open(repo);
            byte[] file;
            try (ChunkedReader in = r.openBackupObject(full, object, "innodb-file")) {
                file = in.readAllBytes();
            }
            int page = 3; // the clustered index root, an INDEX page (type 17855) in every .ibd
            assertEquals(17855, ByteBuffer.wrap(file, page * 4096 + 24, 2).getShort() & 0xFFFF);
            file[page * 4096 + 1000] ^= 0x20;
            // stored again, framed anew, as an object of its own that the manifest's entry now names
            // (the original may be a member of a pack, which cannot be rewritten in place)
            String altered = "data/99/999999";
            long size;
            try (StoredObject o = r.createBackupObject(full, altered, "innodb-file")) {
                o.out().write(file);
                o.commitBatched();
                size = o.storedBytes();
            }
            r.syncBackupObjects();
            io.strata.repo.Manifest before = r.manifest(full);
            java.util.List<io.strata.repo.FileEntry> files = new java.util.ArrayList<>();
            for (io.strata.repo.FileEntry f : before.files()) {
                files.add(f.path().equals("app/t_part#P#p1.ibd") ? f.stored(altered, size) : f);
            }
            r.deleteManifest(full);
            r.writeManifest(before.toBuilder().files(files).build());
            StrataCli.Result bad = StrataCli.run("verify", "--repo", repo.toString(), full);
            assertEquals(12, bad.exit(), bad.toString());
            assertTrue(bad.out().contains("  page 3 of app/t_part#P#p1.ibd in backup " + full + ": compressed page checksum stored=0x"), bad.out());
            assertTrue(bad.out().contains(" (ROW_FORMAT=COMPRESSED, KEY_BLOCK_SIZE=4K)"), bad.out());
            assertFalse(bad.err().contains("\tat "), bad.err());
        }
    }
}
