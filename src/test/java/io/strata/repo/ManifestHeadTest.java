package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Repository#manifestHead}: the manifest without its file entries, equal to the whole
 * manifest's other members; from a manifest written now ("files" last) it stops where the files
 * begin, and from one written before (the files among the other members) it reads past them.
 */
class ManifestHeadTest {
    @TempDir
    Path dir;

    /** A manifest of {@code n} tables: two file entries each, about 300 bytes of JSON apiece, so several 1 MiB chunks. */
    private static Manifest manifest(String id, int n) {
        List<FileEntry> files = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            files.add(new FileEntry("db" + t % 50 + "/t" + t + ".ibd", "innodb", (long) t + 10, 0x15, 65536, 4, FileEntry.WHOLE, 0, "data/" + t, 100, "0000000a"));
            files.add(new FileEntry("db" + t % 50 + "/t" + t + ".frm", "file", null, null, 900, 0, FileEntry.WHOLE, 0, "data/f" + t, 900, "00000000"));
        }
        SourceInfo src = new SourceInfo("db1:3306:/var/lib/mysql", "db1", 1, "10.11", "/var/lib/mysql", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        return Manifest.builder().id(id).type("full").tool("test").beginTime("2026-01-01T00:00:00Z").endTime("2026-01-01T00:00:09Z").source(src)
                .startLsn(100).startEndLsn(100).endLsn(200).redoEndLsn(200).redoCapacity(1 << 20).redoObject("redo").binlogFile("binlog.000003")
                .binlogPosition(400L).gtidBinlogPos("0-1-7").rawBytes(12345).storedBytes(678).note("a note")
                .lineage(Lineage.restored("20251231T000000Z-0001", "/srv/repo", null))
                .scope(Scope.parse("db1,db2", null, null, null)).files(files).build();
    }

    private static Manifest withoutFiles(Manifest m) {
        return m.toBuilder().files(List.of()).build();
    }

    @Test
    void theHeadOfAManifestWrittenNowStopsWhereTheFilesBegin() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        Manifest m = manifest("20260101T000000Z-0001", 8000);
        r.writeManifest(m);
        Path stored = dir.resolve("repo/" + Keys.manifest(m.id()));
        assertTrue(Files.size(stored) > 3 << 20, "several chunks: " + Files.size(stored));
        assertEquals(withoutFiles(r.manifest(m.id())), r.manifestHead(m.id()));
        assertEquals(m.lineageId(), r.manifestHead(m.id()).lineageId());
        assertEquals(List.of(), r.manifestHead(m.id()).files());

        // damage in the last chunk: the whole read finds it, the head read never gets there
        try (FileChannel ch = FileChannel.open(stored, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = ch.size() - 40;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x5a)).position(0);
            ch.write(b, at);
        }
        StrataException e = assertThrows(StrataException.class, () -> r.manifest(m.id()));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertEquals(withoutFiles(m), r.manifestHead(m.id()));
    }

    @Test
    void theHeadOfAManifestWithTheFilesAmongTheOtherMembersIsReadPastThem() throws Exception {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        Manifest m = manifest("20260101T000000Z-0002", 3000);
        // the order strata wrote before: the file entries after gtidCurrentPos, the other members after them
        @SuppressWarnings("unchecked")
        Map<String, Object> all = Json.MAPPER.convertValue(m, Map.class);
        Map<String, Object> old = new LinkedHashMap<>();
        for (Map.Entry<String, Object> x : all.entrySet()) {
            if (!x.getKey().equals("files")) {
                old.put(x.getKey(), x.getValue());
            }
            if (x.getKey().equals("gtidCurrentPos")) {
                old.put("files", all.get("files"));
            }
        }
        r.writeJson(Keys.manifest(m.id()), "manifest", old);
        String json = new String(Files.readAllBytes(dir.resolve("repo/" + Keys.manifest(m.id()))), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(json.indexOf("\"files\"") < json.indexOf("\"lineage\""), "files before lineage, as written before");
        assertEquals(m, r.manifest(m.id()));
        assertEquals(withoutFiles(m), r.manifestHead(m.id()));
    }
}
