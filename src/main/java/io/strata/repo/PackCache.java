package io.strata.repo;

import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The stored bytes of the last pack read whole, for a reader that takes the members of a pack one
 * after another in object storage ({@link Repository#openBackupObject(String, String, String, PackCache)}):
 * one HEAD and one GET of the pack instead of one ranged GET per member. A copy of a 5,000-table backup out of
 * S3 reads ~10,000 members from ~125 packs of about 4 MiB; each GET costs the store's latency
 * (tens of milliseconds), so reading them one by one took 220 s (bench/s3-many-tables.sh).
 *
 * <p>Holds one pack of at most {@link #MAX_BYTES} bytes (a larger one is read member by member,
 * as without a cache). Not thread-safe: one per reading thread. A pack is immutable once stored,
 * so what is cached never goes stale. A pack shorter than a member's range gives the bytes it has,
 * as a ranged GET past the end does, and the member's reader reports the truncation.
 */
public final class PackCache {
    /**
     * The largest pack read whole, in bytes: strata commits a pack once it holds 4 MiB in object
     * storage (8 MiB on disk), so most packs are that plus one member (a file of at most 1 MiB
     * when its copy began, a little more if it grew meanwhile). A restore's writer may hold one,
     * next to its 32 MiB of the heap; a larger pack is read member by member.
     */
    static final long MAX_BYTES = 16L << 20;

    private final long maxBytes;
    private String key;
    private byte[] bytes;
    private long reads;

    /** A cache that holds packs of at most {@link #MAX_BYTES}. */
    public PackCache() {
        this(MAX_BYTES);
    }

    /** A cache that holds packs of at most {@code maxBytes} (tests). */
    PackCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * The bytes [{@code offset}, {@code offset + length}) of the stored object {@code key} of
     * {@code store}: from the cached pack when it is that one, else after reading it whole (its
     * size, then one GET), or as a ranged read when it is larger than {@link #MAX_BYTES}.
     *
     * @throws ObjectStore.NoSuchObjectException when the pack does not exist
     */
    InputStream range(ObjectStore store, String key, long offset, long length) {
        if (!key.equals(this.key)) {
            this.key = key;
            this.bytes = null; // until read whole: a pack too large to hold stays null, its members read one by one
            long size = store.size(key);
            if (size <= maxBytes) {
                try (InputStream in = store.open(key)) {
                    bytes = in.readNBytes((int) size);
                } catch (IOException e) {
                    throw StorageException.local("read", store.describe(key), e);
                }
                reads++;
            }
        }
        if (bytes == null) {
            return store.openRange(key, offset, length);
        }
        int from = (int) Math.min(offset, bytes.length);
        int n = (int) Math.min(length, bytes.length - (long) from);
        return new ByteArrayInputStream(bytes, from, n);
    }

    /** How many packs were read whole so far (tests). */
    long reads() {
        return reads;
    }
}
