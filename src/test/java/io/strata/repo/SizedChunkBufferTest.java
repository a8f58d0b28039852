package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.Compression;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import static io.strata.codec.TestData.textLike;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A writer told the object's size ({@link ChunkedWriter#ChunkedWriter(java.io.OutputStream, String, ObjectCodec, long)})
 * starts with a chunk buffer of that size and grows it when more bytes come: the object it frames
 * is the one a writer with a whole-chunk buffer frames, whatever the guess, the codec and the
 * sizes of the writes.
 */
class SizedChunkBufferTest {
    static final int MIB = ObjectFormat.CHUNK_SIZE;

    /** Frames {@code raw} with writes of {@code step} bytes (1: write(int)), the writer expecting {@code expected} bytes. */
    static byte[] frame(byte[] raw, ObjectCodec codec, long expected, int step) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChunkedWriter w = new ChunkedWriter(out, "file", codec, expected);
        for (int off = 0; off < raw.length; off += step) {
            if (step == 1) {
                w.write(raw[off]);
            } else {
                w.write(raw, off, Math.min(step, raw.length - off));
            }
        }
        w.finish();
        return out.toByteArray();
    }

    @Test
    void aSizedWriterFramesWhatAWholeChunkWriterFrames() throws IOException {
        int[] lengths = {0, 1, 1517, 16 << 10, (16 << 10) + 1, 98_304, MIB - 1, MIB, MIB + 1, 2 * MIB + 4097};
        long[] guesses = {-1, 0, 1517, 98_304, MIB, 5 * MIB};
        ChunkCipher key = EncodedChunksTest.cipher(7);
        for (Compression c : new Compression[] {Compression.NONE, Compression.LZ4}) {
            for (ChunkCipher k : new ChunkCipher[] {null, key}) {
                ObjectCodec codec = new ObjectCodec(c, k);
                for (int len : lengths) {
                    byte[] raw = textLike(len, len);
                    for (long guess : guesses) {
                        for (int step : new int[] {1, 4096, 77_777}) {
                            if (step == 1 && len > 200_000) {
                                continue;
                            }
                            byte[] framed = frame(raw, codec, guess, step);
                            String what = c + (k != null ? "+sealed" : "") + " length " + len + " guess " + guess + " step " + step;
                            assertArrayEquals(raw, EncodedChunksTest.read(framed, codec), what);
                            if (k == null) { // sealed objects differ by their random object id and nonces
                                assertEquals(framed.length, frame(raw, codec, -1, 65_536).length, what);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void bufferSizeClassesFitTheExpectedSize() {
        assertEquals(0, ChunkCoder.outClass(0));
        assertEquals(0, ChunkCoder.outClass(1517));
        assertEquals(0, ChunkCoder.outClass(ChunkCoder.MIN_OUT));
        assertEquals(1, ChunkCoder.outClass(ChunkCoder.MIN_OUT + 1));
        assertEquals(ChunkCoder.MIN_OUT << 3, ChunkCoder.takeOut(98_304).raw.length); // 128 KiB for a 96 KiB tablespace
        assertEquals(MIB, ChunkCoder.takeOut(-1).raw.length);
        assertEquals(MIB, ChunkCoder.takeOut(MIB).raw.length);
        assertEquals(MIB, ChunkCoder.takeOut(50L * MIB).raw.length);
    }
}
