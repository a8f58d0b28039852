package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads and writes single framed objects ({@link ObjectFormat}) of one store: JSON records
 * (manifests, history, the marker, locks) and readers of stored data. The codec is the caller's:
 * the marker and progress records are always plain, everything else follows the repository's
 * encryption ({@link RepoConfig}).
 */
final class ObjectIo {
    private final ObjectStore store;

    ObjectIo(ObjectStore store) {
        this.store = store;
    }

    ObjectStore store() { return store; }

    /**
     * Stores {@code value} as JSON in one object of content {@code content}; durable when it returns.
     * The JSON is streamed into the object's chunks, never held whole: a manifest of 50,000 tables
     * is some 35 MB of JSON, which as one array (and its copy) ran a 192 MiB heap out of memory.
     */
    void writeJson(String key, String content, Object value, ObjectCodec codec) {
        try (ObjectStore.Writer w = store.create(key)) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), content, codec);
            Json.MAPPER.writeValue(cw, value); // closing a ChunkedWriter finishes it
            cw.finish();
            w.commit();
        } catch (IOException e) {
            throw StorageException.local("write", store.describe(key), e);
        }
    }

    /**
     * Stores {@code value} as JSON under {@code key} only when nothing is stored there
     * ({@link ObjectStore#putIfAbsent}); false when another writer's object was there first.
     */
    boolean writeJsonIfAbsent(String key, String content, Object value, ObjectCodec codec) {
        try {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            ChunkedWriter cw = new ChunkedWriter(buf, content, codec);
            cw.write(Json.MAPPER.writeValueAsBytes(value));
            cw.finish();
            return store.putIfAbsent(key, buf.toByteArray());
        } catch (IOException e) {
            throw StorageException.local("write", store.describe(key), e);
        }
    }

    /**
     * Reads a JSON object. A missing object is corrupt-data naming it, as is JSON that does not
     * map to {@code type} (the object passed its checksum, so another strata version wrote it).
     */
    <T> T readJson(String key, String content, Class<T> type, ObjectCodec codec) {
        String where = store.describe(key);
        try (InputStream in = store.open(key); ChunkedReader r = new ChunkedReader(in, content, where, codec)) {
            // parsed as the chunks arrive, not from one array of the whole JSON (and its copies): a
            // manifest of 50,000 tables is some 35 MB; then read to the end, which checks the trailer
            T value;
            try {
                value = Json.MAPPER.readValue(new java.io.FilterInputStream(r) {
                    @Override
                    public void close() {
                        // r is closed below, after the check of its end
                    }
                }, type);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                // Jackson wraps what the reader threw while it parsed (a chunk that failed its check,
                // a storage error): that is the failure to report, not the JSON
                for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                    if (c instanceof StrataException se) {
                        throw se;
                    }
                    if (c instanceof IOException io && !(c instanceof com.fasterxml.jackson.core.JsonProcessingException)) {
                        throw StorageException.local("read", where, io);
                    }
                }
                throw new StrataException(ErrorCode.CORRUPT_DATA, content + " is not readable JSON: " + e.getMessage() + " (resource=" + where + ")",
                        "the object passed its checksum, so a different strata version may have written it");
            }
            r.drainAndCheck();
            return value;
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    /** Opens a stored object for reading; the caller closes it. */
    ChunkedReader reader(String key, String content, ObjectCodec codec) {
        String where = store.describe(key);
        try {
            java.nio.channels.FileChannel file = store.openFile(key);
            if (file != null) {
                try {
                    return new ChunkedReader(file, content, where, codec);
                } catch (IOException | RuntimeException e) {
                    file.close();
                    throw e;
                }
            }
            return new ChunkedReader(store.open(key), content, where, codec);
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }
}
