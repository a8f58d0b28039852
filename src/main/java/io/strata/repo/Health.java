package io.strata.repo;

import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One health verdict per server from the repository alone ({@code strata check}): backups,
 * history, binlog archive and heartbeats, never the server. Codes follow the monitoring plugins'
 * convention: {@link #OK} 0, {@link #WARNING} 1, {@link #CRITICAL} 2; a server's code is the worst
 * of its checks.
 *
 * <p>Rules (each a {@link Check} with a name):
 * <ul>
 * <li>{@code full-age}: no completed full backup, or the newest is older than the limit: critical;</li>
 * <li>{@code backup-age}: the newest completed backup of any type is older than the limit: critical;</li>
 * <li>{@code last-attempt}: the newest attempt that is not running failed: warning (its error is the message).
 *     History records carry no server key: a failed attempt belongs to the servers whose completed
 *     backups came through the same {@code source} (socket or host:port), to every server when none did;</li>
 * <li>{@code archiver} and {@code tracker}: a heartbeat older than max(3 × its interval, 60 s)
 *     (or the given limit), or the last one of a process that stopped on an error ({@link Heartbeat#stopped()}): critical; lag above the limit, or the last poll failed: warning;</li>
 * <li>{@code archive-gap}: a gap recorded in the server's binlog archive after its newest backup ended
 *     (unless the gap ends before the backup's binlog position): critical, point-in-time recovery
 *     from the newest backup cannot pass it;</li>
 * <li>{@code repository-mode}: a local repository directory others may read or enter: warning.</li>
 * </ul>
 * A wrong key is found when the repository is opened, before this class runs ({@code check} turns it into a critical verdict).
 */
public final class Health {
    public static final int OK = 0;
    public static final int WARNING = 1;
    public static final int CRITICAL = 2;
    private static final String[] NAMES = {"OK", "WARNING", "CRITICAL"};

    private Health() {}

    /**
     * @param maxFullAge        a full backup older than this is critical
     * @param maxBackupAge      a newest backup (any type) older than this is critical
     * @param maxLagSeconds     an archiver or tracker further behind than this is a warning
     * @param staleAfterSeconds null: each heartbeat's own limit, max(3 × interval, 60 s)
     */
    public record Limits(Duration maxFullAge, Duration maxBackupAge, long maxLagSeconds, Long staleAfterSeconds) {
        /** check's defaults: a full within 8 days, a backup within 26 hours, lag up to 600 s, each heartbeat's own staleness. */
        public static final Limits DEFAULTS = new Limits(Duration.ofDays(8), Duration.ofHours(26), 600, null);
    }

    /** The result of one rule: its name, code and one line saying why. */
    public record Check(String name, int code, String message) {}

    /**
     * The verdict for one server.
     *
     * @param server  the server key
     * @param code    the worst code of {@code checks}
     * @param message the messages of the checks that are not OK, or "all checks passed"
     * @param checks  every rule that applied, in the order of the class comment
     * @param facts   what the rules read, for metrics: newest backup per type, heartbeats, archive gaps
     */
    public record Verdict(String server, int code, String message, List<Check> checks, Facts facts) {
        public String status() { return name(code); }
    }

    /**
     * @param newestByType    the newest completed backup's manifest per type (full, incremental, differential)
     * @param heartbeats      the server's heartbeats (archive, track)
     * @param archiveGaps     gaps recorded in the server's binlog archive (all of them)
     */
    public record Facts(Map<String, Manifest> newestByType, List<Heartbeat> heartbeats, int archiveGaps) {}

    /** "OK", "WARNING" or "CRITICAL". */
    public static String name(int code) { return NAMES[code]; }

    /**
     * Verdicts for every server the repository knows (completed backups, archives, heartbeats),
     * or only for {@code server} when given (a server it does not know is critical: nothing is backed up).
     *
     * @throws StrataException when the repository cannot be read at all (the verdict needs it)
     */
    public static List<Verdict> check(Repository repo, String server, Limits limits, Instant now) {
        List<HistoryRecord> attempts = repo.history().attempts();
        Map<String, List<Manifest>> completed = new LinkedHashMap<>();
        Map<String, Set<String>> sources = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (HistoryRecord h : attempts) {
            if (!HistoryRecord.COMPLETED.equals(h.state())) {
                continue;
            }
            Manifest m;
            try {
                m = repo.manifestHead(h.id()); // without its files: every completed backup is read, at thousands of tables each
            } catch (StrataException e) {
                if (e.code() == io.strata.error.ErrorCode.KEY_MISSING || e.code() == io.strata.error.ErrorCode.KEY_WRONG) {
                    throw e;
                }
                continue; // verify names a damaged manifest; here it is no restore point
            }
            if (!seen.add(m.id())) {
                continue;
            }
            completed.computeIfAbsent(m.source().serverKey(), k -> new ArrayList<>()).add(m);
            if (h.source() != null) {
                sources.computeIfAbsent(m.source().serverKey(), k -> new HashSet<>()).add(h.source());
            }
        }
        List<Heartbeat> beats = Heartbeat.all(repo, new ArrayList<>());
        Set<String> servers = new LinkedHashSet<>(completed.keySet());
        Map<String, BinlogArchive> archives = new LinkedHashMap<>();
        for (String d : BinlogArchive.sourceDirs(repo)) {
            BinlogArchive a = BinlogArchive.load(repo, d);
            if (a.source() != null) {
                archives.put(a.source().serverKey(), a);
                servers.add(a.source().serverKey());
            }
        }
        beats.forEach(b -> servers.add(b.server()));
        if (server != null) {
            servers.retainAll(Set.of(server));
            servers.add(server);
        }
        HistoryRecord lastAttempt = null;
        for (HistoryRecord h : attempts) {
            if (!HistoryRecord.RUNNING.equals(h.state()) && !HistoryRecord.PRUNED.equals(h.state()) && !HistoryRecord.FOLDED.equals(h.state())) {
                lastAttempt = h;
            }
        }
        final HistoryRecord last = lastAttempt;
        List<Verdict> out = new ArrayList<>();
        String modeProblem = modeProblem(repo);
        for (String s : servers) {
            List<Manifest> ms = completed.getOrDefault(s, List.of());
            boolean mine = last != null && (last.source() == null || sources.getOrDefault(s, Set.of()).contains(last.source())
                    || sources.values().stream().noneMatch(x -> x.contains(last.source())));
            List<Heartbeat> hb = beats.stream().filter(b -> b.server().equals(s)).toList();
            out.add(verdict(s, ms, mine ? last : null, archives.get(s), hb, modeProblem, limits, now));
        }
        return out;
    }

    /** The verdict of one server from what {@link #check} gathered; {@code completed} oldest first. */
    static Verdict verdict(String server, List<Manifest> completed, HistoryRecord lastAttempt, BinlogArchive archive, List<Heartbeat> beats,
                           String modeProblem, Limits limits, Instant now) {
        List<Check> checks = new ArrayList<>();
        Map<String, Manifest> newestByType = new LinkedHashMap<>();
        Manifest newest = null;
        for (Manifest m : completed) {
            newestByType.merge(m.type(), m, (a, b) -> end(b).isAfter(end(a)) ? b : a);
            if (newest == null || end(m).isAfter(end(newest))) {
                newest = m;
            }
        }
        Manifest full = newestByType.get("full");
        if (full == null) {
            checks.add(new Check("full-age", CRITICAL, "no completed full backup of " + server));
        } else {
            long age = Duration.between(end(full), now).getSeconds();
            checks.add(age > limits.maxFullAge().getSeconds()
                    ? new Check("full-age", CRITICAL, "the newest full backup " + full.id() + " is " + human(age) + " old (limit " + human(limits.maxFullAge().getSeconds()) + ")")
                    : new Check("full-age", OK, "newest full backup " + full.id() + " is " + human(age) + " old"));
        }
        if (newest != null) {
            long age = Duration.between(end(newest), now).getSeconds();
            checks.add(age > limits.maxBackupAge().getSeconds()
                    ? new Check("backup-age", CRITICAL, "the newest backup " + newest.id() + " is " + human(age) + " old (limit " + human(limits.maxBackupAge().getSeconds()) + ")")
                    : new Check("backup-age", OK, "newest backup " + newest.id() + " (" + newest.type() + ") is " + human(age) + " old"));
        }
        if (lastAttempt != null) {
            checks.add(HistoryRecord.COMPLETED.equals(lastAttempt.state())
                    ? new Check("last-attempt", OK, "the last attempt " + lastAttempt.id() + " completed")
                    : new Check("last-attempt", WARNING, "the last backup attempt " + lastAttempt.id() + " failed: " + lastAttempt.error()));
        }
        for (Heartbeat h : beats) {
            String name = Heartbeat.ARCHIVE.equals(h.kind()) ? "archiver" : "tracker";
            long age = h.ageSeconds(now);
            long limit = h.staleAfterSeconds(limits.staleAfterSeconds());
            if (h.stopped() != null) {
                checks.add(new Check(name, CRITICAL, "the " + h.what() + " (pid " + h.pid() + " on " + h.host() + ") stopped " + human(age) + " ago: " + h.stopped()));
            } else if (age > limit) {
                checks.add(new Check(name, CRITICAL, "the " + h.what() + " (pid " + h.pid() + " on " + h.host() + ") is not alive: last heartbeat " + human(age)
                        + " ago (limit " + human(limit) + ")" + (h.lastError() == null ? "" : "; its last error: " + h.lastError())));
            } else if (h.lagSeconds() > limits.maxLagSeconds()) {
                checks.add(new Check(name, WARNING, "the " + h.what() + " lags " + human(h.lagSeconds()) + " behind the server (limit " + human(limits.maxLagSeconds()) + ")"
                        + (h.lastError() == null ? "" : ": " + h.lastError())));
            } else if (h.lastError() != null) {
                checks.add(new Check(name, WARNING, "the " + h.what() + "'s last poll failed: " + h.lastError()));
            } else {
                checks.add(new Check(name, OK, "the " + h.what() + " is alive (last poll " + human(age) + " ago, lag " + human(h.lagSeconds()) + ")"));
            }
        }
        int gaps = archive == null ? 0 : archive.gaps().size();
        if (archive != null && newest != null) {
            BinlogArchive.Gap after = gapAfter(archive, newest);
            checks.add(after == null ? new Check("archive-gap", OK, "no gap in the binlog archive after the newest backup " + newest.id())
                    : new Check("archive-gap", CRITICAL, "the binlog archive has a gap after the newest backup " + newest.id() + ": "
                    + (after.afterFile() == null ? "before " : "after " + after.afterFile() + ":" + after.afterOffset() + ", ") + "recorded " + after.detected() + " ("
                    + after.reason() + "); point-in-time recovery cannot pass it"));
        }
        if (modeProblem != null) {
            checks.add(new Check("repository-mode", WARNING, modeProblem));
        }
        int code = OK;
        List<String> bad = new ArrayList<>();
        for (Check c : checks) {
            code = Math.max(code, c.code());
            if (c.code() != OK) {
                bad.add(c.message());
            }
        }
        return new Verdict(server, code, bad.isEmpty() ? "all checks passed" : String.join("; ", bad), List.copyOf(checks),
                new Facts(newestByType, List.copyOf(beats), gaps));
    }

    /** The first gap recorded after {@code newest} ended whose lost range does not end before the backup's binlog position. */
    private static BinlogArchive.Gap gapAfter(BinlogArchive archive, Manifest newest) {
        Instant ended = end(newest);
        for (BinlogArchive.Gap g : archive.gaps()) {
            if (g.detected() == null || !Instant.parse(g.detected()).isAfter(ended)) {
                continue;
            }
            if (newest.binlogFile() != null && g.nextFile() != null && g.nextTimeline() == g.timeline()
                    && BinlogArchive.fileNumber(g.nextFile()) <= BinlogArchive.fileNumber(newest.binlogFile())) {
                continue; // the lost files all precede the backup's position
            }
            return g;
        }
        return null;
    }

    private static Instant end(Manifest m) {
        return Instant.parse(m.endTime());
    }

    /** Why a local repository directory is open to other users, or null (object storage: its policy, not checked here). */
    private static String modeProblem(Repository repo) {
        Path dir = repo.location().dir();
        if (repo.location().isS3() || dir == null) {
            return null;
        }
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
            if (p.contains(PosixFilePermission.OTHERS_READ) || p.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return "the repository directory " + dir + " is open to other users (mode " + io.strata.util.FileModes.octal(p) + "); run chmod 700 " + dir;
            }
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        return null;
    }

    /** Seconds as "42 s", "17 min", "5 h" or "3 d" (rounded down). */
    static String human(long s) {
        return s < 120 ? s + " s" : s < 7200 ? (s / 60) + " min" : s < 3 * 86400 ? (s / 3600) + " h" : (s / 86400) + " d";
    }
}
