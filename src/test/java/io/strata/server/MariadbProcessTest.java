package io.strata.server;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which lines of a server log count as errors; each line is copied from a real log of 10.11.19 or 11.8.9 (the mix is the test's). */
class MariadbProcessTest {
    @Test
    void onlyLinesTheServerMarkedErrorAreErrors() {
        String log = """
                2026-12-01  5:44:30 0 [Note] Starting MariaDB 10.11.19-MariaDB-0+deb12u1 source revision 5843d8475120241667a7ce0f8a1abb6c9b43a273 server_uid fXdYp7ZWAMMBm0PUMZFJoAcM0o0= as process 26968
                2026-12-01  5:44:30 0 [Note] InnoDB: Starting crash recovery from checkpoint LSN=643123
                2026-12-01  5:44:30 0 [ERROR] InnoDB: The change buffer is corrupted or has been removed on upgrade to MariaDB 11.0 or later
                2026-12-01  5:44:30 0 [Note] InnoDB: End of log at LSN=6320160
                2026-12-01  5:41:17 0 [Warning] Could not increase number of max_open_files to more than 20000 (request: 32184)
                recovered pages: 0% 100% (0.0 seconds); tables to flush: 1 0 (0.0 seconds);\s
                2026-12-01  5:44:48 0 [ERROR] mariadbd: Can't open shared library '/usr/lib/mysql/plugin/ha_strata_absent.so' (errno: 2, cannot open shared object file: No such file or directory)
                2026-12-01  5:44:48 0 [ERROR] Couldn't load plugins from 'ha_strata_absent.so'.
                2026-12-01  5:45:18 0 [Note] /usr/sbin/mariadbd: Shutdown complete
                """;
        assertEquals(List.of(
                "2026-12-01  5:44:30 0 [ERROR] InnoDB: The change buffer is corrupted or has been removed on upgrade to MariaDB 11.0 or later",
                "2026-12-01  5:44:48 0 [ERROR] mariadbd: Can't open shared library '/usr/lib/mysql/plugin/ha_strata_absent.so' (errno: 2, cannot open shared object file: No such file or directory)",
                "2026-12-01  5:44:48 0 [ERROR] Couldn't load plugins from 'ha_strata_absent.so'."), MariadbProcess.errorLines(log));
        assertEquals(List.of(), MariadbProcess.errorLines(""));
    }
}
