package io.strata.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalBatchedCommitTest {
    @TempDir
    Path dir;

    @Test
    void batchedObjectsAreVisibleAtOnceAndSyncCopesWithOnesDeletedSince() throws IOException {
        LocalObjectStore store = new LocalObjectStore(dir);
        for (int i = 0; i < 40; i++) {
            try (ObjectStore.Writer w = store.create("b/data/" + i)) {
                w.stream().write(("object " + i).getBytes(StandardCharsets.US_ASCII));
                w.commitBatched();
            }
        }
        assertEquals(40, store.list("b/").size());
        store.delete("b/data/7");
        store.sync();
        assertArrayEquals("object 39".getBytes(StandardCharsets.US_ASCII), store.get("b/data/39"));
        assertFalse(store.exists("b/data/7"));
        store.sync(); // nothing pending: a no-op
        try (var s = Files.list(dir.resolve("b/data"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.startsWith(LocalObjectStore.TEMP_PREFIX)), names.toString());
        }
    }

    @Test
    void manyObjectsAreMadeDurableByOneFileSystemBarrierOrElseOneByOne() throws IOException {
        assertTrue(FileSystemSync.reportsErrors("Linux", "5.8.0-1-amd64"));
        assertTrue(FileSystemSync.reportsErrors("Linux", "6.18.44-fc"));
        assertFalse(FileSystemSync.reportsErrors("Linux", "5.4.0-150-generic"));
        assertFalse(FileSystemSync.reportsErrors("Mac OS X", "14.1"));
        assertFalse(FileSystemSync.reportsErrors("Linux", "unknown"));
        boolean linuxWithSync = FileSystemSync.program != null;
        assertEquals(linuxWithSync, FileSystemSync.syncAll(List.of(dir, dir)));
        assertFalse(FileSystemSync.syncAll(List.of(dir.resolve("gone"))));
        String saved = FileSystemSync.program;
        try {
            for (String program : new String[] {saved, dir.resolve("no-such-program").toString()}) {
                FileSystemSync.program = program;
                LocalObjectStore store = new LocalObjectStore(dir.resolve(String.valueOf(program == saved)));
                for (int i = 0; i < LocalObjectStore.SYNCFS_MIN_OBJECTS + 1; i++) {
                    try (ObjectStore.Writer w = store.create("b/data/" + i)) {
                        w.stream().write(("object " + i).getBytes(StandardCharsets.US_ASCII));
                        w.commitBatched();
                    }
                }
                store.delete("b/data/3");
                store.sync(); // the barrier, or (no program) the per-object fsyncs coping with the deleted one
                assertFalse(FileSystemSync.syncAll(List.of()));
                assertEquals(LocalObjectStore.SYNCFS_MIN_OBJECTS, store.list("b/").size());
                assertArrayEquals("object 17".getBytes(StandardCharsets.US_ASCII), store.get("b/data/17"));
            }
            FileSystemSync.program = dir.resolve("no-such-program").toString();
            assertFalse(FileSystemSync.syncAll(List.of(dir)));
            if (Files.isExecutable(Path.of("/bin/false"))) {
                FileSystemSync.program = "/bin/false"; // the call fails: the caller fsyncs
                assertFalse(FileSystemSync.syncAll(List.of(dir)));
            }
        } finally {
            FileSystemSync.program = saved;
        }
    }

    @Test
    void anUncommittedWriterLeavesNothingBehind() throws IOException {
        LocalObjectStore store = new LocalObjectStore(dir);
        try (ObjectStore.Writer w = store.create("b/x")) {
            w.stream().write(1);
        }
        store.sync();
        assertEquals(List.of(), store.list("b/"));
        try (var s = Files.list(dir.resolve("b"))) {
            assertEquals(0, s.count());
        }
    }
}
