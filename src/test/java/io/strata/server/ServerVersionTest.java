package io.strata.server;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Releases read from what real servers print: the strings below were copied from the binaries' own output. */
class ServerVersionTest {
    /** {@code /usr/sbin/mariadbd --version}, Debian 12's package. */
    static final String DEBIAN12_OUTPUT = "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)";
    /** The same of Debian 13's package (run in a trixie root by bin/with-mariadb). */
    static final String DEBIAN13_OUTPUT = "/usr/sbin/mariadbd  Ver 11.8.9-MariaDB-0+deb13u1 from Debian for debian-linux-gnu on x86_64 "
            + "(-- Please help get to 10k stars at https://github.com/MariaDB/Server)";
    /** Debian's mysqld link to mariadbd prints its own name. */
    static final String MYSQLD_LINK_OUTPUT = "mysqld  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)";

    @Test
    void readsTheReleaseFromMariadbdVersionOutput() {
        assertEquals(Optional.of(new ServerVersion(10, 11, 19)), ServerVersion.ofVersionOutput(DEBIAN12_OUTPUT));
        assertEquals(Optional.of(new ServerVersion(11, 8, 9)), ServerVersion.ofVersionOutput(DEBIAN13_OUTPUT));
        assertEquals(Optional.of(new ServerVersion(10, 11, 19)), ServerVersion.ofVersionOutput(MYSQLD_LINK_OUTPUT));
        assertEquals(Optional.of(new ServerVersion(10, 11, 19)), ServerVersion.ofVersionOutput(DEBIAN12_OUTPUT + "\n"));
    }

    @Test
    void outputThatNamesNoMariadbReleaseIsEmpty() {
        // MySQL's server prints no "-MariaDB" after its release
        assertEquals(Optional.empty(), ServerVersion.ofVersionOutput("/usr/sbin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)"));
        assertEquals(Optional.empty(), ServerVersion.ofVersionOutput("mariadbd: unknown option '--version'"));
        assertEquals(Optional.empty(), ServerVersion.ofVersionOutput(""));
        assertEquals(Optional.empty(), ServerVersion.ofVersionOutput(null));
    }

    @Test
    void readsTheReleaseFromTheVersionVariable() {
        assertEquals(Optional.of(new ServerVersion(10, 11, 19)), ServerVersion.ofVersionVariable("10.11.19-MariaDB-0+deb12u1-log"));
        assertEquals(Optional.of(new ServerVersion(11, 8, 9)), ServerVersion.ofVersionVariable("11.8.9-MariaDB-0+deb13u1-log"));
        assertEquals(Optional.of(new ServerVersion(10, 11, 19)), ServerVersion.ofVersionVariable("10.11.19-MariaDB-0+deb12u1"));
        assertEquals(Optional.empty(), ServerVersion.ofVersionVariable("MariaDB"));
        assertEquals(Optional.empty(), ServerVersion.ofVersionVariable(null));
    }

    @Test
    void onlyMajorAndMinorDecideWhetherASeriesIsOlder() {
        ServerVersion v10_11_19 = new ServerVersion(10, 11, 19);
        ServerVersion v11_8_9 = new ServerVersion(11, 8, 9);
        assertTrue(v10_11_19.olderSeriesThan(v11_8_9));
        assertFalse(v11_8_9.olderSeriesThan(v10_11_19), "a newer server may recover an older one's directory");
        assertTrue(new ServerVersion(11, 4, 5).olderSeriesThan(v11_8_9));
        assertTrue(new ServerVersion(10, 6, 20).olderSeriesThan(v10_11_19), "minor 6 before minor 11, not as text");
        assertFalse(new ServerVersion(10, 11, 2).olderSeriesThan(v10_11_19), "an older patch level of the same series is fine");
        assertFalse(v10_11_19.olderSeriesThan(new ServerVersion(10, 11, 20)));
        assertFalse(new ServerVersion(12, 0, 0).olderSeriesThan(v11_8_9));
        assertEquals("11.8", v11_8_9.series());
        assertEquals("11.8.9", v11_8_9.toString());
    }
}
