package io.strata.util;

import java.nio.ByteBuffer;

/**
 * A stream that can also write a {@link ByteBuffer} as it is: a direct buffer goes to the file
 * without the copy into a temporary direct buffer that NIO makes of a Java array.
 * {@link io.strata.repo.ChunkedWriter} writes a whole plain chunk this way when the copier hands it
 * the direct buffer its bytes were read into ({@link DirectReads#held}).
 */
public interface BufferSink {
    /**
     * Writes every remaining byte of {@code src} after everything written to the stream before,
     * and leaves {@code src}'s position at its limit.
     *
     * @throws io.strata.store.StorageException when the write fails, naming the object
     */
    void write(ByteBuffer src);
}
