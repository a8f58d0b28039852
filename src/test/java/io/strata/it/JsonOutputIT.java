package io.strata.it;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README "Machine-readable output": every command given --json prints exactly one JSON document on
 * stdout, also when it fails ({"ok":false,"error":{...}} with the exit code unchanged). One server,
 * one small repository with a full and an incremental backup; the commands run in this JVM (binlog
 * archive, which installs signal handlers, in its own).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JsonOutputIT {
    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private MariaDbSandbox source;
    private Path work;
    private Path repo;
    private String full;
    private String incr;
    /** gtid_binlog_pos after the one transaction between the full and the incremental (the incremental's). */
    private String pitGtid;

    record Run(int exit, String out, String err, JsonNode doc) {
        @Override
        public String toString() {
            return "exit=" + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** One command: its arguments (from the prepared state), its exit code and what its document must hold. */
    record Case(String name, Function<JsonOutputIT, List<String>> args, int exit, BiConsumer<JsonOutputIT, Run> check) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    void prepare() throws Exception {
        work = ItSupport.tempDir("json-");
        repo = work.resolve("repo");
        source = ItSupport.source();
        try (var c = source.connection()) {
            SampleSchema.create(c, "app");
            SampleSchema.loadRows(c, "app", 1_000);
        }
        Run f = strata("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--type", "full", "--json");
        assertEquals(0, f.exit(), f.toString());
        full = f.doc().get("id").asText();
        assertEquals("full", f.doc().get("type").asText());
        assertTrue(f.doc().get("parent").isNull(), f.toString());
        assertTrue(f.err().contains("backup " + full + " completed: full"), "the human text goes to stderr: " + f);
        source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 300");
        pitGtid = source.query("SELECT @@gtid_binlog_pos").get(0).get(0);
    }

    @AfterAll
    void stop() {
        if (source != null) {
            source.close();
        }
    }

    /** The incremental, with --progress=json too: its end event carries the same result object. */
    @Test
    @Order(1)
    void backupResultAndProgressEndEvent() throws Exception {
        Run r = strata("backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--type", "incremental",
                "--progress", "json", "--json");
        assertEquals(0, r.exit(), r.toString());
        JsonNode d = r.doc();
        incr = d.get("id").asText();
        assertTrue(d.get("ok").asBoolean());
        assertEquals("incremental", d.get("type").asText());
        assertEquals(full, d.get("parent").asText());
        assertTrue(d.get("serverKey").asText().contains(":" + source.query("SELECT @@port").get(0).get(0) + ":"), d.toString());
        assertTrue(d.get("startLsn").asLong() > 0 && d.get("endLsn").asLong() >= d.get("startLsn").asLong(), d.toString());
        assertEquals(source.binlogPosition().file(), d.get("binlogFile").asText(), "no binlog rotation since: " + d);
        assertTrue(d.get("binlogPosition").asLong() > 0 && d.get("binlogPosition").asLong() <= source.binlogPosition().position(), d.toString());
        assertTrue(d.get("gtidBinlogPos").isTextual() && d.has("gtidCurrentPos"), d.toString());
        assertTrue(d.get("storedBytes").asLong() > 0 && d.get("rawBytes").asLong() >= d.get("storedBytes").asLong() / 2, d.toString());
        assertTrue(d.get("durationSeconds").asDouble() > 0, d.toString());
        assertEquals(0, d.get("warnings").size());
        List<String> events = r.err().lines().filter(l -> l.startsWith("{")).toList();
        JsonNode end = STRICT.readTree(events.get(events.size() - 1));
        assertEquals("end", end.get("event").asText());
        assertEquals("completed", end.get("state").asText());
        assertEquals(d, end.get("result"), "the end event carries the result object");
    }

    /** A failed backup: the failure document on stdout, the ERROR line on stderr, the end event with the error. */
    @Test
    @Order(5)
    void failedBackupEndEventCarriesTheError() throws Exception {
        Run r = strata("backup", "--repo", repo.toString(), "--socket", work.resolve("no.sock").toString(), "--user", "root",
                "--progress", "json", "--json");
        assertEquals(15, r.exit(), r.toString());
        assertEquals(false, r.doc().get("ok").asBoolean());
        JsonNode e = r.doc().get("error");
        assertEquals("server-unreachable", e.get("id").asText());
        assertEquals(15, e.get("exitCode").asInt());
        assertTrue(r.err().contains("ERROR [server-unreachable]: " + e.get("message").asText()), r.toString());
        JsonNode end = STRICT.readTree(r.err().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
        assertEquals("end", end.get("event").asText());
        assertEquals("failed", end.get("state").asText());
        assertEquals(e, end.get("error"));
    }

    /** binlog archive --once in its own process (it installs signal handlers): one final object. */
    @Test
    @Order(3)
    void binlogArchiveOnce() throws Exception {
        StrataCli.Result p = StrataCli.run("binlog", "archive", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root",
                "--once", "--json");
        assertEquals(0, p.exit(), p.toString());
        JsonNode d = STRICT.readTree(p.out());
        assertTrue(d.get("ok").asBoolean(), p.toString());
        assertTrue(d.get("segments").asLong() >= 1 && d.get("bytes").asLong() > 0, p.toString());
        assertTrue(d.get("end").asText().startsWith(source.binlogPosition().file() + ":"), p.toString());
        assertEquals(0, d.get("gaps").size());
    }

    /** A damaged object: verify's failure document keeps the report and the problems. */
    @Test
    @Order(6)
    void failedVerifyKeepsTheReport() throws Exception {
        Path object;
        try (Stream<Path> files = Files.walk(repo.resolve("backups"))) {
            object = files.filter(Files::isRegularFile).filter(f -> f.getParent().getParent().getFileName().toString().equals("data"))
                    .max(java.util.Comparator.comparingLong(f -> f.toFile().length())).orElseThrow();
        }
        byte[] b = Files.readAllBytes(object);
        b[40 + 4 + 100] ^= 0x5a;
        Files.write(object, b);
        Run r = strata("verify", "--repo", repo.toString(), "--json");
        assertEquals(12, r.exit(), r.toString());
        JsonNode d = r.doc();
        assertFalse(d.get("ok").asBoolean());
        assertEquals("corrupt-data", d.get("error").get("id").asText());
        assertEquals(12, d.get("error").get("exitCode").asInt());
        assertTrue(d.get("problems").size() >= 1 && d.get("error").get("message").asText().endsWith(d.get("problems").get(0).asText()), r.toString());
        assertTrue(d.get("report").toString().contains("FAILED "), r.toString());
        assertTrue(r.err().contains("ERROR [corrupt-data]: " + d.get("error").get("message").asText()), r.toString());
    }

    Stream<Case> commands() {
        return Stream.of(
                new Case("list", t -> List.of("list", "--repo", t.repo.toString(), "--json"), 0, (t, r) -> {
                    List<String> ids = new ArrayList<>();
                    r.doc().forEach(h -> ids.add(h.get("id").asText()));
                    assertEquals(t.full, ids.get(0));
                    assertTrue(ids.contains(t.incr), ids.toString());
                }),
                new Case("list --windows", t -> List.of("list", "--repo", t.repo.toString(), "--windows", "--json"), 0,
                        (t, r) -> assertTrue(r.doc().isArray() && r.doc().size() == 1, r.toString())),
                new Case("show", t -> List.of("show", "--repo", t.repo.toString(), t.incr, "--json"), 0, (t, r) -> {
                    assertEquals(t.incr, r.doc().get("id").asText());
                    assertEquals(t.full, r.doc().get("parent").asText());
                }),
                new Case("show NOSUCH", t -> List.of("show", "--repo", t.repo.toString(), "NOSUCH", "--json"), 19, (t, r) -> {
                    assertEquals(false, r.doc().get("ok").asBoolean());
                    assertEquals("backup-not-found", r.doc().get("error").get("id").asText());
                    assertEquals(19, r.doc().get("error").get("exitCode").asInt());
                    assertTrue(r.err().startsWith("ERROR [backup-not-found]: " + r.doc().get("error").get("message").asText()), r.toString());
                    String hint = r.doc().get("error").get("hint").asText(null);
                    assertTrue(hint == null || r.err().contains("HINT: " + hint), r.toString());
                }),
                new Case("usage error", t -> List.of("list", "--repo", t.repo.toString(), "--json", "--no-such-option"), 2, (t, r) -> {
                    assertEquals("usage", r.doc().get("error").get("id").asText());
                    assertEquals("see \"strata list --help\"", r.doc().get("error").get("hint").asText());
                }),
                new Case("verify", t -> List.of("verify", "--repo", t.repo.toString(), "--json"), 0, (t, r) -> {
                    assertTrue(r.doc().get("ok").asBoolean());
                    String report = r.doc().get("report").toString();
                    assertTrue(report.contains("ok     " + t.full + " (full)") && report.contains("ok     " + t.incr + " (incremental)"), report);
                }),
                new Case("status", t -> List.of("status", "--repo", t.repo.toString(), "--json"), 0, (t, r) -> {
                    assertFalse(r.doc().get("running").asBoolean());
                    assertEquals(t.incr, r.doc().get("id").asText());
                }),
                new Case("track --once", t -> List.of("track", "--repo", t.repo.toString(), "--socket", t.source.socket().toString(), "--user", "root",
                        "--once", "--json"), 0, (t, r) -> {
                    assertTrue(r.doc().get("ok").asBoolean());
                    assertTrue(r.doc().get("to").asLong() >= r.doc().get("from").asLong(), r.toString());
                    assertEquals(0, r.doc().get("gaps").size());
                }),
                new Case("config show", t -> List.of("config", "show", "--command", "restore", "--json"), 0, (t, r) -> {
                    List<String> names = new ArrayList<>();
                    r.doc().get("options").forEach(o -> names.add(o.get("option").asText()));
                    assertTrue(names.contains("--target") && names.contains("--json"), names.toString());
                    assertEquals("restore", r.doc().get("command").asText());
                }),
                new Case("restore", t -> List.of("restore", "--repo", t.repo.toString(), "--backup", t.incr, "--target", t.work.resolve("restored").toString(),
                        "--no-recover", "--json"), 0, (t, r) -> {
                    JsonNode d = r.doc();
                    assertEquals(t.incr, d.get("backup").asText());
                    assertEquals(t.work.resolve("restored").toAbsolutePath().toString(), d.get("target").asText());
                    assertTrue(d.get("pointInTime").isNull());
                    assertTrue(d.get("bytesWritten").asLong() > 0 && d.get("files").asLong() > 0, d.toString());
                    assertFalse(d.get("recovered").asBoolean());
                    assertTrue(d.get("binlogPosition").asText().contains(":"), d.toString());
                }),
                new Case("restore into a non-empty directory", t -> List.of("restore", "--repo", t.repo.toString(), "--target",
                        t.work.resolve("restored").toString(), "--no-recover", "--json"), 18,
                        (t, r) -> assertEquals("target-not-empty", r.doc().get("error").get("id").asText())),
                new Case("restore --until-gtid", t -> List.of("restore", "--repo", t.repo.toString(), "--until-gtid", t.pitGtid,
                        "--target", t.work.resolve("pit").toString(), "--json"), 0, (t, r) -> {
                    JsonNode d = r.doc();
                    assertEquals(t.incr, d.get("backup").asText(), "the incremental was taken at that GTID: " + r);
                    assertEquals("GTID " + t.pitGtid, d.get("pointInTime").get("target").asText());
                    assertEquals(0, d.get("pointInTime").get("transactions").asLong(), r.toString());
                    assertEquals(d.get("pointInTime").get("from").asText(), d.get("binlogPosition").asText(), r.toString());
                    assertEquals(t.pitGtid, d.get("gtidBinlogPos").asText());
                    assertTrue(d.get("recovered").asBoolean() && d.get("bytesWritten").asLong() > 0, d.toString());
                }),
                new Case("prune --dry-run", t -> List.of("prune", "--repo", t.repo.toString(), "--keep-full", "1", "--dry-run", "--json"), 0, (t, r) -> {
                    assertTrue(r.doc().get("dryRun").asBoolean());
                    assertTrue(r.doc().get("kept").has(t.full) && r.doc().get("kept").has(t.incr), r.toString());
                    assertEquals(0, r.doc().get("removed").size());
                }),
                new Case("merge", t -> List.of("merge", "--repo", t.repo.toString(), t.incr, "--json"), 0, (t, r) -> {
                    assertEquals(t.incr, r.doc().get("merged").asText());
                    assertFalse(List.of(t.full, t.incr).contains(r.doc().get("id").asText()), "a new backup holds the merged state: " + r);
                    assertEquals("full", r.doc().get("type").asText());
                    assertTrue(r.doc().get("parent").isNull() && r.doc().get("storedBytes").asLong() > 0, r.toString());
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    @Order(4)
    void everyCommandPrintsOneJsonDocument(Case c) {
        Run r = strata(c.args().apply(this).toArray(String[]::new));
        assertEquals(c.exit(), r.exit(), r.toString());
        if (c.exit() != 0) {
            assertFalse(r.doc().get("ok").asBoolean(), r.toString());
            assertEquals(c.exit(), r.doc().get("error").get("exitCode").asInt(), r.toString());
        } else if (r.doc().has("ok")) {
            assertTrue(r.doc().get("ok").asBoolean(), r.toString());
        }
        c.check().accept(this, r);
    }

    /** Runs strata in this JVM; stdout must be exactly one JSON document. */
    static Run strata(String... args) {
        StrataCli.Result r = StrataCli.inProcess(args);
        int exit = r.exit();
        String o = r.out();
        String e = r.err();
        JsonNode doc;
        try {
            doc = STRICT.readTree(o);
        } catch (Exception ex) {
            throw new AssertionError("stdout is not one JSON document: " + ex.getMessage() + "\nexit=" + exit + "\n--- stdout\n" + o + "\n--- stderr\n" + e);
        }
        assertTrue(doc != null && (doc.isObject() || doc.isArray()), "stdout holds an object or an array: " + o);
        return new Run(exit, o, e, doc);
    }
}
