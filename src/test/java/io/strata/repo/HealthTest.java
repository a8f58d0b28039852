package io.strata.repo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The verdict rules of {@code strata check} (issue 16) on small local repositories, with exact codes and messages. */
class HealthTest {
    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    static final Health.Limits LIMITS = Health.Limits.DEFAULTS;

    @TempDir
    Path dir;

    private TinyRepo tiny() throws Exception {
        TinyRepo t = new TinyRepo(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return t;
    }

    private static Map<String, Health.Check> byName(Health.Verdict v) {
        return v.checks().stream().collect(Collectors.toMap(Health.Check::name, c -> c));
    }

    private static Health.Verdict only(List<Health.Verdict> vs) {
        assertEquals(1, vs.size(), vs.toString());
        return vs.get(0);
    }

    @Test
    void freshBackupsAndALiveArchiverAreOk() throws Exception {
        TinyRepo t = tiny();
        String f = t.backup("full", null, NOW.minus(Duration.ofDays(2)), Duration.ofMinutes(10), 1);
        String i = t.backup("incremental", f, NOW.minus(Duration.ofHours(3)), Duration.ofMinutes(1), 2);
        t.archive();
        t.heartbeat(Heartbeat.ARCHIVE, NOW.minusSeconds(5), 0, null, 10);
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(TinyRepo.SERVER, v.server());
        assertEquals(Health.OK, v.code(), v.toString());
        assertEquals("all checks passed", v.message());
        Map<String, Health.Check> c = byName(v);
        assertEquals(List.of("full-age", "backup-age", "last-attempt", "archiver", "archive-gap"), v.checks().stream().map(Health.Check::name).toList());
        assertEquals("newest full backup " + f + " is 47 h old", c.get("full-age").message());
        assertEquals("newest backup " + i + " (incremental) is 2 h old", c.get("backup-age").message());
        assertEquals("the binlog archiver is alive (last poll 5 s ago, lag 0 s)", c.get("archiver").message());
    }

    @Test
    void staleArchiverHeartbeatIsCritical() throws Exception {
        TinyRepo t = tiny();
        t.backup("full", null, NOW.minus(Duration.ofHours(5)), Duration.ofMinutes(10), 1);
        // interval 10 s: stale after max(30, 60) = 60 s; 61 s is past it
        t.heartbeat(Heartbeat.ARCHIVE, NOW.minusSeconds(61), 0, null, 10);
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.CRITICAL, v.code());
        assertEquals("the binlog archiver (pid 4242 on db1) is not alive: last heartbeat 61 s ago (limit 60 s)", v.message());
        // exactly at the limit it is alive; a given limit replaces the heartbeat's own
        t.heartbeat(Heartbeat.ARCHIVE, NOW.minusSeconds(60), 0, null, 10);
        assertEquals(Health.OK, only(Health.check(t.repo(), null, LIMITS, NOW)).code());
        Health.Verdict strict = only(Health.check(t.repo(), null, new Health.Limits(Duration.ofDays(8), Duration.ofHours(26), 600, 30L), NOW));
        assertEquals("the binlog archiver (pid 4242 on db1) is not alive: last heartbeat 60 s ago (limit 30 s)", strict.message());
        // a stale heartbeat repeats the error of the writer's last poll
        t.heartbeat(Heartbeat.ARCHIVE, NOW.minusSeconds(61), 0, "cannot connect to the server", 10);
        assertEquals("the binlog archiver (pid 4242 on db1) is not alive: last heartbeat 61 s ago (limit 60 s); its last error: "
                + "cannot connect to the server", only(Health.check(t.repo(), null, LIMITS, NOW)).message());
        // a long interval stretches the limit to 3 intervals
        t.heartbeat(Heartbeat.TRACK, NOW.minusSeconds(200), 0, null, 100);
        assertEquals(Health.OK, byName(only(Health.check(t.repo(), null, LIMITS, NOW))).get("tracker").code());
    }

