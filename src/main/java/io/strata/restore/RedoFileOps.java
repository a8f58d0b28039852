package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.FileOp;
import io.strata.innodb.MtrVisitor;
import io.strata.innodb.StoredRedo;
import io.strata.repo.ChunkedReader;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tablespaces that the file records of a backup's stored redo log create, rename or delete
 * (FILE_CREATE, FILE_RENAME, FILE_DELETE; FILE_MODIFY only names a tablespace a mini-transaction
 * changes, and is left out): their space ids and every path the records name, a rename's old and
 * new path both.
 *
 * <p>Crash recovery of a restored directory repeats these operations and needs the tablespace's
 * file where the operation left it. A missing file is skipped under innodb_force_recovery=1 only
 * when the log merely changes pages of it; when the log initialises its page 0 (a table created
 * or rebuilt after the backup's checkpoint, {@code #sql-alter-...ibd}), MariaDB 10.11 defers the
 * tablespace and tries to build its file from the log (log0recv.cc, the deferred spaces), and a
 * failure there ("File ./db/#sql-alter-....ibd was not found", "Cannot apply log to [page id:
 * space=N, page number=0] of corrupted file") fails recovery whatever innodb_force_recovery says.
 * (mariadb-backup's own prepare runs as a restore operation, in which a missing tablespace is
 * skipped; a running mariadbd has no such mode.) A table restore ({@link TableScope}) therefore
 * keeps the files of these tablespaces that the backup holds, so that its narrowed recovery meets
 * them as a whole restore's does. A tablespace the backup does not hold (created and deleted
 * within the log, or the old file of a rebuilt table) stays absent in both.
 *
 * <p>Names are as the server wrote them: {@code ./db/t.ibd} for a file in the data directory,
 * an absolute path for a DATA DIRECTORY one; both are reduced to the manifest's logical
 * {@code db/t.ibd} (the last two path components).
 *
 * @param spaceIds space ids of the tablespaces the records name
 * @param paths    the paths they name, relative to the data directory ({@code db/t.ibd})
 * @param records  how many such records the log holds
 */
record RedoFileOps(Set<Long> spaceIds, Set<String> paths, int records) {

    /** No file records (also what an encrypted log yields: its records cannot be read without the key). */
    static final RedoFileOps NONE = new RedoFileOps(Set.of(), Set.of(), 0);

    /**
     * Reads the stored redo object of backup {@code m} (the only log a restore of its chain
     * applies: the members' own logs end in their successors' pages) and collects its file
     * records. An encrypted log ({@code redoLogCrypt}) gives {@link #NONE}: its file names are
     * encrypted too.
     *
     * @throws CorruptDataException the redo object is missing, fails a mini-transaction's checks,
     *                              or does not end at the manifest's {@code redoEndLsn}
     * @throws StrataException      io-error reading it
     */
    static RedoFileOps read(Repository repo, Manifest m) {
        if (m.redoLogCrypt() != null) {
            return NONE;
        }
        String where = repo.describeBackupObject(m.id(), m.redoObject());
        Set<Long> ids = new TreeSet<>();
        Set<String> paths = new TreeSet<>();
        int[] records = {0};
        MtrVisitor v = new MtrVisitor() {
            @Override
            public boolean wantsEveryPage() {
                return false;
            }

            @Override
            public void fileOp(FileOp op, int spaceId, String name, String newName) {
                if (op == FileOp.MODIFY) {
                    return;
                }
                records[0]++;
                ids.add(Integer.toUnsignedLong(spaceId));
                paths.add(logical(name));
                if (newName != null) {
                    paths.add(logical(newName));
                }
            }
        };
        try (ChunkedReader r = repo.openBackupObject(m.id(), m.redoObject(), "redo")) {
            StoredRedo.Scan scan = StoredRedo.scan(r, m.startLsn(), m.redoEndLsn() - m.startLsn(), null, v);
            if (scan.failed() || scan.endLsn() != m.redoEndLsn()) {
                throw new CorruptDataException("stored redo log of backup " + m.id() + " has an invalid mini-transaction at LSN " + scan.endLsn()
                        + (scan.reason() == null ? "" : " (" + scan.reason() + ")") + " (resource=" + where + ")",
                        "the backup is damaged; restore another backup");
            }
        } catch (io.strata.store.ObjectStore.NoSuchObjectException e) {
            throw new CorruptDataException("backup " + m.id() + " is missing its redo log (resource=" + where + ")", "restore another backup");
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "reading the stored redo log of backup " + m.id() + " failed: " + e.getMessage()
                    + " (resource=" + where + ")", null, e);
        }
        return new RedoFileOps(Set.copyOf(ids), Set.copyOf(paths), records[0]);
    }

    /** Whether {@code fe} is the file of a tablespace the records name: an InnoDB entry whose space id or path they name. */
    boolean touches(io.strata.repo.FileEntry fe) {
        return "innodb".equals(fe.kind()) && (fe.spaceId() != null && spaceIds.contains(fe.spaceId()) || paths.contains(fe.path()));
    }

    /** {@code ./db/t.ibd} or {@code /any/dir/db/t.ibd} as {@code db/t.ibd}: the last two components of a file record's name. */
    static String logical(String name) {
        String n = name.replace('\\', '/');
        int last = n.lastIndexOf('/');
        if (last <= 0) {
            return n;
        }
        int before = n.lastIndexOf('/', last - 1);
        return n.substring(before + 1);
    }
}
