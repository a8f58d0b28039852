package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.util.TimeZone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PitrTargetTest {

    @Test
    void timesInEveryAcceptedForm() {
        assertEquals(1714557603L, PitrTarget.time("2024-05-01T10:00:03Z").time());
        assertEquals(1714557603L, PitrTarget.time("2024-05-01 12:00:03+02:00").time());
        assertEquals(1714557603L, PitrTarget.time("@1714557603").time());
        assertEquals(1714557603L, PitrTarget.time("2024-05-01 10:00:03 UTC").time(), "as strata list prints it");
        assertEquals(1714557603L, PitrTarget.time("2024-05-01 12:00:03 Europe/Berlin").time(), "a named zone (CEST, +02:00, that day)");
        assertEquals(1714557603L, PitrTarget.time("2024-05-01T06:00:03 America/New_York").time());
        assertEquals("time 2024-05-01T10:00:03Z", PitrTarget.time("@1714557603").toString());
    }

    /**
     * A time without a zone is UTC, the zone strata list prints, whatever this machine's zone: the
     * time copied from list under TZ=America/New_York restores the same point as under UTC (the
     * JVM's default zone is what TZ sets).
     */
    @Test
    void aTimeWithoutAZoneIsUtcInEveryDefaultZone() {
        TimeZone saved = TimeZone.getDefault();
        try {
            for (String zone : new String[] {"UTC", "America/New_York", "Asia/Kolkata"}) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                assertEquals(1714557603L, PitrTarget.time("2024-05-01 10:00:03").time(), zone);
                assertEquals(1714557603L, PitrTarget.time("2024-05-01T10:00:03").time(), zone);
            }
        } finally {
            TimeZone.setDefault(saved);
        }
    }

    @Test
    void badTimes() {
        StrataException e = assertThrows(StrataException.class, () -> PitrTarget.time("yesterday"));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--until yesterday is not a time: use \"YYYY-MM-DD HH:MM:SS\" (UTC, as strata list prints), the same followed by a zone (e.g. Europe/Berlin), "
                + "ISO-8601 with Z or an offset, or @SECONDS", e.getMessage());
        e = assertThrows(StrataException.class, () -> PitrTarget.time("2024-05-01 10:00:03 Mars/Olympus"));
        assertEquals(ErrorCode.USAGE, e.code());
        e = assertThrows(StrataException.class, () -> PitrTarget.time("2024-05-01T10:00:03.5Z"));
        assertEquals("--until 2024-05-01T10:00:03.5Z has a fraction of a second; binlog timestamps are whole seconds", e.getMessage());
    }

    @Test
    void exclusiveForms() {
        PitrTarget t = PitrTarget.beforeTime("2024-05-01T10:00:03Z");
        assertEquals(PitrTarget.Kind.BEFORE_TIME, t.kind());
        assertEquals(1714557603L, t.time());
        assertEquals(1714557602L, t.lastSecond(), "strictly before: the second before it is the last restored");
        assertEquals(1714557603L, PitrTarget.time("@1714557603").lastSecond());
        assertEquals("before time 2024-05-01T10:00:03Z", t.toString());
        assertEquals("before GTID 0-1-42", PitrTarget.beforeGtid("0-1-42").toString());
        StrataException e = assertThrows(StrataException.class, () -> PitrTarget.beforeTime("2024-05-01T10:00:03.5Z"));
        assertEquals("--until-before 2024-05-01T10:00:03.5Z has a fraction of a second; binlog timestamps are whole seconds", e.getMessage());
        e = assertThrows(StrataException.class, () -> PitrTarget.beforeTime("soon"));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals(true, e.getMessage().startsWith("--until-before soon is not a time"), e.getMessage());
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
