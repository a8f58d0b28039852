package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which program runs: the lookup order on real directories, and the release check against the
 * real mariadbd of this machine (the one the integration tests use).
 */
class ServerToolsTest {
    @TempDir
    Path tmp;

    /** An executable file; the lookup never runs it. */
    private static Path tool(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\nexit 1\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void pathComesBeforeTheFixedDirectories() throws IOException {
        // the regression of issue 13: /usr/sbin/mariadbd (10.11) was taken before an 11.8 on PATH
        Path onPath = tool(tmp.resolve("newer"), "mariadbd");
        ServerTools t = new ServerTools(null, null, tmp.resolve("empty") + ":" + onPath.getParent());
        assertEquals(onPath, t.mariadbd());
        assertEquals(tmp.resolve("empty/mariadb"), t.candidates("mariadb", java.util.List.of()).get(0));
        assertEquals(Path.of("/usr/sbin/mariadb"), t.candidates("mariadb", java.util.List.of()).get(2), "the fixed directories come after PATH");
    }

    @Test
    void theToolsDirectoryComesFirstForEveryTool() throws IOException {
        Path chosen = tmp.resolve("chosen");
        tool(tmp.resolve("path"), "mariadbd");
        tool(tmp.resolve("path"), "mariadb-binlog");
        Path d = tool(chosen, "mariadbd");
        Path b = tool(chosen, "mariadb-binlog");
        ServerTools t = new ServerTools(null, chosen, tmp.resolve("path").toString());
        assertEquals(d, t.mariadbd());
        assertEquals(b, t.client("mariadb-binlog"));
        // a tool the directory lacks is looked up further on
        Path onPath = tool(tmp.resolve("path"), "mariadb");
        assertEquals(onPath, t.client("mariadb"));
    }

    @Test
    void anExplicitMariadbdWinsAndItsInstallationProvidesTheClients() throws IOException {
        Path install = tmp.resolve("opt/mariadb-11.8");
        Path server = tool(install.resolve("sbin"), "mariadbd");
        Path binlog = tool(install.resolve("bin"), "mariadb-binlog");
        tool(tmp.resolve("path"), "mariadbd");
        tool(tmp.resolve("path"), "mariadb-binlog");
        Path client = tool(tmp.resolve("path"), "mariadb");
        ServerTools t = new ServerTools(server, null, tmp.resolve("path").toString());
        assertEquals(server, t.mariadbd());
        assertEquals(binlog, t.client("mariadb-binlog"), "../bin beside the server's directory");
        assertEquals(client, t.client("mariadb"), "not in the installation: PATH");
        // --mariadb-tools still comes first for the clients
        Path tools = tmp.resolve("tools");
        Path b2 = tool(tools, "mariadb-binlog");
        assertEquals(b2, new ServerTools(server, tools, tmp.resolve("path").toString()).client("mariadb-binlog"));
        assertEquals(server, new ServerTools(server, tools, "").mariadbd());
    }

    @Test
    void optionsThatNameNothingUsableAreUsageErrors() throws IOException {
        StrataException e = assertThrows(StrataException.class, () -> ServerTools.of(tmp.resolve("none"), null));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--mariadbd " + tmp.resolve("none") + " is not an executable file", e.getMessage());
        Path plain = Files.writeString(tmp.resolve("plain"), "", StandardCharsets.UTF_8);
        assertEquals(ErrorCode.USAGE, assertThrows(StrataException.class, () -> ServerTools.of(plain, null)).code());
        e = assertThrows(StrataException.class, () -> ServerTools.of(null, plain));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--mariadb-tools " + plain + " is not a directory", e.getMessage());
    }

    @Test
    void aToolFoundNowhereIsNamedWithThePlacesLookedIn() {
        ServerTools t = new ServerTools(null, tmp, "");
        StrataException e = assertThrows(StrataException.class, () -> t.client("strata-no-such-tool"));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
        assertEquals("strata-no-such-tool was not found (looked in --mariadb-tools " + tmp + ", PATH, /usr/sbin, /usr/bin, /usr/local/sbin, /usr/local/bin)",
                e.getMessage());
    }

    private static Path realMariadbd() {
        MariaDbSandbox.requireMariaDb();
        return MariaDbSandbox.findBinary("mariadbd").orElseThrow();
    }

    @Test
    void aServerOfAnOlderSeriesThanTheSourceIsRefused() {
        Path bin = realMariadbd();
        ServerVersion v = ServerTools.versionOf(bin);
        assertTrue(v.major() >= 10, v.toString());
        ServerTools t = new ServerTools(bin, null, "");
        String source = (v.major() + 1) + ".0.3-MariaDB-log";
        StrataException e = assertThrows(StrataException.class, () -> t.serverFor(source, "the source server of backup B"));
        assertEquals(ErrorCode.MARIADBD_TOO_OLD, e.code());
        assertEquals(32, e.code().exitCode());
        assertEquals("mariadbd " + bin + " is MariaDB " + v + ", older than MariaDB " + (v.major() + 1) + ".0.3 of the source server of backup B: a "
                + v.series() + " server cannot recover a data directory written by " + (v.major() + 1) + ".0", e.getMessage());
        assertEquals("pass --mariadbd naming a MariaDB " + (v.major() + 1) + ".0 or newer server (or --mariadb-tools DIR holding one)", e.hint());
        String newerMinor = v.major() + "." + (v.minor() + 1) + ".0-MariaDB";
        assertEquals(ErrorCode.MARIADBD_TOO_OLD, assertThrows(StrataException.class, () -> t.serverFor(newerMinor, "x")).code());
    }

    @Test
    void aServerOfTheSameOrANewerSeriesIsAccepted() {
        Path bin = realMariadbd();
        ServerTools t = new ServerTools(bin, null, "");
        ServerVersion v = ServerTools.versionOf(bin);
        assertEquals(new ServerTools.Server(bin, v), t.serverFor(v.series() + ".0-MariaDB-log", "x"), "an older patch level of the same series");
        assertEquals(new ServerTools.Server(bin, v), t.serverFor(v.series() + ".999-MariaDB-log", "x"), "a newer patch level of the same series");
        assertEquals(new ServerTools.Server(bin, v), t.serverFor("10.6.21-MariaDB-log", "x"), "an upgrade");
        assertEquals(new ServerTools.Server(bin, v), t.serverFor("unknown", "x"), "no release recorded: nothing to compare");
    }

    @Test
    void aBinaryThatReportsNoMariadbReleaseIsRefused() {
        Path bin = Path.of("/bin/true");
        Assumptions.assumeTrue(Files.isExecutable(bin));
        StrataException e = assertThrows(StrataException.class, () -> new ServerTools(bin, null, "").serverFor("10.11.19-MariaDB", "x"));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().startsWith("/bin/true --version (exit 0) reports no MariaDB release: true (GNU coreutils)"), e.getMessage());
    }

