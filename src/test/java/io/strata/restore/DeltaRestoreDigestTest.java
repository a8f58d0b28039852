package io.strata.restore;

import io.strata.repo.ChunkedWriter;
import io.strata.repo.ObjectCodec;
import io.strata.codec.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The file-level shortcut of a delta restore from S3 or an encrypted repository: a target file
 * whose content digest equals the stored copy's is the same file. The digest a file's bytes get
 * must be the one the writer records (over 1 MiB chunks), not a plain CRC-32C of the file, which
 * never matched before.
 */
class DeltaRestoreDigestTest {
    @TempDir
    Path dir;

    @Test
    void aChunkIsSkippableOnlyWhenNoPageIsNewerThanTheBackup() {
        int ps = 16384;
        byte[] chunk = new byte[4 * ps];
        for (int p = 0; p < 4; p++) {
            java.nio.ByteBuffer.wrap(chunk).putLong(p * ps + 16, 1000 + p); // FIL_PAGE_LSN of page p
        }
        assertEquals(true, DeltaRestore.noPageAbove(chunk, chunk.length, ps, 1003));
        assertEquals(false, DeltaRestore.noPageAbove(chunk, chunk.length, ps, 1002), "page 3 was written after the backup");
        assertEquals(true, DeltaRestore.noPageAbove(chunk, 3 * ps, ps, 1002), "only the first n bytes count");
        java.nio.ByteBuffer.wrap(chunk).putLong(ps + 16, -1L); // an LSN above 2^63 is above, not negative
        assertEquals(false, DeltaRestore.noPageAbove(chunk, chunk.length, ps, 5000));
        assertEquals(false, DeltaRestore.noPageAbove(new byte[ps], ps, ps, -1), "a negative bound: nothing may be skipped (files other than InnoDB)");
    }

    @Test
    void aFilesDigestIsTheStoredCopysWhateverTheCodec() throws IOException {
        Random r = new Random(9);
        for (int n : new int[] {0, 1, 16384, 1 << 20, (2 << 20) + 17}) {
            byte[] bytes = new byte[n];
            r.nextBytes(bytes);
            Path f = dir.resolve("f" + n);
            Files.write(f, bytes);
            for (Compression c : new Compression[] {Compression.NONE, Compression.zstd(1)}) {
                ChunkedWriter w = new ChunkedWriter(new ByteArrayOutputStream(), "file", ObjectCodec.PLAIN.withCompression(c));
                w.write(bytes);
                w.finish();
                assertEquals(w.rawCrc(), DeltaRestore.contentDigest(f), "length " + n + ", " + c);
            }
            if (n > 0) {
                ChunkedWriter w = new ChunkedWriter(new ByteArrayOutputStream(), "file");
                w.write(bytes);
                w.finish();
                bytes[n / 2] ^= 1;
                Files.write(f, bytes);
                assertNotEquals(w.rawCrc(), DeltaRestore.contentDigest(f), "length " + n + ": one bit changed, another digest");
            }
        }
    }
}
