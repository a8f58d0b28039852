package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PAGE_COMPRESSED tables in both layouts under a write load: t_fcrc32 rebuilt page_compressed in
 * the full_crc32 layout (page type with bit 15), t_legacy rebuilt under
 * innodb_checksum_algorithm=crc32 (page type 34354), and two tables created just before the full
 * backup, whose page 0 is still all zero (the dictionary reports their flags with the compression
 * level bits). Full, incremental and differential backups restore equal to the source (binlog
 * replay from each backup's position), as does the synthetic full a merge makes; every restored
 * page_compressed file takes about as much disk as on the source (its holes are kept).
 */
class PageCompressedIT {
    private static final int PS = 16384;
    private static final List<String> PAGE_COMPRESSED = List.of("t_fcrc32", "t_legacy", "pc_fresh", "pc_fresh_legacy");

    @Test
    void pageCompressedTablesInBothLayoutsRestoreSparse() throws Exception {
        Path work = ItSupport.tempDir("pc-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 12_000);
            }
            // a rebuild creates the tablespace anew, in the layout innodb_checksum_algorithm names now
            source.exec("ALTER TABLE app.t_fcrc32 PAGE_COMPRESSED=1",
                    "SET GLOBAL innodb_checksum_algorithm=crc32", "ALTER TABLE app.t_legacy PAGE_COMPRESSED=1",
                    "SET GLOBAL innodb_checksum_algorithm=full_crc32",
                    "FLUSH TABLES app.t_fcrc32, app.t_legacy FOR EXPORT", "UNLOCK TABLES");
            Path data = source.datadir().resolve("app");
            assertLayout(data.resolve("t_fcrc32.ibd"), true);
            assertLayout(data.resolve("t_legacy.ibd"), false);

            String full;
            String incremental;
            String differential;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                Thread.sleep(500);
                String columns = " (id INT PRIMARY KEY, c VARCHAR(200)) PAGE_COMPRESSED=1";
                source.exec("CREATE TABLE app.pc_fresh" + columns,
                        "SET GLOBAL innodb_checksum_algorithm=crc32", "CREATE TABLE app.pc_fresh_legacy" + columns,
                        "SET GLOBAL innodb_checksum_algorithm=full_crc32");
                for (String t : List.of("pc_fresh", "pc_fresh_legacy")) {
                    assertTrue(allZero(data.resolve(t + ".ibd"), 64), t + ": page 0 is not flushed yet, so its flags come from the dictionary");
                    source.exec("INSERT INTO app." + t + " SELECT seq, CONCAT(REPEAT('pc', 60), seq) FROM app.seq_1_to_3000");
                }
                try (Connection c = source.connection()) {
                    Map<String, Integer> flags = SampleSchema.tablespaceFlags(c, "app");
                    assertEquals(0x60000035, flags.get("app/pc_fresh"), "the dictionary adds the compression level (bits 28..31) to 0x35");
                    assertEquals(0x60010021, flags.get("app/pc_fresh_legacy"));
                }
                full = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(1000);
                incremental = ItSupport.backup(repo, source, "--type", "incremental");
                Thread.sleep(1000);
                differential = ItSupport.backup(repo, source, "--type", "differential");
                w.stop();
            }
            assertEquals(full, ItSupport.manifest(repo, differential).get("parent").asText());
            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, v.exit(), v.toString());
            assertFalse((v.out() + v.err()).contains("could not be checked"), "every zlib page is decompressed and checked: " + v);

            source.exec("FLUSH TABLES " + String.join(", ", PAGE_COMPRESSED.stream().map(t -> "app." + t).toList()) + " FOR EXPORT", "UNLOCK TABLES");
            long sourceBytes = allocated(data);
            Map<String, String> atDifferential = null;
            for (String id : List.of(full, incremental, differential)) {
                JsonNode m = ItSupport.manifest(repo, id);
                Path target = work.resolve("r-" + id);
                StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString());
                assertEquals(0, r.exit(), r.toString());
                assertSparse(sourceBytes, target, id);
                try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--max-allowed-packet=1G").start()) {
                    if (id.equals(differential)) {
                        try (Connection c = restored.connection()) {
                            atDifferential = TableChecksums.of(c, "app");
                        }
                    }
                    BinlogReplay.replay(source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), restored.socket());
                    ItSupport.assertSameData(source, restored, "app");
                }
            }

            // fold the differential into the full: a synthetic full whose restore is as sparse and holds the same data
            StrataCli.Result r = StrataCli.run("merge", "--repo", repo.toString(), differential);
            assertEquals(0, r.exit(), r.toString());
            String merged = r.out().split(" ")[1];
            Path target = work.resolve("r-merged");
            r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", merged, "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            assertSparse(sourceBytes, target, merged);
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start(); Connection c = restored.connection()) {
                TableChecksums.assertSame(atDifferential, TableChecksums.of(c, "app"));
            }
        }
    }

    /** The restored page_compressed files take within 10 % of the disk space the source's take. */
    private static void assertSparse(long sourceBytes, Path target, String id) throws Exception {
        long restored = allocated(target.resolve("app"));
        long logical = 0;
        for (String t : PAGE_COMPRESSED) {
            logical += Files.size(target.resolve("app").resolve(t + ".ibd"));
        }
        System.out.printf("page_compressed files of backup %s: %d bytes allocated restored, %d on the source, length %d%n", id, restored, sourceBytes, logical);
        assertTrue(Math.abs(restored - sourceBytes) <= sourceBytes / 10, "backup " + id + ": the restored page_compressed files take "
                + restored + " bytes on disk, the source's " + sourceBytes + " (their length: " + logical + ")");
        assertTrue(restored < logical / 2, "backup " + id + ": the holes were kept (" + restored + " of " + logical + " bytes allocated)");
    }

    /** Bytes allocated on disk (st_blocks × 512, which Java's file attributes do not give) to the page_compressed files in {@code db}. */
    private static long allocated(Path db) throws IOException, InterruptedException {
        Map<String, Long> by = new LinkedHashMap<>();
        for (String t : PAGE_COMPRESSED) {
            Process p = new ProcessBuilder("stat", "-c", "%b %B", db.resolve(t + ".ibd").toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertEquals(0, p.waitFor(), out);
            String[] f = out.split(" ");
            by.put(t, Long.parseLong(f[0]) * Long.parseLong(f[1]));
        }
        return by.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Page 0 carries the layout's flags and the data pages the layout's page_compressed page type:
     * bit 15 set (full_crc32, FIL_PAGE_COMPRESS_FCRC32_MARKER) or 34354 (legacy FIL_PAGE_PAGE_COMPRESSED).
     */
    private static void assertLayout(Path ibd, boolean fullCrc32) throws IOException {
        byte[] b = Files.readAllBytes(ibd);
        int flags = ByteBuffer.wrap(b, 38 + 16, 4).getInt();
        assertEquals(fullCrc32 ? 0x35 : 0x10021, flags, ibd + ": FSP_SPACE_FLAGS 0x" + Integer.toHexString(flags));
        int compressed = 0;
        for (int off = PS; off + PS <= b.length; off += PS) {
            int type = ((b[off + 24] & 0xFF) << 8) | (b[off + 25] & 0xFF);
            if (fullCrc32 ? (type & 0x8000) != 0 : type == 34354) {
                compressed++;
            }
        }
        assertTrue(compressed > 10, ibd + ": only " + compressed + " page_compressed pages");
    }

    private static boolean allZero(Path f, int n) throws IOException {
        try (FileChannel ch = FileChannel.open(f)) {
            ByteBuffer bb = ByteBuffer.allocate(n);
            ch.read(bb, 0);
            for (byte x : bb.array()) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
