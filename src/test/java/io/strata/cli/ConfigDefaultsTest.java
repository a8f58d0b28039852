package io.strata.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: option defaults from the environment and the configuration file. Every case parses
 * a real command line with Main's picocli model; the environment is a map, not the process's.
 */
class ConfigDefaultsTest {
    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>();

    private Path conf(String text) throws IOException {
        Path p = dir.resolve("strata.conf");
        Files.writeString(p, text);
        return p;
    }

    /** Parses {@code args} as Main does and returns the backup command picocli filled in. */
    private BackupCommand backup(String... args) {
        ConfigDefaults d = ConfigDefaults.load(args, env::get, dir.resolve("no-system-file"));
        CommandLine cl = Main.commandLine(d);
        CommandLine.ParseResult r = cl.parseArgs(d.args());
        return (BackupCommand) r.subcommand().commandSpec().userObject();
    }

    private static final String FILE = """
            # strata configuration
            [global]
            repo = /backups/global
            compress = lz4          ; inline comment
            parallel = 3
            throttle = 7.5 # another
            method = "full-scan"

            [db1]
            repo = /backups/db1
            compress = zstd:5
            encrypt_key_file = /etc/strata/db1.key
            """;

    @Test
    void precedenceCommandLineEnvSectionGlobalDefault() throws IOException {
        Path f = conf(FILE);
        // global only (no --server): repo and compress from [global]; progress from its default
        BackupCommand b = backup("backup", "--config", f.toString());
        assertEquals("/backups/global", b.repo.repo);
        assertEquals("lz4", b.compress);
        assertEquals(3, b.parallel);
        assertEquals(7.5, b.throttle);
        assertEquals("full-scan", b.method);
        assertEquals("auto", b.progressMode);
        assertNull(b.key.keyFile);

        // the server's section beats [global]; [global] still fills what the section lacks
        b = backup("backup", "--server", "db1", "--config=" + f);
        assertEquals("/backups/db1", b.repo.repo);
        assertEquals("zstd:5", b.compress);
        assertEquals(Path.of("/etc/strata/db1.key"), b.key.keyFile);
        assertEquals(3, b.parallel);

        // the environment beats both sections
        env.put("STRATA_COMPRESS", "none");
        env.put("STRATA_PARALLEL", "9");
        env.put("STRATA_SERVER", "db1");
        env.put("STRATA_CONFIG", f.toString());
        b = backup("backup");
        assertEquals("/backups/db1", b.repo.repo);
        assertEquals("none", b.compress);
        assertEquals(9, b.parallel);

        // the command line beats the environment
        b = backup("backup", "--compress", "zstd:1", "--parallel=2", "--repo", "/elsewhere");
        assertEquals("zstd:1", b.compress);
        assertEquals(2, b.parallel);
        assertEquals("/elsewhere", b.repo.repo);

        // nothing anywhere: the option's own default
        env.clear();
        b = backup("backup", "--repo", "/r");
        assertNull(b.compress);
        assertEquals("auto", b.method);
        assertNull(b.parallel);
    }

    @Test
    void anEmptyPathFromTheEnvironmentOrTheFileIsUnset() throws IOException {
        // a path option refuses an empty value; picocli converts defaults before the command line, so an empty
        // STRATA_DATADIR= or "metrics-file =" would have broken every backup, --datadir given or not
        env.put("STRATA_DATADIR", "");
        Path f = conf("[global]\nmetrics-file =\n");
        BackupCommand b = backup("--config", f.toString(), "backup", "--repo", "/r");
        assertNull(b.datadir);
        assertNull(b.metricsFile);
        b = backup("--config", f.toString(), "backup", "--repo", "/r", "--datadir", "/var/lib/mysql");
        assertEquals(Path.of("/var/lib/mysql"), b.datadir);
    }

    @Test
    void configShowNamesTheSources() throws IOException {
        Path f = conf(FILE);
        env.put("STRATA_PARALLEL", "4");
        Out o = run("--config", f.toString(), "config", "show", "--server", "db1", "--", "--throttle", "2");
        assertEquals(0, o.exit, o.err);
        assertTrue(o.out.startsWith("# configuration file: " + f + ", section [db1]\n"), o.out);
        assertLine(o.out, "--repo", "/backups/db1", f + " [db1]");
        assertLine(o.out, "--compress", "zstd:5", f + " [db1]");
        assertLine(o.out, "--method", "full-scan", f + " [global]");
        assertLine(o.out, "--parallel", "4", "env STRATA_PARALLEL");
        assertLine(o.out, "--throttle", "2", "command line");
        assertLine(o.out, "--progress", "auto", "default");
        assertLine(o.out, "--encrypt-key-file", "/etc/strata/db1.key", f + " [db1]");
        assertFalse(o.out.contains("--password"), o.out);

        o = run("--config", f.toString(), "config", "show", "--command", "restore");
        assertEquals(0, o.exit, o.err);
        assertLine(o.out, "--repo", "/backups/global", f + " [global]");
        assertLine(o.out, "--target", "-", "unset");
    }

    private static void assertLine(String out, String option, String value, String source) {
        String want = String.format("%-26s %-32s %s", option, value, source);
        assertTrue(out.lines().anyMatch(want::equals), "no line \"" + want + "\" in:\n" + out);
    }

