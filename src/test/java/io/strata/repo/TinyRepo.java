package io.strata.repo;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A small local repository built without a server, for the health rules: completed backups
 * (history records, two tiny objects, a manifest), failed attempts, a binlog archive with gaps,
 * heartbeats. Times are given, so verdicts are exact.
 */
public final class TinyRepo {
    public static final String SERVER = "db1:3306:/var/lib/mysql";
    public static final String SOURCE = "socket /run/mysqld/mysqld.sock";
    private final Repository repo;
    private int seq;

    public TinyRepo(Path dir) {
        this(Repository.openOrCreate(dir));
    }

    /** Over a repository opened by the caller (encrypted, for example). */
    public TinyRepo(Repository repo) {
        this.repo = repo;
    }

    public Repository repo() { return repo; }

    private String id(Instant begin) {
        return Repository.newBackupId(begin).substring(0, 17) + String.format(java.util.Locale.ROOT, "%04x", ++seq);
    }

    /** A completed backup of {@link #SERVER} that began at {@code begin}, took {@code took}, stored 3 bytes of 5 read, binlog file {@code binlog.00000N:400}. */
    public String backup(String type, String parent, Instant begin, Duration took, int binlogFile) {
        String id = id(begin);
        HistoryRecord b = new HistoryRecord(id, type, HistoryRecord.RUNNING, parent, begin.toString(), null, SOURCE, null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        repo.history().begin(b);
        repo.store().put("backups/" + id + "/data/000001", new byte[] {1, 2, 3});
        repo.store().put("backups/" + id + "/redo", new byte[] {4});
        SourceInfo src = new SourceInfo(SERVER, "db1", 1, "10.11", "/var/lib/mysql", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        Manifest m = Manifest.builder().id(id).type(type).parent(parent).threshold(parent == null ? null : 100L)
                .tool("test").beginTime(begin.toString()).endTime(begin.plus(took).toString()).source(src).startLsn(200).startEndLsn(200)
                .endLsn(300).redoEndLsn(300).redoCapacity(1 << 20).redoObject("redo").binlogFile(binlog(binlogFile)).binlogPosition(400L)
                .rawBytes(5).storedBytes(3).build();
        repo.writeManifest(m);
        repo.history().end(HistoryRecord.completed(b, m));
        return id;
    }

    /** A failed attempt that began at {@code begin}. */
    public String failed(Instant begin, String error) {
        String id = id(begin);
        HistoryRecord b = new HistoryRecord(id, "auto", HistoryRecord.RUNNING, null, begin.toString(), null, SOURCE, null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        repo.history().begin(b);
        repo.history().end(b.withState(HistoryRecord.FAILED, begin.plusSeconds(5).toString(), error));
        return id;
    }

    public static String binlog(int n) {
        return String.format(java.util.Locale.ROOT, "binlog.%06d", n);
    }

    /** The archive of {@link #SERVER} with one gap after {@code binlog.00000after:1000} up to {@code binlog.00000next}, detected at {@code detected}. */
    public void archiveGap(int after, int next, Instant detected) {
        BinlogArchive a = archive();
        a.writeGap(new BinlogArchive.Gap(BinlogArchive.FORMAT_VERSION, 1, binlog(after), 1000, 1, binlog(next),
                List.of(binlog(after + 1)), binlog(after + 1) + " was purged from the server before it was archived", detected.toString()));
    }

    /** The archive of {@link #SERVER}, created with its source and first timeline when new. */
    public BinlogArchive archive() {
        BinlogArchive a = BinlogArchive.load(repo, BinlogArchive.sourceDir(SERVER, "db1", 3306));
        if (a.source() == null) {
            a.writeSource(new BinlogArchive.Source(BinlogArchive.FORMAT_VERSION, SERVER, "db1", 3306, 1, "/var/lib/mysql/binlog", "2026-01-01T00:00:00Z"));
            a.writeTimeline(new BinlogArchive.Timeline(BinlogArchive.FORMAT_VERSION, 1, binlog(1), "2026-01-01T00:00:00Z", "archive started", null));
        }
        return a;
    }

    /** A heartbeat of {@code kind} for {@link #SERVER}, last written at {@code lastPoll}. */
    public void heartbeat(String kind, Instant lastPoll, long lagSeconds, String error, long interval) {
        new Heartbeat(Heartbeat.FORMAT_VERSION, kind, SERVER, 4242, "db1", lastPoll.minusSeconds(3600).toString(), lastPoll.toString(),
                Heartbeat.ARCHIVE.equals(kind) ? binlog(3) + ":1234" : "987654", lagSeconds, error, 0, interval).write(repo);
    }
}
