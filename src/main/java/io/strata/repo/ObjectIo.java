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
        return readJson(key, content, type, codec, null);
    }

    /**
     * As {@link #readJson(String, String, Class, ObjectCodec)}, with the top-level member
     * {@code skipped} (when not null) read past without being built, and bound as an empty array:
     * a manifest's head without its "files", which at 5,000 tables is 5 MB of its 5 MB and most
     * of the time binding it takes. The object is read and checked to its end unless the read
     * stops where {@code skipped} begins (see {@code readSkipping}): then only the chunks read
     * were checked.
     */
    <T> T readJson(String key, String content, Class<T> type, ObjectCodec codec, String skipped) {
        String where = store.describe(key);
        try (InputStream in = store.open(key); ChunkedReader r = new ChunkedReader(in, content, where, codec)) {
            // parsed as the chunks arrive, not from one array of the whole JSON (and its copies): a
            // manifest of 50,000 tables is some 35 MB; then read to the end, which checks the trailer
            T value;
            InputStream json = new java.io.FilterInputStream(r) {
                @Override
                public void close() {
                    // r is closed below, after the check of its end
                }
            };
            boolean[] stoppedEarly = new boolean[1];
            try {
                value = skipped == null ? Json.MAPPER.readValue(json, type) : readSkipping(json, type, skipped, stoppedEarly);
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
            if (!stoppedEarly[0]) {
                r.drainAndCheck();
            }
            return value;
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    /**
     * Binds the JSON object of {@code json} to {@code type}, its top-level member {@code skipped}
     * read past and bound as []. When {@code type} is a record and {@code skipped} comes after
     * every other component (every member is written, nulls too: {@link Json#MAPPER}), the rest
     * is not read at all and {@code stoppedEarly[0]} is set: the chunks read were each checked,
     * the object's end and trailer were not.
     */
    private static <T> T readSkipping(InputStream json, Class<T> type, String skipped, boolean[] stoppedEarly) throws IOException {
        java.util.Set<String> others = new java.util.HashSet<>();
        if (type.isRecord()) {
            for (java.lang.reflect.RecordComponent c : type.getRecordComponents()) {
                others.add(c.getName());
            }
            others.remove(skipped);
        }
        try (com.fasterxml.jackson.core.JsonParser p = Json.MAPPER.getFactory().createParser(json)) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "expected a JSON object");
            }
            com.fasterxml.jackson.databind.node.ObjectNode head = Json.MAPPER.createObjectNode();
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                p.nextToken();
                if (name.equals(skipped)) {
                    head.putArray(name);
                    java.util.Set<String> seen = new java.util.HashSet<>();
                    head.fieldNames().forEachRemaining(seen::add);
                    if (!others.isEmpty() && seen.containsAll(others)) {
                        stoppedEarly[0] = true;
                        return Json.MAPPER.treeToValue(head, type);
                    }
                    p.skipChildren();
                } else {
                    head.set(name, Json.MAPPER.readTree(p));
                }
            }
            if (p.currentToken() != com.fasterxml.jackson.core.JsonToken.END_OBJECT) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "expected the end of the JSON object");
            }
            return Json.MAPPER.treeToValue(head, type);
        }
    }

    /** Opens a stored object for reading; the caller closes it. */
    ChunkedReader reader(String key, String content, ObjectCodec codec) {
        return reader(key, 0, WHOLE, store.describe(key), content, codec);
    }

    /** The {@code length} of {@link #reader(String, long, long, String, String, ObjectCodec)} that reads the whole object. */
    static final long WHOLE = Long.MAX_VALUE;

    /**
     * Opens the object stored in bytes [{@code offset}, {@code offset + length}) of the stored
     * object {@code key} (a member of a pack), or the whole object when {@code length} is
     * {@link #WHOLE}; {@code where} names it in messages. The caller closes it.
     */
    ChunkedReader reader(String key, long offset, long length, String where, String content, ObjectCodec codec) {
        try {
            java.nio.channels.FileChannel file = store.openFile(key);
            if (file != null) {
                try {
                    return new ChunkedReader(file, offset, length, content, where, codec);
                } catch (IOException | RuntimeException e) {
                    file.close();
                    throw e;
                }
            }
            return new ChunkedReader(length == WHOLE ? store.open(key) : store.openRange(key, offset, length), content, where, codec);
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }
}
