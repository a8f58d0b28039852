package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Manifest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --type, --method and --base are parsed once, with the usage messages the CLI always gave. */
class OptionNamesTest {
    @Test
    void everyTypeParsesFromItsName() {
        for (BackupType t : BackupType.values()) {
            assertEquals(t, BackupType.parse(t.userName()));
        }
        assertEquals("differential", BackupType.DIFFERENTIAL.toString());
        assertTrue(Manifest.builder().type(BackupType.FULL.userName()).build().isFull(), "the manifest stores the user-facing name");
    }

    @Test
    void anUnknownTypeIsAUsageError() {
        StrataException e = assertThrows(StrataException.class, () -> BackupType.parse("incr"));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--type must be full, incremental, differential or auto, not incr", e.getMessage());
        assertThrows(StrataException.class, () -> BackupType.parse("FULL"));
    }

    @Test
    void everyMethodParsesFromItsName() {
        for (ChangeMethod m : ChangeMethod.values()) {
            assertEquals(m, ChangeMethod.parse(m.userName()));
            assertEquals(m, ChangeMethod.ofStored(m.userName()));
        }
        assertEquals("full-scan", ChangeMethod.FULL_SCAN.toString());
        assertNull(ChangeMethod.ofStored("page-tracking"), "a method of a newer strata");
        assertNull(ChangeMethod.ofStored(null));
    }

    @Test
    void anUnknownMethodIsAUsageError() {
        StrataException e = assertThrows(StrataException.class, () -> ChangeMethod.parse("fullscan"));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--method must be auto, full-scan, redo, tracked or optimistic, not fullscan", e.getMessage());
    }

    @Test
    void baseIsLastLastFullOrAnId() {
        assertNull(BaseSpec.parse(null));
        assertEquals(new BaseSpec(BaseSpec.Kind.LAST, null), BaseSpec.parse("last"));
        assertEquals(new BaseSpec(BaseSpec.Kind.LAST_FULL, null), BaseSpec.parse("last-full"));
        assertEquals(new BaseSpec(BaseSpec.Kind.ID, "20260101T000000Z-0001"), BaseSpec.parse("20260101T000000Z-0001"));
        for (String s : new String[] {"last", "last-full", "20260101T000000Z-0001"}) {
            assertEquals(s, BaseSpec.parse(s).toString(), "messages quote --base as given");
        }
    }
}
