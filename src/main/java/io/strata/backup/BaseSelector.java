package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides what a backup is: full, or incremental/differential on which parent and threshold.
 * An incremental with nothing to build on becomes a full backup (as OceanBase converts one) and
 * says so; a base the user names explicitly must be usable, or the backup is refused.
 */
final class BaseSelector {
    private BaseSelector() {}

    /** The decision; {@code parent} is null for a full backup and for an external --start-lsn. */
    record Base(BackupType type, Manifest parent, Long threshold, String note) {
        static Base full(String note) {
            return new Base(BackupType.FULL, null, null, note);
        }
    }

    static Base choose(Repository repo, BackupOptions o, String serverKey, long currentLsn) {
        BackupType type = o.type();
        if (o.startLsn() != null) {
            if (type == BackupType.FULL || type == BackupType.DIFFERENTIAL || o.base() != null) {
                throw new StrataException(ErrorCode.USAGE, "--start-lsn goes with --type incremental (or auto) and without --base", null);
            }
            if (o.startLsn() < 0 || o.startLsn() > currentLsn) {
                throw new StrataException(ErrorCode.WRONG_BASE, "--start-lsn " + o.startLsn() + " is not between 0 and the server's current LSN " + currentLsn,
                        "take the LSN from the base backup's metadata (to_lsn of xtrabackup_checkpoints, or startLsn of a strata backup)");
            }
            return new Base(BackupType.INCREMENTAL, null, o.startLsn(), "based on --start-lsn " + o.startLsn()
                    + " outside this repository: the chain cannot be checked and strata cannot restore this backup on its own");
        }
        if (type == BackupType.FULL) {
            if (o.base() != null) {
                throw new StrataException(ErrorCode.USAGE, "--base goes with --type incremental, differential or auto, not full", null);
            }
            return Base.full(null);
        }
        Manifest parent;
        if (o.base() != null) {
            BaseSpec.Kind kind = o.base().kind();
            // a base named by id is read alone, without walking the history back to a full
            parent = kind == BaseSpec.Kind.ID ? named(repo, o.base().id(), serverKey) : newest(mine(repo, serverKey), kind == BaseSpec.Kind.LAST_FULL);
            if (parent == null) {
                throw new StrataException(ErrorCode.WRONG_BASE, "--base " + o.base() + ": the repository " + repo.root() + " holds no completed "
                        + (kind == BaseSpec.Kind.LAST ? "" : "full ") + "backup of this server (" + serverKey + ")", "take a full backup first (--type full)");
            }
            if (type == BackupType.DIFFERENTIAL && !parent.isFull()) {
                throw new StrataException(ErrorCode.WRONG_BASE, "a differential backup is taken against a full backup, but --base " + o.base()
                        + " is " + parent.id() + " (" + parent.type() + ")", "use --base last-full, or --type incremental");
            }
        } else if (type == BackupType.DIFFERENTIAL) {
            parent = newest(mine(repo, serverKey), true);
            if (parent == null) {
                return Base.full("no completed full backup of this server to build a differential on: taking a full backup");
            }
        } else {
            List<Manifest> mine = mine(repo, serverKey);
            parent = newest(mine, false);
            if (parent == null || newest(mine, true) == null) {
                return Base.full(type == BackupType.AUTO ? null : "no completed backup of this server to build on: taking a full backup");
            }
        }
        if (currentLsn < parent.endLsn()) {
            throw new StrataException(ErrorCode.WRONG_BASE, "the server's LSN " + currentLsn + " is below the end LSN " + parent.endLsn() + " of base "
                    + parent.id() + ": the server was restored or re-initialised since that backup", "take a full backup (--type full)");
        }
        BackupType effective = type == BackupType.DIFFERENTIAL ? BackupType.DIFFERENTIAL : BackupType.INCREMENTAL;
        return new Base(effective, parent, parent.startLsn(), null);
    }

    /**
     * This server's backups from the newest back to its newest full: every possible default base,
     * without reading every manifest of a long history.
     */
    private static List<Manifest> mine(Repository repo, String serverKey) {
        List<Manifest> mine = new ArrayList<>();
        List<String> ids = repo.history().completedIds();
        for (int i = ids.size() - 1; i >= 0; i--) {
            String id = ids.get(i);
            Manifest m;
            try {
                m = repo.manifest(id);
            } catch (StrataException e) {
                continue; // a damaged or merged-away backup is no candidate; verify reports damage
            }
            if (m.id().equals(id) && m.source().serverKey().equals(serverKey)) {
                mine.add(0, m);
                if (m.isFull()) {
                    break;
                }
            }
        }
        return mine;
    }

    private static Manifest newest(List<Manifest> mine, boolean fullOnly) {
        for (int i = mine.size() - 1; i >= 0; i--) {
            if (!fullOnly || mine.get(i).isFull()) {
                return mine.get(i);
            }
        }
        return null;
    }

    private static Manifest named(Repository repo, String base, String serverKey) {
        Manifest m;
        try {
            m = repo.manifest(base);
        } catch (StrataException e) {
            if (e.code() == ErrorCode.BACKUP_NOT_FOUND) {
                throw new StrataException(ErrorCode.WRONG_BASE, "--base " + base + ": " + e.getMessage(), e.hint());
            }
            throw e;
        }
        if (!m.source().serverKey().equals(serverKey)) {
            throw new StrataException(ErrorCode.WRONG_BASE, "--base " + base + " was taken from " + m.source().serverKey() + ", not from this server (" + serverKey + ")",
                    "name a backup of this server (strata list), or take a full backup");
        }
        return m;
    }
}
