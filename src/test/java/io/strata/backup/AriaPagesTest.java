package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Page checks of crash-safe Aria files, on {@code fixtures/aria/db.MAD} and {@code db.MAI}: the
 * files of {@code mysql.db} (Aria, TRANSACTIONAL=1, page checksums, 8 KiB pages) of a stopped
 * MariaDB 10.11.19 server. The data file holds a bitmap page and a data page; the index file
 * one header page and two index pages. {@code encrypted.MAI}: the index file of an Aria table
 * written with {@code aria_encrypt_tables=ON} (its pages' checksums are not those of the stored
 * bytes, so strata leaves them unchecked).
 */
class AriaPagesTest {
    private static final int PAGE = 8192;

    private static byte[] fixture(String name) throws Exception {
        try (InputStream in = AriaPagesTest.class.getResourceAsStream("/fixtures/aria/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void theGeometryComesFromTheIndexFilesHeader() throws Exception {
        AriaPages a = AriaPages.checked(fixture("db.MAI"));
        assertNotNull(a);
        assertEquals(PAGE, a.blockSize());
        byte[] notAria = fixture("db.MAI");
        notAria[2] = 7; // MyISAM's magic FE FE 07
        assertNull(AriaPages.checked(notAria));
        assertTrue(a.checksums());
        byte[] noChecksums = fixture("db.MAI");
        noChecksums[4] &= ~0x08; // option bit 11 off
        assertFalse(AriaPages.checked(noChecksums).checksums(), "PAGE_CHECKSUM=0: pages read until two reads agree");
        assertFalse(AriaPages.checked(fixture("encrypted.MAI")).checksums(), "an encrypted table (extra option bit 0)");
        byte[] notTransactional = fixture("db.MAI");
        notTransactional[((notTransactional[12] & 0xff) << 8 | (notTransactional[13] & 0xff)) + 106] = 0;
        assertNull(AriaPages.checked(notTransactional), "written only until BACKUP STAGE FLUSH: copied as read");
        byte[] encryptedAsPlain = fixture("encrypted.MAI");
        int base = (encryptedAsPlain[12] & 0xff) << 8 | (encryptedAsPlain[13] & 0xff);
        encryptedAsPlain[base + 91] &= ~1;
        AriaPages wrong = AriaPages.checked(encryptedAsPlain);
        assertNotNull(wrong);
        assertFalse(wrong.whole(encryptedAsPlain, PAGE, 1, true), "an encrypted page does not match the plain formula");
    }

    @Test
    void everyPageOfARealTableIsWholeAndAnyFlippedByteIsSeen() throws Exception {
        AriaPages a = AriaPages.checked(fixture("db.MAI"));
        for (String name : new String[] {"db.MAD", "db.MAI"}) {
            byte[] f = fixture(name);
            boolean index = name.endsWith(".MAI");
            int checked = 0;
            for (int page = 0; page < f.length / PAGE; page++) {
                assertTrue(a.whole(f, page * PAGE, page, index), name + " page " + page);
                if (index && page == 0) {
                    continue; // the header page carries no checksum
                }
                byte[] torn = f.clone();
                torn[page * PAGE + 20] ^= 0x20; // inside the bytes in use (an index page checksums only those)
                assertFalse(a.whole(torn, page * PAGE, page, index), name + " page " + page + " with a flipped byte");
                // the same bytes read as another page number do not match either: the CRC starts from the page number
                assertFalse(a.whole(f, page * PAGE, page + 1L, index), name + " page " + page + " as page " + (page + 1));
                checked++;
            }
            assertEquals(2, checked, name);
        }
        assertTrue(a.whole(new byte[PAGE], 0, 7, false), "a page never written (zeros only)");
    }

    @Test
    void theCrcStartsFromThePageNumberAsZlibsDoes() {
        byte[] b = "strata".getBytes();
        CRC32 c = new CRC32();
        c.update(b);
        assertEquals(c.getValue(), AriaPages.crc32(0, b, 0, b.length));
        // zlib: crc32(crc32(0, "stra"), "ta") == crc32(0, "strata")
        long first = AriaPages.crc32(0, b, 0, 4);
        assertEquals(c.getValue(), AriaPages.crc32((int) first, b, 4, 2));
    }

    @Test
    void aPageReadWhileTheServerWroteItIsReadAgain(@TempDir Path dir) throws Exception {
        byte[] good = fixture("db.MAD");
        byte[] torn = good.clone();
        System.arraycopy(new byte[4096], 0, torn, PAGE + 4096, 4096); // page 1: its second half not yet written
        Path file = dir.resolve("db.MAD");
        Files.write(file, torn);
        AriaPages a = AriaPages.checked(fixture("db.MAI"));
        AtomicInteger pauses = new AtomicInteger();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (FileChannel ch = FileChannel.open(file)) {
            long n = FileCopier.copyAriaPages(ch, "mysql/db.MAD", a, (b, k) -> out.write(b, 0, k), () -> {
                if (pauses.incrementAndGet() == 3) { // the server's write ends during the third pause
                    try (FileChannel w = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        w.write(java.nio.ByteBuffer.wrap(good, PAGE, PAGE), PAGE);
                    } catch (java.io.IOException e) {
                        throw new AssertionError(e);
                    }
                }
            });
            assertEquals(good.length, n);
        }
        assertEquals(3, pauses.get());
        assertArrayEquals(good, out.toByteArray());
    }

    @Test
    void aPageThatNeverReadsWholeFailsTheBackupByName(@TempDir Path dir) throws Exception {
        byte[] bad = fixture("db.MAI");
        bad[2 * PAGE + 20] ^= 1;
        Path file = dir.resolve("db.MAI");
        Files.write(file, bad);
        AriaPages a = AriaPages.checked(fixture("db.MAI"));
        AtomicInteger pauses = new AtomicInteger();
        try (FileChannel ch = FileChannel.open(file)) {
            StrataException e = assertThrows(StrataException.class,
                    () -> FileCopier.copyAriaPages(ch, "mysql/db.MAI", a, (b, k) -> { }, pauses::incrementAndGet));
            assertEquals(ErrorCode.CORRUPT_DATA, e.code());
            assertEquals("page 2 of the Aria file mysql/db.MAI does not match its checksum in 10 reads 0.1 s apart: the table is damaged on the server",
                    e.getMessage());
        }
        assertEquals(FileCopier.ARIA_READS - 1, pauses.get());
    }

    @Test
    void aShortLastPartIsCopiedAsRead(@TempDir Path dir) throws Exception {
        byte[] f = Arrays.copyOf(fixture("db.MAD"), PAGE + 100);
        Path file = dir.resolve("db.MAD");
        Files.write(file, f);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (FileChannel ch = FileChannel.open(file)) {
            assertEquals(f.length, FileCopier.copyAriaPages(ch, "mysql/db.MAD", AriaPages.checked(fixture("db.MAI")), (b, k) -> out.write(b, 0, k),
                    () -> { throw new AssertionError("no page is read again"); }));
        }
        assertArrayEquals(f, out.toByteArray());
    }

    @Test
    void aPageCutShortWhenReadAgainEndsTheFileThere(@TempDir Path dir) throws Exception {
        byte[] good = fixture("db.MAD");
        byte[] torn = good.clone();
        torn[PAGE + 100] ^= 1; // page 1 half written
        Path file = dir.resolve("db.MAD");
        Files.write(file, torn);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (FileChannel ch = FileChannel.open(file)) {
            long n = FileCopier.copyAriaPages(ch, "mysql/db.MAD", AriaPages.checked(fixture("db.MAI")), (b, k) -> out.write(b, 0, k), () -> {
                try (FileChannel w = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    w.truncate(PAGE + 1000); // the server cut the file inside page 1 meanwhile
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
            });
            assertEquals(PAGE + 1000, n);
        }
        // what the file holds now, not the torn page's bytes beyond its new end
        assertArrayEquals(Arrays.copyOf(torn, PAGE + 1000), out.toByteArray());
    }

    @Test
    void theIndexHeaderIsReadFromTheChannelTheCopyReads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("db.MAI");
        Files.write(file, fixture("db.MAI"));
        try (FileChannel ch = FileChannel.open(file)) {
            // a rebuild renames another table's file over this path meanwhile
            Files.move(file, dir.resolve("old.MAI"));
            Files.write(file, new byte[0]);
            assertNotNull(FileCopier.ariaPagesOfIndex(ch, "mysql/db.MAI"), "the file opened, not the one at its path now");
            assertNull(FileCopier.ariaPages(file, "mysql/db.MAI"), "what is at the path now has no header");
        }
    }

    @Test
    void sqlWorkTablesAreCopiedAsRead(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("d"));
        Files.write(dir.resolve("d/#sql-alter-1a2b-3.MAI"), fixture("db.MAI"));
        Files.write(dir.resolve("d/#sql-alter-1a2b-3.MAD"), fixture("db.MAD"));
        assertNull(FileCopier.ariaPages(dir.resolve("d/#sql-alter-1a2b-3.MAD"), "d/#sql-alter-1a2b-3.MAD"));
        try (FileChannel ch = FileChannel.open(dir.resolve("d/#sql-alter-1a2b-3.MAI"))) {
            assertNull(FileCopier.ariaPagesOfIndex(ch, "d/#sql-alter-1a2b-3.MAI"));
        }
        assertTrue(FileCopier.ariaTableFile("d/t#sql.MAD"), "only names that begin with #sql");
        assertFalse(FileCopier.ariaTableFile("t.MAD"), "not in a database directory");
    }

    /** A channel over {@code file} whose reads see {@code changed} (whole pages from {@code at}) on the reads {@code which} accepts (counted from 1). */
    private static FileChannel changingUnder(Path file, long at, byte[] changed, java.util.function.IntPredicate which) throws java.io.IOException {
        FileChannel real = FileChannel.open(file);
        AtomicInteger n = new AtomicInteger();
        return new FileChannel() {
            @Override public int read(java.nio.ByteBuffer dst, long position) throws java.io.IOException {
                int start = dst.position();
                int r = real.read(dst, position);
                if (r > 0 && which.test(n.incrementAndGet())) {
                    for (int i = 0; i < changed.length; i++) {
                        long p = at + i;
                        if (p >= position && p < position + r) {
                            dst.put(start + (int) (p - position), changed[i]);
                        }
                    }
                }
                return r;
            }
            @Override public int read(java.nio.ByteBuffer dst) { throw new UnsupportedOperationException(); }
            @Override public long read(java.nio.ByteBuffer[] d, int o, int l) { throw new UnsupportedOperationException(); }
            @Override public int write(java.nio.ByteBuffer src) { throw new UnsupportedOperationException(); }
            @Override public long write(java.nio.ByteBuffer[] s, int o, int l) { throw new UnsupportedOperationException(); }
            @Override public int write(java.nio.ByteBuffer src, long p) { throw new UnsupportedOperationException(); }
            @Override public long position() { throw new UnsupportedOperationException(); }
            @Override public FileChannel position(long p) { throw new UnsupportedOperationException(); }
            @Override public long size() throws java.io.IOException { return real.size(); }
            @Override public FileChannel truncate(long size) { throw new UnsupportedOperationException(); }
            @Override public void force(boolean meta) { throw new UnsupportedOperationException(); }
            @Override public long transferTo(long p, long c, java.nio.channels.WritableByteChannel t) { throw new UnsupportedOperationException(); }
            @Override public long transferFrom(java.nio.channels.ReadableByteChannel s, long p, long c) { throw new UnsupportedOperationException(); }
            @Override public java.nio.MappedByteBuffer map(MapMode m, long p, long s) { throw new UnsupportedOperationException(); }
            @Override public java.nio.channels.FileLock lock(long p, long s, boolean sh) { throw new UnsupportedOperationException(); }
            @Override public java.nio.channels.FileLock tryLock(long p, long s, boolean sh) { throw new UnsupportedOperationException(); }
            @Override protected void implCloseChannel() throws java.io.IOException { real.close(); }
        };
    }

    @Test
    void withoutPageChecksumsAPageIsTakenWhenTwoReadsInARowAgree(@TempDir Path dir) throws Exception {
        byte[] good = fixture("db.MAD");
        Path file = dir.resolve("db.MAD");
        Files.write(file, good);
        byte[] noChecksums = fixture("db.MAI");
        noChecksums[4] &= ~0x08;
        AriaPages a = AriaPages.checked(noChecksums);
        byte[] halfWritten = new byte[100];
        Arrays.fill(halfWritten, (byte) 0x5A);
        AtomicInteger pauses = new AtomicInteger();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // the first read of the whole file sees page 1 torn; the reads after it see the page whole
        try (FileChannel ch = changingUnder(file, PAGE + 2000, halfWritten, n -> n == 1)) {
            assertEquals(good.length, FileCopier.copyAriaPages(ch, "d/t.MAD", a, (b, k) -> out.write(b, 0, k), pauses::incrementAndGet));
        }
        assertEquals(1, pauses.get(), "page 1 read a third time, after its first two reads differed");
        assertArrayEquals(good, out.toByteArray());
    }

    @Test
    void aPageWithoutChecksumThatNeverReadsTheSameTwiceFailsByName(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("db.MAD");
        Files.write(file, fixture("db.MAD"));
        byte[] noChecksums = fixture("db.MAI");
        noChecksums[4] &= ~0x08;
        byte[] other = new byte[8];
        Arrays.fill(other, (byte) 0x33);
        AtomicInteger pauses = new AtomicInteger();
        // every odd read of page 1 sees other bytes: no two reads in a row agree
        try (FileChannel ch = changingUnder(file, PAGE + 64, other, n -> n % 2 == 1)) {
            StrataException e = assertThrows(StrataException.class,
                    () -> FileCopier.copyAriaPages(ch, "d/t.MAD", AriaPages.checked(noChecksums), (b, k) -> { }, pauses::incrementAndGet));
            assertEquals(ErrorCode.IO_ERROR, e.code());
            assertEquals("page 1 of the Aria file d/t.MAD read differently in each of 10 reads 0.1 s apart (the page carries no checksum strata "
                    + "can check, so only two equal reads make it whole): the server kept writing it", e.getMessage());
        }
        assertEquals(FileCopier.ARIA_READS - 2, pauses.get());
    }

    @Test
    void theIndexHeaderPagesAreReadUntilTwoReadsAgree(@TempDir Path dir) throws Exception {
        byte[] good = fixture("db.MAI");
        Path file = dir.resolve("db.MAI");
        Files.write(file, good);
        byte[] state = new byte[16];
        Arrays.fill(state, (byte) 0x11);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AtomicInteger pauses = new AtomicInteger();
        // the state header (no checksum) is being rewritten as it is first read
        try (FileChannel ch = changingUnder(file, 30, state, n -> n == 1)) {
            assertEquals(good.length, FileCopier.copyAriaPages(ch, "mysql/db.MAI", AriaPages.checked(good), (b, k) -> out.write(b, 0, k), pauses::incrementAndGet));
        }
        assertEquals(1, pauses.get());
        assertArrayEquals(good, out.toByteArray());
    }

    @Test
    void onlyAriaFilesInADatabaseDirectoryAreChecked(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("mysql"));
        Files.write(dir.resolve("mysql/db.MAI"), fixture("db.MAI"));
        Files.write(dir.resolve("mysql/db.MAD"), fixture("db.MAD"));
        assertNotNull(FileCopier.ariaPages(dir.resolve("mysql/db.MAD"), "mysql/db.MAD"));
        assertNotNull(FileCopier.ariaPages(dir.resolve("mysql/db.MAI"), "mysql/db.MAI"));
        assertNull(FileCopier.ariaPages(dir.resolve("mysql/db.frm"), "mysql/db.frm"));
        assertNull(FileCopier.ariaPages(dir.resolve("mysql/other.MAD"), "mysql/other.MAD"), "no index file");
    }
}
