package io.strata.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

class TableChecksumsTest {

    @Test
    void equalMapsHaveNoDiff() {
        Map<String, String> m = Map.of("db.a", "1", "db.b", "2");
        assertEquals("", TableChecksums.diff(m, Map.copyOf(m)));
        TableChecksums.assertSame(m, Map.copyOf(m));
    }

    @Test
    void diffNamesChangedMissingAndExtraTables() {
        Map<String, String> expected = Map.of("db.a", "1", "db.b", "2", "db.c", "3");
        Map<String, String> actual = Map.of("db.a", "1", "db.b", "20", "db.d", "4");
        assertEquals("3 of 4 tables differ:"
                        + "\n  db.b: expected checksum 2, actual 20"
                        + "\n  db.c: missing (expected checksum 3)"
                        + "\n  db.d: unexpected table (checksum 4)",
                TableChecksums.diff(expected, actual));
        AssertionError e = assertThrows(AssertionError.class, () -> TableChecksums.assertSame(expected, actual));
        assertEquals(TableChecksums.diff(expected, actual), e.getMessage());
    }

    @Test
    void quotesQualifiedNames() {
        assertEquals("`db`.`t``x`", TableChecksums.quoteQualified("db.t`x"));
    }
}
