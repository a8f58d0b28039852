package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Makes the files a restore wrote durable off the threads that write them: each finished file is
 * handed over by path ({@link #add}) and forced ({@code fdatasync}, through a descriptor of its
 * own) by one of a few syncing threads while the writers go on with the next files, so the disk
 * writes back one file while the next is copied, and no writer waits for a flush. {@link #await}
 * returns once every file handed over is durable; a restore calls it before it reports success
 * (and before it removes its unfinished marker). Until then a crash leaves the target marked
 * unfinished, as it would be during the copy.
 */
final class FileSyncer implements AutoCloseable {
    private final ExecutorService pool;
    private final List<Future<?>> pending = new ArrayList<>();

    /** A syncer with {@code threads} syncing threads (at least one). */
    FileSyncer(int threads) {
        pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "strata-sync");
            t.setDaemon(true);
            return t;
        });
    }

    /** Forces {@code file}, a regular file that is complete (or a directory), soon; a failure is reported by {@link #await}. */
    void add(Path file) {
        submit(file, () -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ch.force(false);
            }
        });
    }

    /**
     * Forces every directory of the tree under {@code dir} soon: the tree is listed now, when the
     * files below it are all created and before any server runs on it (whose files may come and
     * go while the directories are forced), so call it once the files are written.
     */
    void addDirectories(Path dir) throws IOException {
        List<Path> tree;
        try (Stream<Path> s = Files.walk(dir)) {
            tree = s.filter(Files::isDirectory).toList();
        }
        for (Path d : tree) {
            add(d);
        }
    }

    private interface Sync {
        void run() throws IOException;
    }

    private void submit(Path what, Sync sync) {
        Future<?> f = pool.submit(() -> {
            try {
                sync.run();
            } catch (IOException e) {
                throw new StrataException(ErrorCode.IO_ERROR, "cannot make the restored " + what + " durable: " + e.getMessage(), null, e);
            }
            return null;
        });
        synchronized (pending) {
            pending.add(f);
        }
    }

    /**
     * Waits until every file handed over is durable.
     *
     * @throws StrataException io-error naming the first file that could not be forced; interrupted
     */
    void await() {
        List<Future<?>> all;
        synchronized (pending) {
            all = new ArrayList<>(pending);
            pending.clear();
        }
        for (Future<?> f : all) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof StrataException se) {
                    throw se;
                }
                throw new StrataException(ErrorCode.BUG, "syncing the restored files failed: " + e.getCause(), null, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StrataException(ErrorCode.INTERRUPTED, "restore interrupted", null, e);
            }
        }
    }

    /** Stops syncing: files not yet forced are left as they are (a failed restore removes them). */
    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
