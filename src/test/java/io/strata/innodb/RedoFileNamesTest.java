package io.strata.innodb;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedoFileNamesTest {
    private static final long FIRST = 0x10000;
    private static final LogGeometry BIG = new LogGeometry(FIRST, 12288 + (1 << 24));

    @Test
    void absoluteNamesBecomeRelativeOfTheSameLengthAndTheMtrsStayValid() {
        byte[] m1 = new MtrBuilder()
                .file(RecordType.FILE_MODIFY, 7, "/srv/fast/shop/orders.ibd")
                .page(RecordType.WRITE, 7, 3, new byte[] {0x26, 1, 2, 3})
                .samePage(RecordType.WRITE, new byte[] {(byte) 0x82, 9})     // bit 7 after a page record: not a file record
                .build(1);
        byte[] m2 = new MtrBuilder().file(RecordType.FILE_MODIFY, 5, "./shop/local.ibd").checkpoint(FIRST).build(1);
        byte[] m3 = new MtrBuilder().rename(8, "/d1/shop/t#P#p0.ibd", "/d2/x/shop/t#P#p1.ibd").build(1);
        byte[] m4 = new MtrBuilder().file(RecordType.FILE_CREATE, 9, "/shop/short.ibd").build(1); // no directory before db/: kept
        byte[] log = MtrBuilder.concat(m1, m2, m3, m4, new byte[] {0, 0, 0});
        byte[] before = log.clone();

        RedoFileNames.Result r = RedoFileNames.relativize(log, 0, log.length);

        assertEquals(new RedoFileNames.Result(log.length - 3, 3, true), r);
        assertEquals(before.length, log.length);
        MtrParserTest.Recorder rec = new MtrParserTest.Recorder();
        MtrParser.ParseResult p = MtrParser.parse(log, 0, log.length, FIRST, BIG, false, rec);
        assertEquals(4, p.mtrCount(), p.reason());
        assertEquals(List.of("MODIFY 7 ./////////shop/orders.ibd", "page 7:3 WRITE", "end 0x" + Long.toHexString(FIRST + m1.length),
                "MODIFY 5 ./shop/local.ibd", "checkpoint 0x10000", "end 0x" + Long.toHexString(FIRST + m1.length + m2.length),
                "RENAME 8 .///shop/t#P#p0.ibd -> ./////shop/t#P#p1.ibd", "end 0x" + Long.toHexString(FIRST + m1.length + m2.length + m3.length),
                "CREATE 9 /shop/short.ibd", "end 0x" + Long.toHexString(FIRST + log.length - 3)), rec.events);
        // the second mtr had no absolute name: its bytes are unchanged
        for (int i = m1.length; i < m1.length + m2.length; i++) {
            assertEquals(before[i], log[i]);
        }
    }

    @Test
    void stopsBeforeAnMtrThatContinuesPastTheBuffer() {
        byte[] m1 = new MtrBuilder().file(RecordType.FILE_MODIFY, 7, "/a/db/t.ibd").build(1);
        byte[] m2 = new MtrBuilder().file(RecordType.FILE_MODIFY, 8, "/b/db/u.ibd").build(1);
        byte[] log = MtrBuilder.concat(m1, m2);
        RedoFileNames.Result r = RedoFileNames.relativize(log, 0, log.length - 2);
        assertEquals(new RedoFileNames.Result(m1.length, 1, false), r);
        assertTrue(new String(log, 0, m1.length, java.nio.charset.StandardCharsets.ISO_8859_1).contains(".//db/t.ibd"));
        assertTrue(new String(log, m1.length, m2.length, java.nio.charset.StandardCharsets.ISO_8859_1).contains("/b/db/u.ibd"));
    }
}
