package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.TableChecksums;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The consistency oracle of design.md "Testing", shared by the integration tests. */
final class ItSupport {
    static final ObjectMapper JSON = new ObjectMapper();

    private ItSupport() {}

    /** A source that keeps binlogs and has a small redo log, so that a backup under load wraps it. */
    private static final java.util.regex.Pattern MEMBER = java.util.regex.Pattern.compile("(pack/\\d+)@(\\d+)\\+(\\d+)");

    /**
     * Where the bytes of object {@code object} (a manifest's name) of backup {@code id} lie in the
     * local repository {@code repo}: its file, and for a pack member ({@code pack/NNNNNN@OFFSET+LENGTH},
     * docs/repository-format.md "Packs") the range in the pack; else the whole file.
     */
    static StoredAt storedAt(Path repo, String id, String object) throws IOException {
        Path dir = repo.resolve("backups").resolve(id).toAbsolutePath().normalize();
        java.util.regex.Matcher m = MEMBER.matcher(object);
        if (m.matches()) {
            return new StoredAt(dir.resolve(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), true);
        }
        Path f = dir.resolve(object);
        return new StoredAt(f, 0, Files.size(f), false);
    }

    /** The bytes of one stored object ({@link #storedAt}): a file, or a member's range of a pack. */
    record StoredAt(Path file, long offset, long length, boolean member) {
        /** How strata's messages name the object: the path, for a member followed by {@code @OFFSET+LENGTH}. */
        String named() {
            return member ? file + "@" + offset + "+" + length : file.toString();
        }

