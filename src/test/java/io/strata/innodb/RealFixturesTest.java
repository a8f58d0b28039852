package io.strata.innodb;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Reads files written by real MariaDB 10.11.19 and 11.8.9 servers (see
 * src/test/resources/fixtures/mariadb-X.Y/README.md): the page, checksum, redo header, checkpoint
 * and mini-transaction formats strata reads are the same in both.
 */
class RealFixturesTest {
    /**
     * What each version's redo fixture holds, read off the bytes once: the creator string, first_lsn,
     * the newest checkpoint (checkpoint LSN = end LSN), the end of the log, how many
     * mini-transactions and page references lie between first_lsn and the end, and the byte that ends it.
     */
    private record RedoFacts(String creator, int firstLsn, int checkpoint, int end, int mtrs, long pages, String endReason) {}

    private static final Map<String, RedoFacts> REDO = Map.of(
            "10.11", new RedoFacts("MariaDB 10.11.19", 44404, 73329, 73345, 909, 1149, "end of log at LSN 0x11e81 (byte 0x00)"),
            "11.8", new RedoFacts("MariaDB 11.8.9", 45093, 73489, 73505, 907, 1155, "end of log at LSN 0x11f21 (byte 0x00)"));

    private String version = "10.11";

    private byte[] fixture(String name) throws IOException {
        try (InputStream in = RealFixturesTest.class.getResourceAsStream("/fixtures/mariadb-" + version + "/" + name)) {
            assertNotNull(in, name);
            return new GZIPInputStream(in).readAllBytes();
        }
    }

    private static void allPagesOk(byte[] file, TablespaceFlags flags, int spaceId) {
        int ps = flags.physicalPageSize();
        int valid = 0;
        for (int i = 0; i < file.length / ps; i++) {
            PageVerdict v = PageChecker.verify(file, i * ps, flags, i);
            assertTrue(v.ok(), "page " + i + ": " + v);
            if (v.kind() == PageVerdict.Kind.VALID) {
                valid++;
                assertEquals(spaceId, FilHeader.spaceId(file, i * ps));
            }
        }
        assertTrue(valid >= 3, "valid pages: " + valid);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.11", "11.8"})
    void fullCrc32Table(String version) throws IOException {
        this.version = version;
        byte[] f = fixture("t.ibd.first4.gz");
        FspHeader h = FspHeader.read(f, 0);
        assertEquals(new TablespaceFlags(0x15), h.flags());
        assertEquals(PageType.FSP_HDR, FilHeader.pageType(f, 0));
        assertFalse(FspHeader.hasCryptData(f, 0, 16384));
        allPagesOk(f, h.flags(), h.spaceId());
        // a flipped bit is caught
        f[16384 * 3 + 200] ^= 1;
        assertEquals(PageVerdict.Kind.CORRUPT, PageChecker.verify(f, 16384 * 3, h.flags(), 3).kind());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.11", "11.8"})
    void legacyCrc32Table(String version) throws IOException {
        this.version = version;
        byte[] f = fixture("legacy.ibd.first4.gz");
        FspHeader h = FspHeader.read(f, 0);
        assertEquals(new TablespaceFlags(0x21), h.flags());
        allPagesOk(f, h.flags(), h.spaceId());
        assertEquals(Be.i32(f, 16384 * 3), PageChecksums.crc32(f, 16384 * 3, 16384));
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.11", "11.8"})
    void systemTablespacePage0(String version) throws IOException {
        this.version = version;
        byte[] f = fixture("ibdata1.page0.gz");
        FspHeader h = FspHeader.read(f, 0);
        assertEquals(0, h.spaceId());
        assertTrue(h.flags().isValid(), h.flags().describe());
        assertEquals(PageVerdict.Kind.VALID, PageChecker.verify(f, 0, h.flags(), 0).kind());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.11", "11.8"})
    void redoLog(String version) throws IOException {
        this.version = version;
        RedoFacts x = REDO.get(version);
        byte[] f = fixture("ib_logfile0.head.gz");
        LogHeader h = LogHeader.parse(f);
        assertEquals(LogHeader.FORMAT_10_8, h.format());
        assertEquals(x.creator(), h.creator());
        assertFalse(h.encrypted());
        Checkpoint c = Checkpoint.newest(f, h);
        LogGeometry g = new LogGeometry(h.firstLsn(), 8 << 20);
        int off = (int) g.offset(c.checkpointLsn());
        List<Long> checkpoints = new ArrayList<>();
        long[] pages = new long[1];
        MtrParser.ParseResult r = MtrParser.parse(f, off, f.length - off, c.checkpointLsn(), g, false, new MtrVisitor() {
            @Override public void checkpoint(long lsn) { checkpoints.add(lsn); }
            @Override public void page(int s, int p, int t) { pages[0]++; }
        });
        assertNotEquals(MtrParser.Stop.INVALID, r.stop(), r.reason());
        assertTrue(r.mtrCount() > 0);
        assertTrue(checkpoints.contains(c.checkpointLsn()), "FILE_CHECKPOINT(" + c.checkpointLsn() + ") in " + checkpoints);
        // the FILE_CHECKPOINT mtr that confirms the checkpoint starts at end_lsn
        int at = (int) g.offset(c.endLsn());
        boolean found = false;
        for (int i = at; i + 16 <= f.length && !found; i++) {
            found = java.util.Arrays.equals(java.util.Arrays.copyOfRange(f, i, i + 16), LogFileWriter.fileCheckpointMtr(c.checkpointLsn()));
        }
        assertTrue(found, "FILE_CHECKPOINT mtr bytes as LogFileWriter writes them");
        assertEquals(new MtrParser.ParseResult(x.end() - x.checkpoint(), MtrParser.Stop.END_OF_LOG, x.endReason(), 1), r);
        assertEquals(new Checkpoint(x.checkpoint(), x.checkpoint()), c);
        assertEquals(x.firstLsn(), h.firstLsn());

        // the whole log since the file was created: first_lsn is an mtr boundary at offset 12288
        List<String> files = new ArrayList<>();
        long[] allPages = new long[1];
        MtrParser.ParseResult all = MtrParser.parse(f, 12288, f.length - 12288, h.firstLsn(), g, false, new MtrVisitor() {
            @Override public void fileOp(FileOp op, int s, String name, String newName) { files.add(op + " " + name); }
            @Override public void page(int s, int p, int t) { allPages[0]++; }
        });
        assertEquals(new MtrParser.ParseResult(x.end() - x.firstLsn(), MtrParser.Stop.END_OF_LOG, x.endReason(), x.mtrs()), all);
        assertEquals(x.pages(), allPages[0]);
        assertEquals(List.of("MODIFY ./fx/t.ibd", "CREATE ./fx/t.ibd"), files.subList(0, 2));
        assertTrue(files.contains("CREATE ./fx/legacy.ibd"), files.toString());
    }
}