    @Test
    void aProbeStartedEarlyAnswersAsServerForAndReportsItsErrorsOnlyWhenAsked() {
        Path bin = realMariadbd();
        ServerTools t = new ServerTools(bin, null, "");
        ServerVersion v = ServerTools.versionOf(bin);
        assertEquals(new ServerTools.Server(bin, v), t.probe().serverFor(v.series() + ".0-MariaDB-log", "x"));
        StrataException old = assertThrows(StrataException.class, () -> t.probe().serverFor((v.major() + 1) + ".0.3-MariaDB-log", "the source server of backup B"));
        assertEquals(ErrorCode.MARIADBD_TOO_OLD, old.code());
        assertEquals(assertThrows(StrataException.class, () -> t.serverFor((v.major() + 1) + ".0.3-MariaDB-log", "the source server of backup B")).getMessage(),
                old.getMessage());
        // a binary that is no MariaDB server: probe() itself throws nothing, the error comes with the answer
        Path notServer = Path.of("/bin/true");
        Assumptions.assumeTrue(Files.isExecutable(notServer));
        ServerTools.Probe p = new ServerTools(notServer, null, "").probe();
        StrataException e = assertThrows(StrataException.class, () -> p.serverFor("10.11.19-MariaDB", "x"));
        assertEquals(ErrorCode.SERVER_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().startsWith("/bin/true --version (exit 0) reports no MariaDB release"), e.getMessage());
    }
}
