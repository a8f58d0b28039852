package io.strata.restore;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.LogHeader;
import io.strata.repo.FileEntry;
import io.strata.repo.Json;
import io.strata.repo.Manifest;
import io.strata.util.FileModes;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What a completed restore wrote into a data directory, kept there as {@value #FILE_NAME} (JSON,
 * one object) so that a later {@code restore --delta} of the same backup onto the directory can
 * leave alone, without reading them, the files and pages nothing has written since
 * (docs/repository-format.md, "The restore record {@code strata-restored.json}"):
 *
 * <pre>
 * field        meaning
 * format       "strata-restored"
 * version      1
 * backup       id of the backup whose files were written (before crash recovery)
 * identity     {@link #identity(Manifest)} of that backup: ids are unique only within a repository
 * logDevice    st_dev of ib_logfile0 after crash recovery (null: not recovered by strata)
 * logInode     st_ino of that ib_logfile0
 * logFirstLsn  the first LSN its header names (bytes 8-15 of the file): the server rebuilt the log
 *              there after recovery (10.11: log_t::create / 11.x: log_sys.create at the end of
 *              srv_start's recovery), and every later mini-transaction is in it until it wraps or
 *              is rebuilt again
 * files        for every file of the backup's manifest: path (below the directory), size (bytes),
 *              device, inode, mtime and ctime (nanoseconds since 1970-01-01 UTC) as the restore
 *              left them (after crash recovery, modes and --owner), and "written": whether the file
 *              still had the size, inode and mtime it had once the restore wrote and forced it,
 *              before crash recovery ran (recovery wrote nothing into it)
 * </pre>
 *
 * A "written" file whose size, device, inode, mtime and ctime still equal its entry holds exactly
 * the bytes the restore wrote: every write, truncation, mode or owner change since sets the change
 * time, which no user call can set back (the rule {@code PlainFileReuse} applies to unchanged plain
 * files of an incremental). The record is removed before a delta restore writes anything, and
 * written again when it completes.
 *
 * @param logFirstLsn LSN; null with {@code logInode}
 */
@JsonPropertyOrder({"format", "version", "backup", "identity", "logDevice", "logInode", "logFirstLsn", "files"})
public record RestoredState(String format, int version, String backup, String identity, Long logDevice, Long logInode, Long logFirstLsn,
                            List<Entry> files) {
    /** The file's name in the root of a restored directory. */
    public static final String FILE_NAME = "strata-restored.json";
    static final String FORMAT = "strata-restored";
    static final int VERSION = 1;

    /**
     * One file as the restore left it.
     *
     * @param path  relative to the restored directory, '/'-separated
     * @param size  bytes
     * @param mtime st_mtim in nanoseconds since 1970-01-01 UTC
     * @param ctime st_ctim in nanoseconds since 1970-01-01 UTC
     * @param written whether the file held the bytes the restore wrote when this entry was taken (same size, device, inode, mtime)
     */
    public record Entry(String path, long size, long device, long inode, long mtime, long ctime, boolean written) {
        /** Whether {@code o} has the same size, device, inode, mtime and ctime. */
        boolean sameAttributes(Entry o) {
            return size == o.size && device == o.device && inode == o.inode && mtime == o.mtime && ctime == o.ctime;
        }
    }

    /**
     * The attributes of every file of {@code m} in {@code target}, each at {@code where.apply(entry)}
     * (below {@code target}), as they are now.
     *
     * @throws IOException when a file cannot be read (it must exist: the restore just wrote it)
     */
    static RestoredState snapshot(Manifest m, Path target, Function<FileEntry, Path> where) throws IOException {
        List<Entry> l = new ArrayList<>(m.files().size());
        for (FileEntry fe : m.files()) {
            Path p = where.apply(fe);
            l.add(entryOf(target.relativize(p).toString(), p));
        }
        // a file whose times lie within a file-time tick of now could be written again (by crash recovery, next) in the same tick,
        // unseen: not taken as written (it is then compared in full by the next delta restore)
        long recent = recentSince(l);
        l.replaceAll(e -> e.mtime() >= recent || e.ctime() >= recent
                ? new Entry(e.path(), e.size(), e.device(), e.inode(), e.mtime(), e.ctime(), false) : e);
        return new RestoredState(FORMAT, VERSION, m.id(), identity(m), null, null, null, l);
    }

    /**
     * {@link #snapshot} of the files just written; null, said through {@code log}, when a file
     * cannot be read (the restore goes on; it writes no record).
     */
    static RestoredState snapshotOrNull(Manifest m, Path target, Function<FileEntry, Path> where, java.util.function.Consumer<String> log) {
        try {
            return snapshot(m, target, where);
        } catch (IOException e) {
            log.accept("NOTE: no restore record is written (" + e.getMessage() + "): the next restore --delta onto " + target + " compares every file");
            return null;
        }
    }

    /**
     * What tells backup {@code m} from any other with the same id (another repository's): the
     * CRC-32C, as 8 hex digits, over its start LSN, redo end LSN, redo digest and every file
     * entry's path, kind, size, storage and digest, in manifest order.
     */
    static String identity(Manifest m) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        StringBuilder sb = new StringBuilder().append(m.startLsn()).append('/').append(m.redoEndLsn()).append('/').append(m.redoCrc32c());
        for (FileEntry fe : m.files()) {
            sb.append('\n').append(fe.path()).append('\t').append(fe.kind()).append('\t').append(fe.size()).append('\t').append(fe.storage())
                    .append('\t').append(fe.crc32c());
        }
        c.update(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return String.format(java.util.Locale.ROOT, "%08x", (int) c.getValue());
    }

    /**
     * The file time (ns since 1970) from which a file's times are "recent": within the tick of the
     * coarse clock file times come from (1-10 ms; whole seconds on some file systems and NFS
     * servers) of now, so that a write now could leave them as they are. Now less 100 ms where the
     * entries' times have sub-second parts, else less {@link #COARSE_MARGIN_NANOS}.
     */
    static long recentSince(List<Entry> entries) {
        java.time.Instant now = java.time.Instant.now();
        return TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano() - margin(entries);
    }

    /** The file-time tick margin for {@code entries}: 100 ms when a time has a sub-second part, else {@link #COARSE_MARGIN_NANOS}. */
    private static long margin(List<Entry> entries) {
        boolean fine = entries.stream().anyMatch(e -> e.mtime() % 1_000_000_000L != 0 || e.ctime() % 1_000_000_000L != 0);
        return fine ? FINE_MARGIN_NANOS : COARSE_MARGIN_NANOS;
    }

    /**
     * Waits, when a time of the entries is recent ({@link #recentSince}, a time in the future too),
     * until a write into the files gets other times than theirs.
     */
    void settle() {
        long recent = recentSince(files);
        long newest = files.stream().mapToLong(e -> Math.max(e.mtime(), e.ctime())).max().orElse(Long.MIN_VALUE);
        if (newest < recent) {
            return;
        }
        try {
            Thread.sleep(margin(files) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #settle()} on a file system with sub-second file times. */
    static final long FINE_MARGIN_NANOS = 100_000_000L;
    /** {@link #settle()} on one without (whole seconds, or the 2 s of FAT): the plain-file rule's margin of incrementals, and a tick. */
    static final long COARSE_MARGIN_NANOS = 2_100_000_000L;
    /**
     * Completes this snapshot, taken once the files were written (before crash recovery), into the
     * record of the restore as it ends (after crash recovery, modes and owner) and writes it into
     * {@code target}: each entry gets the file's attributes now and stays "written" when size,
     * device, inode and mtime did not change since the snapshot; a file whose device or inode
     * changed (recovery renamed another file there), or that is gone, is left out;
     * the log fields are those of {@code logFile} when {@code recovered}. Settles ({@link #settle()})
     * before the record is written, and gives it the target directory's owner. Never throws.
     *
     * @return null, or why no record was written (the restore itself is complete: the next delta
     *         restore then compares every file)
     */
    String complete(Path target, Path logFile, boolean recovered) {
        List<Entry> now = new ArrayList<>(files.size());
        for (Entry before : files) {
            try {
                Entry e = entryOf(before.path(), target.resolve(before.path()));
                if (e.device() != before.device() || e.inode() != before.inode()) {
                    continue;
                }
                boolean same = e.size() == before.size() && e.mtime() == before.mtime();
                now.add(new Entry(e.path(), e.size(), e.device(), e.inode(), e.mtime(), e.ctime(), same && before.written()));
            } catch (IOException e) {
                // gone or unreadable: not recorded
            }
        }
        Long dev = null, ino = null, first = null;
        if (recovered) {
            try {
                Map<String, Object> a = Files.readAttributes(logFile, "unix:ino,dev", LinkOption.NOFOLLOW_LINKS);
                byte[] head = new byte[LogHeader.BLOCK_SIZE];
                try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.READ)) {
                    io.strata.redo.LiveLog.readFully(ch, logFile, head, 0, head.length, 0);
                }
                first = LogHeader.parse(head).firstLsn();
                dev = (Long) a.get("dev");
                ino = (Long) a.get("ino");
            } catch (IOException | RuntimeException e) {
                // no log facts: a delta restore then leaves only untouched files other than InnoDB unread
            }
        }
        RestoredState done = new RestoredState(format, version, backup, identity, dev, ino, first, now);
        done.settle(); // a write from now on gets later file times than the record's
        try {
            done.write(target);
            // owned like the data directory (--owner): readable by a delta restore that runs as its owner
            java.nio.file.attribute.PosixFileAttributes dir = Files.readAttributes(target, java.nio.file.attribute.PosixFileAttributes.class);
            java.nio.file.attribute.PosixFileAttributeView rec = Files.getFileAttributeView(target.resolve(FILE_NAME),
                    java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            java.nio.file.attribute.PosixFileAttributes cur = rec.readAttributes();
            if (!dir.owner().equals(cur.owner())) {
                rec.setOwner(dir.owner());
            }
            if (!dir.group().equals(cur.group())) {
                rec.setGroup(dir.group());
            }
            return null;
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(target.resolve(FILE_NAME));
            } catch (IOException ignored) {
                // an unreadable record is treated as absent
            }
            return "the restore record " + target.resolve(FILE_NAME) + " was not written (" + e.getMessage()
                    + "): the next restore --delta onto it compares every file";
        }
    }

    /**
     * A snapshot waiting for the end of its restore: {@link #complete()} once the restore's last
     * change (crash recovery, modes, --owner) is made.
     *
     * @param logFile   the restored ib_logfile0
     * @param recovered whether strata ran crash recovery on the directory
     */
    public record Pending(RestoredState snapshot, Path target, Path logFile, boolean recovered) {
        /** Writes the record ({@link RestoredState#complete}); null, or why it was not written. Never throws. */
        public String complete() {
            return snapshot.complete(target, logFile, recovered);
        }
    }

    /** The entry of {@code path}'s attributes, named {@code rel}. */
    static Entry entryOf(String rel, Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:size,ino,dev,ctime,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        return new Entry(rel, (Long) a.get("size"), (Long) a.get("dev"), (Long) a.get("ino"), nanos((FileTime) a.get("lastModifiedTime")),
                nanos((FileTime) a.get("ctime")), true);
    }

    private static long nanos(FileTime t) {
        java.time.Instant i = t.toInstant();
        return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
    }

    /** The entries by path. */
    Map<String, Entry> byPath() {
        Map<String, Entry> m = new HashMap<>(files.size() * 2);
        for (Entry e : files) {
            m.put(e.path(), e);
        }
        return m;
    }

    /** Writes {@value #FILE_NAME} into {@code dir} (mode 0640, replacing one that is there), durably. */
    void write(Path dir) {
        try {
            FileModes.replaceDurably(dir.resolve(FILE_NAME), Json.MAPPER.writeValueAsBytes(this), FileModes.DATADIR_FILE);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write " + dir.resolve(FILE_NAME) + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * The record in {@code dir}, or null when there is none or it cannot be used (unreadable, another
     * format or version): a delta restore then compares every file, as without one.
     */
    static RestoredState read(Path dir) {
        Path f = dir.resolve(FILE_NAME);
        try {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                return null;
            }
            RestoredState r = Json.MAPPER.readValue(Files.readAllBytes(f), RestoredState.class);
            return FORMAT.equals(r.format()) && r.version() == VERSION && r.backup() != null && r.identity() != null && r.files() != null ? r : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
