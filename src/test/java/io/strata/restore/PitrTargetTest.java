package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.time.ZoneId;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PitrTargetTest {

    @Test
    void timesInEveryAcceptedForm() {
        assertEquals(1714557603L, PitrTarget.time("2024-05-01T10:00:03Z").time());
        assertEquals(1714557603L, PitrTarget.time("2024-05-01 12:00:03+02:00").time());
        assertEquals(1714557603L, PitrTarget.time("@1714557603").time());
        long local = LocalDateTime.of(2024, 5, 1, 10, 0, 3).atZone(ZoneId.systemDefault()).toEpochSecond();
        assertEquals(local, PitrTarget.time("2024-05-01 10:00:03").time());
        assertEquals(local, PitrTarget.time("2024-05-01T10:00:03").time());
        assertEquals("time 2024-05-01T10:00:03Z", PitrTarget.time("@1714557603").toString());
    }

    @Test
    void badTimes() {
        StrataException e = assertThrows(StrataException.class, () -> PitrTarget.time("yesterday"));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--until yesterday is not a time: use \"YYYY-MM-DD HH:MM:SS\" (local time), ISO-8601 with Z or an offset, or @SECONDS", e.getMessage());
        e = assertThrows(StrataException.class, () -> PitrTarget.time("2024-05-01T10:00:03.5Z"));
        assertEquals("--until 2024-05-01T10:00:03.5Z has a fraction of a second; binlog timestamps are whole seconds", e.getMessage());
    }

    @Test
    void gtidsAndPositions() {
        assertEquals("GTID 0-1-42", PitrTarget.gtid("0-1-42").toString());
        PitrTarget p = PitrTarget.position("binlog.000042:1234");
        assertEquals("binlog.000042", p.file());
        assertEquals(1234, p.position());
        assertEquals("position binlog.000042:1234", p.toString());
        StrataException e = assertThrows(StrataException.class, () -> PitrTarget.position("/var/lib/mysql/binlog.000042:1234"));
        assertEquals("--until-position /var/lib/mysql/binlog.000042:1234 is not FILE:POS (e.g. binlog.000042:1234, the file name without a directory)", e.getMessage());
        assertThrows(StrataException.class, () -> PitrTarget.position("binlog.000042"));
    }
}
