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
    /** The manifest's name of the object: as given, or for a pack member its {@code pack/NNNNNN@OFFSET+LENGTH} once committed. */
    private String object;
    /** Of a member being written into a pack: the packs and the pack (given back at commit or close), and where the member starts. */
    private final Packs packs;
    private Packs.Pack pack;
    private final long start;
    private long length;

    /** {@code expectedBytes}: the raw bytes the object will hold, about (negative: unknown); sizes its chunk buffer. */
    StoredObject(ObjectStore store, String key, String object, String content, ObjectCodec codec, long expectedBytes) {
        this.store = store;
        this.key = key;
        this.object = object;
        this.packs = null;
        this.start = 0;
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

    /**
     * A member of a pack being written ({@link Packs}): framed as any object, into the pack taken
     * from {@code packs} by the caller; the pack is given back at {@link #commitBatched} or
     * {@link #close}.
     */
    StoredObject(ObjectStore store, Packs packs, Packs.Pack pack, String content, ObjectCodec codec, long expectedBytes) {
        this.store = store;
        this.key = pack.where; // for messages only: where the pack is
        this.packs = packs;
        this.pack = pack;
        this.writer = null;
        this.start = pack.size();
        try {
            this.out = new ChunkedWriter(pack.out, content, codec, expectedBytes);
        } catch (IOException e) {
            giveBack();
            throw StorageException.local("write", pack.where, e);
        } catch (RuntimeException e) {
            giveBack();
            throw e;
        }
    }

    private void giveBack() {
        Packs.Pack p = pack;
        pack = null;
        if (p != null) {
            packs.give(p);
        }
    }

    /**
     * The manifest's name of the object ({@link FileEntry#object()}): the name it was created
     * with, or for a member of a pack {@code pack/NNNNNN@OFFSET+LENGTH}, known once committed.
     */
    public String object() {
        if (object == null) {
            throw new IllegalStateException("a pack member has no name before its commit");
        }
        return object;
    }

    /** How messages name the object while it is written: its path or URL, or for a pack member the pack's. */
    public String describe() {
        return packs != null ? key : store.describe(key);
    }

    /** Where the object's content goes (raw bytes; framing happens inside). */
    public ChunkedWriter out() { return out; }

    /** Ends the object's frame and makes it visible; durable at {@link Repository#syncBackupObjects()}. */
    public void commitBatched() {
        if (packs != null) {
            String where = pack.where;
            try {
                out.finish();
            } catch (IOException e) {
                throw StorageException.local("write", where, e);
            }
            length = pack.size() - start;
            object = new Keys.Member(pack.object, start, length).name();
            giveBack();
            committed = true;
            return;
        }
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
        return packs != null ? length : store.size(key);
    }

    /** Discards the object when it was not committed (a pack member's bytes stay in its pack, named by nothing). */
    @Override
    public void close() {
        if (packs != null) {
            giveBack();
            return;
        }
        writer.close();
    }
}
