package io.strata.backup;

import io.strata.repo.FileEntry;
import io.strata.repo.FileStat;
import io.strata.repo.Manifest;
import io.strata.repo.References;
import io.strata.repo.Repository;
import io.strata.store.StoreLocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decision of {@link PlainFileReuse}: a non-InnoDB file is referred to only when its size,
 * inode, device and change time equal the parent's and that change time is older than the
 * parent's copy by the margin; and a reference names the backup that holds the bytes.
 */
class PlainFileReuseTest {
    private static final long S = 1_000_000_000L;
    private static final long CTIME = 1_796_000_000L * S + 123_456_789;

    @TempDir
    Path dir;

    private static FileEntry parentEntry(long size, FileStat stat) {
        return new FileEntry("db/t.MYD", "file", null, null, size, 0, FileEntry.WHOLE, 0, "data/000007", 99, "0a0b0c0d", null, null, stat, null);
    }

    @Test
    void sameSizeInodeDeviceAndChangeTimeOlderThanTheMarginIsUnchanged() {
        FileStat then = new FileStat(42, 65024, CTIME, CTIME + 3 * S);
        assertTrue(PlainFileReuse.unchanged(parentEntry(1000, then), 1000, new FileStat(42, 65024, CTIME, CTIME + 90 * S)));
    }

