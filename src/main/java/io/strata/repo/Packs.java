package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;

import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The packs of one backup being written (docs/repository-format.md, "Packs"): the objects of
 * small files are written one after another into a few stored objects, {@code pack/NNNNNN},
 * instead of one stored object each. A member is a whole framed object ({@link ObjectFormat}),
 * with its own header, chunks and footer; the manifest names it
 * {@code pack/NNNNNN@OFFSET+LENGTH} ({@link Keys.Member}), and readers open those bytes as the
 * object. At 5,000 tables a backup stores ~10,000 objects; on a local disk each cost a file
 * created, renamed and fsynced, and in object storage a PUT.
 *
 * <p>A pack is written by one member at a time: a thread {@link #take}s an idle pack (or opens a
 * new one, up to a limit; at the limit it waits for one), writes one member into it and {@link #give}s it back. A
 * pack that has reached {@link #PACK_TARGET} bytes is committed when given back; the others when
 * the backup's objects are synced, before its manifest ({@link #finish}). A member whose writing
 * failed before its commit leaves its bytes in the pack, named by no manifest entry. A pack whose
 * own stream failed is discarded, and with it the members committed into it: {@link #finish}
 * then throws that failure, so that no manifest names them.
 */
final class Packs {
    /** Objects expected to hold at most this many raw bytes (the file's size when the copy starts) go into a pack. */
    static final long MEMBER_MAX = 1L << 20;
    /**
     * A pack given back with at least this many bytes is committed, and later members go into
     * another: small enough that packs are committed, and their fsyncs run, while the copy goes on
     * (a backup's dirty pages are otherwise written out only by the sync before its manifest).
     */
    static final long PACK_TARGET = 8L << 20;
    /**
     * The same in object storage: 4 MiB, the largest buffer an object of the store fills before it
     * takes one of the store's few part buffers ({@code S3ObjectStore}): a pack given back is
     * committed before it could hold one while idle, which would leave other objects (an Aria log
     * copied under BLOCK_COMMIT) waiting for a buffer.
     */
    static final long PACK_TARGET_REMOTE = 4L << 20;
    /**
     * Packs open at once, at most, in a local repository: as many as the threads that copy small
     * files ({@code FileCopier}'s 16). A thread that finds none idle and this many open waits for
     * one ({@link #take}).
     */
    static final int MAX_OPEN_LOCAL = 16;
    /** The same in object storage, where each open pack holds a buffer of the store: fewer than the store's part buffers (at least 2). */
    static final int MAX_OPEN_REMOTE = 2;

    private final ObjectStore store;
    private final String id;
    private final int maxOpen;
    private final long target;
    private final ArrayDeque<Pack> idle = new ArrayDeque<>();
    private int open;
    private int seq;
    private RuntimeException failed;

    /**
     * The packs of backup {@code id} in {@code store}, at most {@code maxOpen} open at once;
     * nothing is created before the first {@link #take}.
     */
    Packs(ObjectStore store, String id, int maxOpen, long target) {
        this.store = store;
        this.id = id;
        this.maxOpen = maxOpen;
        this.target = target;
    }

    /**
     * An idle pack, or a new one. When {@code maxOpen} are open and all in use, waits up to
     * {@link #WAIT_MILLIS} for one to be given back (a member takes a pack for the time of one
     * small file's copy); null when none came, or after a failure: the caller writes an object of
     * its own.
     */
    synchronized Pack take() {
        long until = System.nanoTime() + WAIT_MILLIS * 1_000_000L;
        while (failed == null && !discarded && idle.isEmpty() && open >= maxOpen) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            try {
                wait(Math.max(1, left / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        if (failed != null || discarded) {
            return null;
        }
        Pack p = idle.pollFirst();
        if (p != null) {
            return p;
        }
        String object = Keys.packObject(++seq);
        String key = Keys.backupObject(id, object);
        Pack created = new Pack(object, store.create(key), store.describe(key));
        open++;
        return created;
    }

    /** How long {@link #take} waits for a pack in use, in milliseconds. */
    static final long WAIT_MILLIS = 2000;

    /**
     * Gives back a pack taken with {@link #take}, after one member was committed into it or
     * abandoned. A full one is committed (batched: durable at the store's next sync), a broken one
     * discarded (its failure kept for {@link #finish}), any other kept for the next member.
     */
    void give(Pack p) {
        boolean commit;
        synchronized (this) {
            notifyAll();
            if (discarded) {
                open--;
                p.writer.close();
                return;
            }
            if (p.broken != null) {
                open--;
                if (failed == null) {
                    failed = p.broken;
                }
                p.writer.close();
                return;
            }
            commit = p.out.count >= target;
            if (commit) {
                open--;
            } else {
                idle.addFirst(p);
            }
        }
        if (commit) {
            commitPack(p);
        }
    }

    private void commitPack(Pack p) {
        try {
            p.writer.commitBatched();
        } catch (RuntimeException e) {
            synchronized (this) {
                if (failed == null) {
                    failed = e;
                }
            }
            p.writer.close();
            throw e;
        }
    }

    /**
     * Commits every pack still open (batched); then throws the first failure of a pack's stream or
     * commit since the packs were started, if any. Called when no member is being written. Does
     * nothing after {@link #discard} (a member still being written by then is dropped when given back).
     *
     * @throws io.strata.store.StorageException the failure of a pack: members committed into it are not stored
     */
    void finish() {
        List<Pack> toCommit;
        synchronized (this) {
            if (discarded) {
                return; // the backup failed and its objects were deleted: nothing of it is committed, and its failure was reported then
            }
            if (open != idle.size()) {
                throw new IllegalStateException(open - idle.size() + " pack(s) of backup " + id + " still being written");
            }
            toCommit = new ArrayList<>(idle);
            idle.clear();
            open = 0;
        }
        for (Pack p : toCommit) {
            try {
                commitPack(p);
            } catch (RuntimeException e) {
                // kept as the failure (commitPack did), thrown below once every other pack was committed or closed
            }
        }
        synchronized (this) {
            if (failed != null) {
                throw failed instanceof StrataException se ? se
                        : new StrataException(ErrorCode.IO_ERROR, "a pack of backup " + id + " could not be written: " + failed.getMessage(),
                        "check the repository's storage, then take the backup again", failed);
            }
        }
    }

    /** Drops every pack not committed yet (the backup failed); later takes get none, and packs still in use are dropped when given back. */
    synchronized void discard() {
        for (Pack p : idle) {
            p.writer.close();
        }
        open -= idle.size();
        idle.clear();
        discarded = true;
        notifyAll();
    }

    /** Set by {@link #discard}: no pack is taken any more, and one given back is dropped. */
    private boolean discarded;

    /** One pack being written: its object name ({@code pack/NNNNNN}) and the stream members are written into. */
    static final class Pack {
        final String object;
        final ObjectStore.Writer writer;
        /** How messages name the pack (its path or s3:// URL). */
        final String where;
        final Counting out;
        /** The failure of this pack's stream, once one happened: the pack is not committed. */
        volatile RuntimeException broken;

        Pack(String object, ObjectStore.Writer writer, String where) {
            this.object = object;
            this.writer = writer;
            this.where = where;
            this.out = new Counting(this, writer.stream());
        }

        /** Bytes written into the pack so far: where the next member starts. */
        long size() {
            return out.count;
        }
    }

    /**
     * The pack's stream as members see it: counts the bytes, records the first failure (every
     * later write fails the same way), and does not close the stream beneath (members end, the
     * pack goes on).
     */
    static final class Counting extends OutputStream {
        private final Pack pack;
        private final OutputStream out;
        long count;

        Counting(Pack pack, OutputStream out) {
            this.pack = pack;
            this.out = out;
        }

        private void check() {
            if (pack.broken != null) {
                throw pack.broken;
            }
        }

        @Override
        public void write(int b) {
            check();
            try {
                out.write(b);
            } catch (java.io.IOException e) {
                throw broke(io.strata.store.StorageException.local("write", pack.where, e));
            } catch (RuntimeException e) {
                throw broke(e);
            }
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            check();
            try {
                out.write(b, off, len);
            } catch (java.io.IOException e) {
                throw broke(io.strata.store.StorageException.local("write", pack.where, e));
            } catch (RuntimeException e) {
                throw broke(e);
            }
            count += len;
        }

        @Override
        public void flush() {
            check();
            try {
                out.flush();
            } catch (java.io.IOException e) {
                throw broke(io.strata.store.StorageException.local("write", pack.where, e));
            } catch (RuntimeException e) {
                throw broke(e);
            }
        }

        private RuntimeException broke(RuntimeException e) {
            pack.broken = e;
            return e;
        }

        @Override
        public void close() {
            // the pack's writer closes the stream
        }
    }
}
