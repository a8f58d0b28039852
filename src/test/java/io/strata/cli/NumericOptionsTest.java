package io.strata.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Issue 15, case 10: a numeric option out of its range is a usage error (exit 2) naming the
 * option and the range, at parse time: nothing is connected to or written, no stack trace.
 */
class NumericOptionsTest {
    @TempDir
    Path dir;

    private void assertUsage(String command, String expectedError, String... args) {
        InProcess.Run r = InProcess.run(args);
        assertEquals(2, r.exit(), r.err());
        assertEquals("ERROR [usage]: " + expectedError + "\nHINT: see \"strata " + command + " --help\"\n", r.err());
    }

    @Test
    void portOutsideOneTo65535() {
        String repo = dir.resolve("repo").toString();
        for (String p : new String[] {"99999", "0", "-1", "65536"}) {
            assertUsage("backup", "Invalid value for option '--port': " + p + " is out of range: a TCP port is 1 to 65535",
                    "backup", "--repo", repo, "--host", "127.0.0.1", "--port", p, "--quiet");
        }
        assertUsage("backup", "Invalid value for option '--port': 'abc' is not a TCP port (1 to 65535)",
                "backup", "--repo", repo, "--port", "abc");
        assertUsage("binlog archive", "Invalid value for option '--port': 99999 is out of range: a TCP port is 1 to 65535",
                "binlog", "archive", "--repo", repo, "-P", "99999");
        assertFalse(Files.exists(dir.resolve("repo")), "a refused command created the repository");
    }

    @Test
    void anEmptyPathIsRefusedNotTakenAsTheCurrentDirectory() {
        String repo = dir.resolve("repo").toString();
        assertUsage("restore", "Invalid value for option '--target': an empty path names no file or directory; give one",
                "restore", "--repo", repo, "--target", "");
        assertUsage("restore", "Invalid value for option '--scratch-dir': an empty path names no file or directory; give one",
                "restore", "--repo", repo, "--table", "a.b", "--import", "--scratch-dir", " ");
        assertFalse(Files.exists(dir.resolve("repo")));
    }

    @Test
    void parallelOneTo256() {
        String repo = dir.resolve("repo").toString();
        assertUsage("backup", "Invalid value for option '--parallel': 100000 is out of range: a number of threads is 1 to 256",
                "backup", "--repo", repo, "--parallel", "100000");
        assertUsage("backup", "Invalid value for option '--parallel': 0 is out of range: a number of threads is 1 to 256",
                "backup", "--repo", repo, "--parallel", "0");
        assertUsage("restore", "Invalid value for option '--parallel': 0 is out of range: a number of threads is 1 to 256",
                "restore", "--repo", repo, "--target", dir.resolve("t").toString(), "--parallel", "0");
        assertUsage("verify", "Invalid value for option '--parallel': -3 is out of range: a number of threads is 1 to 256",
                "verify", "--repo", repo, "--parallel", "-3");
        assertFalse(Files.exists(dir.resolve("repo")));
        assertFalse(Files.exists(dir.resolve("t")));
    }

    @Test
    void throttleAndIntervalAboveZero() {
        String repo = dir.resolve("repo").toString();
        assertUsage("backup", "Invalid value for option '--throttle': 0 is out of range: it must be above 0",
                "backup", "--repo", repo, "--throttle", "0");
        assertUsage("backup", "Invalid value for option '--throttle': -5 is out of range: it must be above 0",
                "backup", "--repo", repo, "--throttle", "-5");
        assertUsage("backup", "Invalid value for option '--throttle': 'fast' is not a number (it must be above 0)",
                "backup", "--repo", repo, "--throttle", "fast");
        assertUsage("binlog archive", "Invalid value for option '--interval': 0 is out of range: it must be above 0",
                "binlog", "archive", "--repo", repo, "--interval", "0");
        assertFalse(Files.exists(dir.resolve("repo")));
    }
}
