package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StoreLocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RepoCopy} on small backups built without a server (framed objects, manifests, history):
 * chains copied parents first through both codecs, idempotence, a damaged source object (exit
 * 45) and an id the target holds with other content (exit 46), and archived binlog objects.
 */
class RepoCopyTest {
    private static final Secret KEY = new Secret.Key(filled(32, (byte) 7));
    private static final List<String> LOG = new ArrayList<>();

    @TempDir
    Path dir;

    private static byte[] filled(int n, byte b) {
        byte[] out = new byte[n];
        Arrays.fill(out, b);
        return out;
    }

    private static String id(int n) {
        return "20261201T0000" + String.format(java.util.Locale.ROOT, "%02dZ-%04x", n, n);
    }

    /** A completed backup with one file (its bytes {@code content}) and a redo object, written as a backup writes them. */
    static Manifest backup(Repository r, String id, String type, String parent, long startLsn, byte[] content) {
        return backup(r, id, type, parent, startLsn, content, false);
    }

    /** As above; {@code packed}: the file's object written as a backup's copy writes it, into a pack. */
    static Manifest backup(Repository r, String id, String type, String parent, long startLsn, byte[] content, boolean packed) {
        HistoryRecord b = new HistoryRecord(id, type, HistoryRecord.RUNNING, parent, Instant.now().toString(), null, "socket /tmp/s", null, null, null, null,
                null, null, null, null, null, ProcessHandle.current().pid());
        r.history().begin(b);
        String fileCrc;
        String redoCrc;
        String object;
        try (StoredObject o = packed ? r.createBackupObject(id, "data/000001", "file", (long) content.length)
                : r.createBackupObject(id, "data/000001", "file", Compression.parse("zstd:1"))) {
            o.out().write(content);
            o.commitBatched();
            fileCrc = o.crc32c();
            object = o.object();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        try (StoredObject o = r.createBackupObject(id, "redo", "redo")) {
            o.out().write(filled(100, (byte) startLsn));
            o.commitBatched();
            redoCrc = o.crc32c();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        r.syncBackupObjects();
        SourceInfo src = new SourceInfo("db1:3306:/var/lib/mysql", "db1", 1, "10.11", "/var/lib/mysql", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");
        Manifest m = Manifest.builder().id(id).type(type).parent(parent).threshold(parent == null ? null : startLsn - 100)
                .tool("test").beginTime(b.beginTime()).endTime(Instant.now().toString()).source(src).startLsn(startLsn).startEndLsn(startLsn)
                .endLsn(startLsn + 100).redoEndLsn(startLsn + 100).redoCapacity(1 << 20).redoObject("redo").redoCrc32c(redoCrc)
                .binlogFile("binlog.000001").binlogPosition(400L).compression("zstd:1")
                .files(List.of(new FileEntry("db/t.frm", "file", null, null, content.length, 0, FileEntry.WHOLE, 0, object,
                        r.backupObjectSize(id, object), fileCrc)))
                .rawBytes(content.length + 100).storedBytes(0).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(b, m));
        return m;
    }

    private static byte[] read(Repository r, String id, String object, String content) throws IOException {
        try (ChunkedReader in = r.openBackupObject(id, object, content)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    private Repository plain(String name) {
        return Repository.openOrCreate(StoreLocation.local(dir.resolve(name)), null);
    }

    private static RepoCopy.Result copy(Repository from, Repository to, List<String> ids, boolean binlogs) {
        return RepoCopy.run(from, to, new RepoCopy.Options(ids, binlogs, 0), LOG::add);
    }

    @Test
    void chainGoesPlainToEncryptedToPlainWithTheSameContents() throws IOException {
        Repository a = plain("a");
        byte[] fullBytes = "the full backup's file".repeat(1000).getBytes(StandardCharsets.UTF_8);
        byte[] incrBytes = "the incremental's file".getBytes(StandardCharsets.UTF_8);
        backup(a, id(1), "full", null, 1000, fullBytes);
        backup(a, id(2), "incremental", id(1), 1100, incrBytes);
        backup(a, id(3), "full", null, 1200, fullBytes);

        // --backup of the incremental brings its parent first, and nothing else
        Repository b = Repository.openOrCreate(StoreLocation.local(dir.resolve("b")), KEY);
        RepoCopy.Result r = copy(a, b, List.of(id(2)), false);
        assertEquals(List.of(id(1), id(2)), r.copied());
        assertFalse(b.hasManifest(id(3)));
        assertEquals("aes-256-gcm", b.manifest(id(2)).encryption());
        assertTrue(RepoCopy.sameBackup(a.manifest(id(2)), b.manifest(id(2))));
        // sealed: the target without its key cannot read the object
        // a copy writes a small file's object into the target's packs, as a backup would
        String sealed = b.manifest(id(1)).files().get(0).object();
        assertTrue(b.manifest(id(1)).files().get(0).inPack(), sealed);
        StrataException noKey = assertThrows(StrataException.class, () -> read(Repository.open(StoreLocation.local(dir.resolve("b"))), id(1), sealed, "file"));
        assertEquals(ErrorCode.KEY_MISSING, noKey.code());

        // --all copies the rest and reports what was there
        r = copy(a, b, null, false);
        assertEquals(List.of(id(3)), r.copied());
        assertEquals(List.of(id(1), id(2)), r.present());

        Repository c = plain("c");
        r = copy(Repository.open(StoreLocation.local(dir.resolve("b")), KEY), c, null, false);
        assertEquals(List.of(id(1), id(2), id(3)), r.copied());
        assertArrayEquals(fullBytes, read(c, id(1), c.manifest(id(1)).files().get(0).object(), "file"));
        assertArrayEquals(incrBytes, read(c, id(2), c.manifest(id(2)).files().get(0).object(), "file"));
        assertArrayEquals(read(a, id(2), "redo", "redo"), read(c, id(2), "redo", "redo"));
        assertEquals(a.manifest(id(2)).files().get(0).crc32c(), c.manifest(id(2)).files().get(0).crc32c());
        assertEquals(null, c.manifest(id(2)).encryption());
        assertEquals(List.of(id(1), id(2), id(3)), c.history().completedIds());

        // again: nothing to do
        r = copy(a, c, null, false);
        assertEquals(List.of(), r.copied());
        assertEquals(3, r.present().size());
    }

    @Test
    void aReferenceToAPackMemberCopiedBackToItsOriginNamesTheOriginsMember() throws IOException {
        Repository t = plain("t");
        byte[] bytes = "a small file, stored in a pack".repeat(50).getBytes(StandardCharsets.UTF_8);
        Manifest f = backup(t, id(1), "full", null, 1000, bytes, true);
        String member = f.files().get(0).object();
        assertTrue(f.files().get(0).inPack(), member);
        assertEquals(Manifest.FORMAT_VERSION, f.formatVersion());

        // T to S (encrypted: the member is longer there, so its name differs): a member of S's own pack
        Repository s = Repository.openOrCreate(StoreLocation.local(dir.resolve("s")), KEY);
        copy(t, s, null, false);
        Manifest sf = s.manifest(id(1));
        assertTrue(sf.files().get(0).inPack(), sf.files().get(0).object());
        assertNotEquals(member, sf.files().get(0).object());
        assertEquals(Manifest.FORMAT_VERSION, sf.formatVersion());
        assertArrayEquals(bytes, read(s, id(1), sf.files().get(0).object(), "file"));

        // an incremental taken in S refers to S's object; copied back to T, where the full is already, it names T's member
        ReferencesTest.referring(s, id(2), sf, id(1), sf.files().get(0));
        RepoCopy.Result r = copy(s, t, null, false);
        assertEquals(List.of(id(2)), r.copied());
        assertEquals(List.of(id(1)), r.present());
        FileEntry ref = t.manifest(id(2)).files().get(0);
        assertEquals(member, ref.object());
        assertEquals(id(1), ref.ref());
        try (ChunkedReader in = new References(t).open(id(2), ref, "file")) {
            assertArrayEquals(bytes, in.readAllBytes());
        }
    }

    @Test
    void damagedSourceObjectFailsNamingItAndCompletesNothing() throws IOException {
        Repository a = plain("a");
        backup(a, id(1), "full", null, 1000, "x".repeat(5000).getBytes(StandardCharsets.UTF_8));
        Path obj = dir.resolve("a/backups/" + id(1) + "/data/000001");
        byte[] bytes = Files.readAllBytes(obj);
        bytes[bytes.length - 30] ^= 0x10; // inside the stored chunk
        Files.write(obj, bytes);
        Repository b = plain("b");
        StrataException e = assertThrows(StrataException.class, () -> copy(a, b, List.of(id(1)), false));
        assertEquals(ErrorCode.COPY_SOURCE_DAMAGED, e.code());
        assertEquals(45, e.code().exitCode());
        assertTrue(e.getMessage().startsWith("cannot copy backup " + id(1) + ": its object " + obj + " is damaged: "), e.getMessage());
        assertTrue(e.hint().contains("strata verify --repo " + a.root() + " " + id(1)), e.hint());
        assertFalse(b.hasManifest(id(1)));
        assertEquals(HistoryRecord.FAILED, b.history().find(id(1)).orElseThrow().state());
        try (java.util.stream.Stream<Path> left = Files.walk(dir.resolve("b"))) {
            assertEquals(List.of(), left.filter(p -> p.toString().contains("/backups/" + id(1) + "/")).toList(),
                    "the failed copy's objects and packs are deleted at once");
        }

        // a damaged manifest is not passed over by --all
        backup(a, id(2), "full", null, 2000, "y".getBytes(StandardCharsets.UTF_8));
        Path manifest = dir.resolve("a/backups/" + id(2) + "/manifest");
        byte[] mb = Files.readAllBytes(manifest);
        mb[mb.length / 2] ^= 0x01;
        Files.write(manifest, mb);
        bytes[bytes.length - 30] ^= 0x10; // the first backup is sound again, and is copied before the damaged one stops the run
        Files.write(obj, bytes);
        StrataException all = assertThrows(StrataException.class, () -> copy(a, b, null, false));
        assertEquals(ErrorCode.COPY_SOURCE_DAMAGED, all.code());
        assertTrue(all.getMessage().startsWith("cannot copy backup " + id(2) + ": a manifest of its chain in " + a.root() + " is damaged: "), all.getMessage());
        assertTrue(b.hasManifest(id(1)));
    }

    @Test
    void sameIdWithOtherContentIsRefused() {
        Repository a = plain("a");
        Repository b = plain("b");
        backup(a, id(1), "full", null, 1000, "one".getBytes(StandardCharsets.UTF_8));
        backup(b, id(1), "full", null, 1000, "two".getBytes(StandardCharsets.UTF_8));
        StrataException e = assertThrows(StrataException.class, () -> copy(a, b, List.of(id(1)), false));
        assertEquals(ErrorCode.COPY_MISMATCH, e.code());
        assertEquals(46, e.code().exitCode());
        assertEquals("backup " + id(1) + " of " + a.root() + " and backup " + id(1) + " of " + b.root()
                + " have the same id but other contents (their files or redo logs differ)", e.getMessage());
        // --all names it and goes on (exit 3 at the command)
        backup(a, id(2), "full", null, 2000, "three".getBytes(StandardCharsets.UTF_8));
        RepoCopy.Result r = copy(a, b, null, false);
        assertEquals(List.of(id(2)), r.copied());
        assertEquals(1, r.skipped().size());
        assertTrue(r.skipped().get(0).startsWith(id(1) + ": backup " + id(1) + " of "), r.skipped().toString());
    }

    @Test
    void anIdThatTheTargetPrunedOrMergedIsNotBroughtBack() {
        Repository a = plain("a");
        Repository b = plain("b");
        backup(a, id(1), "full", null, 1000, "one".getBytes(StandardCharsets.UTF_8));
        b.history().markPruned(id(1), "older than the newest 1 full backup(s)");
        StrataException e = assertThrows(StrataException.class, () -> copy(a, b, List.of(id(1)), false));
        assertEquals(ErrorCode.COPY_MISMATCH, e.code());
        assertEquals("backup " + id(1) + " was removed by strata prune from " + b.root()
                + "; copying it again would bring back an id whose history there says otherwise", e.getMessage());
        assertFalse(b.hasManifest(id(1)));
        // --all passes over it: the target's retention removed it, which is no problem
        RepoCopy.Result r = copy(a, b, null, false);
        assertEquals(List.of(), r.copied());
        assertEquals(List.of(), r.skipped());
        assertEquals(List.of(id(1)), r.retired());
        assertFalse(b.hasManifest(id(1)));
    }

    @Test
    void aChildOfAMergedIdKeepsResolvingInTheTarget() {
        Repository a = plain("a");
        // M (id 5) holds the state of id 2, merged away (same-state); id 3 still names id 2 as its parent
        backup(a, id(5), "full", null, 1100, "merged".getBytes(StandardCharsets.UTF_8));
        a.history().markMerged(id(2), id(5));
        backup(a, id(3), "incremental", id(2), 1200, "child".getBytes(StandardCharsets.UTF_8));
        Repository b = plain("b");
        RepoCopy.Result r = copy(a, b, List.of(id(3)), false);
        assertEquals(List.of(id(5), id(3)), r.copied());
        assertEquals(id(5), b.manifest(id(2)).id());
        assertEquals(List.of(id(5), id(3)), Chain.resolve(b, id(3)).ids());
        // the merged id itself, named by --backup, resolves in the target as in the source
        Repository c = plain("c");
        assertEquals(List.of(id(5)), copy(a, c, List.of(id(2)), false).copied());
        assertEquals(id(5), c.manifest(id(2)).id());
    }

    @Test
    void archivedBinlogObjectsAreCopiedDataBeforeSummaryAndOnlyOnce() throws IOException {
        Repository a = plain("a");
        String dirName = "binlogs/db1-3306-00000000/";
        archive(a, T1);
        byte[] data = "binlog bytes".repeat(100).getBytes(StandardCharsets.US_ASCII);
        try (var w = a.store().create(dirName + "t0001/binlog.000001/000000000000-000000001200.binlog")) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), "binlog", a.writeCodec(Compression.NONE));
            cw.write(data);
            cw.finish();
            w.commit();
        }
        a.writeJson(dirName + "t0001/binlog.000001/000000000000-000000001200.sum", "binlog-summary", new BinlogArchive.Segment(1, 1, "binlog.000001",
                0, 1200, 1200, false, "00000000", 0, true, 1, 1, null, null, null, List.of(), 0, "00000000", Instant.now().toString()));
        // an interrupted archiver's leftover: data without a summary is not a segment, and is not copied
        try (var w = a.store().create(dirName + "t0001/binlog.000002/000000000000-000000000010.binlog")) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), "binlog", a.writeCodec(Compression.NONE));
            cw.write(new byte[10]);
            cw.finish();
            w.commit();
        }
        Repository b = Repository.openOrCreate(StoreLocation.local(dir.resolve("b")), KEY);
        // an archiver of that server writing into the target holds its lock: the copy waits for nobody and stops
        try (RepoLock archiver = b.lock("binlog-db1-3306-00000000.lock", "archiver runs", "stop it")) {
            StrataException locked = assertThrows(StrataException.class, () -> copy(a, b, List.of(), true));
            assertEquals(ErrorCode.REPO_LOCKED, locked.code());
            assertEquals(List.of(), b.store().list("binlogs/"));
        }
        RepoCopy.Result r = copy(a, b, List.of(), true);
        assertEquals(4, r.binlogObjects());
        assertEquals(List.of(dirName + "source", dirName + "t0001/binlog.000001/000000000000-000000001200.binlog",
                dirName + "t0001/binlog.000001/000000000000-000000001200.sum", dirName + "t0001/timeline"), b.store().list("binlogs/").stream().sorted().toList());
        try (ChunkedReader in = b.reader(dirName + "t0001/binlog.000001/000000000000-000000001200.binlog", "binlog")) {
            assertTrue(in.sealed());
            assertArrayEquals(data, in.readAllBytes());
        }
        r = copy(a, b, List.of(), true);
        assertEquals(0, r.binlogObjects());
        assertEquals(4, r.binlogsPresent());
    }

    // ---- review fixes: a running source archiver, histories, prune leftovers, pruned sources ----------

    private static final String SRC = "binlogs/db1-3306-00000000/";

    private static void segment(Repository r, String file, long start, long end) throws IOException {
        String key = SRC + "t0001/" + file + "/" + String.format(java.util.Locale.ROOT, "%012d-%012d", start, end);
        try (var w = r.store().create(key + ".binlog")) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), "binlog", r.writeCodec(Compression.NONE));
            cw.write(new byte[(int) (end - start)]);
            cw.finish();
            w.commit();
        }
        r.writeJson(key + ".sum", "binlog-summary", new BinlogArchive.Segment(1, 1, file, start, end, end, false, "00000000", 0, true, 1, 1,
                null, null, null, List.of(), 0, "00000000", Instant.now().toString()));
    }

    private static void archive(Repository r, BinlogArchive.Timeline t) {
        r.writeJson(SRC + "source", "binlog-source", new BinlogArchive.Source(1, "db1:3306:/var/lib/mysql", "db1", 3306, 1, "binlog", "2026-12-01T00:00:00Z"));
        r.writeJson(SRC + "t0001/timeline", "binlog-timeline", t);
    }

    private static final BinlogArchive.Timeline T1 = new BinlogArchive.Timeline(1, 1, "binlog.000001", "2026-12-01T00:00:00Z", "first run");

    /** Polls until {@code key} is stored in {@code r} (the copy running in another thread has reached it). */
    private static void awaitKey(Repository r, String key) throws InterruptedException {
        long end = System.nanoTime() + 20_000_000_000L;
        while (!r.store().exists(key)) {
            assertTrue(System.nanoTime() < end, "the copy never wrote " + key);
            Thread.sleep(5);
        }
    }

    @Test
    void aRunningSourceArchiverReplacingAndCompactingObjectsDoesNotFailTheCopy() throws Exception {
        Repository a = plain("a");
        archive(a, T1);
        segment(a, "binlog.000001", 0, 1200);
        segment(a, "binlog.000001", 1200, 2400);
        a.writeJson(SRC + "asof/20261201T000000000Z", "binlog-asof", new BinlogArchive.AsOf(1, 1, "binlog.000001", 2400, 1000));
        Repository b = plain("b");
        // a killed copy left an unfinished object below the archive in the target
        Path tmp = dir.resolve("b/" + SRC + "t0001/binlog.000001/.tmp-leftover");
        Files.createDirectories(tmp.getParent());
        Files.write(tmp, new byte[10]);

        RepoCopy.Result[] out = new RepoCopy.Result[1];
        Throwable[] failed = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                out[0] = RepoCopy.run(a, b, new RepoCopy.Options(List.of(), true, 300), LOG::add);
            } catch (Throwable e) {
                failed[0] = e;
            }
        });
        t.start();
        awaitKey(b, SRC + "source");
        // the archiver meanwhile: compacts the file (joined segment first, then the parts go, summaries first) and replaces its as-of record
        segment(a, "binlog.000001", 0, 2400);
        for (String k : List.of("000000001200-000000002400.sum", "000000001200-000000002400.binlog", "000000000000-000000001200.sum",
                "000000000000-000000001200.binlog")) {
            a.store().delete(SRC + "t0001/binlog.000001/" + k);
        }
        a.writeJson(SRC + "asof/20261201T000100000Z", "binlog-asof", new BinlogArchive.AsOf(1, 1, "binlog.000001", 2400, 1060));
        a.store().delete(SRC + "asof/20261201T000000000Z");
        t.join();
        assertEquals(null, failed[0], () -> String.valueOf(failed[0]));
        assertFalse(Files.exists(tmp), "the unfinished object is discarded");
        List<String> keys = b.store().list("binlogs/");
        assertTrue(keys.contains(SRC + "t0001/binlog.000001/000000000000-000000002400.sum"), keys.toString());
        assertTrue(keys.contains(SRC + "asof/20261201T000100000Z"), keys.toString());
        assertFalse(keys.contains(SRC + "asof/20261201T000000000Z"), keys.toString());
        assertFalse(keys.stream().anyMatch(k -> k.contains("000000001200-000000002400")), keys.toString());
        assertEquals(2400, BinlogArchive.load(b, "db1-3306-00000000").file(1, "binlog.000001").coveredEnd());
        assertTrue(BinlogArchive.load(b, "db1-3306-00000000").orphanData().isEmpty(), keys.toString());
    }

    @Test
    void anotherHistoryUnderTheSameTimelineIsRefusedAndNothingWritten() throws IOException {
        Repository a = plain("a");
        archive(a, T1);
        segment(a, "binlog.000001", 0, 100);
        // the target archives the same server itself: its timeline 1 began at another time, after a reset
        Repository b = plain("b");
        archive(b, new BinlogArchive.Timeline(1, 1, "binlog.000001", "2026-12-01T05:00:00Z", "first run"));
        List<String> before = b.store().list("binlogs/");
        StrataException e = assertThrows(StrataException.class, () -> copy(a, b, List.of(), true));
        assertEquals(ErrorCode.COPY_MISMATCH, e.code());
        assertEquals("timeline 1 of server db1:3306:/var/lib/mysql is another binlog history in " + a.root() + " than in " + b.root()
                + " (started 2026-12-01T00:00:00Z against 2026-12-01T05:00:00Z); no binlog of db1-3306-00000000 was copied", e.getMessage());
        assertEquals(before, b.store().list("binlogs/"));

        // the same history, pruned in the source since the target's copy: its original first file agrees
        Repository c = plain("c");
        archive(c, T1);
        segment(c, "binlog.000001", 0, 100);
        a.writeJson(SRC + "t0001/timeline", "binlog-timeline", new BinlogArchive.Timeline(1, 1, "binlog.000002", T1.started(), T1.reason(), null,
                "binlog.000001", "2026-12-01T06:00:00Z"));
        segment(a, "binlog.000002", 0, 100);
        RepoCopy.Result r = copy(a, c, List.of(), true);
        assertEquals(2, r.binlogObjects(), "the pruned timeline record is not copied over the target's, only the new segment: " + c.store().list("binlogs/"));
        assertTrue(c.store().exists(SRC + "t0001/binlog.000002/000000000000-000000000100.sum"));
        // what lies before the source's pruned start (an interrupted prune's leftover) is not copied
        assertTrue(c.store().exists(SRC + "t0001/binlog.000001/000000000000-000000000100.sum"), "the target's own segment stays");
        Repository d = plain("d");
        copy(a, d, List.of(), true);
        assertEquals(List.of(SRC + "source", SRC + "t0001/binlog.000002/000000000000-000000000100.binlog", SRC + "t0001/binlog.000002/000000000000-000000000100.sum",
                SRC + "t0001/timeline"), d.store().list("binlogs/"));
        assertEquals(new BinlogArchive.Pos(1, "binlog.000002", 0), BinlogArchive.load(d, "db1-3306-00000000").prunedStart());
    }

    @Test
    void timelinesDifferWhenTheirStartLineageOrOriginalFirstFileDiffer() {
        BinlogArchive.Timeline prunedOnce = new BinlogArchive.Timeline(1, 1, "binlog.000009", T1.started(), T1.reason(), null, "binlog.000001", "x");
        assertEquals(null, RepoCopy.timelineDifference(T1, prunedOnce));
        assertEquals(null, RepoCopy.timelineDifference(prunedOnce, T1));
        BinlogArchive.Timeline otherFirst = new BinlogArchive.Timeline(1, 1, "binlog.000004", T1.started(), T1.reason());
        assertEquals("first file binlog.000009 against binlog.000004",
                RepoCopy.timelineDifference(new BinlogArchive.Timeline(1, 1, "binlog.000009", T1.started(), T1.reason()), otherFirst));
        assertEquals("first file binlog.000001 against binlog.000004", RepoCopy.timelineDifference(prunedOnce, otherFirst));
        BinlogArchive.Timeline restored = new BinlogArchive.Timeline(1, 1, "binlog.000001", T1.started(), T1.reason(), "0123456789abcdef0123456789abcdef");
        assertTrue(RepoCopy.timelineDifference(T1, restored).startsWith("lineage "), RepoCopy.timelineDifference(T1, restored));
    }

    @Test
    void aBackupThatTheSourceMarksPrunedIsNotCopied() {
        Repository a = plain("a");
        backup(a, id(1), "full", null, 1000, "one".getBytes(StandardCharsets.UTF_8));
        backup(a, id(2), "full", null, 2000, "two".getBytes(StandardCharsets.UTF_8));
        a.history().markPruned(id(1), "older than the newest 1 full backup(s)"); // an interrupted prune: the manifest is still there
        assertTrue(a.hasManifest(id(1)));
        Repository b = plain("b");
        StrataException e = assertThrows(StrataException.class, () -> copy(a, b, List.of(id(1)), false));
        assertEquals(ErrorCode.BACKUP_NOT_FOUND, e.code());
        assertEquals("backup " + id(1) + " was pruned in the source " + a.root() + " (its prune has not finished deleting it)", e.getMessage());
        StrataException checked = assertThrows(StrataException.class, () -> RepoCopy.checkSelection(a, List.of(id(1))));
        assertEquals(e.getMessage(), checked.getMessage());
        assertFalse(b.hasManifest(id(1)));
        RepoCopy.Result r = copy(a, b, null, false);
        assertEquals(List.of(id(2)), r.copied());
        assertEquals(List.of(), r.skipped());
        assertEquals(List.of(id(1)), r.retired());
        assertFalse(b.hasManifest(id(1)));
    }

    @Test
    void aBackupRemovedFromTheSourceWhileItIsCopiedIsPassedOverNotDamaged() throws Exception {
        Repository a = plain("a");
        // larger than a pack member may be: the copy writes it as data/000001, seen as soon as it is committed
        backup(a, id(1), "full", null, 1000, filled((int) Packs.MEMBER_MAX + 1, (byte) 'o'));
        Repository b = plain("b");
        RepoCopy.Result[] out = new RepoCopy.Result[1];
        Throwable[] failed = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                out[0] = RepoCopy.run(a, b, new RepoCopy.Options(null, false, 500), LOG::add);
            } catch (Throwable e) {
                failed[0] = e;
            }
        });
        t.start();
        awaitKey(b, "backups/" + id(1) + "/data/000001");
        // a prune of the source: marker first, then the objects
        a.history().markPruned(id(1), "older than the newest 0 full backup(s)");
        a.store().deletePrefix("backups/" + id(1) + "/");
        t.join();
        assertEquals(null, failed[0], () -> String.valueOf(failed[0]));
        assertEquals(List.of(), out[0].copied());
        assertEquals(List.of(id(1)), out[0].retired());
        assertFalse(b.hasManifest(id(1)));
        assertTrue(LOG.contains("note: backup " + id(1) + " not copied: backup " + id(1) + " was removed from " + a.root() + " meanwhile (prune/merge)"),
                LOG.toString());
    }
}
