package io.strata.backup;

import io.strata.binlog.Gtid;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Lineage;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.Scope;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decides what a backup is: full, or incremental/differential on which parent and threshold.
 * An incremental with nothing to build on becomes a full backup (as OceanBase converts one) and
 * says so; a base the user names explicitly must be usable, or the backup is refused.
 *
 * <p>One history per chain (design rule 9, docs/repository-format.md "Lineage"): a parent must be
 * of the server's lineage, and neither the server's LSN nor its GTID position may be behind the
 * parent's. When one is, {@code --type auto} without {@code --base} takes a full backup and says
 * why; an explicit type or base is refused with history-diverged.
 */
final class BaseSelector {
    private BaseSelector() {}

    /** The decision; {@code parent} is null for a full backup and for an external --start-lsn. */
    record Base(BackupType type, Manifest parent, Long threshold, String note) {
        static Base full(String note) {
            return new Base(BackupType.FULL, null, null, note);
        }
    }

    /**
     * What the server says of its history when the backup begins.
     *
     * @param lineage       its data directory's lineage (null: the origin)
     * @param currentLsn    {@code Innodb_lsn_current}
     * @param gtidBinlogPos {@code @@gtid_binlog_pos} ("" or null without GTIDs)
     */
    record ServerHistory(Lineage lineage, long currentLsn, String gtidBinlogPos) {}

