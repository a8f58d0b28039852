package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StoreLocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link References}: a reference entry resolves to its holder's object while the holder is
 * stored, through merged markers (same-state and folded) once a merge removed it, and is named
 * as damage when neither leads to the same bytes; {@link RepoCopy} keeps references.
 */
class ReferencesTest {
    private static final byte[] FRM = "frm bytes of db/t".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private static String id(int n) {
        return "20261201T0100" + String.format(java.util.Locale.ROOT, "%02dZ-%04x", n, n);
    }

    private Repository repo(String name) {
        return Repository.openOrCreate(StoreLocation.local(dir.resolve(name)), null);
    }

    /** An incremental on {@code parent} whose only file is a reference to {@code held} of backup {@code holder}. */
    static Manifest referring(Repository r, String id, Manifest parent, String holder, FileEntry held) {
        HistoryRecord b = new HistoryRecord(id, "incremental", HistoryRecord.RUNNING, parent.id(), Instant.now().toString(), null, "socket /tmp/s",
                null, null, null, null, null, null, null, null, null, ProcessHandle.current().pid());
        r.history().begin(b);
        String redoCrc;
        try (StoredObject o = r.createBackupObject(id, "redo", "redo")) {
            o.out().write(new byte[] {1, 2, 3});
            o.commitBatched();
            redoCrc = o.crc32c();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        r.syncBackupObjects();
        Manifest m = parent.toBuilder().formatVersion(0).id(id).type("incremental").parent(parent.id()).threshold(parent.startLsn())
                .startLsn(parent.startLsn() + 100).startEndLsn(parent.startLsn() + 100).endLsn(parent.startLsn() + 200)
                .redoEndLsn(parent.startLsn() + 200).redoCrc32c(redoCrc).files(List.of(held.referenceTo(holder, held.object()))).storedBytes(0).build();
        r.writeManifest(m);
        r.history().end(HistoryRecord.completed(b, m));
        return m;
    }

    private static byte[] read(References refs, Manifest m) {
        try (ChunkedReader in = refs.open(m.id(), m.files().get(0), "file")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aReferenceReadsItsHoldersObject() {
        Repository r = repo("a");
        Manifest f = RepoCopyTest.backup(r, id(1), "full", null, 1000, FRM);
        Manifest i1 = referring(r, id(2), f, f.id(), f.files().get(0));
        Manifest stored = r.manifest(i1.id());
        assertEquals(Manifest.REFERENCE_FORMAT_VERSION, stored.formatVersion());
        assertEquals(f.id(), stored.files().get(0).ref());
        assertEquals(0, stored.files().get(0).storedBytes());
        assertEquals(new References.Held(f.id(), "data/000001"), new References(r).resolve(i1.id(), stored.files().get(0)));
        assertArrayEquals(FRM, read(new References(r), stored));
        // an own object resolves to itself
        assertEquals(new References.Held(f.id(), "data/000001"), new References(r).resolve(f.id(), f.files().get(0)));
    }

    @Test
    void aReferenceToAFoldedBackupFollowsItsMarkerToTheSameBytes() {
        Repository r = repo("b");
        Manifest f = RepoCopyTest.backup(r, id(1), "full", null, 1000, FRM);
        Manifest i1 = referring(r, id(2), f, f.id(), f.files().get(0));
        Manifest i2 = referring(r, id(3), i1, f.id(), f.files().get(0));
        // what a merge of F and I1 into M does: M stores the bytes I1 referred to in F; F is folded, I1 same-state
        String mid = id(4);
        r.copyBackupObject(f.id(), "data/000001", mid, "data/000009");
        r.copyBackupObject(i1.id(), "redo", mid, "redo");
        Manifest m = i1.toBuilder().formatVersion(0).id(mid).type("full").parent(null).threshold(null)
                .files(List.of(f.files().get(0).stored("data/000009", 1))).build();
        r.writeManifest(m);
        r.history().markMerged(i1.id(), mid);
        r.deleteManifest(i1.id());
        r.deleteBackupObjects(i1.id());
        r.history().markFolded(f.id(), mid);
        r.deleteManifest(f.id());
        r.deleteBackupObjects(f.id());

        assertEquals(new References.Held(mid, "data/000009"), new References(r).resolve(i2.id(), i2.files().get(0)));
        assertArrayEquals(FRM, read(new References(r), i2));
    }

    @Test
    void aReferenceWhoseBytesAreNoLongerStoredIsDamage() {
        Repository r = repo("c");
        Manifest f = RepoCopyTest.backup(r, id(1), "full", null, 1000, FRM);
        Manifest i1 = referring(r, id(2), f, f.id(), f.files().get(0));
        r.deleteManifest(f.id()); // lost, with no merged marker
        StrataException e = assertThrows(StrataException.class, () -> new References(r).resolve(i1.id(), i1.files().get(0)));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertEquals("db/t.frm of backup " + i1.id() + " is a reference whose object is not stored: backup " + f.id() + " holds it, but " + f.id()
                + " has neither a manifest nor a merged marker (resource=" + r.describeBackupObject(f.id(), "data/000001") + ")", e.getMessage());

        // merged into a backup that holds other bytes under that path
        Manifest g = RepoCopyTest.backup(r, id(5), "full", null, 5000, "other".getBytes(StandardCharsets.US_ASCII));
        r.history().markFolded(f.id(), g.id());
        StrataException e2 = assertThrows(StrataException.class, () -> new References(r).resolve(i1.id(), i1.files().get(0)));
        assertEquals(ErrorCode.CORRUPT_DATA, e2.code());
        assertTrue(e2.getMessage().contains("was merged into " + g.id() + ", which holds length 5 digest "), e2.getMessage());
    }

    @Test
    void aCopyKeepsReferencesToTheCopiedHolder() {
        Repository s = repo("s");
        Manifest f = RepoCopyTest.backup(s, id(1), "full", null, 1000, FRM);
        Manifest i1 = referring(s, id(2), f, f.id(), f.files().get(0));
        Repository t = repo("t");
        List<String> log = new ArrayList<>();
        RepoCopy.run(s, t, new RepoCopy.Options(List.of(i1.id()), false, 0), log::add);
        Manifest copied = t.manifest(i1.id());
        assertEquals(f.id(), copied.files().get(0).ref());
        assertEquals(0, copied.files().get(0).storedBytes());
        assertArrayEquals(FRM, read(new References(t), copied));
    }
}