    @Test
    void aChangeTimeWithinTheMarginOfTheParentsCopyIsStoredAgain() {
        // a write in the same clock tick as the change time the parent saw could leave it equal
        FileStat then = new FileStat(42, 65024, CTIME, CTIME + S);
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, then), 1000, new FileStat(42, 65024, CTIME, CTIME + 90 * S)));
        FileStat edge = new FileStat(42, 65024, CTIME, CTIME + PlainFileReuse.MARGIN_NANOS);
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, edge), 1000, new FileStat(42, 65024, CTIME, CTIME + 90 * S)));
    }

    @Test
    void anotherChangeTimeWithTheSameSizeIsStoredAgain() {
        FileStat then = new FileStat(42, 65024, CTIME, CTIME + 3 * S);
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, then), 1000, new FileStat(42, 65024, CTIME + 1, CTIME + 90 * S)));
    }

    @Test
    void anotherInodeDeviceOrSizeIsStoredAgain() {
        FileStat then = new FileStat(42, 65024, CTIME, CTIME + 3 * S);
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, then), 1000, new FileStat(43, 65024, CTIME, CTIME + 90 * S)));
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, then), 1000, new FileStat(42, 65025, CTIME, CTIME + 90 * S)));
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, then), 1001, new FileStat(42, 65024, CTIME, CTIME + 90 * S)));
    }

    @Test
    void aParentWithoutStatOrAFileWithoutStatIsStoredAgain() {
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, null), 1000, new FileStat(42, 65024, CTIME, CTIME + 90 * S)));
        assertFalse(PlainFileReuse.unchanged(parentEntry(1000, new FileStat(42, 65024, CTIME, CTIME + 3 * S)), 1000, null));
    }

    @Test
    void aRealFileRewrittenWithTheSameSizeIsStoredAgain() throws Exception {
        Path f = dir.resolve("t.MYD");
        Files.writeString(f, "0123456789", StandardCharsets.US_ASCII);
        PlainFileReuse.Seen first = PlainFileReuse.look(f);
        assertEquals(10, first.size());
        assertEquals(Files.getAttribute(f, "unix:ino"), first.stat().inode());
        // as if the parent had copied it 3 s after its last change
        FileStat then = new FileStat(first.stat().inode(), first.stat().device(), first.stat().ctime(), first.stat().ctime() + 3 * S);
        FileEntry was = parentEntry(10, then);
        assertTrue(PlainFileReuse.unchanged(was, 10, PlainFileReuse.look(f).stat()));
        Thread.sleep(30); // past the file system's clock tick
        Files.writeString(f, "9876543210", StandardCharsets.US_ASCII);
        PlainFileReuse.Seen now = PlainFileReuse.look(f);
        assertEquals(10, now.size());
        assertFalse(PlainFileReuse.unchanged(was, now.size(), now.stat()));
    }

    @Test
    void aSymbolicLinkIsJudgedByTheFileItLeadsTo() throws Exception {
        // a MyISAM table with DATA DIRECTORY: db/t.MYD is a link to the data file elsewhere
        Path data = Files.createDirectories(dir.resolve("elsewhere")).resolve("t.MYD");
        Files.writeString(data, "0123456789", StandardCharsets.US_ASCII);
        Path link = Files.createSymbolicLink(dir.resolve("t.MYD"), data);
        PlainFileReuse.Seen first = PlainFileReuse.look(link);
        assertEquals(10, first.size());
        assertEquals(Files.getAttribute(data, "unix:ino"), first.stat().inode());
        FileEntry was = parentEntry(10, new FileStat(first.stat().inode(), first.stat().device(), first.stat().ctime(), first.stat().ctime() + 3 * S));
        Thread.sleep(30);
        Files.writeString(data, "9876543210", StandardCharsets.US_ASCII); // the link itself is untouched
        PlainFileReuse.Seen now = PlainFileReuse.look(link);
        assertFalse(PlainFileReuse.unchanged(was, now.size(), now.stat()));
    }

    @Test
    void aReferenceNamesTheBackupHoldingTheBytesNeverAnotherReference() {
        Repository repo = Repository.openOrCreate(StoreLocation.local(dir.resolve("repo")), null);
        String full = "20261201T000001Z-0001";
        repo.writeManifest(Manifest.builder().id(full).type(Manifest.TYPE_FULL).build());
        FileStat then = new FileStat(42, 65024, CTIME, CTIME + 3 * S);
        FileEntry ownInParent = parentEntry(1000, then);
        FileEntry refInParent = new FileEntry("db/u.MYD", "file", null, null, 1000, 0, FileEntry.WHOLE, 0, "data/000003", 0, "01020304", null, null,
                then, null).referenceTo(full, "data/000003");
        Manifest parent = Manifest.builder().id("20261201T000002Z-0002").type("incremental").parent(full)
                .files(List.of(ownInParent, refInParent)).build();
        PlainFileReuse reuse = PlainFileReuse.of(parent, new References(repo));
        PlainFileReuse.Seen same = new PlainFileReuse.Seen(1000, new FileStat(42, 65024, CTIME, CTIME + 99 * S));

        FileEntry a = reuse.reuse("db/t.MYD", same);
        assertNotNull(a);
        assertEquals(parent.id(), a.ref());
        assertEquals("data/000007", a.object());
        assertEquals(0, a.storedBytes());
        assertEquals(then, a.stat());
        assertEquals("0a0b0c0d", a.crc32c());

        FileEntry b = reuse.reuse("db/u.MYD", same);
        assertEquals(full, b.ref()); // one hop: the full backup, not the parent
        assertEquals("data/000003", b.object());

        assertNull(reuse.reuse("db/other.MYD", same));
        assertNull(PlainFileReuse.NONE.reuse("db/t.MYD", same));
        assertEquals(Manifest.REFERENCE_FORMAT_VERSION, Manifest.builder().id("x").files(List.of(a)).build().formatVersion());
        assertEquals(Manifest.PLAIN_FORMAT_VERSION, Manifest.builder().id("x").files(List.of(ownInParent)).build().formatVersion());
    }
    /**
     * {@link PlainFileReuse#list}: the files {@link io.strata.util.Dirs#liveRegularFiles} lists, each
     * seen as {@link PlainFileReuse#look} sees it (a link through to its target), with the time read
     * before the walk as its copyBegan.
     */
    @Test
    void aListingSeesWhatALookSees() throws Exception {
        Path d = Files.createDirectories(dir.resolve("datadir"));
        Files.writeString(d.resolve("ibdata1"), "12345");
        Files.createDirectories(d.resolve("db/deeper"));
        Files.writeString(d.resolve("db.x"), "a file whose name sorts between the directory db and its files");
        Files.writeString(d.resolve("db/t.frm"), "frm");
        Files.writeString(d.resolve("db/t.ibd"), "x".repeat(100));
        Files.writeString(d.resolve("db/deeper/too-deep.ibd"), "x");
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("o.MYD"), "outside data");
        Files.createSymbolicLink(d.resolve("db/o.MYD"), outside.resolve("o.MYD"));
        Files.createSymbolicLink(d.resolve("db/dangling.MYD"), outside.resolve("none"));
        Files.createSymbolicLink(d.resolve("linkeddb"), outside);
        long before = System.currentTimeMillis() * 1_000_000L;
        PlainFileReuse.Listing l = PlainFileReuse.list(d, 2);
        assertEquals(io.strata.util.Dirs.liveRegularFiles(d, 2), l.files());
        assertEquals(List.of(d.resolve("db.x"), d.resolve("db/o.MYD"), d.resolve("db/t.frm"), d.resolve("db/t.ibd"), d.resolve("ibdata1"),
                d.resolve("linkeddb/o.MYD")), l.files(), "in Path order: db.x before db/ ('.' sorts before '/')");
        assertEquals(6, l.seenCount());
        for (int i = 0; i < l.size(); i++) { // the names kept are the files' relative paths, found again by a binary search
            assertEquals(d.relativize(l.files().get(i)).toString(), l.name(i));
            assertEquals(i, l.indexOfName(l.name(i)));
            assertEquals(i, l.indexOf(l.file(i)));
            assertEquals(l.seenAt(i).size(), l.seenOfName(l.name(i)).size());
        }
        assertEquals(-1, l.indexOfName("db/t.fr"));
        assertEquals(-1, l.indexOfName("zzz"));
        assertNull(l.seenAt(-1));
        for (Path f : l.files()) {
            PlainFileReuse.Seen walked = l.seenOf(f);
            PlainFileReuse.Seen looked = PlainFileReuse.look(f);
            assertEquals(looked.size(), walked.size(), f.toString());
            assertEquals(looked.stat().inode(), walked.stat().inode(), f.toString());
            assertEquals(looked.stat().device(), walked.stat().device(), f.toString());
            assertEquals(looked.stat().ctime(), walked.stat().ctime(), f.toString());
            assertTrue(walked.stat().copyBegan() >= before - 10_000_000L && walked.stat().copyBegan() <= looked.stat().copyBegan(), f.toString());
        }
        assertEquals(12, l.seenOf(d.resolve("db/o.MYD")).size(), "a link is seen through to its target");
        assertNull(l.seenOf(d.resolve("db/not-listed.frm")), "a file the walk did not list has no attributes");
        assertNull(l.seenOf(d.resolve("db/deeper/too-deep.ibd")), "a file below the depth has none");
        assertEquals(List.of(d.resolve("db.x"), d.resolve("ibdata1")), PlainFileReuse.list(d, 1).files());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> PlainFileReuse.list(d.resolve("gone"), 2));
        // a data directory that is a link: the same files, below the link, as Dirs lists them
        Path link = Files.createSymbolicLink(dir.resolve("datadir-link"), d);
        PlainFileReuse.Listing linked = PlainFileReuse.list(link, 2);
        assertEquals(io.strata.util.Dirs.liveRegularFiles(link, 2), linked.files());
        assertEquals(6, linked.files().size());
        assertEquals(l.seenOf(d.resolve("db/t.ibd")).stat().inode(), linked.seenOf(link.resolve("db/t.ibd")).stat().inode());
    }

    /**
     * A file name that is not valid UTF-8 (Latin-1 "caf\u00e9.csv", as SELECT ... INTO OUTFILE may
     * write): its string form has U+FFFD in place of the byte, and a Path made again from that
     * string names no file. The listing gives the walk's own Path for it, so it is copied.
     */
    @Test
    void aFileWhoseNameIsNotUtf8IsGivenAsTheWalkFoundIt() throws Exception {
        Path d = Files.createDirectories(dir.resolve("datadir/db"));
        Process p = new ProcessBuilder("sh", "-c", "printf odd > \"$(printf 'caf\\351.csv')\"; printf plain > plain.csv").directory(d.toFile()).start();
        assertEquals(0, p.waitFor());
        PlainFileReuse.Listing l = PlainFileReuse.list(d.getParent(), 2);
        assertEquals(2, l.size());
        int odd = l.name(0).startsWith("db/caf") ? 0 : 1;
        assertTrue(l.name(odd).contains("\uFFFD"), l.name(odd));
        assertFalse(Files.exists(d.getParent().resolve(l.name(odd))), "the name's string form names no file");
        assertEquals("odd", Files.readString(l.file(odd)));
        assertEquals("odd", Files.readString(l.files().get(odd)));
        assertEquals(3, l.seenAt(odd).size());
        assertEquals("plain", Files.readString(l.file(1 - odd)));
    }
}
