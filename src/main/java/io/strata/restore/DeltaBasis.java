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
 * is written from the target's {@link RestoredState} (the record of the last restore of B into it:
 * same id and {@link RestoredState#identity}) and its redo log. Without such a record, on a target
 * marked unfinished, or with {@code --full-compare}, it knows nothing and every file is compared in
 * full (docs/repository-format.md, "The restore record {@code strata-restored.json}").
 *
 * <ul>
 * <li><b>Files other than InnoDB.</b> One that the restore wrote and crash recovery did not, whose
 *     size, device, inode, mtime and ctime equal the record's, and that has one name (no hard
 *     link), holds the bytes the restore wrote: it is left alone unread.</li>
 * <li><b>InnoDB files.</b> After the last restore of B wrote its files, crash recovery applied B's
 *     copied redo log [start LSN, redo end LSN) (the pages it names: parsed from B's stored redo
 *     object), then rebuilt ib_logfile0 at its first LSN F (srv_start in MariaDB 10.11 and 11.8
 *     storage/innobase/srv/srv0start.cc: between the end of the applied records and the rebuild,
 *     no mini-transaction changes a page outside the system tablespace; the rebuild flushes every
 *     page first and starts the new file at the current LSN), and every later change is in that
 *     file. When ib_logfile0 is still that file (same device and inode, header first LSN F), is not
 *     encrypted, its newest checkpoint lies within [F, E] (E: where the log read from F stops being
 *     valid, as crash recovery finds it) and E - F is below its capacity (nothing overwritten),
 *     every page written since the restore is named in one of the two logs (write-ahead
 *     logging). A tablespace that has the record's device and inode and one name, is at least as
 *     long as the record and the result say, that neither log marks whole or renamed, and whose
 *     mtime is not later than ib_logfile0's (a write after the server's last log write came from
 *     another program) is then compared on the named pages only; the system tablespace also on its
 *     first three extents ({@link #systemPagesWithoutRedo}: the doublewrite area, written without
 *     redo, as an incremental backup of the redo method reads it too), and only when it is one file
 *     (the logs number its pages across its files). Its file times are not
 *     trusted otherwise: after a power loss they may be older than its data.</li>
 * </ul>
 * What this cannot see: a program other than the server changing an InnoDB file or ib_logfile0 in
 * place (same inode) before a later server run, or an older copy of ib_logfile0 put back over it
 * (dd, cp over them, innochecksum --write): the pages it changed are in no log. After such work,
 * {@code --full-compare}.
 */
final class DeltaBasis {
    /** Knows nothing: every file compared in full. */
    static final DeltaBasis NONE = new DeltaBasis(null, null, null, 0, false);

    private final Path target;
    private final Map<String, RestoredState.Entry> files;
    /** Pages named since the restore wrote its files; null: the logs cannot tell. */
    private final ChangedPages pages;
    /** ib_logfile0's mtime (ns since 1970) when the logs can tell. */
    private final long logMtime;
    /**
     * Whether the system tablespace is one file (innodb_data_file_path names one): the logs number
     * its pages across all its files, so a second file's page k is not the space's page k; a system
     * tablespace of several files is compared in full.
     */
    private final boolean systemOneFile;

    private DeltaBasis(Path target, Map<String, RestoredState.Entry> files, ChangedPages pages, long logMtime, boolean systemOneFile) {
        this.target = target;
        this.files = files;
        this.pages = pages;
        this.logMtime = logMtime;
        this.systemOneFile = systemOneFile;
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
        if (!rec.identity().equals(RestoredState.identity(m))) {
            log.accept("delta: the last restore into " + target + " was of another backup with the id " + m.id()
                    + " (another repository's): every file is compared");
            return NONE;
        }
        String why;
        ChangedPages pages = new ChangedPages();
        long logMtime = 0;
        try {
            why = logsSay(repo, m, rec, logFile, pages);
            logMtime = why == null ? RestoredState.entryOf("", logFile).mtime() : 0;
        } catch (IOException | RuntimeException e) {
            why = "reading them failed (" + e.getMessage() + ")";
        }
        if (why != null) {
            log.accept("delta: files other than InnoDB untouched since the last restore of " + m.id() + " are left unread; the redo logs cannot"
                    + " name the pages changed since, so InnoDB files are compared in full: " + why);
            return new DeltaBasis(target, rec.byPath(), null, 0, false);
        }
        log.accept("delta: files other than InnoDB untouched since the last restore of " + m.id() + " are left unread, InnoDB files compared on the "
                + pages.pageCount() + " page(s) the redo logs name since then");
        String dataFiles = m.source().dataFilePath();
        return new DeltaBasis(target, rec.byPath(), pages, logMtime, dataFiles != null && !dataFiles.contains(";"));
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

    /**
     * Whether {@code out}, the result's file of {@code fe} (not InnoDB), is as the last restore of
     * this backup wrote it: written by it and not by its recovery, the same size, device, inode,
     * mtime and ctime since, one name.
     */
    boolean untouched(FileEntry fe, Path out) {
        RestoredState.Entry e = files == null || fe.kind().equals("innodb") ? null : files.get(target.relativize(out).toString());
        if (e == null || !e.written()) {
            return false;
        }
        try {
            return e.sameAttributes(RestoredState.entryOf(e.path(), out)) && nlink(out) == 1;
        } catch (IOException ex) {
            return false;
        }
    }

    /**
     * The pages of {@code fe}'s InnoDB file {@code out} that may differ from the backup's,
     * ascending page numbers; null when any page may (compare them all): see the class comment.
     */
    BitSet suspects(FileEntry fe, Path out) {
        if (pages == null || !fe.kind().equals("innodb") || fe.spaceId() == null || fe.flags() == null || (fe.spaceId() == 0 && !systemOneFile)) {
            return null;
        }
        RestoredState.Entry e = files.get(target.relativize(out).toString());
        if (e == null || pages.isWhole(fe.spaceId(), 0) || (pages.flags(fe.spaceId()) & ChangedPages.RENAMED) != 0) {
            return null;
        }
        long resultLength = DeltaRestore.resultLength(fe);
        try {
            RestoredState.Entry now = RestoredState.entryOf(e.path(), out);
            if (now.inode() != e.inode() || now.device() != e.device() || now.size() < Math.max(e.size(), resultLength)
                    || now.mtime() > logMtime || nlink(out) != 1) {
                return null;
            }
        } catch (IOException ex) {
            return null;
        }
        BitSet b = pages.bits(fe.spaceId());
        b = b == null ? new BitSet() : (BitSet) b.clone();
        if (fe.spaceId() == 0) {
            // the doublewrite area (written before every page flush, without redo) and the header pages before it
            b.set(0, systemPagesWithoutRedo(new io.strata.innodb.TablespaceFlags(fe.flags()).physicalPageSize()));
        }
        return b;
    }

    /**
     * Pages [0, this) of the system tablespace are compared whatever the logs name: the first
     * extent (its header pages: FSP header, change buffer, TRX_SYS at page 5, first rollback
     * segment, dictionary header; the one write that may happen between the applied records and
     * the rebuilt log, a Galera upgrade path, is to TRX_SYS) and the two extents of the doublewrite
     * area after it ({@link io.strata.innodb.PageChecker#isDoublewrite}: every page flush writes a
     * copy there first, without redo). Three extents: 192 pages of 16 KiB.
     */
    static int systemPagesWithoutRedo(int pageSize) {
        return 3 * io.strata.innodb.FspHeader.extentPages(pageSize);
    }

    private static int nlink(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }
}
