package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Private by default (issue 15, item 11): under umask 022 a repository written by a backup and by
 * the binlog archiver is 0700/0600 and a restored data directory 0700/0640 (and belongs to the
 * user --owner names); a key file others may read is refused unless --allow-insecure-key-file;
 * --password given to bin/strata never shows in any process's command line nor in the output, and
 * -p without a value fails without a terminal.
 */
class PrivacyIT {
    private static final String KEY_HEX = "8f4c2a9e1b7d3f605a1c9e8d7b6a5f4e3d2c1b0a99887766554433221100ffee";

    /** Every path under {@code root} (itself included) whose mode is not 0700 for a directory or {@code fileMode} for a file, with its mode. */
    private static Map<String, String> wrongModes(Path root, String fileMode) throws IOException {
        Map<String, String> wrong = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                String expected = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "rwx------" : fileMode;
                if (!mode.equals(expected)) {
                    wrong.put(root.relativize(p).toString(), mode);
                }
            }
        }
        return wrong;
    }

    private static long count(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void repositoryAndRestoredDirectoryArePrivateUnderUmask022() throws Exception {
        Path work = ItSupport.tempDir("private-");
        Path repo = work.resolve("repo");
        Path target = work.resolve("restored");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            // archived binlogs hold passwords in clear
            source.exec("CREATE USER 'reader'@'localhost' IDENTIFIED BY 'not-for-your-eyes'");
            List<String> umask022 = StrataCli.umask("022");
            StrataCli.Result b = StrataCli.exec(StrataCli.command(umask022, "backup", "--repo", repo.toString(), "--socket", source.socket().toString(),
                    "--user", "root", "--compress", "zstd"), Map.of());
            String id = ItSupport.completedId(b);
            StrataCli.Result a = StrataCli.exec(StrataCli.command(umask022, "binlog", "archive", "--once", "--repo", repo.toString(),
                    "--socket", source.socket().toString(), "--user", "root"), Map.of());
            assertEquals(0, a.exit(), a.toString());
            assertTrue(Files.isDirectory(repo.resolve("binlogs")) && Files.isRegularFile(repo.resolve("lock")), "the walk covers binlogs and the lock");
            assertEquals(Map.of(), wrongModes(repo, "rw-------"), "repository entries that are not 0700/0600");
            // (the backup's small files are in a few packs: history, packs, redo, manifest, binlogs, directories)
            assertTrue(count(repo) > 25, "files walked: " + count(repo));

            StrataCli.Result r = StrataCli.exec(StrataCli.command(umask022, "restore", "--repo", repo.toString(), "--backup", id,
                    "--target", target.toString(), "--owner", "nobody:nogroup"), Map.of());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("the restored directory belongs to nobody:nogroup\n"), r.out());
            assertEquals(Map.of(), wrongModes(target, "rw-r-----"), "restored entries that are not 0700/0640");
            assertTrue(Files.isRegularFile(target.resolve("strata-recovery.err")) && Files.isRegularFile(target.resolve("app/t_fcrc32.ibd")),
                    "the walk covers the recovery log, written by mariadbd, and the tables");
            List<String> notNobody = new ArrayList<>();
            try (Stream<Path> s = Files.walk(target)) {
                for (Path p : s.toList()) {
                    PosixFileAttributes at = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (!at.owner().getName().equals("nobody") || !at.group().getName().equals("nogroup")) {
                        notNobody.add(p + " " + at.owner().getName() + ":" + at.group().getName());
                    }
                }
            }
            assertEquals(List.of(), notNobody);
        }
    }

    @Test
    void aKeyFileOthersMayReadIsRefusedOrWithTheOptionWarnedAbout() throws Exception {
        Path work = ItSupport.tempDir("keyfile-");
        Path key = Files.writeString(work.resolve("key"), KEY_HEX + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            String[] backup = {"backup", "--repo", repo.toString(), "--socket", source.socket().toString(), "--user", "root", "--encrypt-key-file", key.toString()};
            StrataCli.Result refused = StrataCli.run(backup);
            assertEquals(42, refused.exit(), refused.toString());
            assertEquals("ERROR [key-file-insecure]: key file " + key + " is readable by every user of this host (mode 0644): whoever reads it can read the repository\n"
                    + "HINT: chmod 600 " + key + ", or pass --allow-insecure-key-file to use it as it is\n", refused.err());
            assertFalse(Files.exists(repo), "nothing was created");

            StrataCli.Result warned = StrataCli.run(ItSupport.concat(backup, "--allow-insecure-key-file"));
            String id = ItSupport.completedId(warned);
            assertTrue(warned.err().startsWith("WARNING: key file " + key + " is readable by every user of this host (mode 0644); using it as --allow-insecure-key-file says\n"),
                    warned.err());
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            assertEquals("aes-256-gcm", ItSupport.manifest(repo, id, "--encrypt-key-file", key.toString()).get("encryption").asText());
        }
    }

    @Test
    void thePasswordNeverShowsInAnyCommandLineNorInTheOutput() throws Exception {
        Path work = ItSupport.tempDir("password-");
        String secret = "pw-" + UUID.randomUUID();
        Path launcher = Path.of("bin", "strata").toAbsolutePath();
        try (MariaDbSandbox source = ItSupport.source()) {
            source.exec("CREATE USER 'strata_pw'@'localhost' IDENTIFIED BY '" + secret + "'", "GRANT ALL ON *.* TO 'strata_pw'@'localhost'");
            String socket = source.socket().toString();

            // the watch itself sees a secret in an argument list
            Process control = new ProcessBuilder("sh", "-c", "sleep 1", secret).start();
            assertFalse(processesShowing(secret).isEmpty(), "the /proc watch finds a secret in a command line");
            control.waitFor();

            for (String[] spelling : new String[][] {{"--password", secret}, {"--password=" + secret}, {"-p" + secret}, {"--", "--password", secret}}) {
                List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "backup", "--repo", work.resolve("repo").toString(), "--socket", socket,
                        "--user", "strata_pw", "--progress", "none"));
                cmd.addAll(List.of(spelling));
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(work.resolve("out").toFile()).redirectError(work.resolve("err").toFile());
                pb.environment().remove("STRATA_PASSWORD");
                long started = System.nanoTime();
                Process p = pb.start();
                List<String> seen = new ArrayList<>();
                int looks = 0;
                while (!p.waitFor(5, TimeUnit.MILLISECONDS)) {
                    long ms = (System.nanoTime() - started) / 1_000_000;
                    for (String shown : processesShowing(secret)) {
                        // the launcher's own shell gets the password as an argument and holds it
                        // until it starts again without it, a few milliseconds (as the mariadb
                        // client does until it blanks its arguments): tolerated there only
                        if (!(ms < 100 && shown.contains(launcher.toString()) && !shown.contains("java"))) {
                            seen.add(ms + " ms after the start, " + shown);
                        }
                    }
                    looks++;
                }
                String out = Files.readString(work.resolve("out"), StandardCharsets.UTF_8);
                String err = Files.readString(work.resolve("err"), StandardCharsets.UTF_8);
                String what = String.join(" ", spelling).replace(secret, "SECRET") + ": exit " + p.exitValue() + "\n" + out + err;
                assertEquals(0, p.exitValue(), what);
                assertTrue(out.startsWith("backup "), what);
                assertTrue(looks > 20, "looked at /proc " + looks + " times while strata ran");
                assertEquals(List.of(), seen, what);
                assertFalse(out.contains(secret) || err.contains(secret), what);
            }

            // a wrong password: refused, and not printed either
            StrataCli.Result wrong = StrataCli.exec(List.of(launcher.toString(), "backup", "--repo", work.resolve("repo").toString(), "--socket", socket,
                    "--user", "strata_pw", "--password", secret + "-wrong"), Map.of());
            assertEquals(16, wrong.exit(), wrong.toString());
            assertFalse(wrong.out().contains(secret) || wrong.err().contains(secret), wrong.toString());

            // -p without a value asks on the terminal; there is none here
            for (List<String> cmd : List.of(StrataCli.command(List.of(), "backup", "--repo", work.resolve("repo").toString(), "--socket", socket, "--user", "strata_pw", "-p"),
                    List.of(launcher.toString(), "backup", "--repo", work.resolve("repo").toString(), "--socket", socket, "-p", "--user", "strata_pw"))) {
                StrataCli.Result r = StrataCli.exec(cmd, Map.of());
                assertEquals(2, r.exit(), r.toString());
                assertEquals("ERROR [usage]: -p/--password without a value asks for the password on a terminal, and there is none\n"
                        + "HINT: put it in an option file ([client] password=... in ~/.my.cnf, or --defaults-file) or in the environment variable STRATA_PASSWORD\n",
                        r.err(), cmd.toString());
            }
        }
    }

    /** The processes whose command line contains {@code secret}: "pid: command line". */
    static List<String> processesShowing(String secret) {
        List<String> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (cmdline.contains(secret)) {
                        found.add(p.getFileName() + ": " + cmdline.replace(secret, "SECRET"));
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return found;
    }
}
