package io.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.backup.BackupProgress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressRendererTest {
    @Test
    void jsonModePrintsOneObjectPerLineAndTheSinkGetsTheFinalState() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressRenderer renderer = new ProgressRenderer(new PrintStream(buf, true, StandardCharsets.UTF_8), ProgressRenderer.Mode.JSON);
        BackupProgress p = new BackupProgress(renderer);
        List<Map<String, Object>> sink = new ArrayList<>();
        p.attach("B1", sink::add);
        p.setEstimate(BackupProgress.PAGE_COPY, 100 << 20);
        p.stage(BackupProgress.PAGE_COPY, "2 InnoDB files");
        Thread.sleep(120);
        p.add(BackupProgress.PAGE_COPY, 25 << 20);
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
        assertTrue(buf.toString(StandardCharsets.UTF_8).lines().noneMatch(l -> l.contains("\"end\"")), "the end event waits for the verdict");
        renderer.fail(JsonMixin.errorObject(io.strata.error.ErrorCode.INTERRUPTED, "backup B1 cancelled by SIGINT", null));

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
        assertEquals("backup B1 cancelled by SIGINT", end.get("error").get("message").asText());
        assertEquals(io.strata.error.ErrorCode.INTERRUPTED.id(), end.get("error").get("id").asText());
        assertEquals(130, end.get("error").get("exitCode").asInt());
        assertEquals("cancelled", sink.get(sink.size() - 1).get("state"));
        assertEquals("B1", sink.get(sink.size() - 1).get("id"));
    }

    @Test
    void tableShowsEveryStage() {
        BackupProgress p = new BackupProgress(new ProgressRenderer(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                ProgressRenderer.Mode.NONE));
        p.setEstimate(BackupProgress.PAGE_COPY, 200 << 20);
        p.stage(BackupProgress.PAGE_COPY, "x");
        p.add(BackupProgress.PAGE_COPY, 50 << 20);
        List<String> rows = ProgressRenderer.table(p.snapshot("running"));
        assertEquals(5, rows.size());
        assertTrue(rows.get(1).matches("  page-copy  running +50\\.0 / 200\\.0 MiB +25% .*"), rows.get(1));
        assertTrue(rows.get(2).matches("  file-copy  pending +0\\.0 / \\? MiB +"), rows.get(2));
        assertTrue(rows.get(4).startsWith("  sync       pending"), rows.get(4));
    }

    @Test
    void linesModePrintsEachMessageAndOneLinePerUpdate() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressRenderer r = new ProgressRenderer(new PrintStream(buf, true, StandardCharsets.UTF_8), ProgressRenderer.Mode.LINES);
        BackupProgress p = new BackupProgress(r);
        p.setEstimate(BackupProgress.PAGE_COPY, 100 << 20);
        p.stage(BackupProgress.PAGE_COPY, "2 InnoDB files");
        p.add(BackupProgress.PAGE_COPY, 10 << 20);
        p.done(BackupProgress.PAGE_COPY);
        p.stage(BackupProgress.REDO_COPY, "from LSN 1");
        p.add(BackupProgress.REDO_COPY, 3 << 19);
        r.update(p);
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length);
        assertTrue(lines[0].matches(" +\\d+\\.\\ds \\[page-copy\\] 2 InnoDB files"), lines[0]);
        assertTrue(lines[1].endsWith("s [redo-copy] from LSN 1"), lines[1]);
        assertTrue(lines[2].endsWith("s [redo-copy] page-copy 10.0/100.0 MiB done; redo-copy 1.5 MiB;"), lines[2]);
    }

    @Test
    void messagesWithoutStagesAreLinesUnlessQuiet() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        ProgressRenderer.lines(out, true).accept("not shown");
        ProgressRenderer.lines(out, false).accept("[track] continuing from LSN 5");
        assertTrue(buf.toString(StandardCharsets.UTF_8).matches("\\[track\\] continuing from LSN 5\\n"), buf.toString(StandardCharsets.UTF_8));
    }

    /** AUTO draws the table only when the stream drawn on (stderr) is a terminal, whatever stdout is. */
    @Test
    void autoFollowsTheStreamDrawnOn() {
        org.junit.jupiter.api.Assertions.assertEquals(ProgressRenderer.Mode.TTY, ProgressRenderer.resolve(ProgressRenderer.Mode.AUTO, true));
        org.junit.jupiter.api.Assertions.assertEquals(ProgressRenderer.Mode.LINES, ProgressRenderer.resolve(ProgressRenderer.Mode.AUTO, false));
        org.junit.jupiter.api.Assertions.assertEquals(ProgressRenderer.Mode.JSON, ProgressRenderer.resolve(ProgressRenderer.Mode.JSON, true));
    }
}
