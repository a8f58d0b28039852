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
                bytes[n / 2] ^= 1;
                Files.write(f, bytes);
                ChunkedWriter w = new ChunkedWriter(new ByteArrayOutputStream(), "file");
                w.write(new byte[n]);
                w.finish();
                assertNotEquals(w.rawCrc(), DeltaRestore.contentDigest(f), "length " + n + ": other bytes, another digest");
            }
        }
    }
}
