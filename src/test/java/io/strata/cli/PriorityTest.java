package io.strata.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * backup --priority: the three names in any case, an unknown one a usage error (exit 2) at parse
 * time from the command line and from the configuration file alike. WorkerPriorityTest covers the
 * threads' own lowering, PriorityIT watches a running backup's threads.
 */
class PriorityTest {
    @TempDir
    Path dir;

    @Test
    void namesAnyCase() {
        Priority.Converter c = new Priority.Converter();
        assertEquals(Priority.NORMAL, c.convert("normal"));
        assertEquals(Priority.LOW, c.convert("LOW"));
        assertEquals(Priority.IDLE, c.convert(" Idle "));
        assertEquals(10, Priority.LOW.nice);
        assertEquals(19, Priority.IDLE.nice);
        assertEquals(Priority.NORMAL, BackupCommand.DEFAULT_PRIORITY);
    }

    @Test
    void unknownNameIsAUsageError() throws Exception {
        String repo = dir.resolve("repo").toString();
        InProcess.Run r = InProcess.run("backup", "--repo", repo, "--priority", "fast");
        assertEquals(2, r.exit(), r.err());
        assertEquals("ERROR [usage]: Invalid value for option '--priority': 'fast' is not a priority (normal, low or idle)\n"
                + "HINT: see \"strata backup --help\"\n", r.err());

        Path conf = dir.resolve("strata.conf");
        Files.writeString(conf, "[global]\npriority = nice\n");
        InProcess.Run f = InProcess.run("backup", "--config", conf.toString(), "--repo", repo);
        assertEquals(2, f.exit(), f.err());
        assertEquals(1, f.err().lines().filter(l -> l.startsWith("ERROR")).count(), f.err());
        assertEquals("ERROR [usage]: Invalid value for option '--priority': 'nice' is not a priority (normal, low or idle)", f.err().lines().findFirst().orElse(""));
        assertFalse(Files.exists(dir.resolve("repo")), "a refused command created the repository");
    }
}
