package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.S3ObjectStore;
import io.strata.store.StoreLocation;
import io.strata.testing.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lease lock of an object-storage repository, against S3Proxy: held, refused, stale, released. */
class LeaseLockTest {
    static S3ProxyServer server;

    @BeforeAll
    static void start() {
        S3ProxyServer.useInThisJvm();
        server = S3ProxyServer.start(null);
        server.createBucket("locks");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Repository repo(String prefix) {
        return Repository.openOrCreate(StoreLocation.parse("s3://locks/" + prefix,
                new S3ObjectStore.Settings(server.endpoint(), null, 5 << 20, 2, 2, Duration.ofSeconds(10))));
    }

    private static void plant(Repository r, String token, String host, long pid, Instant beat) {
        r.writeJson(LeaseLock.PREFIX + token, "lock", new LeaseLock.Info(token, host, pid, null, beat.toString(), beat.toString(), 300));
    }

    @Test
    void namedLocksAreLeasesApartFromTheWritersLock() throws Exception {
        Repository r = repo("named");
        try (RepoLock archiver = r.lock("binlog-db1.lock", "the binlogs of db1 are already being archived", "stop the other archiver")) {
            assertEquals(ProcessHandle.current().pid(), r.lockHolderPid("binlog-db1.lock"));
            assertNull(r.lockHolderPid(), "a named lease is not the writer's lock");
            assertEquals(1, r.store().list("leases/binlog-db1.lock/").size());
            StrataException e = assertThrows(StrataException.class,
                    () -> repo("named").lock("binlog-db1.lock", "the binlogs of db1 are already being archived", "stop the other archiver"));
            assertEquals(ErrorCode.REPO_LOCKED, e.code());
            assertTrue(e.getMessage().startsWith("the binlogs of db1 are already being archived (pid " + ProcessHandle.current().pid() + " on "), e.getMessage());
            assertEquals("stop the other archiver; a lease whose heartbeat stops is taken over 5 minutes later", e.hint());
            try (RepoLock writer = r.lock(); RepoLock tracker = r.lock("tracking/abc/lock", "tracked", null)) {
                assertEquals(ProcessHandle.current().pid(), r.lockHolderPid());
                assertEquals(ProcessHandle.current().pid(), r.lockHolderPid("tracking/abc/lock"));
            }
        }
        assertNull(r.lockHolderPid("binlog-db1.lock"));
        assertEquals(List.of(), r.store().list("leases/"));
        // a named lease that was taken over says which lock it lost, without the writer's "recorded as failed"
        try (RepoLock tracker = r.lock("tracking/abc/lock", "tracked", null)) {
            for (String k : r.store().list("leases/")) {
                r.store().delete(k);
            }
            ((LeaseLock) tracker).verifyPresent();
            StrataException e = assertThrows(StrataException.class, tracker::check);
            assertEquals(ErrorCode.REPO_LOCKED, e.code());
            assertTrue(e.getMessage().startsWith("lost the lock tracking/abc/lock of repository s3://locks/named: its lock object s3://locks/named/leases/tracking/abc/lock/"),
                    e.getMessage());
            assertEquals("another strata process may hold it now; start this one again once that has stopped", e.hint());
        }
    }

    @Test
    void aLiveLockRefusesASecondWriterAndIsGoneAfterClose() throws Exception {
        Repository r = repo("live");
        try (RepoLock lock = r.lock()) {
            assertEquals(ProcessHandle.current().pid(), r.lockHolderPid());
            StrataException e = assertThrows(StrataException.class, () -> repo("live").lock());
            assertEquals(ErrorCode.REPO_LOCKED, e.code());
            assertTrue(e.getMessage().startsWith("repository s3://locks/live is locked by another strata process (pid " + ProcessHandle.current().pid() + " on "),
                    e.getMessage());
        }
        assertNull(r.lockHolderPid());
        assertEquals(List.of(), r.store().list("locks/"));
    }

    @Test
    void aLockOfADeadProcessOnThisHostIsTakenOverAtOnce() throws Exception {
        Repository r = repo("dead");
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        plant(r, "deadbeef", java.net.InetAddress.getLocalHost().getHostName(), p.pid(), Instant.now());
        assertNull(r.lockHolderPid(), "a dead writer holds nothing");
        try (RepoLock lock = r.lock()) {
            assertEquals(1, r.store().list("locks/").size(), "the stale lock object was removed: " + r.store().list("locks/"));
        }
    }

    @Test
    void anotherHostsLockHoldsUntilItsHeartbeatIsStale() throws Exception {
        Repository r = repo("remote");
        plant(r, "fresh", "elsewhere.example", 4242, Instant.now().minusSeconds(60));
        StrataException e = assertThrows(StrataException.class, r::lock);
        assertTrue(e.getMessage().contains("(pid 4242 on elsewhere.example, last heartbeat "), e.getMessage());
        r.store().delete(LeaseLock.PREFIX + "fresh");
        plant(r, "old", "elsewhere.example", 4242, Instant.now().minus(Duration.ofMinutes(6)));
        assertNull(r.lockHolderPid());
        try (RepoLock lock = r.lock()) {
            assertEquals(ProcessHandle.current().pid(), r.lockHolderPid());
        }
    }

    @Test
    void aManifestIsRefusedOnceTheLockObjectIsGone() throws Exception {
        Repository r = repo("lost");
        try (RepoLock lock = r.lock()) {
            LeaseLock lease = (LeaseLock) lock;
            for (String k : r.store().list("locks/")) {
                r.store().delete(k); // another writer judged us stale
            }
            lease.verifyPresent();
            SourceInfo src = new SourceInfo("server-1", "h", 1, "10.11", "/d", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
            Manifest m = Manifest.builder().id("x").type("full").tool("test").beginTime("t").endTime("t").source(src).startLsn(100).startEndLsn(100)
                    .endLsn(200).redoEndLsn(200).redoCapacity(1 << 20).redoObject("redo").rawBytes(3).storedBytes(3).build();
            StrataException e = assertThrows(StrataException.class, () -> r.writeManifest(m));
            assertEquals(ErrorCode.REPO_LOCKED, e.code());
            assertTrue(e.getMessage().startsWith("lost the lock of repository s3://locks/lost: its lock object s3://locks/lost/locks/"), e.getMessage());
            assertTrue(!r.store().exists("backups/x/manifest"));
        }
    }

    @Test
    void aLiveHoldersStartTimeReadASecondApartIsStillTheHolder() throws Exception {
        Repository r = repo("jitter");
        ProcessHandle self = ProcessHandle.current();
        Instant started = self.info().startInstant().orElseThrow();
        String host = java.net.InetAddress.getLocalHost().getHostName();
        // /proc/stat btime moves by a second as the clock is adjusted: the same process, read by another JVM
        r.writeJson(LeaseLock.PREFIX + "jitter", "lock", new LeaseLock.Info("jitter", host, self.pid(), started.plusSeconds(1).toString(),
                Instant.now().toString(), Instant.now().toString(), 300));
        StrataException e = assertThrows(StrataException.class, r::lock);
        assertEquals(ErrorCode.REPO_LOCKED, e.code());
        assertEquals(List.of(LeaseLock.PREFIX + "jitter"), r.store().list("locks/"));
        r.store().delete(LeaseLock.PREFIX + "jitter");
        // a start an hour away: the pid was reused by another process, the lock is stale
        r.writeJson(LeaseLock.PREFIX + "reused", "lock", new LeaseLock.Info("reused", host, self.pid(), started.minusSeconds(3600).toString(),
                Instant.now().toString(), Instant.now().toString(), 300));
        try (RepoLock lock = r.lock()) {
            assertEquals(1, r.store().list("locks/").size());
            assertTrue(!r.store().exists(LeaseLock.PREFIX + "reused"));
        }
    }

    @Test
    void aLockObjectReadMidRewriteIsReadAgainNotDeleted() throws Exception {
        Repository r = repo("rewrite");
        String host = java.net.InetAddress.getLocalHost().getHostName();
        String key = LeaseLock.PREFIX + "holder";
        r.store().put(key, "{\"token\":\"hol".getBytes(java.nio.charset.StandardCharsets.US_ASCII)); // what a read meeting a rewrite may see
        Thread holder = new Thread(() -> {
            try {
                Thread.sleep(LeaseLock.UNREADABLE_PAUSE_MS + 100);
            } catch (InterruptedException e) {
                return;
            }
            r.writeJson(key, "lock", new LeaseLock.Info("holder", host, ProcessHandle.current().pid(), null,
                    Instant.now().toString(), Instant.now().toString(), 300));
        });
        holder.start();
        StrataException e = assertThrows(StrataException.class, r::lock);
        holder.join();
        assertEquals(ErrorCode.REPO_LOCKED, e.code(), e.getMessage());
        assertEquals(List.of(key), r.store().list("locks/"), "the live holder's lock object stays");
        // one that stays unreadable is no lock: removed, and the lock taken
        r.store().put(key, "garbage".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        try (RepoLock lock = r.lock()) {
            assertEquals(1, r.store().list("locks/").size());
            assertTrue(!r.store().exists(key));
        }
    }
}
