package io.strata.track;

import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The backups of the tracked server as the tracker sees them: the completed ones (a new tracker
 * begins where they began, if the log still holds that), and the LSN at or before which no
 * future incremental can need a change set.
 */
final class ServerBackups {
    private final Repository repo;
    private final String serverKey;
    /** Manifests read so far, by backup id; manifests never change, so each is read once. */
    private final Map<String, Manifest> manifests = new HashMap<>();

    ServerBackups(Repository repo, String serverKey) {
        this.repo = repo;
        this.serverKey = serverKey;
    }

    /**
     * This server's completed backups: those whose manifest is stored (design rule 7). Read from
     * the store rather than from the history, because telling a running backup from a failed one
     * there means probing the repository lock, which could make a backup starting at that moment
     * fail.
     */
    List<Manifest> completed() {
        List<Manifest> out = new ArrayList<>();
        for (Manifest m : repo.storedManifests(manifests)) {
            if (m.source().serverKey().equals(serverKey)) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * The LSN at or before which change sets may be removed: the server's last checkpoint, or the
     * start of the newest completed full backup (the base of a differential, and at or before the
     * start of every other possible default base) if that is lower; null while a backup may be
     * running, when nothing may be removed.
     *
     * <p>{@code lastCheckpoint} must be read before this call. Whether a backup runs is read from
     * the repository lock file (a live process named in it), not by locking (see
     * {@link #completed()}); a backup writes its pid right after taking the lock and reads its
     * checkpoint only later, so one that this check misses begins at or after that checkpoint.
     */
    Long pruneHorizon(long lastCheckpoint) {
        if (repo.writerMayRun()) {
            return null;
        }
        long horizon = lastCheckpoint;
        Long newestFull = null;
        // the newest full backup is the one that began at the highest LSN
        for (Manifest m : completed()) {
            if (m.isFull()) {
                newestFull = newestFull == null ? m.startLsn() : Math.max(newestFull, m.startLsn());
            }
        }
        if (newestFull != null) {
            horizon = Math.min(horizon, newestFull);
        }
        return horizon;
    }
}
