package io.strata.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * Where a repository keeps its objects: flat keys with '/' separators, written once.
 * An object becomes visible under its key only when its writer is committed, and is then
 * durable (fsync on disk, a finished PUT in object storage). Readers never see a partial object.
 *
 * <p>Every failure, of a method here or of a read or write on a stream it returned, is a
 * {@link StorageException} (unchecked) naming the operation and the object; a missing object is
 * its subclass {@link NoSuchObjectException}. Nothing here throws a checked exception.
 */
public interface ObjectStore extends AutoCloseable {

    /** Starts a new object; nothing is visible under {@code key} until {@link Writer#commit()}. */
    Writer create(String key);

    /** Opens an object for reading; throws {@link NoSuchObjectException} when it does not exist. */
    InputStream open(String key);

    /**
     * Opens {@code length} bytes of an object for reading, from byte {@code offset}: the stream
     * ends after them, or earlier where the object does. Throws {@link NoSuchObjectException}
     * when the object does not exist. This default reads and drops the bytes before
     * {@code offset}; stores that can start elsewhere do (a ranged GET, a positional read).
     */
    default InputStream openRange(String key, long offset, long length) {
        InputStream in = open(key);
        try {
            in.skipNBytes(offset);
        } catch (java.io.EOFException e) {
            // shorter than offset: the stream is at its end, and reads find it
        } catch (IOException e) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the failure that matters is the read's
            }
            throw StorageException.local("read", describe(key), e);
        }
        return new io.strata.util.BoundedInputStream(in, length);
    }

    /**
     * Opens an object for reading as a file channel positioned at its start, when this store keeps
     * objects as local files (reads can then go into direct memory); null when it does not. Throws
     * {@link NoSuchObjectException} when the object does not exist. The caller closes the channel.
     */
    default java.nio.channels.FileChannel openFile(String key) {
        return null;
    }

    /**
     * As {@link #openFile}, the file opened for reads past the page cache (O_DIRECT,
     * {@link io.strata.util.DirectIo}); null when this store keeps no local files, the file system
     * refuses O_DIRECT, or the open fails (the caller reads through {@link #openFile}'s channel).
     */
    default java.nio.channels.FileChannel openFileDirect(String key) {
        return null;
    }

    boolean exists(String key);

    /** Size in bytes of a stored object. */
    long size(String key);

    /** Keys below {@code prefix} (which ends with '/'), in lexical order. */
    List<String> list(String prefix);

    /**
     * The keys of {@link #list} that have at most {@code depth} '/'-separated parts after
     * {@code prefix} ("backups/" and 2: "backups/ID/manifest", not "backups/ID/data/000001"), in
     * lexical order. The default filters {@link #list}; a local store does not walk deeper.
     */
    default List<String> list(String prefix, int depth) {
        List<String> out = new java.util.ArrayList<>();
        for (String k : list(prefix)) {
            if (k.substring(Math.min(k.length(), prefix.length())).split("/").length <= depth) {
                out.add(k);
            }
        }
        return out;
    }

    /**
     * Keys below {@code prefix} with their sizes in bytes, in lexical order. The default asks
     * {@link #size} per key; the stores override it with what their listing already carries.
     */
    default java.util.SortedMap<String, Long> listSizes(String prefix) {
        java.util.SortedMap<String, Long> out = new java.util.TreeMap<>();
        for (String k : list(prefix)) {
            out.put(k, size(k));
        }
        return out;
    }

    /** Removes an object; a missing one is not an error. */
    void delete(String key);

    /** A human-readable location for messages, e.g. the file path or s3:// URL of a key. */
    String describe(String key);

    /** Removes every object below {@code prefix} (which ends with '/'), and unfinished uploads there. */
    default void deletePrefix(String prefix) {
        for (String k : list(prefix)) {
            delete(k);
        }
    }

    /**
     * Discards what writers that never committed left below {@code prefix} (temporary files,
     * unfinished multipart uploads) and returns how many. Only safe while no writer is active
     * there, i.e. under the repository lock.
     */
    default int discardUnfinished(String prefix) {
        return 0;
    }

    /** Releases clients and threads; objects already committed are unaffected. */
    @Override
    default void close() {}

    default void put(String key, byte[] data) {
        try (Writer w = create(key)) {
            w.stream().write(data);
            w.commit();
        } catch (IOException e) {
            throw StorageException.local("write", describe(key), e);
        }
    }

    /**
     * Stores {@code data} under {@code key} only when no object is there, in one operation that
     * cannot replace an object another writer stored meanwhile (the repository marker: two
     * processes creating one repository together must end with one marker). Durable when it
     * returns true.
     *
     * @return true when this call stored the object; false when another object was there first
     *         (it is left as it was, and readers see it whole)
     * @throws StorageException when the store cannot do it (a file system without hard links)
     */
    boolean putIfAbsent(String key, byte[] data);

    default byte[] get(String key) {
        try (InputStream in = open(key)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw StorageException.local("read", describe(key), e);
        }
    }

    /**
     * Makes durable every object committed with {@link Writer#commitBatched()} since the last call.
     * A stored backup writes its data objects batched and calls this once before its manifest.
     */
    default void sync() {}

    /** An object being written. Closing an uncommitted writer discards what was written. */
    interface Writer extends AutoCloseable {
        /** Where the object's bytes go; its methods throw {@link StorageException} on failure. */
        OutputStream stream();

        /** Makes the object durable and visible under its key. */
        void commit();

        /**
         * Makes the object durable and visible under its key at the latest when the next
         * {@link ObjectStore#sync()} returns (a crash before then may leave it short or absent; the
         * local store shows it at once, S3 once its PUT, sent in the background, ended), and
         * {@link ObjectStore#size} knows it at once. For many objects whose use waits for one later
         * record, such as a backup's data before its manifest: one sync instead of one per object.
         * A failure may be thrown here or by that sync.
         */
        default void commitBatched() {
            commit();
        }

        @Override
        void close();
    }

    /** The object does not exist: {@link StorageException.Kind#NOT_FOUND}. */
    final class NoSuchObjectException extends StorageException {
        public NoSuchObjectException(String operation, String resource) {
            super(Kind.NOT_FOUND, operation, resource, "missing object " + resource, "the repository is incomplete; was it copied partially?", null);
        }
    }
}
