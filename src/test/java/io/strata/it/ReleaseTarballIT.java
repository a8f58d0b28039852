package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release tarball that "mvn package" makes (issue 16) works on its own: unpacked into a fresh
 * directory and run with an environment that has no Maven (PATH holds only the few tools the
 * launcher uses, java comes from JAVA_HOME, a fresh HOME), its bin/strata prints the version,
 * records its class-data-sharing archive under ~/.cache/strata/cds on the first run, takes a backup
 * and restores it from nothing but a configuration file in the format of etc/strata.conf.example,
 * the password given as --password moved out of every command line, and the restored server holds
 * the source's tables. Without a java, or with one older than 17, the launcher says so (exit 127).
 */
class ReleaseTarballIT {
    /** What bin/strata of the tarball runs besides java (bash and its coreutils), and strata itself (mariadbd comes by path). */
    private static final List<String> TOOLS = List.of("bash", "env", "readlink", "dirname", "sed", "sha256sum", "cut", "stat", "mkdir", "rm", "mv",
            "grep", "id", "getent", "head", "uname");

    @Test
    void theTarballRunsVersionBackupAndRestoreWithoutMaven() throws Exception {
        Path tarball = Path.of(System.getProperty("strata.tarball", "target/strata-0.1.0-SNAPSHOT.tar.gz")).toAbsolutePath();
        assertTrue(Files.isRegularFile(tarball), "mvn package makes the release tarball: " + tarball);
        Path work = ItSupport.tempDir("release-");
        Path unpacked = Files.createDirectories(work.resolve("opt"));
        run(List.of("/bin/tar", "xzf", tarball.toString(), "-C", unpacked.toString()), Map.of(), 0);
        List<Path> top;
        try (Stream<Path> s = Files.list(unpacked)) {
            top = s.toList();
        }
        assertEquals(1, top.size(), "one top directory: " + top);
        Path home = top.get(0);
        assertTrue(home.getFileName().toString().matches("strata-\\d+\\.\\d+\\.\\d+.*"), home.toString());
        for (String f : List.of("bin/strata", "lib/strata.jar", "etc/strata.conf.example", "systemd/strata-backup@.service", "systemd/strata-backup@.timer",
                "systemd/strata-binlog-archive@.service", "systemd/strata-track@.service", "systemd/strata-agent.service", "cron/strata.cron.example", "doc/strata-help.txt", "README.md")) {
            assertTrue(Files.isRegularFile(home.resolve(f)), f);
        }
        assertTrue(Files.readString(home.resolve("doc/strata-help.txt")).contains("==== strata binlog archive\n\nUsage: strata binlog archive "));
        for (String unit : List.of("strata-binlog-archive@.service", "strata-track@.service", "strata-agent.service")) {
            assertTrue(Files.readString(home.resolve("systemd").resolve(unit)).contains("\nRestart=on-failure\n"), unit);
        }

        // an environment without Maven: PATH is a directory holding only the launcher's tools
        Path tools = Files.createDirectories(work.resolve("tools"));
        for (String t : TOOLS) {
            Path real = Stream.of("/usr/bin", "/bin").map(d -> Path.of(d, t)).filter(Files::isExecutable).findFirst().orElseThrow(() -> new IllegalStateException(t));
            Files.createSymbolicLink(tools.resolve(t), real);
        }
        Path userHome = Files.createDirectories(work.resolve("home"));
        // STRATA_CONFIG: an empty one, not this host's /etc/strata/strata.conf (an s3:// repository there would choose the other start-up archive)
        Path emptyConf = Files.writeString(work.resolve("empty.conf"), "[global]\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(emptyConf, PosixFilePermissions.fromString("rw-------"));
        Map<String, String> env = Map.of("PATH", tools.toString(), "HOME", userHome.toString(), "JAVA_HOME", System.getProperty("java.home"),
                "STRATA_CONFIG", emptyConf.toString());
        assertEquals(1, run(List.of(tools.resolve("bash").toString(), "-c", "command -v mvn || command -v java"), env, -1).exit(), "mvn or java on PATH");

        String strata = home.resolve("bin/strata").toString();
        // no java, or one older than 17: the launcher's own message, before any JVM starts
        StrataCli.Result noJava = run(List.of(strata, "--version"), Map.of("PATH", tools.toString(), "HOME", userHome.toString()), 127);
        assertEquals("ERROR [launcher]: no java found (JAVA_HOME unset and no java on PATH)\n"
                + "HINT: install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME\n", noJava.err());
        Path oldJdk = Files.createDirectories(work.resolve("jdk11/bin"));
        Files.writeString(oldJdk.getParent().resolve("release"), "JAVA_VERSION=\"11.0.2\"\n");
        Files.copy(tools.resolve("bash"), oldJdk.resolve("java"));
        StrataCli.Result oldJava = run(List.of(strata, "--version"), Map.of("PATH", tools.toString(), "HOME", userHome.toString(),
                "JAVA_HOME", oldJdk.getParent().toString()), 127);
        assertEquals("ERROR [launcher]: strata needs Java 17 or newer; " + oldJdk.resolve("java") + " is 11.0.2\n"
                + "HINT: install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless) or point JAVA_HOME at one\n", oldJava.err());
        assertTrue(!Files.exists(userHome.resolve(".cache")), "nothing cached before a java was found");

        StrataCli.Result version = run(List.of(strata, "--version"), env, 0);
        assertEquals("strata 0.1.0\n", version.out());
        assertEquals("", version.err());
        List<Path> archives;
        try (Stream<Path> s = Files.list(userHome.resolve(".cache/strata/cds"))) {
            archives = s.toList();
        }
        assertEquals(1, archives.size(), archives.toString());
        assertTrue(archives.get(0).getFileName().toString().matches("[0-9a-f]{16}-[0-9a-f]{16}-local\\.jsa") && Files.size(archives.get(0)) > 1 << 20, archives.toString());
        // a command line naming an s3:// repository gets the archive that holds the AWS SDK too (the command itself may fail here: no S3)
        run(List.of(strata, "list", "--repo", "s3://no-such-bucket/r", "--s3-endpoint", "http://127.0.0.1:9", "--s3-max-attempts", "1"), env, -1);
        Path local = archives.get(0);
        Path s3 = local.resolveSibling(local.getFileName().toString().replace("-local.jsa", "-s3.jsa"));
        assertTrue(Files.isRegularFile(s3) && Files.size(s3) > Files.size(local) * 2, s3 + " next to " + local + " (" + Files.size(local) + " bytes)");

        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            String secret = "pw-" + UUID.randomUUID();
            source.exec("CREATE USER 'backup'@'localhost' IDENTIFIED BY '" + secret + "'", "GRANT ALL ON *.* TO 'backup'@'localhost'");
            Path repo = work.resolve("repo");
            Path conf = Files.writeString(work.resolve("strata.conf"), "[global]\nuser = backup\ncompress = zstd:3\n\n[db1]\nrepo = " + repo
                    + "\nsocket = " + source.socket() + "   # the example's shape\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------"));

            env = new java.util.HashMap<>(env);
            env.put("STRATA_CONFIG", conf.toString());
            List<String> backup = List.of(strata, "backup", "--server", "db1", "--progress", "none", "--password", secret);
            StrataCli.Result b = watched(backup, env, secret, strata);
            String id = ItSupport.completedId(b);

            Path target = work.resolve("restored");
            String serverTools = MariaDbSandbox.findBinary("mariadbd").orElseThrow().getParent().toString();
            run(List.of(strata, "restore", "--server", "db1", "--target", target.toString(), "--mariadb-tools", serverTools), env, 0);
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
            assertEquals(id, ItSupport.list(repo).get(0).get("id").asText());
        }
    }

    /** Runs {@code cmd} while watching every command line for {@code secret}; the launcher's own first lines excepted. */
    private static StrataCli.Result watched(List<String> cmd, Map<String, String> env, String secret, String launcher) throws Exception {
        Path out = Files.createTempFile("strata-out", ".txt");
        Path err = Files.createTempFile("strata-err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        long started = System.nanoTime();
        Process p = pb.start();
        List<String> seen = new ArrayList<>();
        while (!p.waitFor(5, TimeUnit.MILLISECONDS)) {
            long ms = (System.nanoTime() - started) / 1_000_000;
            for (String shown : PrivacyIT.processesShowing(secret)) {
                if (!(ms < 100 && shown.contains(launcher) && !shown.contains("java"))) {
                    seen.add(ms + " ms after the start, " + shown);
                }
            }
        }
        StrataCli.Result r = new StrataCli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        assertEquals(List.of(), seen, r.toString());
        assertTrue(!r.out().contains(secret) && !r.err().contains(secret), r.toString());
        return r;
    }

    /** Runs {@code cmd} with exactly {@code env}; {@code expectExit} -1 accepts any exit code. */
    private static StrataCli.Result run(List<String> cmd, Map<String, String> env, int expectExit) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        Path out = Files.createTempFile("strata-out", ".txt");
        Path err = Files.createTempFile("strata-err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), cmd.toString());
        StrataCli.Result r = new StrataCli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        if (expectExit >= 0) {
            assertEquals(expectExit, r.exit(), cmd + "\n" + r);
        }
        return r;
    }
}
