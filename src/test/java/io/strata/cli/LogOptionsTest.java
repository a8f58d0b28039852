package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** --log-level and --log-file are read before picocli parses, from the command line, else the environment or configuration file. */
class LogOptionsTest {
    @Test
    void theValueIsTakenFromEitherSpellingAndNeverAfterDoubleDash() {
        assertEquals("warn", Main.optionValue(new String[] {"backup", "--log-level", "warn"}, "--log-level"));
        assertEquals("debug", Main.optionValue(new String[] {"--log-level=warn", "backup", "--log-level=debug"}, "--log-level"));
        assertNull(Main.optionValue(new String[] {"restore", "--", "--log-level", "warn"}, "--log-level"));
        assertNull(Main.optionValue(new String[] {"backup", "--log-level"}, "--log-level"));
    }

    @Test
    void anUnknownLevelIsAUsageErrorFromTheCommandLineOrTheEnvironment() {
        StrataException e = assertThrows(StrataException.class,
                () -> Main.installLog(ConfigDefaults.load(new String[] {"list", "--log-level", "loud"}, k -> null, null), java.io.OutputStream.nullOutputStream(), false));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--log-level loud is not a level", e.getMessage());
        Map<String, String> env = Map.of("STRATA_LOG_LEVEL", "verbose");
        StrataException fromEnv = assertThrows(StrataException.class, () -> Main.installLog(ConfigDefaults.load(new String[] {"list"}, env::get, null), java.io.OutputStream.nullOutputStream(), false));
        assertEquals("--log-level verbose is not a level", fromEnv.getMessage());
    }
}
