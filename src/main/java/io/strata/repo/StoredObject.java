package io.strata.repo;

import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.IOException;
import java.util.Locale;

/**
 * One object of a backup being written ({@link Repository#createBackupObject}): the bytes given
 * to {@link #out()} are framed ({@link ObjectFormat}: chunks, compressed and sealed as the
 * repository says) into a store object that becomes visible at {@link #commitBatched()}.
 * Closing it uncommitted discards what was written.
 */
public final class StoredObject implements AutoCloseable {
    private final ObjectStore store;
    private final String key;
    private final ObjectStore.Writer writer;
    private final ChunkedWriter out;
    private boolean committed;

    /** {@code expectedBytes}: the raw bytes the object will hold, about (negative: unknown); sizes its chunk buffer. */
    StoredObject(ObjectStore store, String key, String content, ObjectCodec codec, long expectedBytes) {
        this.store = store;
        this.key = key;
        this.writer = store.create(key);
        try {
            this.out = new ChunkedWriter(writer.stream(), content, codec, expectedBytes);
        } catch (IOException e) {
            writer.close();
            throw StorageException.local("write", store.describe(key), e);
        } catch (RuntimeException e) {
            writer.close(); // e.g. the store failed while the header was written: no temporary object stays behind
            throw e;
        }
    }

    /** Where the object's content goes (raw bytes; framing happens inside). */
    public ChunkedWriter out() { return out; }

    /** Ends the object's frame and makes it visible; durable at {@link Repository#syncBackupObjects()}. */
    public void commitBatched() {
        try {
            out.finish();
        } catch (IOException e) {
            throw StorageException.local("write", store.describe(key), e);
        }
        writer.commitBatched();
        committed = true;
    }

    /** The content digest (CRC-32C of the raw bytes, as the manifest's {@code crc32c}: 8 lower-case hex digits); after commit. */
    public String crc32c() { return String.format(Locale.ROOT, "%08x", out.rawCrc()); }

    /** Size in bytes of the committed object as stored. */
    public long storedBytes() {
        if (!committed) {
            throw new IllegalStateException("object " + key + " is not committed");
        }
        return store.size(key);
    }

    @Override
    public void close() {
        writer.close();
    }
}
