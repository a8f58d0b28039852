package io.strata.util;

import java.nio.ByteBuffer;

/**
 * A stream that can also write a {@link ByteBuffer} as it is: to a local object's file, a direct
 * buffer goes without the copy into a temporary direct buffer that NIO makes of a Java array; to
 * an S3 object, it is copied once, into the upload part. The repository's chunked object writer
 * writes a whole plain chunk this way when the copier hands it the direct buffer its bytes were
 * read into ({@link DirectReads#held}).
 */
public interface BufferSink {
    /**
     * Writes every remaining byte of {@code src} after everything written to the stream before,
     * and leaves {@code src}'s position at its limit.
     *
     * @throws RuntimeException the object store's storage error when the write fails, naming the object
     */
    void write(ByteBuffer src);
}