    @Test
    void lagAndFailedPollsWarn() throws Exception {
        TinyRepo t = tiny();
        t.backup("full", null, NOW.minus(Duration.ofHours(5)), Duration.ofMinutes(10), 1);
        t.heartbeat(Heartbeat.TRACK, NOW.minusSeconds(3), 900, "cannot connect to the server", 10);
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.WARNING, v.code());
        assertEquals("the tracker lags 15 min behind the server (limit 10 min): cannot connect to the server", v.message());
    }

    @Test
    void aTrackerThatStoppedOnAnErrorIsCriticalAtOnce() throws Exception {
        TinyRepo t = tiny();
        t.backup("full", null, NOW.minus(Duration.ofHours(5)), Duration.ofMinutes(10), 1);
        t.heartbeat(Heartbeat.TRACK, NOW.minusSeconds(3), 0, Heartbeat.STOPPED + "the object store failed PUT s3://b/r/tracking/x after 3 attempts", 10);
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.CRITICAL, v.code());
        assertEquals("the tracker (pid 4242 on db1) stopped 3 s ago: the object store failed PUT s3://b/r/tracking/x after 3 attempts", v.message());
        // the same text without the prefix is a failed poll of a running tracker, which retries
        t.heartbeat(Heartbeat.TRACK, NOW.minusSeconds(3), 0, "the object store failed PUT s3://b/r/tracking/x after 3 attempts", 10);
        assertEquals(Health.WARNING, only(Health.check(t.repo(), null, LIMITS, NOW)).code());
    }

    @Test
    void archiveGapAfterTheNewestBackupIsCritical() throws Exception {
        TinyRepo t = tiny();
        String f = t.backup("full", null, NOW.minus(Duration.ofHours(5)), Duration.ofMinutes(10), 4);
        // a gap found before the backup, and one found after it but wholly before its binlog position: no harm
        t.archiveGap(1, 3, NOW.minus(Duration.ofHours(6)));
        t.archiveGap(2, 4, NOW.minus(Duration.ofHours(1)));
        assertEquals(Health.OK, byName(only(Health.check(t.repo(), null, LIMITS, NOW))).get("archive-gap").code());
        Instant detected = NOW.minus(Duration.ofMinutes(30));
        t.archiveGap(5, 7, detected);
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.CRITICAL, v.code());
        assertEquals("the binlog archive has a gap after the newest backup " + f + ": after binlog.000005:1000, recorded " + detected
                + " (binlog.000006 was purged from the server before it was archived); point-in-time recovery cannot pass it", v.message());
        assertEquals(3, v.facts().archiveGaps());
    }

    @Test
    void oldFullIsCriticalEvenWithFreshIncrementals() throws Exception {
        TinyRepo t = tiny();
        String f = t.backup("full", null, NOW.minus(Duration.ofDays(9)), Duration.ofMinutes(10), 1);
        t.backup("incremental", f, NOW.minus(Duration.ofHours(2)), Duration.ofMinutes(1), 2);
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.CRITICAL, v.code());
        assertEquals("the newest full backup " + f + " is 8 d old (limit 8 d)", v.message());
        assertEquals(Health.OK, byName(v).get("backup-age").code());
    }

    @Test
    void noFullOldBackupAndFailedLastAttempt() throws Exception {
        TinyRepo t = tiny();
        String f = t.backup("full", null, NOW.minus(Duration.ofDays(2)), Duration.ofMinutes(10), 1);
        String x = t.failed(NOW.minus(Duration.ofHours(1)), "cannot connect to the server");
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.CRITICAL, v.code());
        assertEquals("the newest backup " + f + " is 47 h old (limit 26 h); the last backup attempt " + x + " failed: cannot connect to the server", v.message());
        assertEquals(Health.WARNING, byName(v).get("last-attempt").code());
        Health.Verdict unknown = only(Health.check(t.repo(), "db9:3306:/d", LIMITS, NOW));
        assertEquals("no completed full backup of db9:3306:/d", unknown.message());
    }

    @Test
    void repositoryOpenToOthersWarns() throws Exception {
        TinyRepo t = tiny();
        t.backup("full", null, NOW.minus(Duration.ofHours(1)), Duration.ofMinutes(10), 1);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Health.Verdict v = only(Health.check(t.repo(), null, LIMITS, NOW));
        assertEquals(Health.WARNING, v.code());
        assertEquals("the repository directory " + dir + " is open to other users (mode 0755); run chmod 700 " + dir, v.message());
    }
}
