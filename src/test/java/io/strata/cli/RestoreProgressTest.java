package io.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.restore.RestoreProgress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** A restore's progress through the backup's renderer; a plain log seen as a progress passes messages only. */
class RestoreProgressTest {
    @Test
    void stagesInOrderAndTheEndEventWithTheResult() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressRenderer renderer = new ProgressRenderer(new PrintStream(buf, true, StandardCharsets.UTF_8), ProgressRenderer.Mode.JSON);
        RestoreProgress p = new RestoreProgress(renderer);
        Consumer<String> log = p; // what RestoreRun and PitrRun receive
        assertSame(p, RestoreProgress.of(log));
        RestoreProgress.of(log).setEstimate(RestoreProgress.FILES, 300);
        RestoreProgress.of(log).stage(RestoreProgress.FILES, "restoring backup B1");
        RestoreProgress.of(log).add(RestoreProgress.FILES, 300);
        log.accept("wrote 3 files");
        RestoreProgress.of(log).done(RestoreProgress.FILES);
        RestoreProgress.of(log).stage(RestoreProgress.RECOVERY, "running crash recovery");
        p.finish("completed", null);
        renderer.complete(Map.of("ok", true));

        ObjectMapper m = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : buf.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(m.readTree(line));
        }
        assertEquals("[files] restoring backup B1", lines.get(0).get("text").asText());
        assertEquals("files", lines.get(1).get("stage").asText(), "a message says the stage it was said in");
        assertEquals("wrote 3 files", lines.get(1).get("text").asText());
        assertEquals("recovery", lines.get(2).get("stage").asText());
        JsonNode end = lines.get(3);
        assertEquals("end", end.get("event").asText());
        assertEquals("completed", end.get("state").asText());
        assertEquals(true, end.get("result").get("ok").asBoolean());
        List<String> states = new ArrayList<>();
        for (JsonNode s : end.get("stages")) {
            states.add(s.get("stage").asText() + "=" + s.get("state").asText());
        }
        assertEquals(List.of("files=done", "recovery=done", "binlog-copy=pending", "replay=pending", "import=pending"), states);
        assertEquals(300, end.get("stages").get(0).get("bytesDone").asLong());
    }

    @Test
    void tableAndDeltaRestoresHaveTheirOwnStages() throws Exception {
        assertEquals(List.of("files=done", "recovery=done", "binlog-copy=pending", "replay=pending", "export=done", "import=done"),
                endStates(RestoreProgress::forTables, p -> {
                    p.stage(RestoreProgress.FILES, "restoring");
                    p.done(RestoreProgress.FILES);
                    p.stage(RestoreProgress.RECOVERY, "recovering");
                    p.done(RestoreProgress.RECOVERY);
                    p.stage(RestoreProgress.EXPORT, "exporting");
                    p.done(RestoreProgress.EXPORT);
                    p.stage(RestoreProgress.IMPORT, "importing");
                }, "completed"));
        assertEquals(List.of("compare=done", "write=done", "recovery=done"), endStates(RestoreProgress::forDelta, p -> {
            p.setEstimate(RestoreProgress.COMPARE, 100);
            p.stage(RestoreProgress.COMPARE, "comparing");
            p.stage(RestoreProgress.WRITE, "writing");
            p.add(RestoreProgress.COMPARE, 100);
            p.add(RestoreProgress.WRITE, 7);
            p.add(RestoreProgress.FILES, 5); // a stage the delta restore does not have: nothing counted, no failure
            p.done(RestoreProgress.FILES);
            p.stage(RestoreProgress.RECOVERY, "recovering");
        }, "completed"));
    }

    private static List<String> endStates(java.util.function.Function<ProgressRenderer, RestoreProgress> make, Consumer<RestoreProgress> run, String state)
            throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressRenderer renderer = new ProgressRenderer(new PrintStream(buf, true, StandardCharsets.UTF_8), ProgressRenderer.Mode.JSON);
        RestoreProgress p = make.apply(renderer);
        run.accept(p);
        p.finish(state, null);
        renderer.complete(Map.of("ok", true));
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        JsonNode end = new ObjectMapper().readTree(lines[lines.length - 1]);
        List<String> states = new ArrayList<>();
        for (JsonNode s : end.get("stages")) {
            states.add(s.get("stage").asText() + "=" + s.get("state").asText());
        }
        return states;
    }

    @Test
    void aPlainLogGetsTheMessagesOnly() {
        List<String> said = new ArrayList<>();
        Consumer<String> log = said::add;
        RestoreProgress p = RestoreProgress.of(log);
        p.stage(RestoreProgress.REPLAY, "replaying with mariadb-binlog | mariadb");
        p.accept("replayed 3 transaction(s)");
        assertEquals(List.of("[replay] replaying with mariadb-binlog | mariadb", "replayed 3 transaction(s)"), said);
    }
}
