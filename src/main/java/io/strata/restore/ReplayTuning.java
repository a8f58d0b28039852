package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The settings of the temporary server while it replays archived binlogs ({@link PitrReplay}),
 * chosen for speed where durability buys nothing.
 *
 * <p>Why durability can be relaxed there: the server runs on a private socket with networking off,
 * nothing but strata writes to it, and a replay that does not end in a clean shutdown is never
 * used: the target is put back as strata found it (or stays marked unfinished when strata itself
 * is killed, and the next restore refuses it), and the restore is redone from the backup. So a
 * crash of the temporary server during the replay loses nothing anyone could have read. Then:
 * <ul>
 *   <li>{@code innodb_flush_log_at_trx_commit=0}: a commit does not write or sync the redo log;
 *       InnoDB writes it about once a second and at shutdown.</li>
 *   <li>{@code innodb_doublewrite=0}: pages are written once, not first to the doublewrite area.
 *       The doublewrite area only protects against a page torn by a crash during its write, and a
 *       crash here means the result is thrown away. Crash recovery of the restored files (the same
 *       server run, before the replay) does not need it: strata composed every restored page and
 *       checked its checksum, so no restored page is torn.</li>
 *   <li>{@code sync_binlog=0}: the binary log is off on this server anyway ({@code --skip-log-bin},
 *       {@link RestoreRun#recoveryArgs}); said so that an option file cannot turn syncing on.</li>
 *   <li>for the applier ({@link PitrApplier}): {@code sync_relay_log=0},
 *       {@code sync_relay_log_info=0}, {@code sync_master_info=0}: the replication state files
 *       live in the work directory and are deleted afterwards.</li>
 *   <li>{@code innodb_buffer_pool_size} from the restored InnoDB files ({@link #bufferPool}), so the
 *       pages the replay changes stay cached instead of being read and written again.</li>
 * </ul>
 * None of this is written into the target: they are command-line options of that one server run,
 * the restored directory holds no option file with them, and the server that later runs on the
 * result has its own settings. The replay ends with a clean shutdown (InnoDB writes every changed
 * page and the redo log, syncs the files and writes a checkpoint), after which the result is as
 * durable as one replayed with the defaults, and byte for byte the same data.
 */
final class ReplayTuning {
    private static final long MIB = 1L << 20;
    /** The buffer pool of the temporary server without the tuning ({@link RestoreRun#recoveryArgs}); never less. */
    static final long MIN_POOL = 256 * MIB;
    /** The pool is rounded up to this (InnoDB rounds to its chunk size anyway). */
    static final long POOL_STEP = 128 * MIB;

    private ReplayTuning() {}

    /**
     * The options added to the temporary server's command line for the replay (after the
     * recovery options, so they take precedence).
     *
     * @param applier    true when the replication applier replays (adds the relay-log sync options)
     * @param bufferPool innodb_buffer_pool_size in bytes ({@link #bufferPool})
     */
    static List<String> args(boolean applier, long bufferPool) {
        List<String> a = new ArrayList<>(List.of(
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--sync-binlog=0",
                "--innodb-buffer-pool-size=" + bufferPool));
        if (applier) {
            a.addAll(List.of("--sync-relay-log=0", "--sync-relay-log-info=0", "--sync-master-info=0"));
        }
        return a;
    }

    /**
     * The buffer pool for a replay into {@code innodbBytes} of restored InnoDB files: those bytes
     * plus an eighth, rounded up to {@link #POOL_STEP}, at least {@link #MIN_POOL}, at most a
     * quarter of {@code memoryBytes} (the machine's physical memory; other servers may run on it)
     * unless that is below the minimum. InnoDB allocates the pool as it is used, so a large value
     * costs memory only when the replay touches that many pages.
     *
     * @return bytes
     */
    static long bufferPool(long innodbBytes, long memoryBytes) {
        long want = innodbBytes + innodbBytes / 8;
        want = (want + POOL_STEP - 1) / POOL_STEP * POOL_STEP;
        long cap = memoryBytes / 4 / POOL_STEP * POOL_STEP;
        return Math.max(MIN_POOL, Math.min(want, cap));
    }

    /** {@link #bufferPool(long, long)} for the restored files of {@code layout} and this machine's memory. */
    static long bufferPool(RestoredLayout layout) {
        return bufferPool(innodbBytes(layout), physicalMemory());
    }

    /**
     * Bytes of InnoDB data in a restored directory: the sizes of the system tablespace files
     * ({@code ibdata*}), undo tablespaces ({@code undo*}) and {@code .ibd} files in the target and
     * in the layout's data and undo directories (each directory counted once). Files that vanish
     * while being counted are skipped.
     *
     * @throws StrataException io-error when a directory cannot be listed
     */
    static long innodbBytes(RestoredLayout layout) {
        Set<Path> dirs = new LinkedHashSet<>();
        dirs.add(layout.target());
        if (!layout.dataHome().startsWith(layout.target())) {
            dirs.add(layout.dataHome());
        }
        if (!layout.undoHome().startsWith(layout.target())) {
            dirs.add(layout.undoHome());
        }
        long total = 0;
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(d)) {
                total += s.filter(ReplayTuning::isInnodbFile).mapToLong(ReplayTuning::sizeOrZero).sum();
            } catch (IOException e) {
                throw new StrataException(ErrorCode.IO_ERROR, "cannot list the restored files in " + d + ": " + e.getMessage(), null, e);
            }
        }
        return total;
    }

    private static boolean isInnodbFile(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".ibd") || n.startsWith("ibdata") || n.startsWith("undo");
    }

    private static long sizeOrZero(Path p) {
        try {
            return Files.isRegularFile(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Physical memory in bytes, or 4 GiB where the JVM cannot say. */
    static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long m = os.getTotalMemorySize();
            if (m > 0) {
                return m;
            }
        }
        return 4096 * MIB;
    }

    /** One line for the log: what the replay server runs with. */
    static String describe(boolean applier, long bufferPool) {
        return "replay server settings (this run only, none kept in the result): innodb_flush_log_at_trx_commit=0, innodb_doublewrite=0, sync_binlog=0"
                + (applier ? ", sync_relay_log=0, sync_relay_log_info=0, sync_master_info=0" : "")
                + ", innodb_buffer_pool_size=" + bufferPool / MIB + "M; the clean shutdown at the end makes the result durable";
    }
}
