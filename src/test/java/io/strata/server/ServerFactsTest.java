package io.strata.server;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ServerFactsTest {
    private static final Path DATADIR = Path.of("/srv/restored/data");

    @Test
    void theDefaultAriaLogDirIsTheDataDirectoryEvenWhenGivenAnother() {
        // the server's default names its own @@datadir; with --datadir the process sees it elsewhere
        assertEquals(DATADIR, ServerFacts.ariaLogDir(DATADIR, "/var/lib/mysql/", "/var/lib/mysql/"));
        assertEquals(DATADIR, ServerFacts.ariaLogDir(DATADIR, "/var/lib/mysql/", "/var/lib/mysql"));
        assertEquals(DATADIR, ServerFacts.ariaLogDir(DATADIR, "/var/lib/mysql/", ""));
        assertEquals(DATADIR, ServerFacts.ariaLogDir(DATADIR, "/var/lib/mysql/", null));
    }

    @Test
    void anAriaLogDirElsewhereIsKept() {
        assertEquals(Path.of("/var/log/aria"), ServerFacts.ariaLogDir(DATADIR, "/var/lib/mysql/", "/var/log/aria/"));
        assertEquals(DATADIR.resolve("aria"), ServerFacts.ariaLogDir(DATADIR, "/var/lib/mysql/", "aria"));
    }
}