    @Test
    void unknownKeyIsAUsageErrorNamingFileLineAndKey() throws IOException {
        Path f = conf("[global]\nrepo = /r\n\n[db1]\ncompres = zstd\n");
        Out o = run("--config", f.toString(), "backup");
        assertEquals(2, o.exit, o.err);
        assertEquals("ERROR [usage]: " + f + ":5: unknown option \"compres\" in [db1]\n"
                + "HINT: keys are long option names without dashes (repo, compress, encrypt-key-file ...); see \"strata COMMAND --help\"\n", o.err);
        // a key of another command (restore's --target) is fine in a backup's configuration
        f = conf("[global]\ntarget = /restore/here\nrepo = " + dir.resolve("none") + "\n");
        o = run("--config", f.toString(), "list");
        assertEquals(10, o.exit, o.err); // the repository does not exist: the file itself was accepted
    }

    @Test
    void passwordKeyIsRefused() throws IOException {
        Path f = conf("[db1]\nrepo = /r\npassword = secret\n");
        Out o = run("--config", f.toString(), "--server", "db1", "list");
        assertEquals(2, o.exit, o.err);
        assertTrue(o.err.startsWith("ERROR [usage]: " + f + ":3: a password does not belong in the configuration file\nHINT: remove it;"), o.err);
        assertFalse(o.err.contains("secret"), o.err);
    }

    @Test
    void serverNamingNoSection() throws IOException {
        Path f = conf(FILE);
        Out o = run("--config", f.toString(), "list", "--server", "db9");
        assertEquals(2, o.exit, o.err);
        assertTrue(o.err.startsWith("ERROR [usage]: --server db9: no section [db9] in " + f + "\n"), o.err);
        // restore keeps --server KEY (a server of the repository) when it names no section
        ConfigDefaults d = ConfigDefaults.load(new String[] {"--config", f.toString(), "restore", "--server", "h:3306:/d", "--target", "/t"}, env::get, null);
        CommandLine.ParseResult r = Main.commandLine(d).parseArgs(d.args());
        assertEquals("h:3306:/d", ((RestoreCommand) r.subcommand().commandSpec().userObject()).server);
        assertEquals("/backups/global", ((RestoreCommand) r.subcommand().commandSpec().userObject()).repo.repo);
        // with the section chosen by STRATA_SERVER, --server KEY is still restore's key
        env.put("STRATA_SERVER", "db1");
        d = ConfigDefaults.load(new String[] {"--config", f.toString(), "restore", "--server", "h:3306:/d", "--target", "/t"}, env::get, null);
        RestoreCommand restore = (RestoreCommand) Main.commandLine(d).parseArgs(d.args()).subcommand().commandSpec().userObject();
        assertEquals("h:3306:/d", restore.server);
        assertEquals("/backups/db1", restore.repo.repo);
        env.remove("STRATA_SERVER");
        // a section's server-key is restore's --server when --server NAME chooses that section
        f = conf(FILE + "server-key = db1.example:3306:/var/lib/mysql\n");
        d = ConfigDefaults.load(new String[] {"--config", f.toString(), "restore", "--server", "db1", "--target", "/t"}, env::get, null);
        restore = (RestoreCommand) Main.commandLine(d).parseArgs(d.args()).subcommand().commandSpec().userObject();
        assertEquals("db1.example:3306:/var/lib/mysql", restore.server);
        assertEquals("/backups/db1", restore.repo.repo);
        // and is no option of backup, but is not refused in a server's section
        d = ConfigDefaults.load(new String[] {"--config", f.toString(), "backup", "--server", "db1"}, env::get, null);
        assertNull(((BackupCommand) Main.commandLine(d).parseArgs(d.args()).subcommand().commandSpec().userObject()).datadir);
        // in [global] it would name one server for all: refused as an unknown key
        Out bad = run("--config", conf("[global]\nserver-key = h:1:/d\n").toString(), "list");
        assertEquals(2, bad.exit, bad.err);
        assertTrue(bad.err.contains("unknown option \"server-key\" in [global]"), bad.err);
    }

    @Test
    void malformedLinesAndMissingFile() throws IOException {
        Path f = conf("[global\nrepo = /r\n");
        Out o = run("--config", f.toString(), "list");
        assertEquals(2, o.exit, o.err);
        assertTrue(o.err.startsWith("ERROR [usage]: " + f + ":1: \"[global\" is not a section header [NAME]\n"), o.err);
        o = run("--config", dir.resolve("missing.conf").toString(), "list");
        assertEquals(2, o.exit, o.err);
        assertTrue(o.err.startsWith("ERROR [usage]: configuration file " + dir.resolve("missing.conf") + " does not exist\n"), o.err);
    }

    @Test
    void inlineCommentsAndQuotes() throws IOException {
        ConfigFile c = ConfigFile.read(conf("""
                ; leading comment
                repo = /a#b   # '#' inside a word stays
                s3-endpoint = "http://h:1/x # y"  ; quoted keeps it
                --throttle = 5
                """));
        assertEquals("/a#b", c.section("global").get("repo").value());
        assertEquals("http://h:1/x # y", c.section("global").get("s3-endpoint").value());
        assertEquals("5", c.section("global").get("throttle").value());
        assertEquals(4, c.section("global").get("throttle").line());
    }

    private record Out(int exit, String out, String err) {}

    private Out run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream so = System.out;
        PrintStream se = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = Main.execute(env::get, dir.resolve("no-system-file"), args);
        } finally {
            System.setOut(so);
            System.setErr(se);
        }
        return new Out(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
