package io.strata.cli;

import io.strata.restore.PitrTarget;
import org.junit.jupiter.api.Test;

import java.util.TimeZone;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** list prints every time with its zone, and --until reads what it prints as the same instant. */
class ListTimeTest {
    @Test
    void listTimesCarryTheirZoneAndReadBackAsTheSameInstant() {
        TimeZone saved = TimeZone.getDefault();
        try {
            TimeZone.setDefault(TimeZone.getTimeZone("America/New_York"));
            assertEquals("2024-05-01 10:00:03 UTC", ListCommand.shortTime("2024-05-01T10:00:03.918273Z"));
            assertEquals("2024-05-01 10:00:03 UTC", ListCommand.shortTime("2024-05-01T10:00:03Z"));
            assertEquals(1714557603L, PitrTarget.time(ListCommand.shortTime("2024-05-01T10:00:03.5Z")).time());
            assertEquals("-", ListCommand.shortTime(null));
            assertEquals("not a time", ListCommand.shortTime("not a time"));
        } finally {
            TimeZone.setDefault(saved);
        }
    }
}
