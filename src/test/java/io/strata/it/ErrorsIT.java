package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every error a user can cause: one clear line (plus a hint), its own exit code, no stack trace. */
class ErrorsIT {
    static MariaDbSandbox source;
    static Path work;
    static Path repo;
    static String id;

    @BeforeAll
    static void setUp() throws Exception {
        source = ItSupport.source();
        source.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", "INSERT INTO app.t VALUES (1, 1), (2, 2)",
                "CREATE USER 'backup'@'localhost' IDENTIFIED BY 'right-password'", "GRANT ALL ON *.* TO 'backup'@'localhost'");
        work = ItSupport.tempDir("errors-");
        repo = work.resolve("repo");
        id = ItSupport.backup(repo, source);
    }

    @AfterAll
    static void tearDown() {
        if (source != null) {
            source.close();
        }
    }

    private static void assertError(StrataCli.Result r, int exit, String firstLine) {
        assertEquals(exit, r.exit(), r.toString());
        String first = r.err().lines().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
        assertEquals(firstLine, first, r.toString());
        assertFalse(r.err().contains("\tat "), "stack trace printed: " + r);
        assertFalse(r.err().contains("Exception"), "exception name printed: " + r);
    }

    @Test
    void unreachableServer() {
        Path sock = work.resolve("no-such.sock");
        StrataCli.Result r = StrataCli.run("backup", "--repo", work.resolve("r1").toString(), "--socket", sock.toString(), "--user", "root", "--quiet");
        assertEquals(15, r.exit(), r.toString());
        assertTrue(r.err().startsWith("ERROR [server-unreachable]: cannot connect to MariaDB at socket " + sock), r.toString());
        assertTrue(r.err().contains("HINT: check that the server is running"), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());
        // issue 15, case 10: a command that never reached the server creates no repository (a typo in --repo leaves nothing)
        assertFalse(Files.exists(work.resolve("r1")), "the failed backup created its repository");
        for (String[] writer : new String[][] {{"binlog", "archive", "--once"}, {"track", "--once"}}) {
            List<String> args = new java.util.ArrayList<>(List.of(writer));
            args.addAll(List.of("--repo", work.resolve("r1").toString(), "--socket", sock.toString(), "--user", "root"));
            StrataCli.Result w = StrataCli.run(args.toArray(String[]::new));
            assertError(w, 15, "ERROR [server-unreachable]: cannot connect to MariaDB at socket " + sock + ": Socket fail to connect to localhost. "
                    + sock + ": No such file or directory");
            assertFalse(Files.exists(work.resolve("r1")), writer[0] + " created its repository");
        }
    }

    @Test
    void repositoryInsideTheDataDirectoryIsRefused() throws Exception {
        Path inside = source.datadir().resolve("backups");
        StrataCli.Result r = StrataCli.run("backup", "--repo", inside.toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet");
        assertError(r, 2, "ERROR [usage]: --repo " + inside + " is inside the data directory " + source.datadir().toRealPath() + " of the server at socket "
                + source.socket() + ": each backup would copy the repository into itself, and restoring the data directory would delete it");
        assertTrue(r.err().contains("HINT: put the repository outside the data directory, preferably on another disk"), r.toString());
        assertFalse(Files.exists(inside), "the refused backup wrote into the data directory");
        // the same through a symbolic link to the data directory
        Path link = work.resolve("datadir-link");
        Files.createSymbolicLink(link, source.datadir());
        assertEquals(2, StrataCli.run("backup", "--repo", link.resolve("x").toString(), "--socket", source.socket().toString(), "--user", "root",
                "--quiet").exit());
        assertFalse(Files.exists(source.datadir().resolve("x")));
    }

    @Test
    void repositoryThatCannotBeCreated() throws Exception {
        Path file = work.resolve("a-file");
        Files.writeString(file, "in the way");
        assertError(StrataCli.run("backup", "--repo", file.resolve("repo").toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet"),
                14, "ERROR [repo-not-writable]: cannot create the repository " + file.resolve("repo") + ": " + file + " is a file, not a directory (user "
                        + System.getProperty("user.name") + ")");
        assertError(StrataCli.run("backup", "--repo", file.toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet"),
                14, "ERROR [repo-not-writable]: cannot create the repository " + file + ": " + file + " is a file, not a directory (user "
                        + System.getProperty("user.name") + ")");
        assertEquals("in the way", Files.readString(file));
    }

    @Test
    void wrongPassword() {
        StrataCli.Result r = StrataCli.run("backup", "--repo", work.resolve("r2").toString(), "--socket", source.socket().toString(),
                "--user", "backup", "--password", "wrong", "--quiet");
        assertError(r, 16, "ERROR [access-denied]: access denied for user 'backup' at socket " + source.socket());
    }

    @Test
    void aUserWithoutProcessIsToldWhatToGrantAndNoRepositoryIsMade() throws Exception {
        source.exec("CREATE USER IF NOT EXISTS 'weak'@'localhost' IDENTIFIED BY 'weak-password'", "GRANT RELOAD ON *.* TO 'weak'@'localhost'");
        Path fresh = work.resolve("r-weak");
        StrataCli.Result r = StrataCli.run("backup", "--repo", fresh.toString(), "--socket", source.socket().toString(),
                "--user", "weak", "--password", "weak-password", "--quiet");
        assertError(r, 16, "ERROR [access-denied]: user 'weak' at socket " + source.socket() + " may not run \"SELECT SPACE FROM"
                + " information_schema.INNODB_SYS_TABLESPACES WHERE SPACE = 0\": Access denied; you need (at least one of) the PROCESS privilege(s) for this operation");
        assertTrue(r.err().contains("HINT: grant the privilege the server names, or connect as root; a backup needs RELOAD, PROCESS and BINLOG MONITOR:"
                + " GRANT RELOAD, PROCESS, BINLOG MONITOR ON *.* TO that user"), r.toString());
        assertFalse(Files.exists(fresh), "a repository was made for a backup that could not run");
        assertFalse(r.err().contains("ErrorPacket"), "the driver's own line about the error came first: " + r);
    }

    @Test
    void passwordFromDefaultsFileWorks() throws Exception {
        Path cnf = work.resolve("client.cnf");
        // the [mariadb-backup] group wins over [client]; the inline comment is not part of the socket path
        Files.writeString(cnf, "[mariadb-backup]\npassword = right-password\n[client]\nuser=backup\npassword=wrong-password\nsocket="
                + source.socket() + "   # the sandbox's socket\n");
        StrataCli.Result r = StrataCli.run("backup", "--repo", work.resolve("r-cnf").toString(), "--defaults-file", cnf.toString(), "--quiet");
        assertEquals(0, r.exit(), r.toString());
    }

    @Test
    void unreadableDataDirectory() {
        Path missing = work.resolve("no-datadir");
        StrataCli.Result r = StrataCli.run("backup", "--repo", work.resolve("r3").toString(), "--socket", source.socket().toString(),
                "--user", "root", "--datadir", missing.toString(), "--quiet");
        assertEquals(17, r.exit(), r.toString());
        assertTrue(r.err().startsWith("ERROR [datadir-unreadable]: the data directory " + missing + " is not readable by this user"), r.toString());
    }

    @Test
    void dataDirectoryOfAnotherUser() throws Exception {
        // the server's datadir belongs to root; strata runs as nobody with a repository it can write
        Path r4 = Files.createTempDirectory("strata-nobody-");
        Files.setPosixFilePermissions(r4, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(source.datadir(), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        // nobody may reach the socket (in the sandbox directory), but not read the datadir
        Files.setPosixFilePermissions(source.baseDir(), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        StrataCli.Result r = StrataCli.runAsNobody("backup", "--repo", r4.resolve("repo").toString(), "--socket", source.socket().toString(),
                "--user", "root", "--quiet");
        assertEquals(17, r.exit(), r.toString());
        assertTrue(r.err().startsWith("ERROR [datadir-unreadable]: the data directory " + source.datadir() + " is not readable by this user (nobody)"), r.toString());
        assertTrue(r.err().contains("HINT: run strata on the database host as a user that can read the data directory"), r.toString());
        // the backup never started: no repository was created
        assertFalse(Files.exists(r4.resolve("repo")), "the failed first backup created its repository");
        // into an existing repository, the failed attempt is recorded in the history, with its reason
        io.strata.repo.Repository.openOrCreate(r4.resolve("repo"));
        try (var all = Files.walk(r4.resolve("repo"))) {
            for (Path p : all.toList()) {
                Files.setOwner(p, p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
            }
        }
        r = StrataCli.runAsNobody("backup", "--repo", r4.resolve("repo").toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet");
        assertEquals(17, r.exit(), r.toString());
        StrataCli.Result l = StrataCli.run("list", "--repo", r4.resolve("repo").toString(), "--json");
        assertTrue(l.out().contains("\"state\" : \"failed\"") && l.out().contains("is not readable by this user (nobody)"), l.toString());
    }

    @Test
    void repositoryNotWritable() throws Exception {
        Path ro = Files.createTempDirectory("strata-ro-");
        // nobody reaches the server and reads its data directory (the checks before a repository is created), not ro
        Files.setPosixFilePermissions(source.baseDir(), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(source.datadir(), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        StrataCli.Result r = StrataCli.runAsNobody("backup", "--repo", ro.resolve("repo").toString(), "--socket", source.socket().toString(),
                "--user", "root", "--quiet");
        assertError(r, 14, "ERROR [repo-not-writable]: cannot create the repository " + ro.resolve("repo") + ": permission denied in " + ro + " (user nobody)");
    }

    @Test
    void statusAfterAFailedBackupIsNoSuccess() throws Exception {
        Path copy = work.resolve("repo-status");
        copyTree(repo, copy);
        assertEquals(0, StrataCli.run("status", "--repo", copy.toString()).exit());
        Path missing = work.resolve("no-datadir-status");
        assertEquals(17, StrataCli.run("backup", "--repo", copy.toString(), "--socket", source.socket().toString(), "--user", "root",
                "--datadir", missing.toString(), "--quiet").exit());
        var list = ItSupport.list(copy);
        String failed = list.get(list.size() - 1).get("id").asText();
        // issue 15, case 9: the reason on stdout, one ERROR line, exit 33 (text and JSON alike)
        StrataCli.Result s = StrataCli.run("status", "--repo", copy.toString());
        assertError(s, 33, "ERROR [last-backup-failed]: the newest backup attempt in " + copy + ", " + failed + ", did not complete (failed)");
        assertTrue(s.err().contains("HINT: the line above says why; \"strata list\" shows every attempt"), s.toString());
        assertTrue(s.out().startsWith("no backup is running; the last one, " + failed + ", ended failed "), s.toString());
        assertTrue(s.out().contains(": the data directory " + missing + " is not readable by this user"), s.toString());
        StrataCli.Result j = StrataCli.run("status", "--repo", copy.toString(), "--json");
        assertEquals(33, j.exit(), j.toString());
        assertEquals("failed", ItSupport.JSON.readTree(j.out()).get("state").asText(), j.toString());
        // a backup that completes ends it
        ItSupport.backup(copy, source);
        assertEquals(0, StrataCli.run("status", "--repo", copy.toString()).exit());
    }

    @Test
    void missingRepository() {
        Path none = work.resolve("nothing-here");
        assertError(StrataCli.run("list", "--repo", none.toString()), 10, "ERROR [repo-missing]: no strata repository at " + none);
    }

    @Test
    void restoreTargetNotEmpty() throws Exception {
        Path target = work.resolve("busy");
        Files.createDirectories(target);
        Files.writeString(target.resolve("precious.txt"), "keep me");
        assertError(StrataCli.run("restore", "--repo", repo.toString(), "--target", target.toString()), 18,
                "ERROR [target-not-empty]: restore target " + target + " is not empty");
        assertEquals("keep me", Files.readString(target.resolve("precious.txt")));
    }

    @Test
    void unknownBackupId() {
        assertError(StrataCli.run("restore", "--repo", repo.toString(), "--backup", "20200101T000000Z-dead", "--target", work.resolve("t2").toString()), 19,
                "ERROR [backup-not-found]: no backup with id 20200101T000000Z-dead in " + repo);
        assertError(StrataCli.run("show", "--repo", repo.toString(), "nope"), 19, "ERROR [backup-not-found]: no backup with id nope in " + repo);
    }

    @Test
    void corruptedManifestIsRefused() throws Exception {
        Path copy = work.resolve("repo-copy");
        copyTree(repo, copy);
        Path manifest = copy.resolve("backups").resolve(id).resolve("manifest");
        byte[] b = Files.readAllBytes(manifest);
        b[b.length / 2] ^= 0x20;
        Files.write(manifest, b, StandardOpenOption.TRUNCATE_EXISTING);
        StrataCli.Result r = StrataCli.run("restore", "--repo", copy.toString(), "--target", work.resolve("t3").toString());
        assertEquals(12, r.exit(), r.toString());
        assertTrue(r.err().startsWith("ERROR [corrupt-data]: chunk 0 (raw offset 0) checksum mismatch: stored crc32c=0x"), r.toString());
        assertTrue(r.err().contains("(resource=" + manifest + ")"), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());
        // list still shows the history; nothing else was touched
        StrataCli.Result l = StrataCli.run("list", "--repo", copy.toString());
        assertEquals(0, l.exit(), l.toString());
        assertTrue(l.out().contains(id));
    }

    @Test
    void memoryTableIsAWarning() throws Exception {
        source.exec("CREATE TABLE app.scratch (id INT PRIMARY KEY) ENGINE=MEMORY", "INSERT INTO app.scratch VALUES (1)");
        try {
            Path r6 = work.resolve("r6");
            StrataCli.Result r = StrataCli.run("backup", "--repo", r6.toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet");
            assertEquals(3, r.exit(), r.toString());
            assertTrue(r.err().contains("WARNING: table `app`.`scratch` uses the MEMORY engine: its rows are not stored on disk and are empty after a restore"),
                    r.toString());
            assertEquals("completed", ItSupport.list(r6).get(0).get("state").asText());
        } finally {
            source.exec("DROP TABLE app.scratch");
        }
    }

    @Test
    void unknownBaseIsRefused() throws Exception {
        Path copy = work.resolve("repo-base");
        copyTree(repo, copy);
        assertError(StrataCli.run("backup", "--repo", copy.toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet",
                        "--type", "incremental", "--base", "20200101T000000Z-dead"), 27,
                "ERROR [wrong-base]: --base 20200101T000000Z-dead: no backup with id 20200101T000000Z-dead in " + copy);
    }

    @Test
    void missingParentBreaksTheChain() throws Exception {
        Path copy = work.resolve("repo-chain");
        copyTree(repo, copy);
        String incr = ItSupport.backup(copy, source, "--type", "incremental");
        Files.delete(copy.resolve("backups").resolve(id).resolve("manifest"));
        StrataCli.Result r = StrataCli.run("restore", "--repo", copy.toString(), "--backup", incr, "--target", work.resolve("t4").toString());
        assertError(r, 26, "ERROR [chain-broken]: backup " + incr + " needs backup " + id + " (the parent of " + incr
                + "), which is not a completed backup in " + copy + ": backup " + id + " did not complete (state completed) and cannot be used");
    }

    @Test
    void secondWriterIsLockedOut() throws Exception {
        Path copy = work.resolve("repo-lock");
        copyTree(repo, copy);
        Process first = StrataCli.start(work.resolve("lock-out"), work.resolve("lock-err"), "backup", "--repo", copy.toString(), "--type", "full",
                "--socket", source.socket().toString(), "--user", "root", "--throttle", "1");
        try {
            // the first backup holds the lock from before it connects until it ends; its page
            // copy, throttled to 1 MB/s, lasts for many seconds
            for (int i = 0; i < 300 && !Files.readString(work.resolve("lock-err")).contains("[page-copy]"); i++) {
                Thread.sleep(100);
            }
            assertTrue(first.isAlive(), Files.readString(work.resolve("lock-err")));
            StrataCli.Result r = StrataCli.run("backup", "--repo", copy.toString(), "--socket", source.socket().toString(), "--user", "root", "--quiet");
            assertError(r, 11, "ERROR [repo-locked]: repository " + copy + " is locked by another strata process (pid " + first.pid() + ")");
        } finally {
            first.destroyForcibly().waitFor();
        }
    }

    @Test
    void unknownOptionIsAUsageError() {
        StrataCli.Result r = StrataCli.run("backup", "--repo", "x", "--frobnicate");
        assertEquals(2, r.exit(), r.toString());
        assertTrue(r.err().startsWith("ERROR [usage]: Unknown option: '--frobnicate'"), r.toString());
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path d = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(d);
                } else {
                    Files.copy(p, d);
                }
            }
        }
    }
}