        /** The object's bytes. */
        byte[] bytes() throws IOException {
            try (var ch = java.nio.channels.FileChannel.open(file)) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) length);
                while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                    // positional reads until the range is read
                }
                return b.array();
            }
        }

        /** XORs the object's byte at {@code at} (from its start) with {@code mask}, in place. */
        void flip(long at, int mask) throws IOException {
            assertTrue(at >= 0 && at < length, at + " outside " + named());
            try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
                ch.read(one, offset + at);
                one.put(0, (byte) (one.get(0) ^ mask)).rewind();
                ch.write(one, offset + at);
            }
        }

        /** Cuts the file after byte {@code at} of the object (for a member, every later byte of its pack goes too). */
        void truncateAt(long at) throws IOException {
            try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(offset + at);
            }
        }
    }

    /**
     * The entries of manifest {@code manifest} (JSON) whose own stored bytes end beyond byte
     * {@code cut} of pack file {@code file}: what a cut of that pack there damages.
     */
    static List<String> cutBy(Path repo, String id, JsonNode manifest, Path file, long cut) throws IOException {
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode f : manifest.get("files")) {
            if (f.hasNonNull("ref")) {
                continue;
            }
            java.util.regex.Matcher m = MEMBER.matcher(f.get("object").asText());
            if (m.matches() && storedAt(repo, id, f.get("object").asText()).file().equals(file)
                    && Long.parseLong(m.group(2)) + Long.parseLong(m.group(3)) > cut) {
                out.add(f.get("path").asText());
            }
        }
        return out;
    }

    static MariaDbSandbox source() {
        MariaDbSandbox.requireMariaDb();
        return MariaDbSandbox.builder().logBin(true).innodbLogFileSize("8M")
                .extraArgs("--innodb-log-buffer-size=1M").start();
    }

    /**
     * {@code strata list --json}, run in this JVM ({@link StrataCli#inProcess}): the tests read
     * the list as their oracle, and a JVM start per look cost more than the commands under test;
     * the command itself is tested in a JVM of its own elsewhere (JsonOutputIT, ErrorsIT).
     * {@code extra}: options every command needs, such as the key of an encrypted repository.
     */
    static JsonNode list(Path repo, String... extra) throws IOException {
        StrataCli.Result r = StrataCli.inProcess(concat(new String[] {"list", "--repo", repo.toString(), "--json"}, extra));
        assertEquals(0, r.exit(), r.toString());
        return JSON.readTree(r.out());
    }

    /** {@code strata show ID --json}, in this JVM as {@link #list}. */
    static JsonNode manifest(Path repo, String id, String... extra) throws IOException {
        StrataCli.Result r = StrataCli.inProcess(concat(new String[] {"show", "--repo", repo.toString(), id, "--json"}, extra));
        assertEquals(0, r.exit(), r.toString());
        return JSON.readTree(r.out());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static String backup(Path repo, MariaDbSandbox source, String... extra) {
        return completedId(StrataCli.run(concat(new String[] {"backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root"}, extra)));
    }

    /** The id of the backup a successful "strata backup" printed. */
    static String completedId(StrataCli.Result r) {
        assertEquals(0, r.exit(), r.toString());
        String line = r.out().lines().filter(l -> l.startsWith("backup ")).findFirst().orElseThrow();
        return line.split(" ")[1];
    }

    /**
     * Restores {@code id}, starts a server on it, replays the source's binlog from
     * {@code binlogFile:position}, and returns the restored server (caller closes it).
     */
    static MariaDbSandbox restoreAndReplay(Path repo, String id, Path target, MariaDbSandbox source, String binlogFile, long position) {
        return restoreAndReplay(repo, id, target, source, binlogFile, position, false);
    }

    /**
     * With {@code idempotent}, row events that find no matching row are skipped instead of
     * stopping the replay: the negative control replays from a wrong position and must end in
     * different tables, not in an error.
     */
    static MariaDbSandbox restoreAndReplay(Path repo, String id, Path target, MariaDbSandbox source, String binlogFile, long position,
                                           boolean idempotent, String... extra) {
        StrataCli.Result r = StrataCli.run(concat(new String[] {"restore", "--repo", repo.toString(), "--backup", id, "--target", target.toString()}, extra));
        assertEquals(0, r.exit(), r.toString());
        return startAndReplay(target, source, binlogFile, position, idempotent);
    }

    /** Starts a server on a restored data directory and replays the source's binlog from {@code binlogFile:position}. */
    static MariaDbSandbox startAndReplay(Path target, MariaDbSandbox source, String binlogFile, long position, boolean idempotent) {
        // a large transaction's row events arrive as one BINLOG statement, larger than the default 16 MiB
        MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs("--max-allowed-packet=1G").start();
        if (idempotent) {
            restored.exec("SET GLOBAL slave_exec_mode = 'IDEMPOTENT'");
        }
        BinlogReplay.replay(source, binlogFile, position, restored.socket());
        return restored;
    }

    /** Asserts the restored server equals the source table by table and that CHECK TABLE is clean. */
    static void assertSameData(MariaDbSandbox source, MariaDbSandbox restored, String... dbs) throws SQLException {
        try (Connection a = source.connection(); Connection b = restored.connection()) {
            Map<String, String> expected = TableChecksums.of(a, dbs);
            Map<String, String> actual = TableChecksums.of(b, dbs);
            assertTrue(expected.size() >= 5, "too few tables compared: " + expected.keySet());
            TableChecksums.assertSame(expected, actual);
            List<String> problems = TableChecksums.checkTables(b, dbs);
            assertTrue(problems.isEmpty(), "CHECK TABLE on the restored server: " + problems);
        }
    }

    static Path tempDir(String prefix) throws IOException {
        Path base = Path.of("target", "it-work");
        Files.createDirectories(base);
        Path dir = Files.createTempDirectory(base.toAbsolutePath(), prefix);
        WorkDirs.created(dir);
        return dir;
    }

    /**
     * Waits (up to 60 s) until the server's checkpoint has passed the log end LSN it had when this
     * was called, so that a backup taken next finds every change made before in its pages, not only
     * in the redo log after its checkpoint (with innodb_max_dirty_pages_pct = 0 the page cleaner
     * gets there within a second or two; a fixed sleep was sometimes too short).
     */
    static void waitForCheckpoint(MariaDbSandbox source) throws InterruptedException {
        long target = statusLong(source, "Innodb_lsn_current");
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (statusLong(source, "Innodb_lsn_last_checkpoint") < target) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the checkpoint of " + source.socket() + " did not reach LSN " + target + " in 60 s");
            }
            Thread.sleep(100);
        }
    }

    private static long statusLong(MariaDbSandbox source, String name) {
        return Long.parseLong(source.query("SHOW GLOBAL STATUS LIKE '" + name + "'").get(0).get(1));
    }
}
