package io.strata.restore;

import io.strata.error.StrataException;
import io.strata.innodb.Checkpoint;
import io.strata.innodb.StoredRedo;
import io.strata.redo.LiveLog;
import io.strata.redo.PageCollector;
import io.strata.repo.ChangedPages;
import io.strata.repo.ChunkedReader;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a {@code restore --delta} of backup B may leave unread in its target, learnt before anything
 * is written from the target's {@link RestoredState} (the record of the last restore into it) and
 * its redo log. Without a record of B, or with {@code --full-compare}, it knows nothing and every
 * file is compared in full.
 *
 * <ul>
 * <li><b>Untouched files.</b> A file whose size, device, inode, mtime and ctime equal the record's
 *     holds the bytes the last restore of B wrote: it is left alone unread.</li>
 * <li><b>Pages of touched InnoDB files.</b> After the last restore of B wrote its files, crash
 *     recovery applied B's copied redo log [start LSN, redo end LSN) (the pages it names: parsed
 *     from B's stored redo object), then rebuilt ib_logfile0 at its first LSN F and went on in it;
 *     every server run since wrote its mini-transactions into that same file. When ib_logfile0 is
 *     still that file (same device and inode, header first LSN = F), its newest checkpoint lies
 *     within what can be read from F on, and the log read from F to its end (the first mtr that is
 *     not valid, where crash recovery stops too) is shorter than its capacity (so nothing of it was
 *     overwritten), then every page written since the restore is named in one of the two logs
 *     (write-ahead logging: a page reaches its file only after the redo of its changes is durable).
 *     A touched tablespace (not the system tablespace, which holds the doublewrite buffer, written
 *     without redo) that is the same file (device, inode), no shorter than the record says, and that
 *     neither log marks for a whole copy ({@link PageCollector}: dropped, re-initialised,
 *     truncated) is then compared on the named pages only.</li>
 * </ul>
 * The gap between the end of B's log and F is empty: InnoDB rebuilds its log right after applying
 * the records, before any new mini-transaction (checked by DeltaRestoreIT on 10.11 and 11.8).
 */
final class DeltaBasis {
    /** Knows nothing: every file compared in full. */
    static final DeltaBasis NONE = new DeltaBasis(null, null, null);

    private final Path target;
    private final Map<String, RestoredState.Entry> files;
    /** Pages named since the restore wrote its files; null: the logs cannot tell. */
    private final ChangedPages pages;

    private DeltaBasis(Path target, Map<String, RestoredState.Entry> files, ChangedPages pages) {
        this.target = target;
        this.files = files;
        this.pages = pages;
    }

    /**
     * Reads the record and, when it is of backup {@code m}, the two logs. Reads the target's
     * ib_logfile0 at {@code logFile} and {@code m}'s redo object; writes nothing. Says in one line
     * what it found.
     */
    static DeltaBasis of(Repository repo, Manifest m, Path target, Path logFile, Consumer<String> log) {
        RestoredState rec = RestoredState.read(target);
        if (rec == null) {
            log.accept("delta: " + target + " holds no record of a restore by strata (" + RestoredState.FILE_NAME + "): every file is compared");
            return NONE;
        }
        if (!rec.backup().equals(m.id())) {
            log.accept("delta: the last restore into " + target + " was of backup " + rec.backup() + ", not " + m.id() + ": every file is compared");
            return NONE;
        }
        String why = null;
        ChangedPages pages = new ChangedPages();
        try {
            why = logsSay(repo, m, rec, logFile, pages);
        } catch (IOException | StrataException e) {
            why = "reading them failed (" + e.getMessage() + ")";
        }
        if (why != null) {
            log.accept("delta: files untouched since the last restore of " + m.id() + " are left unread; the redo logs cannot name the pages"
                    + " changed in the others, which are compared in full: " + why);
            return new DeltaBasis(target, rec.byPath(), null);
        }
        log.accept("delta: files untouched since the last restore of " + m.id() + " are left unread, the others compared on the "
                + pages.pageCount() + " page(s) the redo logs name since then");
        return new DeltaBasis(target, rec.byPath(), pages);
    }

