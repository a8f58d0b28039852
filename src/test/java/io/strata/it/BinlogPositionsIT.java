package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MariaDB 11.4 and later with default binlog settings (binlog_legacy_event_pos=OFF,
 * binlog_gtid_index=ON): the Annotate_rows, Table_map and Rows events of every transaction carry
 * end_log_pos 0 (MDEV-31273). A busy binlog is archived cleanly; a flipped byte in one of those
 * row events is then reported as damage (exit 12, the event and both checksums named), so the
 * relaxed position check lets no damage through. A backup taken while a transaction has spilled
 * its cache into {@code #binlog_cache_files/} stores neither that directory nor the GTID index
 * files beside the binlogs. Skipped on servers older than 11.4, which write every position.
 */
class BinlogPositionsIT {
    private static final int TABLE_MAP = 19;
    private static final List<Integer> ROWS = List.of(23, 24, 25, 30, 31, 32);

    /** One event header of a binlog file: where it is, its type and size, the log_pos the server wrote. */
    private record Header(long offset, int type, long size, long logPos) {}

    @Test
    void rowEventsWithoutPositionArchiveAndTheirDamageIsFound() throws Exception {
        Path work = ItSupport.tempDir("binlog-pos-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            Assumptions.assumeTrue(source.versionAtLeast(11, 4), "MariaDB " + source.version() + " writes end_log_pos in every event (before 11.4)");
            assertEquals(List.of(List.of("0", "1")), source.query("SELECT @@binlog_legacy_event_pos, @@binlog_gtid_index"));
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String file = source.binlogPosition().file();
            Path binlog = source.binlogBasename().resolveSibling(file);

            // a busy binlog, archived while the load runs and once more after it
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                Thread.sleep(2000);
                PitrSupport.archiveOnce(repo, source);
                Thread.sleep(1000);
                w.stop();
            }
            BinlogPosition end = source.binlogPosition();
            StrataCli.Result arch = PitrSupport.archiveOnce(repo, source);
            assertTrue(arch.out().contains("; the archive ends at " + end + "\n"), arch.toString());
            assertTrue(Files.exists(source.binlogBasename().resolveSibling(file + ".idx")), "binlog_gtid_index writes " + file + ".idx");
            List<Header> archived = headers(binlog, end.position());
            long unpositioned = archived.stream().filter(h -> h.logPos() == 0 && (h.type() == TABLE_MAP || ROWS.contains(h.type()))).count();
            assertTrue(unpositioned > 200, "row and table map events with end_log_pos 0 archived: " + unpositioned);
            assertTrue(archived.stream().anyMatch(h -> h.logPos() == h.offset() + h.size()), "and events with their position");

            // a backup while a transaction's cache has spilled to #binlog_cache_files/
            Path cacheDir = source.binlogBasename().resolveSibling("#binlog_cache_files");
            try (Connection open = source.connection(); Statement st = open.createStatement()) {
                open.setAutoCommit(false);
                st.execute("USE app"); // the sequence engine (seq_1_to_N) needs a current database
                st.execute("CREATE TABLE app.spill (id INT PRIMARY KEY, v VARCHAR(1000)) ENGINE=InnoDB");
                st.execute("INSERT INTO app.spill SELECT seq, REPEAT('s', 1000) FROM seq_1_to_200");
                try (Stream<Path> s = Files.list(cacheDir)) {
                    assertFalse(s.toList().isEmpty(), "a cache file in " + cacheDir);
                }
                String id = ItSupport.backup(repo, source, "--type", "full");
                open.rollback();
                JsonNode m = ItSupport.manifest(repo, id);
                List<String> paths = new ArrayList<>();
                for (JsonNode f : m.get("files")) {
                    paths.add(f.get("path").asText());
                }
                assertTrue(paths.contains("app/t_myisam.MYD"), paths.toString());
                assertTrue(paths.stream().noneMatch(p -> p.startsWith("#binlog_cache_files") || p.startsWith("binlog.")), paths.toString());
            }

            // more load, then a flipped byte in the middle of a row event without position that
            // the archive does not hold yet
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).seed(2).start()) {
                Thread.sleep(2000);
                w.stop();
            }
            BinlogPosition after = source.binlogPosition();
            assertEquals(file, after.file(), "no rotation in this test");
            List<Header> fresh = headers(binlog, after.position()).stream()
                    .filter(h -> h.offset() >= end.position() && h.logPos() == 0 && ROWS.contains(h.type())).toList();
            assertTrue(fresh.size() > 100, "new row events without position: " + fresh.size());
            Header victim = fresh.get(fresh.size() / 2);
            byte[] event = read(binlog, victim.offset(), (int) victim.size());
            long stored = ByteBuffer.wrap(event, event.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            event[event.length / 2] ^= 0x04;
            write(binlog, victim.offset() + event.length / 2, event[event.length / 2]);
            CRC32 crc = new CRC32();
            crc.update(event, 0, event.length - 4);

            StrataCli.Result bad = StrataCli.run("binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--once");
            assertEquals(12, bad.exit(), bad.toString());
            List<String> errors = bad.err().lines().filter(l -> l.startsWith("ERROR") || l.startsWith("HINT")).toList();
            assertEquals(List.of(String.format("ERROR [corrupt-data]: event of type %d and size %d fails its CRC-32: stored 0x%08x, computed 0x%08x (resource=%s offset %d)",
                            victim.type(), victim.size(), stored, crc.getValue(), binlog, victim.offset()),
                    "HINT: the binary log is damaged or is not a MariaDB binary log"), errors, bad.toString());
            assertFalse(bad.err().contains("\tat "), "stack trace printed: " + bad);
            // nothing of the damaged range was stored: the archive still ends where it ended
            JsonNode win = PitrSupport.windows(repo);
            JsonNode to = win.get("archived").get(win.get("archived").size() - 1).get("to");
            assertEquals(end.toString(), to.get("binlogFile").asText() + ":" + to.get("binlogPosition").asLong(), win.toString());
        }
    }

    /** The event headers of a binlog file up to {@code end}, offsets and sizes as the file has them. */
    private static List<Header> headers(Path binlog, long end) throws IOException {
        List<Header> out = new ArrayList<>();
        ByteBuffer h = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(binlog, StandardOpenOption.READ)) {
            long at = 4;
            while (at < end) {
                h.clear();
                ch.read(h, at);
                Header e = new Header(at, h.get(4) & 0xff, h.getInt(9) & 0xffffffffL, h.getInt(13) & 0xffffffffL);
                out.add(e);
                at += e.size();
            }
            assertEquals(end, at, "events end at " + end);
        }
        return out;
    }

    private static byte[] read(Path p, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.read(b, at);
        }
        return b.array();
    }

    private static void write(Path p, long at, byte value) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {value}), at);
        }
    }
}