    static Base choose(Repository repo, BackupOptions o, String serverKey, ServerHistory server) {
        long currentLsn = server.currentLsn();
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
            parent = kind == BaseSpec.Kind.ID ? named(repo, o.base().id(), serverKey) : mine(repo, serverKey).newest(kind == BaseSpec.Kind.LAST_FULL);
            if (parent == null) {
                throw new StrataException(ErrorCode.WRONG_BASE, "--base " + o.base() + ": the repository " + repo.root() + " holds no completed "
                        + (kind == BaseSpec.Kind.LAST ? "" : "full ") + "backup of this server (" + serverKey + ")", "take a full backup first (--type full)");
            }
            if (type == BackupType.DIFFERENTIAL && !parent.isFull()) {
                throw new StrataException(ErrorCode.WRONG_BASE, "a differential backup is taken against a full backup, but --base " + o.base()
                        + " is " + parent.id() + " (" + parent.type() + ")", "use --base last-full, or --type incremental");
            }
        } else if (type == BackupType.DIFFERENTIAL) {
            parent = mine(repo, serverKey).full();
            if (parent == null) {
                return Base.full("no completed full backup of this server to build a differential on: taking a full backup");
            }
        } else {
            Candidates mine = newestOnFull(repo, serverKey);
            parent = mine.newest();
            if (parent == null || mine.full() == null) {
                return Base.full(type == BackupType.AUTO ? null : "no completed backup of this server to build on: taking a full backup");
            }
        }
        if (!Scope.same(parent.scope(), o.scope())) {
            String what = "backup " + parent.id() + " holds " + Scope.describe(parent.scope()) + ", but this backup asks for " + Scope.describe(o.scope());
            if (type == BackupType.AUTO && o.base() == null) {
                return Base.full(what + ": taking a full backup with this scope");
            }
            throw new StrataException(ErrorCode.SCOPE_MISMATCH, what + ": " + (type == BackupType.DIFFERENTIAL ? "a differential" : "an incremental")
                    + " must hold the same tables as its parent", "give the parent's filters again, or take a full backup (--type full) to start a chain with these");
        }
        String diverged = divergence(parent, server);
        if (diverged != null) {
            if (type == BackupType.AUTO && o.base() == null) {
                return Base.full(diverged + ": starting a new history with a full backup");
            }
            throw new StrataException(ErrorCode.HISTORY_DIVERGED, diverged + ": " + (type == BackupType.DIFFERENTIAL ? "a differential" : "an incremental")
                    + " on it would join two histories", "take a full backup (--type full or auto) to start the new history"
                    + (server.lineage() == null ? "" : ", or name a base of lineage " + Lineage.shortId(server.lineage()) + " with --base"));
        }
        BackupType effective = type == BackupType.DIFFERENTIAL ? BackupType.DIFFERENTIAL : BackupType.INCREMENTAL;
        return new Base(effective, parent, parent.startLsn(), null);
    }

    /**
     * Why {@code parent} is of another history than the server, or null when nothing says so:
     * another lineage; the server's LSN below the parent's end; a replication domain both GTID
     * positions name in which the server's sequence number is below the parent's.
     */
    static String divergence(Manifest parent, ServerHistory server) {
        if (!Lineage.same(server.lineage(), parent.lineage())) {
            return "the server's data directory was " + Lineage.describe(server.lineage()) + ", but backup " + parent.id() + " belongs to lineage "
                    + Lineage.shortId(parent.lineageId());
        }
        if (server.currentLsn() < parent.endLsn()) {
            return "the server's LSN " + server.currentLsn() + " is below the end LSN " + parent.endLsn() + " of backup " + parent.id()
                    + ": its data directory was restored or replaced since that backup";
        }
        String behind = gtidBehind(server.gtidBinlogPos(), parent.gtidBinlogPos());
        if (behind != null) {
            return "the server's GTID position " + server.gtidBinlogPos() + " does not extend " + parent.gtidBinlogPos() + " of backup " + parent.id()
                    + " (" + behind + "): its data directory was restored or replaced since that backup, or its binary log was reset (RESET MASTER)";
        }
        return null;
    }

    /**
     * The first replication domain named by both GTID lists ("D-S-N,D-S-N…", as
     * {@code @@gtid_binlog_pos}) whose sequence number in {@code now} is below the one in
     * {@code before}, described ("domain 0: 5 < 9"); null when there is none. An empty or null list,
     * and a domain only one list names, are no evidence.
     */
    static String gtidBehind(String now, String before) {
        Map<Long, Long> a = seqByDomain(now);
        Map<Long, Long> b = seqByDomain(before);
        for (Map.Entry<Long, Long> e : b.entrySet()) {
            Long seq = a.get(e.getKey());
            if (seq != null && seq < e.getValue()) {
                return "domain " + e.getKey() + ": sequence number " + seq + " < " + e.getValue();
            }
        }
        return null;
    }

    private static Map<Long, Long> seqByDomain(String list) {
        Map<Long, Long> m = new TreeMap<>();
        if (list == null || list.isBlank()) {
            return m;
        }
        for (String g : list.split(",")) {
            if (!g.isBlank()) {
                Gtid x = Gtid.parse(g);
                m.merge(x.domain(), x.seq(), Math::max);
            }
        }
        return m;
    }

    /**
     * The possible default bases of this server's history.
     *
     * @param newest this server's newest completed backup, null when there is none
     * @param full   its newest full backup, null when there is none
     */
    private record Candidates(Manifest newest, Manifest full) {
        Manifest newest(boolean fullOnly) {
            return fullOnly ? full : newest;
        }
    }

    /**
     * This server's newest backup and newest full, read from the newest back to that full without
     * reading every manifest of a long history, and holding two manifests at most: at 50,000
     * tables a manifest holds 100,000 files, and a chain of 24 incrementals kept whole filled the
     * heap.
     */
    private static Candidates mine(Repository repo, String serverKey) {
        Manifest newest = null;
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
                if (newest == null) {
                    newest = m;
                }
                if (m.isFull()) {
                    return new Candidates(newest, m);
                }
            }
        }
        return new Candidates(newest, null);
    }

    /**
     * As {@link #mine} for the default parent, where only whether a full exists matters: reads the
     * newest manifest of this server, then follows its parents through the history records
     * (no manifest read) to a completed full, which is then this server's too (a parent is always
     * of the child's server). The candidates' {@code full} is then the newest backup itself, a
     * stand-in that only says one exists. Anything else on the way (a merged-away or unknown parent,
     * a chain without a full) falls back to {@link #mine}. At 5,000 tables a manifest takes some
     * 0.1 s to read, and a chain of ten incrementals read whole cost a second per backup.
     */
    private static Candidates newestOnFull(Repository repo, String serverKey) {
        List<HistoryRecord> attempts = repo.history().liveAttempts();
        Map<String, HistoryRecord> byId = new java.util.HashMap<>();
        for (HistoryRecord h : attempts) {
            byId.put(h.id(), h);
        }
        for (int i = attempts.size() - 1; i >= 0; i--) {
            HistoryRecord h = attempts.get(i);
            if (!HistoryRecord.COMPLETED.equals(h.state())) {
                continue;
            }
            Manifest m;
            try {
                m = repo.manifest(h.id());
            } catch (StrataException e) {
                continue; // as in mine()
            }
            if (!m.id().equals(h.id()) || !m.source().serverKey().equals(serverKey)) {
                continue;
            }
            if (m.isFull()) {
                return new Candidates(m, m);
            }
            String id = m.parent();
            for (int hop = 0; id != null && hop < 100_000; hop++) {
                HistoryRecord p = byId.get(id);
                if (p == null || !HistoryRecord.COMPLETED.equals(p.state()) || repo.history().mergedInto(id) != null) {
                    break;
                }
                if (Manifest.TYPE_FULL.equals(p.type())) {
                    return new Candidates(m, m);
                }
                id = p.parent();
            }
            return mine(repo, serverKey);
        }
        return new Candidates(null, null);
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
