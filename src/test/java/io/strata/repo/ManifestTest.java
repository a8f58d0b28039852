package io.strata.repo;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestTest {
    private static final SourceInfo SRC = new SourceInfo("h:3306:/d", "h", 1, "10.11.19-MariaDB", "/d", 16384, 100 << 20, 0,
            "ibdata1:12M:autoextend", "full_crc32");
    private static final FileEntry FILE = new FileEntry("db/t.ibd", "innodb", 5L, 21, 65536, 4, FileEntry.DELTA, 2, "data/000001", 123, "0a0b0c0d");

    private static Manifest every() {
        return new Manifest(1, "20260101T000000Z-0001", "incremental", "20251231T000000Z-0001", "strata 1.0", "2026-01-01T00:00:00Z",
                "2026-01-01T00:01:00Z", SRC, 100, 101, 200, 210, 1 << 20, "redo", "binlog.000002", 4096L, "0-1-7", "0-1-8",
                List.of(FILE), 65536 + 110, 500, 90L, "redo", "a note", "zstd:1", "aes-256-gcm", new Detection(2, 4, 2L, 110, 0, 0), "0a1b2c3d", LINEAGE, KEYS, LAYOUT,
                "00000001000000010102030405060708090a0b0c0d0e0f10a1a2a3a4", SCOPE, 1);
    }

    private static final Scope SCOPE = new Scope(List.of("shop", "crm.users"), List.of(), List.of(), List.of("\\.tmp_"));

    private static final KeyManagement KEYS = new KeyManagement(true, List.of("db/t.ibd is encrypted (INNODB_TABLESPACES_ENCRYPTION)"),
            List.of("db/t.ibd"), List.of(new KeyManagement.Plugin("file_key_management", "file_key_management.so",
                    pluginVariables(), List.of("file_key_management_filekey"))),
            java.util.Map.of("innodb_encrypt_tables", "OFF"));

    private static java.util.Map<String, String> pluginVariables() {
        java.util.Map<String, String> v = new java.util.TreeMap<>();
        v.put("file_key_management_filename", "/etc/keys.txt");
        v.put("file_key_management_filekey", null); // a secret: named, never recorded
        return v;
    }

    private static final InnodbLayout LAYOUT = new InnodbLayout("./ibdata/", "/srv/redo", "undo", "/d/ibdata", "/srv/redo", "/d/undo");

    private static final Lineage LINEAGE = new Lineage(Lineage.FORMAT, 1, "0123456789abcdef0123456789abcdef", "20251230T000000Z-0001", "/r", null,
            "2025-12-30T01:00:00Z");

    @Test
    void theBuilderSetsEveryFieldByName() {
        Manifest m = every();
        Manifest b = Manifest.builder().formatVersion(1).id(m.id()).type(m.type()).parent(m.parent()).tool(m.tool()).beginTime(m.beginTime())
                .endTime(m.endTime()).source(SRC).startLsn(100).startEndLsn(101).endLsn(200).redoEndLsn(210).redoCapacity(1 << 20)
                .redoObject("redo").binlogFile("binlog.000002").binlogPosition(4096L).gtidBinlogPos("0-1-7").gtidCurrentPos("0-1-8")
                .files(List.of(FILE)).rawBytes(65536 + 110).storedBytes(500).threshold(90L).method("redo").note("a note")
                .compression("zstd:1").encryption("aes-256-gcm").detection(new Detection(2, 4, 2L, 110, 0, 0)).redoCrc32c("0a1b2c3d").lineage(LINEAGE).keyManagement(KEYS).innodbLayout(LAYOUT)
                .redoLogCrypt(m.redoLogCrypt()).scope(SCOPE).lowerCaseTableNames(1).build();
        assertEquals(m, b);
        assertEquals(m, m.toBuilder().build());
        assertEquals("M2", m.toBuilder().id("M2").build().id());
    }

    @Test
    void unsetFieldsAreEmptyAndTheVersionIsCurrent() {
        Manifest m = Manifest.builder().id("x").type(Manifest.TYPE_FULL).build();
        assertEquals(Manifest.PLAIN_FORMAT_VERSION, m.formatVersion()); // no reference entry: what every strata reads
        assertEquals(List.of(), m.files());
        assertEquals(null, m.threshold());
        assertEquals(0, m.startLsn());
        assertTrue(m.isFull());
        assertFalse(every().isFull());
    }

    /** A manifest written before the redo digest existed reads with a null digest (readers then check the length and every mini-transaction only). */
    @Test
    void aManifestWithoutTheRedoDigestStillReads() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.valueToTree(every());
        n.remove("redoCrc32c");
        Manifest old = Json.MAPPER.treeToValue(n, Manifest.class);
        assertEquals(null, old.redoCrc32c());
        assertEquals(every().toBuilder().redoCrc32c(null).build(), old);
    }

    /**
     * A manifest written before the InnoDB layout was recorded reads with no layout and file entries without a home
     * (every file in the data directory); one written now keeps both through JSON.
     */
    @Test
    void theLayoutAndFileHomesRoundTripAndAreOptional() throws Exception {
        FileEntry undo = new FileEntry("undo001", "innodb", 1L, 21, 65536, 4, FileEntry.WHOLE, 0, "data/000002", 99, "01020304")
                .withHome(InnodbLayout.UNDO_HOME);
        Manifest m = every().toBuilder().files(List.of(FILE, undo)).build();
        Manifest back = Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(m), Manifest.class);
        assertEquals(m, back);
        assertEquals(InnodbLayout.UNDO_HOME, back.files().get(1).home());
        assertFalse(back.innodbLayout().isDefault(java.nio.file.Path.of("/d")));
        assertTrue(new InnodbLayout("", "./", "./", "/d", "/d", "/d").isDefault(java.nio.file.Path.of("/d")));
        com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.valueToTree(m);
        n.remove("innodbLayout");
        ((com.fasterxml.jackson.databind.node.ObjectNode) n.get("files").get(1)).remove("home");
        Manifest old = Json.MAPPER.treeToValue(n, Manifest.class);
        assertEquals(null, old.innodbLayout());
        assertEquals(null, old.files().get(1).home());
    }

    /** A manifest written before lineage existed reads with a null lineage: the origin (never restored by strata). */
    @Test
    void aManifestWithoutALineageIsOfTheOrigin() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.valueToTree(every());
        assertEquals("0123456789abcdef0123456789abcdef", n.get("lineage").get("lineage").asText());
        n.remove("lineage");
        Manifest old = Json.MAPPER.treeToValue(n, Manifest.class);
        assertEquals(null, old.lineageId());
        assertEquals(every().toBuilder().lineage(null).build(), old);
    }

    /** A manifest written before partial backups reads as one of the whole server; a scope survives JSON. */
    @Test
    void theScopeRoundTripsAndIsOptional() throws Exception {
        Manifest back = Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(every()), Manifest.class);
        assertEquals(SCOPE, back.scope());
        com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.valueToTree(every());
        n.remove("scope");
        assertEquals(every().toBuilder().scope(null).build(), Json.MAPPER.treeToValue(n, Manifest.class));
    }

    /** lower_case_table_names survives JSON; a manifest written before the field reads it as null (restore treats that as 0). */
    @Test
    void lowerCaseTableNamesRoundTripsAndIsOptional() throws Exception {
        Manifest back = Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(every()), Manifest.class);
        assertEquals(1, back.lowerCaseTableNames());
        com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.valueToTree(every());
        n.remove("lowerCaseTableNames");
        Manifest old = Json.MAPPER.treeToValue(n, Manifest.class);
        assertEquals(null, old.lowerCaseTableNames());
        assertEquals(every().toBuilder().lowerCaseTableNames(null).build(), old);
    }

    /**
     * The stored format: the record's components, in their order but "files" last (a reader of the
     * head stops there: docs/repository-format.md [48]), and nothing else (no "full" from isFull()).
     */
    @Test
    void theJsonHoldsTheRecordComponentsInOrderWithTheFilesLast() throws Exception {
        JsonNode n = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(every()));
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        List<String> expected = new ArrayList<>(Arrays.stream(Manifest.class.getRecordComponents()).map(RecordComponent::getName).toList());
        expected.remove("files");
        expected.add("files");
        assertEquals(expected, names);
        assertEquals(every(), Json.MAPPER.treeToValue(n, Manifest.class));
    }
}
