package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.innodb.MtrBuilder;
import io.strata.innodb.RecordType;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.SourceInfo;
import io.strata.repo.StoredObject;
import io.strata.store.StoreLocation;
import io.strata.codec.Secret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15, case 5: another backup's redo object of the same length holds valid mini-transactions
 * too, so only the manifest's digest of the redo object tells it apart. Verify names it, and a
 * restore refuses it before recovery and leaves its target empty; in a plain and in an encrypted
 * repository (a sealed object moved between backups of one repository opens with the same key).
 */
class RedoDigestTest {
    private static final long START = 0x10000;
    private static final SourceInfo SRC = new SourceInfo("server-1", "h", 1, "10.11.19-MariaDB", "/d", 16384, 1 << 20, 0, "ibdata1:12M", "full_crc32");

    @TempDir
    Path dir;

    /** One mini-transaction writing 3 bytes at offset 38 of page {@code page} of space 5: the same length for every page below 128. */
    private static byte[] redo(int page) {
        return new MtrBuilder().page(RecordType.WRITE, 5, page, new byte[] {0x26, 1, 2, 3}).build(1);
    }

    /** A completed full backup whose only object is a redo log of {@code log}. */
    private static String backup(Repository repo, String id, byte[] log) {
        String now = Instant.now().toString();
        HistoryRecord begin = new HistoryRecord(id, "full", HistoryRecord.RUNNING, null, now, null, "test", null, null, null, null, null, null,
                null, null, null, ProcessHandle.current().pid());
        repo.history().begin(begin);
        String digest;
        try (StoredObject o = repo.createBackupObject(id, "redo", "redo")) {
            o.out().write(log);
            o.commitBatched();
            digest = o.crc32c();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        repo.syncBackupObjects();
        Manifest m = Manifest.builder().id(id).type(Manifest.TYPE_FULL).tool("test").beginTime(now).endTime(now).source(SRC)
                .startLsn(START).startEndLsn(START).endLsn(START + log.length).redoEndLsn(START + log.length).redoCapacity(1 << 20)
                .redoObject("redo").redoCrc32c(digest).files(List.of()).build();
        repo.writeManifest(m);
        repo.history().end(HistoryRecord.completed(begin, m));
        return id;
    }

    private void swappedRedoIsNamedAndRefused(Repository repo, Path root) throws Exception {
        byte[] a = redo(3);
        byte[] b = redo(4);
        assertEquals(a.length, b.length);
        String first = backup(repo, "20260101T000000Z-0001", a);
        String second = backup(repo, "20260101T000001Z-0002", b);

        List<String> out = new ArrayList<>();
        Verifier clean = new Verifier(repo, out::add);
        clean.run(null);
        assertEquals(List.of(), clean.problems(), String.join("\n", out));

        // the second backup's redo object, byte for byte, in the first backup's place
        Path firstRedo = root.resolve("backups").resolve(first).resolve("redo");
        Files.copy(root.resolve("backups").resolve(second).resolve("redo"), firstRedo, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String expected = repo.manifest(first).redoCrc32c();
        String found = repo.manifest(second).redoCrc32c();
        assertNotEquals(expected, found);

        List<String> said = new ArrayList<>();
        Verifier v = new Verifier(repo, said::add);
        v.run(first);
        assertEquals(List.of("redo log of backup " + first + " does not match its manifest: digest " + found + ", expected " + expected
                + " (resource=" + firstRedo + ")"), v.problems(), String.join("\n", said));

        Path target = dir.resolve("target-" + root.getFileName());
        CorruptDataException e = assertThrows(CorruptDataException.class,
                () -> RestoreRun.run(repo, new RestoreRun.Options(first, target, false, 1, null), line -> { }));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertEquals("stored redo log of backup " + first + " does not match its manifest: digest " + found + ", expected " + expected
                + " (resource=" + firstRedo + ")", e.getMessage());
        assertFalse(Files.exists(target) && Files.list(target).findAny().isPresent(), "a refused restore left files in " + target);

        // the other backup still restores: its log is the one its manifest names
        Path ok = dir.resolve("ok-" + root.getFileName());
        RestoreRun.run(repo, new RestoreRun.Options(second, ok, false, 1, null), line -> { });
        assertTrue(Files.size(ok.resolve("ib_logfile0")) > b.length);
    }

    /**
     * Negative control: the same swap in backups whose manifests predate the digest passes verify
     * (the log is whole and framed), which is the hole the digest closes.
     */
    @Test
    void withoutTheDigestTheSwapGoesUnseen() throws Exception {
        Path root = dir.resolve("old");
        Repository repo = Repository.openOrCreate(root);
        String first = backup(repo, "20260101T000000Z-0001", redo(3));
        String second = backup(repo, "20260101T000001Z-0002", redo(4));
        for (String id : List.of(first, second)) {
            repo.writeManifest(repo.manifest(id).toBuilder().redoCrc32c(null).build());
        }
        Files.copy(root.resolve("backups").resolve(second).resolve("redo"), root.resolve("backups").resolve(first).resolve("redo"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Verifier v = new Verifier(repo, line -> { });
        v.run(first);
        assertEquals(List.of(), v.problems());
    }

    @Test
    void plainRepository() throws Exception {
        Path root = dir.resolve("plain");
        swappedRedoIsNamedAndRefused(Repository.openOrCreate(root), root);
    }

    @Test
    void encryptedRepository() throws Exception {
        Path root = dir.resolve("sealed");
        Secret key = Secret.parseKeyFile("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n".getBytes(StandardCharsets.US_ASCII));
        swappedRedoIsNamedAndRefused(Repository.openOrCreate(StoreLocation.local(root), key), root);
    }
}
