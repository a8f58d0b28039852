package io.strata.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {
    @Test
    void jsonModePrintsOneObjectPerLineAndTheSinkGetsTheFinalState() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(buf, true, StandardCharsets.UTF_8), Progress.Mode.JSON);
        List<Map<String, Object>> sink = new ArrayList<>();
        p.attach("B1", sink::add);
        p.setEstimate(Progress.PAGE_COPY, 100 << 20);
        p.stage(Progress.PAGE_COPY, "2 InnoDB files");
        Thread.sleep(120);
        p.add(Progress.PAGE_COPY, 25 << 20);
        Map<String, Object> snap = p.snapshot("running");
        @SuppressWarnings("unchecked")
        Map<String, Object> pc = ((List<Map<String, Object>>) snap.get("stages")).get(0);
        assertEquals("page-copy", pc.get("stage"));
        assertEquals("running", pc.get("state"));
        assertEquals(25L << 20, pc.get("bytesDone"));
        assertEquals(100L << 20, pc.get("bytesEstimated"));
        double left = ((Number) pc.get("secondsLeft")).doubleValue();
        double secs = ((Number) pc.get("seconds")).doubleValue();
        assertTrue(Math.abs(left - 3 * secs) <= 0.2, "three times as long again for three times the bytes: " + pc);
        p.finish("cancelled", "backup B1 cancelled by SIGINT");

        ObjectMapper m = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : buf.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(m.readTree(line));
        }
        assertEquals("message", lines.get(0).get("event").asText());
        assertEquals("[page-copy] 2 InnoDB files", lines.get(0).get("text").asText());
        JsonNode end = lines.get(lines.size() - 1);
        assertEquals("end", end.get("event").asText());
        assertEquals("cancelled", end.get("state").asText());
        assertEquals("backup B1 cancelled by SIGINT", end.get("error").asText());
        assertEquals("cancelled", sink.get(sink.size() - 1).get("state"));
        assertEquals("B1", sink.get(sink.size() - 1).get("id"));
    }

    @Test
    void tableShowsEveryStage() {
        Progress p = new Progress(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), Progress.Mode.NONE);
        p.setEstimate(Progress.PAGE_COPY, 200 << 20);
        p.stage(Progress.PAGE_COPY, "x");
        p.add(Progress.PAGE_COPY, 50 << 20);
        List<String> rows = Progress.table(p.snapshot("running"));
        assertEquals(5, rows.size());
        assertTrue(rows.get(1).matches("  page-copy  running +50\\.0 / 200\\.0 MiB +25% .*"), rows.get(1));
        assertTrue(rows.get(2).matches("  file-copy  pending +0\\.0 / \\? MiB +"), rows.get(2));
        assertTrue(rows.get(4).startsWith("  sync       pending"), rows.get(4));
    }
}