    /** Adds to {@code pages} what B's stored redo and the target's log name; returns why they cannot be used, or null. */
    private static String logsSay(Repository repo, Manifest m, RestoredState rec, Path logFile, ChangedPages pages) throws IOException {
        if (rec.logInode() == null || rec.logFirstLsn() == null) {
            return "the last restore did not run crash recovery";
        }
        if (m.redoLogCrypt() != null) {
            return "the backup's redo log is encrypted";
        }
        PageCollector applied = new PageCollector(pages);
        try (ChunkedReader r = repo.openBackupObject(m.id(), m.redoObject(), "redo")) {
            StoredRedo.Scan s = StoredRedo.scan(r, m.startLsn(), m.redoEndLsn() - m.startLsn(), null, applied);
            if (s.failed() || s.endLsn() != m.redoEndLsn()) {
                return "the backup's stored redo log ends at LSN " + s.endLsn() + ", not at " + m.redoEndLsn();
            }
        }
        if (!Files.isRegularFile(logFile, LinkOption.NOFOLLOW_LINKS)) {
            return logFile + " is missing";
        }
        Map<String, Object> a = Files.readAttributes(logFile, "unix:ino,dev", LinkOption.NOFOLLOW_LINKS);
        if (!rec.logInode().equals(a.get("ino")) || !rec.logDevice().equals(a.get("dev"))) {
            return logFile + " is not the file crash recovery left (the log was resized or re-created)";
        }
        try (LiveLog live = LiveLog.open(logFile)) {
            long first = live.header().firstLsn();
            if (first != rec.logFirstLsn()) {
                return logFile + " now begins at LSN " + first + ", not at " + rec.logFirstLsn() + " (the log was re-created)";
            }
            long end = live.scanToEnd(first, new PageCollector(pages));
            Checkpoint cp = live.checkpoint();
            if (cp.checkpointLsn() < first || cp.endLsn() > end) {
                return "its newest checkpoint [" + cp.checkpointLsn() + ", " + cp.endLsn() + "] lies outside what it holds from LSN " + first
                        + " (to " + end + "): the server wrapped around it";
            }
            if (end - first + LiveLog.MARGIN >= live.capacity()) {
                return "the server wrote " + (end - first) + " bytes of redo since the restore, about its whole capacity (" + live.capacity() + ")";
            }
        }
        return null;
    }

    /** Whether {@code out}, the result's file of {@code fe}, is as the last restore of this backup left it. */
    boolean untouched(FileEntry fe, Path out) {
        RestoredState.Entry e = files == null ? null : files.get(target.relativize(out).toString());
        if (e == null) {
            return false;
        }
        try {
            return e.written() && e.sameAttributes(RestoredState.entryOf(e.path(), out));
        } catch (IOException ex) {
            return false;
        }
    }

    /**
     * The pages of {@code fe}'s InnoDB file {@code out} (touched since the restore) that may differ
     * from the backup's, ascending page numbers; null when any page may (compare them all).
     */
    BitSet suspects(FileEntry fe, Path out) {
        if (pages == null || !fe.kind().equals("innodb") || fe.spaceId() == null || fe.spaceId() == 0) {
            return null;
        }
        RestoredState.Entry e = files.get(target.relativize(out).toString());
        if (e == null || pages.isWhole(fe.spaceId(), 0)) {
            return null;
        }
        try {
            Map<String, Object> a = Files.readAttributes(out, "unix:size,ino,dev", LinkOption.NOFOLLOW_LINKS);
            if (e.inode() != (Long) a.get("ino") || e.device() != (Long) a.get("dev") || (Long) a.get("size") < e.size()) {
                return null;
            }
        } catch (IOException ex) {
            return null;
        }
        BitSet b = pages.bits(fe.spaceId());
        return b == null ? new BitSet() : b;
    }

    /** Whether this basis can leave anything unread. */
    boolean knowsAnything() {
        return files != null;
    }
}
