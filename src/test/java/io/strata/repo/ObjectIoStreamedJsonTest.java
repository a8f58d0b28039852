package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.LocalObjectStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * JSON read as its chunks arrive: a damaged chunk met while Jackson parses is reported as the
 * damage it is, not as "not readable JSON" (Jackson wraps what the stream throws).
 */
class ObjectIoStreamedJsonTest {
    @TempDir
    Path dir;

    /** Shaped as a manifest: a record with a list of entries. */
    record Big(List<Entry> files) {}

    record Entry(String path, long size) {}

    @Test
    void aDamagedChunkMidParseIsReportedAsThatChunksDamage() throws Exception {
        ObjectIo io = new ObjectIo(new LocalObjectStore(dir));
        List<Entry> rows = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            rows.add(new Entry("db" + (i % 50) + "/t" + i + ".ibd", i));
        }
        io.writeJson("big", "manifest", new Big(rows), ObjectCodec.PLAIN);
        assertEquals(rows, io.readJson("big", "manifest", Big.class, ObjectCodec.PLAIN).files());
        Path f = dir.resolve("big");
        long size = Files.size(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, size * 3 / 4);
            b.put(0, (byte) (b.get(0) ^ 0x20)); // a letter's case: still JSON, but not the bytes stored
            ch.write(b.rewind(), size * 3 / 4);
        }
        StrataException e = assertThrows(StrataException.class, () -> io.readJson("big", "manifest", Big.class, ObjectCodec.PLAIN));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertFalse(e.getMessage().contains("not readable JSON"), e.getMessage());
    }
}
