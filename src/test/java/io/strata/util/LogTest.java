package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The log: a UTC time before each line off a terminal, levels, the log file, and what is never a log line. */
class LogTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T09:40:12.345Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private static PrintStream log(ByteArrayOutputStream to, boolean prefix, Log.Level level, java.io.OutputStream file) {
        return new PrintStream(new Log(to, prefix, level, file, CLOCK), true, StandardCharsets.UTF_8);
    }

    @Test
    void everyLineOffATerminalStartsWithTheUtcTime() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = log(buf, true, Log.Level.INFO, null);
        err.println("    3.2s [page-copy] copied 12 MiB");
        err.print("ERROR [usage]: two\nHINT: see \"strata backup --help\"\n");
        err.print("{\"event\":\"progress\"}\n");
        err.print("no newline yet");
        assertEquals("2026-12-01T09:40:12Z     3.2s [page-copy] copied 12 MiB\n"
                + "2026-12-01T09:40:12Z ERROR [usage]: two\n"
                + "2026-12-01T09:40:12Z HINT: see \"strata backup --help\"\n"
                + "{\"event\":\"progress\"}\n", buf.toString(StandardCharsets.UTF_8));
        err.close();
        assertEquals("2026-12-01T09:40:12Z no newline yet\n", buf.toString(StandardCharsets.UTF_8).lines().skip(4).findFirst().orElse("") + "\n");
    }

    @Test
    void aProgressLineThatSaysDebugIsADebugLine() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = log(buf, false, Log.Level.INFO, null);
        err.println("    1.6s DEBUG [timing] jvm 0.51 s, connect 0.08 s");
        err.println("    1.6s [sync] making the stored objects durable");
        assertEquals("    1.6s [sync] making the stored objects durable\n", buf.toString(StandardCharsets.UTF_8));
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        PrintStream debug = log(all, false, Log.Level.DEBUG, null);
        debug.println("    1.6s DEBUG [timing] jvm 0.51 s");
        assertEquals("    1.6s DEBUG [timing] jvm 0.51 s\n", all.toString(StandardCharsets.UTF_8));
    }

    @Test
    void onATerminalLinesAreAsPrinted() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = log(buf, false, Log.Level.INFO, null);
        err.println("WARNING: the key file is readable by others");
        err.print("\033[3A\033[J");
        err.flush();
        assertEquals("WARNING: the key file is readable by others\n\033[3A\033[J", buf.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theLevelDropsLessSevereMessagesWithTheirContinuationLines() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = log(buf, false, Log.Level.WARN, null);
        err.println("    0.1s connected");
        err.println("WARN RetryableStage - retrying request");
        err.println("  second line of that warning");
        err.println("BUG: strata failed unexpectedly");
        err.println("\tat io.strata.Foo.bar(Foo.java:1)");
        err.println("    1.0s done");
        err.println("  continued info");
        err.println("{\"event\":\"end\"}");
        assertEquals("WARN RetryableStage - retrying request\n  second line of that warning\nBUG: strata failed unexpectedly\n"
                + "\tat io.strata.Foo.bar(Foo.java:1)\n{\"event\":\"end\"}\n", buf.toString(StandardCharsets.UTF_8));
        assertEquals(Log.Level.DEBUG, Log.Level.parse("Debug"));
        assertEquals(null, Log.Level.parse("verbose"));
    }

    @Test
    void theLogFileGetsTimedLinesButNeverTerminalDrawings() throws IOException {
        Path file = dir.resolve("strata.log");
        Files.writeString(file, "earlier run\n");
        PrintStream err;
        try (var f = Files.newOutputStream(file, java.nio.file.StandardOpenOption.APPEND)) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            err = log(buf, false, Log.Level.INFO, f);
            err.println("    0.0s starting");
            err.print("\033[2A\033[J  STAGE STATE\n");
            err.println("ERROR [x]: failed");
            err.flush();
            assertEquals("    0.0s starting\n\033[2A\033[J  STAGE STATE\nERROR [x]: failed\n", buf.toString(StandardCharsets.UTF_8));
        }
        String text = Files.readString(file);
        assertEquals("earlier run\n2026-12-01T09:40:12Z     0.0s starting\n2026-12-01T09:40:12Z ERROR [x]: failed\n", text);
        assertFalse(text.contains("\033"));
    }

    @Test
    void installCreatesTheLogFilePrivate() throws IOException {
        Path file = dir.resolve("new.log");
        PrintStream err = Log.install(new ByteArrayOutputStream(), Log.Level.INFO, file);
        err.println("hello");
        err.close();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(" hello\n", Files.readString(file).substring(20));
    }
}
