package io.strata.innodb;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encrypted redo log (FORMAT_ENC_11) against a real log written by MariaDB 10.11.19 with
 * innodb_encrypt_log=ON and file_key_management (AES_CBC), and against mtrs built here (AES_CTR).
 * Fixture: fixtures/mariadb-10.11/enclog (README.md there).
 */
class LogCryptTest {
    private static final long FIRST_LSN = 44894;
    private static final long FLUSHED = 54401;
    private static final long FILE_SIZE = 16 << 20;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = LogCryptTest.class.getResourceAsStream("/fixtures/mariadb-10.11/enclog/" + name)) {
            assertNotNull(in, name);
            return name.endsWith(".gz") ? new GZIPInputStream(in).readAllBytes() : in.readAllBytes();
        }
    }

    private static byte[] key1() throws IOException {
        String first = new String(resource("keys.txt"), StandardCharsets.US_ASCII).split("\n")[0];
        return HexFormat.of().parseHex(first.substring(first.indexOf(';') + 1).strip());
    }

    /** Records every event as text. */
    private static final class Events implements MtrVisitor {
        final List<String> all = new ArrayList<>();
        int pages;

        @Override public void page(int s, int p, int t) { pages++; }
        @Override public void fileOp(FileOp op, int s, String n, String nn) { all.add(op + " " + s + " " + n + (nn == null ? "" : " " + nn)); }
        @Override public void checkpoint(long lsn) { all.add("CHECKPOINT " + lsn); }
    }

    private static MtrParser.ParseResult parseFixture(LogCrypt crypt, MtrVisitor v) throws IOException {
        byte[] f = resource("ib_logfile0.gz");
        LogGeometry g = new LogGeometry(FIRST_LSN, FILE_SIZE);
        int off = (int) g.offset(FIRST_LSN);
        return MtrParser.parse(f, off, f.length - off, FIRST_LSN, g, false, v, crypt);
    }

    @Test
    void realHeaderCarriesTheCryptInfo() throws IOException {
        byte[] f = resource("ib_logfile0.gz");
        LogHeader h = LogHeader.parse(Arrays.copyOf(f, 512));
        assertEquals(LogHeader.FORMAT_ENC_11, h.format());
        assertTrue(h.encrypted());
        assertEquals(FIRST_LSN, h.firstLsn());
        LogCrypt.Info i = LogCrypt.headerInfo(f);
        assertEquals(1, i.keyId());
        assertEquals(1, i.keyVersion());
        assertEquals("0000000100000001d1564ab13bd5bb861ac3a9acf2693cd2be0d8875", i.toHex());
        assertArrayEquals(Arrays.copyOfRange(f, 48, 76), LogCrypt.Info.ofHex(i.toHex()).bytes());
    }

    @Test
    void realLogDecryptsWithKeyOneInCbcMode() throws IOException {
        Events e = new Events();
        MtrParser.ParseResult r = parseFixture(LogCrypt.of(LogCrypt.headerInfo(resource("ib_logfile0.gz")), key1(), LogCrypt.Mode.CBC), e);
        assertEquals(MtrParser.Stop.END_OF_LOG, r.stop(), r.reason());
        assertEquals(FLUSHED - FIRST_LSN, r.acceptedBytes());
        assertEquals(158, r.mtrCount());
        // CREATE TABLE d.t ENCRYPTED=YES; CREATE TABLE d.p; RENAME TABLE d.p TO d.q; DROP TABLE d.q; a checkpoint
        assertEquals("CHECKPOINT 44894", e.all.get(0));
        assertTrue(e.all.contains("CREATE 5 ./d/t.ibd"), e.all.toString());
        int create = e.all.indexOf("CREATE 6 ./d/p.ibd");
        int rename = e.all.indexOf("RENAME 6 ./d/p.ibd ./d/q.ibd");
        int delete = e.all.indexOf("DELETE 6 ./d/q.ibd");
        assertTrue(create >= 0 && create < rename && rename < delete, e.all.toString());
        assertEquals("CHECKPOINT 53219", e.all.get(e.all.size() - 1));
        assertEquals(381, e.pages);
    }

    @Test
    void realCtrLogDecryptsInCtrModeOnly() throws IOException {
        byte[] f = resource("ib_logfile0-ctr.gz");
        LogCrypt.Info info = LogCrypt.headerInfo(f);
        LogGeometry g = new LogGeometry(44864, FILE_SIZE);
        int off = (int) g.offset(44864);
        Events e = new Events();
        MtrParser.ParseResult r = MtrParser.parse(f, off, f.length - off, 44864, g, false, e, LogCrypt.of(info, key1(), LogCrypt.Mode.CTR));
        assertEquals(MtrParser.Stop.END_OF_LOG, r.stop(), r.reason());
        assertEquals(5847, r.acceptedBytes());
        assertEquals(105, r.mtrCount());
        assertEquals(220, e.pages);
        assertTrue(e.all.indexOf("CREATE 5 ./d/p.ibd") < e.all.indexOf("RENAME 5 ./d/p.ibd ./d/q.ibd"), e.all.toString());
        assertTrue(e.all.contains("DELETE 5 ./d/q.ibd"), e.all.toString());
        assertTrue(e.all.contains("CHECKPOINT 49717"), e.all.toString());
        assertEquals("CHECKPOINT 49833", e.all.get(e.all.size() - 1)); // the checkpoint block's C
        MtrParser.ParseResult cbc = MtrParser.parse(f, off, f.length - off, 44864, g, false, null, LogCrypt.of(info, key1(), LogCrypt.Mode.CBC));
        assertEquals(MtrParser.Stop.INVALID, cbc.stop());
    }

    @Test
    void theWrongCipherModeOrKeyIsAnInvalidMtrNotGarbage() throws IOException {
        LogCrypt.Info info = LogCrypt.headerInfo(resource("ib_logfile0.gz"));
        MtrParser.ParseResult ctr = parseFixture(LogCrypt.of(info, key1(), LogCrypt.Mode.CTR), null);
        assertEquals(MtrParser.Stop.INVALID, ctr.stop());
        byte[] other = key1();
        other[0] ^= 1;
        MtrParser.ParseResult wrong = parseFixture(LogCrypt.of(info, other, LogCrypt.Mode.CBC), null);
        assertEquals(MtrParser.Stop.INVALID, wrong.stop());
        assertTrue(wrong.acceptedBytes() < FLUSHED - FIRST_LSN);
    }

    @Test
    void frameOnlyChecksTheSameMtrsWithoutTheKey() throws IOException {
        Events e = new Events();
        MtrParser.ParseResult r = parseFixture(LogCrypt.FRAME_ONLY, e);
        assertEquals(MtrParser.Stop.END_OF_LOG, r.stop());
        assertEquals(FLUSHED - FIRST_LSN, r.acceptedBytes());
        assertEquals(158, r.mtrCount());
        assertTrue(e.all.isEmpty());
        // the plain format's framing does not accept it: the nonce sits where it expects the CRC
        assertEquals(MtrParser.Stop.INVALID, parseFixture(null, null).stop());
    }

    @Test
    void theChecksumCoversTheEncryptedRecordsAndTheNonce() throws IOException {
        byte[] f = resource("ib_logfile0.gz");
        LogGeometry g = new LogGeometry(FIRST_LSN, FILE_SIZE);
        int off = (int) g.offset(FIRST_LSN);
        // the first mtr: FILE_CHECKPOINT(44894), 11 record bytes, term at +11, nonce at +12..+19, CRC at +20
        assertEquals((byte) 0xFA, f[off]);
        assertEquals(1, f[off + 11]);
        for (int at : new int[] {off + 5, off + 14}) {
            byte[] copy = f.clone();
            copy[at] ^= 0x10;
            MtrParser.ParseResult r = MtrParser.parse(copy, off, 64, FIRST_LSN, g, false, null, LogCrypt.FRAME_ONLY);
            assertEquals(MtrParser.Stop.INVALID, r.stop());
            assertTrue(r.reason().startsWith("mtr checksum mismatch at LSN 0xaf5e"), r.reason());
        }
        byte[] copy = f.clone();
        copy[off + 11] = 0; // the term byte is not covered: a wrong one is a sequence error
        assertTrue(MtrParser.parse(copy, off, 64, FIRST_LSN, g, false, null, LogCrypt.FRAME_ONLY).reason().startsWith("sequence byte 0x00"));
    }

    @Test
    void ctrMtrsBuiltHereRoundTripWithTheirPageIdsHidden() {
        LogCrypt.Info info = new LogCrypt.Info(1, 1, new byte[16], new byte[4]);
        LogCrypt ctr = LogCrypt.of(info, new byte[32], LogCrypt.Mode.CTR);
        byte[] payload = new byte[40];
        Arrays.fill(payload, (byte) 7);
        byte[] m = new MtrBuilder().file(RecordType.FILE_MODIFY, 77, "./s/x.ibd").page(RecordType.WRITE, 77, 300, payload)
                .samePage(RecordType.WRITE, new byte[] {1, 2, 3}).buildEncrypted(1, ctr, 0x1234_5678_9abcL);
        byte[] plain = new MtrBuilder().file(RecordType.FILE_MODIFY, 77, "./s/x.ibd").page(RecordType.WRITE, 77, 300, payload)
                .samePage(RecordType.WRITE, new byte[] {1, 2, 3}).build(1);
        assertEquals(plain.length + 8, m.length);
        assertEquals(plain[0], m[0]); // the header byte is plain
        assertFalse(Arrays.equals(plain, 1, 13, m, 1, 13), "space id, page number and name are encrypted");
        LogGeometry g = new LogGeometry(LogHeader.FIRST_LSN, 1 << 20);
        List<String> seen = new ArrayList<>();
        MtrParser.ParseResult r = MtrParser.parse(m, 0, m.length, LogHeader.FIRST_LSN, g, false, new MtrVisitor() {
            @Override public void page(int s, int p, int t) { seen.add(s + ":" + p); }
            @Override public void fileOp(FileOp op, int s, String n, String nn) { seen.add(op + " " + n); }
        }, ctr);
        assertEquals(MtrParser.Stop.NEED_MORE, r.stop(), r.reason());
        assertEquals(m.length, r.acceptedBytes());
        assertEquals(List.of("MODIFY ./s/x.ibd", "77:300"), seen);
    }

    @Test
    void restoreHeaderIsTheEncryptedFormatWithTheSourceCryptInfo() throws IOException {
        LogCrypt.Info info = LogCrypt.headerInfo(resource("ib_logfile0.gz"));
        byte[] start = LogFileWriter.fileStart("Backup strata", 60000, 60100, info);
        LogHeader h = LogHeader.parse(start);
        assertEquals(LogHeader.FORMAT_ENC_11, h.format());
        assertEquals(60000, h.firstLsn());
        assertEquals("Backup strata", h.creator());
        assertArrayEquals(info.bytes(), Arrays.copyOfRange(start, 48, 76));
        assertTrue(Arrays.equals(new byte[508 - 76], Arrays.copyOfRange(start, 76, 508)));
        assertEquals(new Checkpoint(60000, 60100), Checkpoint.newest(start, h));
        assertEquals(LogHeader.FORMAT_10_8, LogHeader.parse(LogFileWriter.fileStart("Backup strata", 60000, 60100)).format());
    }
}
