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
        for (int i = 0; i < 4000; i++) {
            try (ObjectStore.Writer w = store.create("b/data/" + i)) {
                w.stream().write(("object " + i).getBytes(StandardCharsets.US_ASCII));
                w.commitBatched();
            }
        }
        assertEquals(4000, store.list("b/").size());
        store.delete("b/data/7");
        assertTrue(store.keptForSync() > 0, "the committed objects' directory awaits the sync");
        store.sync();
        assertArrayEquals("object 3999".getBytes(StandardCharsets.US_ASCII), store.get("b/data/3999"));
        assertFalse(store.exists("b/data/7"));
        assertEquals(0, store.keptForSync(), "a sync keeps nothing of the objects it made durable");
        store.sync(); // nothing pending: a no-op
        try (var s = Files.list(dir.resolve("b/data"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.startsWith(LocalObjectStore.TEMP_PREFIX)), names.toString());
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
