package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FormatVersionTest {
    @Test
    void versionsInTheRangeAreReturned() {
        assertEquals(1, FormatVersion.check("object", "R", 1, 1, 2));
        assertEquals(2, FormatVersion.check("object", "R", 2, 1, 2));
        assertEquals(2, FormatVersion.checkJson("repository", "R", 2, 1, 2));
    }

    @Test
    void aNewerVersionHasItsOwnCodeAndMessage() {
        StrataException e = assertThrows(StrataException.class, () -> FormatVersion.check("manifest", "/r/backups/X/manifest", 2, 1, 1));
        assertEquals(ErrorCode.FORMAT_TOO_NEW, e.code());
        assertEquals(29, e.code().exitCode());
        assertEquals("format-too-new", e.code().id());
        assertEquals("manifest /r/backups/X/manifest was written by a newer strata, version 2; this one reads up to 1", e.getMessage());
        assertEquals("upgrade strata to read this repository", e.hint());
        assertEquals("ERROR [format-too-new]: manifest /r/backups/X/manifest was written by a newer strata, version 2; this one reads up to 1"
                + System.lineSeparator() + "HINT: upgrade strata to read this repository", e.render());

        StrataException j = assertThrows(StrataException.class, () -> FormatVersion.checkJson("repository", "/r/strata.repo", 3, 1, 2));
        assertEquals(ErrorCode.FORMAT_TOO_NEW, j.code());
        assertEquals("repository /r/strata.repo was written by a newer strata, version 3; this one reads up to 2", j.getMessage());
    }

    @Test
    void anOlderVersionIsDamage() {
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> FormatVersion.check("manifest", "M", 0, 1, 1));
        assertEquals(ErrorCode.CORRUPT_DATA, e.code());
        assertEquals(12, e.code().exitCode());
        assertEquals("manifest format version 0 is outside the supported range [1,1] (resource=M)", e.getMessage());
        assertEquals("no strata writes that version: the object is damaged", e.hint());

        CorruptDataException hinted = assertThrows(CorruptDataException.class, () -> FormatVersion.check("change set", "C", -5, 1, 1, "delete it"));
        assertEquals("change set format version -5 is outside the supported range [1,1] (resource=C)", hinted.getMessage());
        assertEquals("delete it", hinted.hint());
    }

    @Test
    void aJsonVersionThatIsNoIntegerIsDamage() {
        for (Object garbage : new Object[] {null, "2", 2.0, 3_000_000_000L}) {
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> FormatVersion.checkJson("repository", "/r/strata.repo", garbage, 1, 2));
            assertEquals(ErrorCode.CORRUPT_DATA, e.code());
            assertEquals("repository format version " + garbage + " is outside the supported range [1,2] (resource=/r/strata.repo)", e.getMessage());
        }
        assertEquals("repository format version 0 is outside the supported range [1,2] (resource=/r/strata.repo)",
                assertThrows(CorruptDataException.class, () -> FormatVersion.checkJson("repository", "/r/strata.repo", 0, 1, 2)).getMessage());
    }
}
