package io.strata.store;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

import io.strata.util.Dirs;
import io.strata.util.FileModes;

/**
 * Objects as files below a root directory, private to the user strata runs as: every directory
 * this store creates is 0700 and every object 0600 ({@link FileModes}). A writer fills a hidden temporary file next to the
 * target, and commit fsyncs it, renames it into place atomically and fsyncs the directory, so a
 * crash leaves either the whole object or only a temporary file that {@link #list} ignores.
 * A batched commit renames at once and hands the object's fsync to a pool of background threads,
 * so that the objects of a backup are written out while later ones are still being copied (a
 * backup of 5,000 tables commits 10,000 objects; fsyncing them all at the end took 0.7-0.9 s of a
 * 5 s backup here); the fsyncs run many at a time, so the file system writes them in a few journal
 * commits instead of one per object. {@link #sync()} waits for them, reports the first that failed,
 * and fsyncs the directories that received them.
 */
public final class LocalObjectStore implements ObjectStore {
    static final String TEMP_PREFIX = ".tmp-";
    private static final int SYNC_THREADS = 16;
    private static final java.util.Set<StandardOpenOption> CREATE_NEW_WRITE = java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    private final Path root;
    /**
     * The fsyncs of objects committed batched still queued or running in {@link #syncPool}; each
     * leaves the set when it ends. What {@link #sync} needs of the ended ones is kept apart and
     * small ({@link #unsyncedDirs}, {@link #syncFailed}): a backup of 100,000 tables commits
     * 200,000 objects before its one sync, and a path and a finished future kept for each was
     * some 50 MB of heap.
     */
    private final java.util.Set<java.util.concurrent.Future<?>> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The directories of the objects committed batched since the last {@link #sync}: a backup's 100 data folders. */
    private final java.util.Set<Path> unsyncedDirs = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The first fsync that failed since the last {@link #sync}, or null. */
    private final java.util.concurrent.atomic.AtomicReference<SyncFailure> syncFailed = new java.util.concurrent.atomic.AtomicReference<>();
    private record SyncFailure(Path file, Throwable cause) {}
    /** The background fsync threads, made on first use; idle ones end after a few seconds. */
    private java.util.concurrent.ThreadPoolExecutor syncPool;
    /**
     * Directories {@link #create} made or found: the next object in one of them skips the
     * mkdir and stat of {@link FileModes#createPrivateDirectories} (two system calls of the five a
     * small object costs; a backup of 5,000 tables writes 10,000 objects into two directories).
     * A directory removed meanwhile is created again.
     */
    private final java.util.Set<Path> knownDirs = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final int KNOWN_DIRS_LIMIT = 4096;

    public LocalObjectStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() { return root; }

    /**
     * This process's temporary names: a random part drawn once, then a counter, so that creating
     * an object draws no random bytes (a backup of 5,000 tables creates 10,000 objects from 16
     * threads). Files are created with CREATE_NEW all the same: a name in use is never overwritten.
     */
    private static final String TEMP_ID = UUID.randomUUID().toString();
    private static final java.util.concurrent.atomic.AtomicLong TEMP_SEQ = new java.util.concurrent.atomic.AtomicLong();

    private static Path tempName(Path target) {
        return target.resolveSibling(TEMP_PREFIX + target.getFileName() + "-" + TEMP_ID + "-" + TEMP_SEQ.incrementAndGet());
    }

    Path path(String key) {
        if (key.isEmpty() || key.startsWith("/") || key.contains("..")) {
            throw new IllegalArgumentException("bad object key: " + key);
        }
        return root.resolve(key);
    }

    @Override
    public Writer create(String key) {
        Path target = path(key);
        try {
            Path dir = target.getParent();
            Path tmp = target.resolveSibling(tempName(target));
            FileChannel ch;
            if (knownDirs.contains(dir)) {
                try {
                    ch = FileChannel.open(tmp, CREATE_NEW_WRITE, FileModes.attribute(FileModes.PRIVATE_FILE));
                    return new LocalWriter(ch, tmp, target);
                } catch (NoSuchFileException removedMeanwhile) {
                    knownDirs.remove(dir);
                }
            }
            FileModes.createPrivateDirectories(dir);
            ch = FileChannel.open(tmp, CREATE_NEW_WRITE, FileModes.attribute(FileModes.PRIVATE_FILE));
            if (knownDirs.size() < KNOWN_DIRS_LIMIT) {
                knownDirs.add(dir);
            }
            return new LocalWriter(ch, tmp, target);
        } catch (IOException e) {
            throw StorageException.local("write", describe(key), e);
        }
    }

    /**
     * Writes a temporary file beside the target, fsyncs it and publishes it with a hard link:
     * link(2) fails when the name exists, where rename(2) would replace the object silently.
     */
    @Override
    public boolean putIfAbsent(String key, byte[] data) {
        Path target = path(key);
        Path tmp = target.resolveSibling(tempName(target));
        try {
            FileModes.createPrivateDirectories(target.getParent());
            try {
                try (FileChannel ch = FileChannel.open(tmp, CREATE_NEW_WRITE, FileModes.attribute(FileModes.PRIVATE_FILE))) {
                    for (java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data); b.hasRemaining(); ) {
                        ch.write(b);
                    }
                    ch.force(false);
                }
                Files.createLink(target, tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException e) {
                throw new StorageException(StorageException.Kind.IO, "write", target.toString(), "cannot store " + target
                        + " exclusively: the file system makes no hard links", "put the repository on a local file system (ext4, xfs, btrfs, zfs)", e);
            } finally {
                Files.deleteIfExists(tmp);
            }
            fsyncDir(target.getParent());
            return true;
        } catch (IOException e) {
            throw StorageException.local("write", target.toString(), e);
        }
    }

    @Override
    public InputStream open(String key) {
        String where = describe(key);
        try {
            return new LocalInput(Files.newInputStream(path(key)), where);
        } catch (NoSuchFileException e) {
            throw new NoSuchObjectException("read", where);
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    @Override
    public FileChannel openFile(String key) {
        String where = describe(key);
        try {
            return FileChannel.open(path(key), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchObjectException("read", where);
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    @Override
    public FileChannel openFileDirect(String key) {
        return io.strata.util.DirectIo.openRead(path(key));
    }

    @Override
    public boolean exists(String key) {
        return Files.isRegularFile(path(key));
    }

    @Override
    public long size(String key) {
        try {
            return Files.size(path(key));
        } catch (NoSuchFileException e) {
            throw new NoSuchObjectException("size", describe(key));
        } catch (IOException e) {
            throw StorageException.local("size", describe(key), e);
        }
    }

    @Override
    public List<String> list(String prefix) {
        return list(prefix, Integer.MAX_VALUE);
    }

    /** Walks no deeper than {@code depth} directory levels below {@code prefix} (see {@link ObjectStore#list(String, int)}). */
    @Override
    public List<String> list(String prefix, int depth) {
        Path dir = prefix.isEmpty() ? root : path(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> keys = new ArrayList<>();
        try {
            Files.walkFileTree(dir, java.util.EnumSet.noneOf(java.nio.file.FileVisitOption.class), depth, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && !file.getFileName().toString().startsWith(TEMP_PREFIX)) {
                        keys.add(root.relativize(file).toString().replace('\\', '/'));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof java.nio.file.NoSuchFileException && !file.equals(dir)) {
                        return FileVisitResult.CONTINUE; // removed while listed (a writer's temporary file, retired history records)
                    }
                    throw e;
                }
            });
        } catch (IOException e) {
            throw StorageException.local("list", dir.toString(), e);
        }
        Collections.sort(keys);
        return keys;
    }

    @Override
    public void delete(String key) {
        try {
            Files.deleteIfExists(path(key));
        } catch (IOException e) {
            throw StorageException.local("delete", describe(key), e);
        }
    }

    /** Removes a whole prefix, directories and temporary files included. */
    @Override
    public void deletePrefix(String prefix) {
        try {
            Dirs.delete(path(prefix), false);
        } catch (IOException e) {
            throw StorageException.local("delete", describe(prefix), e);
        }
    }

    @Override
    public int discardUnfinished(String prefix) {
        Path dir = path(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<Path> temps = new ArrayList<>();
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (file.getFileName().toString().startsWith(TEMP_PREFIX)) {
                        temps.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
            for (Path t : temps) {
                Files.deleteIfExists(t);
            }
        } catch (IOException e) {
            throw StorageException.local("delete", dir.toString(), e);
        }
        return temps.size();
    }

    @Override
    public String describe(String key) {
        return root.resolve(key).toString();
    }

    @Override
    public void sync() {
        // the directories first: an object committed meanwhile then has its fsync waited for here or
        // its directory left for the next sync, never its directory synced and its file not
        List<Path> dirList = new ArrayList<>(unsyncedDirs);
        unsyncedDirs.removeAll(dirList);
        List<java.util.concurrent.Future<?>> running = new ArrayList<>(inFlight);
        if (running.isEmpty() && dirList.isEmpty() && syncFailed.get() == null) {
            return;
        }
        boolean interrupted = false;
        for (java.util.concurrent.Future<?> f : running) { // every fsync waited for, even after one failed
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                // the task records its own failure in syncFailed
            } catch (InterruptedException e) {
                interrupted = true; // the fsyncs not waited for run on: the next sync waits for them
                break;
            }
        }
        if (interrupted) {
            unsyncedDirs.addAll(dirList);
            Thread.currentThread().interrupt();
            throw new StorageException(StorageException.Kind.INTERRUPTED, "sync", root.toString(), "interrupted while syncing " + root, null, null);
        }
        SyncFailure failure = syncFailed.getAndSet(null);
        if (failure != null && failure.cause() instanceof IOException io) {
            throw StorageException.local("sync", failure.file().toString(), io);
        } else if (failure != null) {
            throw new StorageException(StorageException.Kind.IO, "sync", failure.file().toString(), "I/O error on " + failure.file() + " (sync): "
                    + failure.cause(), null, failure.cause());
        }
        // each file's directory, and the one above it: a backup's data objects live in sub-folders of data/ made as they were needed
        java.util.Set<Path> dirs = new java.util.LinkedHashSet<>(dirList);
        dirList.forEach(d -> {
            if (d.getParent() != null && d.getParent().startsWith(root)) {
                dirs.add(d.getParent());
            }
        });
        dirs.forEach(LocalObjectStore::fsyncDir);
    }

    /** What the store keeps for the next {@link #sync}: fsyncs not yet ended and directories not yet synced (none right after one). */
    int keptForSync() {
        return inFlight.size() + unsyncedDirs.size();
    }

    /**
     * Starts the fsync of {@code file}, an object just committed batched (renamed into place):
     * its directory is fsynced by the next {@link #sync}, which also waits for this fsync and
     * reports it when it failed.
     */
    private void fsyncLater(Path file) {
        java.util.concurrent.ThreadPoolExecutor pool;
        synchronized (this) {
            if (syncPool == null) {
                syncPool = new java.util.concurrent.ThreadPoolExecutor(SYNC_THREADS, SYNC_THREADS, 5, java.util.concurrent.TimeUnit.SECONDS,
                        // at strata's own priority: the pool grows on the copy threads, which run lowered
                        new java.util.concurrent.LinkedBlockingQueue<>(), r -> io.strata.util.WorkerPriority.asStarted(r, "strata-fsync"));
                syncPool.allowCoreThreadTimeOut(true);
            }
            pool = syncPool;
        }
        java.util.concurrent.FutureTask<Void> task = new java.util.concurrent.FutureTask<>(() -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(false);
            } catch (NoSuchFileException deletedSinceCommit) {
                // nothing to make durable
            } catch (IOException | RuntimeException | Error e) {
                syncFailed.compareAndSet(null, new SyncFailure(file, e));
            }
            return null;
        }) {
            @Override
            protected void done() {
                inFlight.remove(this);
            }
        };
        inFlight.add(task); // before it can run (done() takes it out again), and before its directory: see sync()
        unsyncedDirs.add(file.getParent());
        try {
            pool.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            inFlight.remove(task);
            throw e;
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems refuse to open directories; the rename is still atomic
        }
    }

    private final class LocalWriter implements Writer {
        private final FileChannel channel;
        private final Path tmp;
        private final Path target;
        private final OutputStream out;
        private boolean done;

        LocalWriter(FileChannel channel, Path tmp, Path target) {
            this.channel = channel;
            this.tmp = tmp;
            this.target = target;
            // gathers the small header writes; whole chunks are larger and go straight through
            this.out = new LocalOutput(new BufferedOutputStream(io.strata.util.NioSlices.outputStream(channel), 8192), channel, target.toString());
        }

        @Override
        public OutputStream stream() { return out; }

        @Override
        public void commit() {
            finish(true);
        }

        @Override
        public void commitBatched() {
            finish(false);
        }

        private void finish(boolean durable) {
            try {
                out.flush();
                if (durable) {
                    channel.force(false);
                }
                channel.close();
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                done = true;
                if (durable) {
                    fsyncDir(target.getParent());
                } else {
                    fsyncLater(target);
                }
            } catch (IOException e) {
                throw StorageException.local("write", target.toString(), e);
            }
        }

        @Override
        public void close() {
            if (!done) {
                done = true;
                try {
                    try {
                        channel.close();
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                } catch (IOException e) {
                    throw StorageException.local("delete", tmp.toString(), e);
                }
            }
        }
    }

    /** One I/O call of a stream of this store. */
    private interface Call<T> {
        T run() throws IOException;
    }

    /** Runs {@code call}; an I/O error becomes a {@link StorageException} of {@code op} on {@code where}. */
    private static <T> T io(String op, String where, Call<T> call) {
        try {
            return call.run();
        } catch (IOException e) {
            throw StorageException.local(op, where, e);
        }
    }

    /** A stored file being read: its I/O errors become {@link StorageException}s naming the object. */
    private static final class LocalInput extends java.io.FilterInputStream {
        private final String where;

        LocalInput(InputStream in, String where) {
            super(in);
            this.where = where;
        }

        @Override
        public int read() {
            return io("read", where, in::read);
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return io("read", where, () -> in.read(b, off, len));
        }

        @Override
        public long skip(long n) {
            return io("read", where, () -> in.skip(n));
        }

        @Override
        public void close() {
            io("read", where, () -> {
                in.close();
                return null;
            });
        }
    }

    /**
     * An object being written: its I/O errors become {@link StorageException}s naming the object.
     * {@code out} buffers writes to {@code channel}; a buffer written as it is goes to the channel
     * after what {@code out} holds.
     */
    private static final class LocalOutput extends java.io.FilterOutputStream implements io.strata.util.BufferSink {
        private final FileChannel channel;
        private final String where;

        LocalOutput(OutputStream out, FileChannel channel, String where) {
            super(out);
            this.channel = channel;
            this.where = where;
        }

        @Override
        public void write(java.nio.ByteBuffer src) {
            io("write", where, () -> {
                out.flush();
                while (src.hasRemaining()) {
                    channel.write(src);
                }
                return null;
            });
        }

        @Override
        public void write(int b) {
            io("write", where, () -> {
                out.write(b);
                return null;
            });
        }

        @Override
        public void write(byte[] b, int off, int len) {
            io("write", where, () -> {
                out.write(b, off, len);
                return null;
            });
        }

        @Override
        public void flush() {
            io("write", where, () -> {
                out.flush();
                return null;
            });
        }

        @Override
        public void close() {
            io("write", where, () -> {
                out.close();
                return null;
            });
        }
    }
}
