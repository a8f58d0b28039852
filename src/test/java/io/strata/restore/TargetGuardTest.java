package io.strata.restore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A restore that does not finish leaves its target as it found it: {@link TargetGuard#undo} in
 * strata, and the watcher script (run here as strata runs it) when strata is killed.
 */
class TargetGuardTest {
    @TempDir
    Path tmp;

    @Test
    void undoRemovesWhatTheRestoreCreatedOrEmptiesWhatWasThere() throws IOException {
        Path missing = tmp.resolve("a/b/target");
        TargetGuard g = TargetGuard.before(missing);
        assertEquals(tmp.resolve("a"), g.created());
        fill(missing, "token");
        g.undo();
        assertFalse(Files.exists(tmp.resolve("a")));
        assertEquals(List.of(), entries(tmp));

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        TargetGuard e = TargetGuard.before(empty);
        assertNull(e.created());
        fill(empty, "token");
        e.undo();
        assertTrue(Files.isDirectory(empty));
        assertEquals(List.of(), entries(empty));
    }

    @Test
    void whenStrataDiesTheWatcherWaitsForTheServerThenRemovesTheRestoredFilesAndTheRunDirectory() throws Exception {
        Path target = tmp.resolve("new/target");
        fill(target, "run-1");
        Path run = Files.createDirectories(tmp.resolve("strata-recover-1"));
        Files.writeString(run.resolve("mysqld.err"), "log\n");
        // a process that stands for the recovery server on the target, still ending after strata
        Process server = new ProcessBuilder("/bin/sh", "-c", "sleep 1.5; true", "mariadbd", "--datadir=" + target).start();
        Process w = TargetGuard.watcherCommand(target, "run-1", tmp.resolve("new")).start();
        try (OutputStream o = w.getOutputStream()) {
            o.write(("run " + run + "\n").getBytes(StandardCharsets.UTF_8));
        } // strata's end: the pipe closes without "done"
        Thread.sleep(500);
        assertTrue(server.isAlive());
        assertTrue(Files.exists(target.resolve("ibdata1")), "removed while a server still ran on the target");
        assertTrue(w.waitFor(30, TimeUnit.SECONDS));
        assertFalse(server.isAlive());
        assertEquals(0, w.exitValue());
        assertEquals(List.of(), entries(tmp), "the new target, its created parent and the run directory are gone");

        Path existing = Files.createDirectory(tmp.resolve("existing"));
        fill(existing, "run-2");
        Process w2 = TargetGuard.watcherCommand(existing, "run-2", null).start();
        w2.getOutputStream().close();
        assertTrue(w2.waitFor(30, TimeUnit.SECONDS));
        assertTrue(Files.isDirectory(existing));
        assertEquals(List.of(), entries(existing), "an existing target is emptied, not removed");
    }

    @Test
    void theWatcherLeavesAFinishedRestoreAndAnotherRunsTargetAlone() throws Exception {
        Path done = tmp.resolve("done");
        fill(done, "run-1");
        Process w = TargetGuard.watcherCommand(done, "run-1", done).start();
        try (OutputStream o = w.getOutputStream()) {
            o.write("done\n".getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(w.waitFor(30, TimeUnit.SECONDS));
        assertEquals(List.of("app", "ibdata1", RestoreRun.UNFINISHED_MARKER), entries(done));

        // the marker names another run (a restore started there since): nothing is touched
        Process w2 = TargetGuard.watcherCommand(done, "run-2", done).start();
        w2.getOutputStream().close();
        assertTrue(w2.waitFor(30, TimeUnit.SECONDS));
        assertEquals(List.of("app", "ibdata1", RestoreRun.UNFINISHED_MARKER), entries(done));

        // no marker, files there: a restore that finished just before strata died
        Files.delete(done.resolve(RestoreRun.UNFINISHED_MARKER));
        Process w3 = TargetGuard.watcherCommand(done, "run-1", done).start();
        w3.getOutputStream().close();
        assertTrue(w3.waitFor(30, TimeUnit.SECONDS));
        assertEquals(List.of("app", "ibdata1"), entries(done));
    }

    /** A half-restored directory: the marker naming {@code token}, a file, a database directory. */
    private static void fill(Path target, String token) throws IOException {
        Files.createDirectories(target.resolve("app"));
        Files.writeString(target.resolve(RestoreRun.UNFINISHED_MARKER), "restore by strata (pid 1, run " + token + ") began now\n");
        Files.writeString(target.resolve("ibdata1"), "pages");
        Files.writeString(target.resolve("app/t.ibd"), "pages");
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
