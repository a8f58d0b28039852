package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which mariadbd recovers a restore (issue 13): one older than the backup's source is refused
 * before the target is touched, one of the source's release recovers it, and a recovery whose
 * server logs an [ERROR] line fails instead of reporting success.
 */
class ServerToolsIT {
    /** The host's own server: Debian 12's 10.11, left in place by bin/with-mariadb beside the 11.8 wrappers. */
    private static final Path HOST_MARIADBD = Path.of("/usr/sbin/mariadbd");

    /** The release {@code binary --version} reports, read here independently of strata's own parser. */
    private static String releaseOf(Path binary) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        Matcher m = Pattern.compile("Ver (\\d+\\.\\d+\\.\\d+)-MariaDB").matcher(out);
        assertTrue(m.find(), out);
        return m.group(1);
    }

    private static String series(String release) {
        String[] p = release.split("\\.");
        return p[0] + "." + p[1];
    }

    /** The release at the start of a @@version value, as the manifest records it. */
    private static String releaseOfVersionVariable(String version) {
        return version.split("-")[0];
    }

    private static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** The temporary run directory a failed recovery keeps for its log (strata-recover-*): the test's to remove. */
    private static void deleteKeptLog(Path log) throws IOException {
        Path dir = log.getParent();
        assertTrue(dir.getFileName().toString().startsWith("strata-recover-"), dir.toString());
        for (String name : entries(dir)) {
            Files.delete(dir.resolve(name));
        }
        Files.delete(dir);
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * An 11.x source: restore and point-in-time restore with the host's 10.11 are refused with
     * exit 32 and nothing written; with a mariadbd that reports 11.8 but is the host's 10.11
     * (a wrapper: the one way past the check), the server logs the change-buffer [ERROR] and the
     * restore fails with exit 22; with the 11.8 server both restores give the source's data.
     */
    @Test
    void anOlderServerIsRefusedAndTheSourcesReleaseRecovers() throws Exception {
        Path work = ItSupport.tempDir("tools-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            Assumptions.assumeTrue(source.versionAtLeast(11, 0), "needs a MariaDB 11 source (run under bin/with-mariadb trixie); this one is " + source.version());
            Assumptions.assumeTrue(Files.isExecutable(HOST_MARIADBD), "no host server at " + HOST_MARIADBD);
            String chosen = System.getenv(MariaDbSandbox.TOOLS_ENV);
            Assumptions.assumeTrue(chosen != null && !chosen.isBlank(), MariaDbSandbox.TOOLS_ENV + " names no MariaDB 11 tools");
            Path newMariadbd = Path.of(chosen, "mariadbd");
            String hostRelease = releaseOf(HOST_MARIADBD);
            Assumptions.assumeTrue(Integer.parseInt(hostRelease.split("\\.")[0]) < 11, "the host's server is not older than 11: " + hostRelease);

            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            String id;
            try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
                Thread.sleep(1000);
                id = ItSupport.backup(repo, source);
                Thread.sleep(500);
                w.stop();
            }
            MariaDbSandbox.BinlogPosition end = source.binlogPosition();
            PitrSupport.archiveOnce(repo, source);
            var m = ItSupport.manifest(repo, id);
            String sourceRelease = releaseOfVersionVariable(m.get("source").get("version").asText());
            assertEquals(releaseOfVersionVariable(source.version()), sourceRelease);

            String refusal = "ERROR [mariadbd-too-old]: mariadbd " + HOST_MARIADBD + " is MariaDB " + hostRelease + ", older than MariaDB " + sourceRelease
                    + " of the source server of backup " + id + ": a " + series(hostRelease) + " server cannot recover a data directory written by "
                    + series(sourceRelease) + "\nHINT: pass --mariadbd naming a MariaDB " + series(sourceRelease)
                    + " or newer server (or --mariadb-tools DIR holding one)\n";

            // a target that does not exist is not created
            Path absent = work.resolve("absent");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--target", absent.toString(), "--mariadbd", HOST_MARIADBD.toString());
            assertEquals(32, r.exit(), r.toString());
            assertEquals(refusal, r.err(), r.toString());
            assertEquals("", r.out());
            assertFalse(Files.exists(absent), "the refused restore created " + absent);

            // an empty directory stays empty and unmodified
            Path empty = Files.createDirectory(work.resolve("empty"));
            FileTime before = Files.getLastModifiedTime(empty);
            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", empty.toString(), "--mariadbd", HOST_MARIADBD.toString());
            assertEquals(32, r.exit(), r.toString());
            assertEquals(refusal, r.err(), r.toString());
            assertEquals(List.of(), entries(empty));
            assertEquals(before, Files.getLastModifiedTime(empty));

            // --mariadb-tools naming the host's directory is refused the same way
            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", absent.toString(), "--mariadb-tools", HOST_MARIADBD.getParent().toString());
            assertEquals(32, r.exit(), r.toString());
            assertEquals(refusal, r.err(), r.toString());
            assertFalse(Files.exists(absent));

            // point-in-time: refused before the binlogs are copied beside the target
            List<String> workBefore = entries(work);
            r = PitrSupport.restore(repo, absent, "--until-position", end.toString(), "--mariadbd", HOST_MARIADBD.toString());
            assertEquals(32, r.exit(), r.toString());
            assertTrue(r.err().endsWith(refusal), r.toString());
            assertFalse(Files.exists(absent));
            assertEquals(workBefore, entries(work), "the refused point-in-time restore left something beside the target");

            // the incident of issue 13 with the check fooled: the host's 10.11 behind a wrapper that reports the source's release
            Path liar = script(Files.createDirectory(work.resolve("liar")), "mariadbd",
                    "if [ \"$1\" = --version ]; then echo \"/usr/sbin/mariadbd  Ver " + sourceRelease + "-MariaDB (reported by a wrapper)\"; exit 0; fi\n"
                            + "exec " + HOST_MARIADBD + " \"$@\"");
            Path fooled = work.resolve("fooled");
            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", fooled.toString(), "--mariadbd", liar.toString());
            assertEquals(22, r.exit(), r.toString());
            String err = r.err();
            String head = "ERROR [recovery-failed]: crash recovery by " + liar + " (MariaDB " + sourceRelease + ") logged ";
            assertTrue(err.contains(head), err);
            String changeBuffer = "[ERROR] InnoDB: The change buffer is corrupted or has been removed on upgrade to MariaDB 11.0 or later";
            List<String> errorLines = err.lines().filter(l -> l.contains("[ERROR]")).toList();
            assertTrue(errorLines.stream().anyMatch(l -> l.matches("  \\d{4}-\\d\\d-\\d\\d +\\d+:\\d\\d:\\d\\d \\d+ " + Pattern.quote(changeBuffer))), err);
            Matcher logged = Pattern.compile("HINT: the data it left cannot be trusted; see the server log (\\S+); the restored files were removed from "
                    + Pattern.quote(fooled.toString()) + " \\(rerun the restore once the cause is fixed\\)").matcher(err);
            assertTrue(logged.find(), err);
            assertTrue(Files.readString(Path.of(logged.group(1)), StandardCharsets.UTF_8).contains(changeBuffer));
            deleteKeptLog(Path.of(logged.group(1)));
            assertFalse(Files.exists(fooled), "a restore whose recovery logged errors must leave the target as it found it (absent)");
            assertFalse(r.out().contains("restored backup"), r.out());

            // the source's own release recovers it, and the data equals the source's
            Path good = work.resolve("good");
            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", good.toString(), "--mariadbd", newMariadbd.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("server for crash recovery: " + newMariadbd + " (MariaDB " + sourceRelease + "; the backup's source: MariaDB "
                    + sourceRelease + ")\n"), r.err());
            assertTrue(Files.readString(good.resolve("strata-recovery.err"), StandardCharsets.UTF_8).contains(sourceRelease));
            try (MariaDbSandbox restored = ItSupport.startAndReplay(good, source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), false)) {
                ItSupport.assertSameData(source, restored, "app");
            }

            // and a point-in-time restore with it, to the end of the load
            Path pitr = work.resolve("pitr");
            r = PitrSupport.restore(repo, pitr, "--until-position", end.toString(), "--mariadbd", newMariadbd.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("replaying with " + Path.of(chosen, "mariadb-binlog") + " | " + Path.of(chosen, "mariadb") + "\n"), r.err());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(pitr).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }

    /**
     * A newer server may recover an older one's backup: a 10.11 source (the host's server) restored
     * with the 11.x tools that PATH finds first (no option) upgrades the directory, logs no [ERROR]
     * line (its change buffer is merged) and holds the source's data.
     */
    @Test
    void aNewerServerRecoversAnOlderSourcesBackup() throws Exception {
        String chosen = System.getenv(MariaDbSandbox.TOOLS_ENV);
        Assumptions.assumeTrue(chosen != null && !chosen.isBlank(), MariaDbSandbox.TOOLS_ENV + " names no newer MariaDB tools (run under bin/with-mariadb trixie)");
        Path newMariadbd = Path.of(chosen, "mariadbd");
        String newRelease = releaseOf(newMariadbd);
        Assumptions.assumeTrue(Files.isExecutable(HOST_MARIADBD), "no host server at " + HOST_MARIADBD);
        String hostRelease = releaseOf(HOST_MARIADBD);
        Assumptions.assumeTrue(Integer.parseInt(newRelease.split("\\.")[0]) > Integer.parseInt(hostRelease.split("\\.")[0]),
                "the tools of " + MariaDbSandbox.TOOLS_ENV + " (" + newRelease + ") are not newer than the host's (" + hostRelease + ")");
        Path work = ItSupport.tempDir("tools-upgrade-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = MariaDbSandbox.builder().tools(MariaDbSandbox.HOST_TOOLS).logBin(true).innodbLogFileSize("8M").start()) {
            assertEquals(hostRelease, releaseOfVersionVariable(source.version()));
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String id = ItSupport.backup(repo, source);
            Path target = work.resolve("target");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--target", target.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("server for crash recovery: " + newMariadbd + " (MariaDB " + newRelease + "; the backup's source: MariaDB "
                    + hostRelease + ")\n"), r.err());
            assertTrue(r.out().startsWith("restored backup " + id + " into " + target + " "), r.out());
            String log = Files.readString(target.resolve("strata-recovery.err"), StandardCharsets.UTF_8);
            assertTrue(log.contains("Starting MariaDB " + newRelease), log);
            assertFalse(log.contains("[ERROR]"), log);
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }

    /**
     * A server that starts, recovers and stops but logs [ERROR] lines: here the real mariadbd asked
     * (by a wrapper, as a user's site script might) to load a plugin that does not exist, which it
     * reports as two [ERROR] lines and then carries on. The restore fails with every line shown and
     * leaves the target empty. A server that exits while recovering (told a page size the files do
     * not have) fails the restore too, and a new target path is removed with the parent made for it.
     * The same restore with the plain server succeeds in the first target.
     */
    @Test
    void aRecoveryThatLogsAnErrorLineFailsAndLeavesTheTargetEmpty() throws Exception {
        Path work = ItSupport.tempDir("tools-error-");
        Path repo = work.resolve("repo");
        Path real = MariaDbSandbox.findBinary("mariadbd").orElseThrow();
        String release = releaseOf(real);
        Path wrapper = script(Files.createDirectory(work.resolve("site")), "mariadbd",
                "exec " + real + " \"$@\" --plugin-load-add=ha_strata_absent");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String id = ItSupport.backup(repo, source);
            Path target = Files.createDirectory(work.resolve("target"));
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--target", target.toString(), "--mariadbd", wrapper.toString());
            assertEquals(22, r.exit(), r.toString());
            String ts = "\\d{4}-\\d\\d-\\d\\d +\\d+:\\d\\d:\\d\\d \\d+ ";
            Pattern message = Pattern.compile("ERROR \\[recovery-failed\\]: crash recovery by " + Pattern.quote(wrapper.toString()) + " \\(MariaDB "
                    + Pattern.quote(release) + "\\) logged 2 errors:\n"
                    + "  " + ts + Pattern.quote("[ERROR] mariadbd: Can't open shared library '/usr/lib/mysql/plugin/ha_strata_absent.so' (errno: 2, ") + "[^\n]*\n"
                    + "  " + ts + Pattern.quote("[ERROR] Couldn't load plugins from 'ha_strata_absent.so'.") + "\n"
                    + "HINT: the data it left cannot be trusted; see the server log (\\S+); the restored files were removed from "
                    + Pattern.quote(target.toString()) + " \\(rerun the restore once the cause is fixed\\)\n");
            Matcher mm = message.matcher(r.err());
            assertTrue(mm.find(), r.toString());
            assertTrue(r.err().endsWith(mm.group()), "the error is the last thing printed: " + r.err());
            assertTrue(Files.readString(Path.of(mm.group(1)), StandardCharsets.UTF_8).contains("Couldn't load plugins from 'ha_strata_absent.so'"));
            deleteKeptLog(Path.of(mm.group(1)));
            assertEquals(List.of(), entries(target));

            // a server that cannot recover the restored files and exits while starting (here told a
            // page size other than the files'): exit 22, and a new target path is gone with its parent
            Path mismatch = script(Files.createDirectory(work.resolve("site-4k")), "mariadbd",
                    "exec " + real + " \"$@\" --innodb-page-size=4096");
            Path absent = work.resolve("new-parent").resolve("target");
            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", absent.toString(), "--mariadbd", mismatch.toString());
            assertEquals(22, r.exit(), r.toString());
            assertTrue(r.err().contains("\nERROR [recovery-failed]: " + mismatch + " exited with code "), r.toString());
            // 10.11: "Data file './ibdata1' uses page size 16384, but the innodb_page_size start-up parameter is 4096"
            assertTrue(Pattern.compile("\\[ERROR\\] InnoDB: .*page.size", Pattern.CASE_INSENSITIVE).matcher(r.err()).find(), r.toString());
            Matcher kept = Pattern.compile("HINT: see the server log (\\S+); the restored files were removed from "
                    + Pattern.quote(absent.toString()) + " \\(rerun the restore once the cause is fixed\\)\n$").matcher(r.err());
            assertTrue(kept.find(), r.toString());
            deleteKeptLog(Path.of(kept.group(1)));
            assertFalse(Files.exists(work.resolve("new-parent")), "a restore whose recovery failed left " + work.resolve("new-parent"));

            r = StrataCli.run("restore", "--repo", repo.toString(), "--target", target.toString(), "--mariadbd", real.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().startsWith("restored backup " + id + " into " + target + " "), r.out());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
    }
}
