package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Option files as the mariadb client reads them: groups, includes, comments, quoting, which files. */
class OptionFilesTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
        return f;
    }

    private static ConnectionOptions resolve(OptionFiles.Sources src, Map<String, String> env) {
        return ConnectionOptions.resolve(null, null, null, null, null, src, env::get);
    }

    private static ConnectionOptions only(Path file) {
        return resolve(new OptionFiles.Sources(file, null, null, false), Map.of());
    }

    @Test
    void anInlineCommentIsNotPartOfTheSocketPath() throws IOException {
        Path f = write("my.cnf", """
                [client]
                socket = /run/mysqld/mysqld.sock   # the distribution's socket
                user=backup# no space before the hash: part of the name
                password = "se#cret" # quoted hash stays
                """);
        ConnectionOptions o = only(f);
        assertEquals("/run/mysqld/mysqld.sock", o.socket());
        assertEquals("backup# no space before the hash: part of the name", o.user());
        assertEquals("se#cret", o.password());
    }

    @Test
    void aMariadbBackupGroupOverridesClientWhereverItIs() throws IOException {
        Path f = write("my.cnf", """
                [mariadb-backup]
                user = mariabackup
                [client]
                user = someone
                socket = /tmp/client.sock
                port = 3307
                [mysqld]
                socket = /tmp/server-only.sock
                [client-server]
                port = 3308
                """);
        ConnectionOptions o = only(f);
        assertEquals("mariabackup", o.user());
        assertEquals("/tmp/client.sock", o.socket(), "[mysqld] is not read");
        assertEquals(3308, o.port(), "[client-server] ranks above [client]");
        Path g = write("strata.cnf", "[mariadb-backup]\nuser=mb\n[strata]\nuser = st\n");
        assertEquals("st", only(g).user(), "[strata] ranks above [mariadb-backup]");
    }

    @Test
    void includeAndIncludedirReadCnfFilesInNameOrder() throws IOException {
        write("conf.d/20-b.cnf", "[client]\nuser=second\n");
        write("conf.d/10-a.cnf", "[client]\nuser=first\nsocket=/tmp/a.sock\n");
        write("conf.d/30-c.txt", "[client]\nuser=ignored\n");
        write("extra.inc", "[client]\nport=3399\n");
        Path f = write("my.cnf", "[client]\nhost=h1\n!includedir " + dir.resolve("conf.d") + "\n!include " + dir.resolve("extra.inc")
                + "\n!include " + dir.resolve("missing.cnf") + "\n");
        ConnectionOptions o = only(f);
        assertEquals("second", o.user(), "20-b.cnf is read after 10-a.cnf and .txt is skipped");
        assertEquals("/tmp/a.sock", o.socket());
        assertEquals(3399, o.port());
        assertEquals("h1", o.host());
    }

    @Test
    void aGroupSuffixReadsTheSuffixedGroupsAboveThePlainOnes() throws IOException {
        Path f = write("my.cnf", "[client_prod]\nuser=produser\n[client]\nuser=plain\nsocket=/tmp/p.sock\n[mariadb-backup_prod]\nport=3310\n");
        assertEquals("produser", resolve(new OptionFiles.Sources(f, null, "_prod", false), Map.of()).user());
        assertEquals("plain", only(f).user());
        ConnectionOptions viaEnv = resolve(new OptionFiles.Sources(f, null, null, false), Map.of("MYSQL_GROUP_SUFFIX", "_prod"));
        assertEquals("produser", viaEnv.user());
        assertEquals(3310, viaEnv.port());
        assertEquals("/tmp/p.sock", viaEnv.socket());
    }

    @Test
    void noDefaultsReadsNothingAndMysqlPwdIsTheLastPasswordSource() throws IOException {
        Path home = write("home/.my.cnf", "[client]\nuser=fromhome\npassword=filepw\n");
        Map<String, String> env = Map.of("MYSQL_HOME", dir.resolve("home").toString(), "MYSQL_PWD", "envpw");
        List<Path> files = OptionFiles.files(OptionFiles.Sources.DEFAULT, env::get, home.getParent().toString());
        assertEquals(List.of(Path.of("/etc/my.cnf"), Path.of("/etc/mysql/my.cnf"), dir.resolve("home/my.cnf"), home), files);
        assertEquals(List.of(), OptionFiles.files(new OptionFiles.Sources(null, null, null, true), env::get, home.getParent().toString()));
        ConnectionOptions none = resolve(new OptionFiles.Sources(null, null, null, true), env);
        assertEquals(System.getProperty("user.name"), none.user());
        assertEquals("envpw", none.password(), "MYSQL_PWD when no file gives one");
        assertEquals("filepw", resolve(new OptionFiles.Sources(home, null, null, false), env).password(), "an option file overrides MYSQL_PWD");
        assertEquals("cli", ConnectionOptions.resolve(null, null, null, null, "cli", new OptionFiles.Sources(home, null, null, false), env::get).password());
    }

    @Test
    void theExtraFileComesAfterTheGlobalFilesAndBeforeTheUsersAndMustExist() throws IOException {
        Path extra = write("extra.cnf", "[client]\nuser=x\n");
        List<Path> files = OptionFiles.files(new OptionFiles.Sources(null, extra, null, false), k -> null, "/home/u");
        assertEquals(List.of(Path.of("/etc/my.cnf"), Path.of("/etc/mysql/my.cnf"), extra, Path.of("/home/u/.my.cnf")), files);
        StrataException e = assertThrows(StrataException.class,
                () -> OptionFiles.files(new OptionFiles.Sources(null, dir.resolve("nope.cnf"), null, false), k -> null, null));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--defaults-extra-file " + dir.resolve("nope.cnf") + " does not exist or is not a readable file", e.getMessage());
    }

    @Test
    void quotingEscapesAndKeySpellings() throws IOException {
        Path f = write("my.cnf", """
                [CLIENT]
                loose_socket='/tmp/with space.sock'
                password = "a\\"b\\\\c\\td\\n"
                HOST="unterminated
                port=3306
                """);
        ConnectionOptions o = only(f);
        assertEquals("/tmp/with space.sock", o.socket());
        assertEquals("a\"b\\c\td\n", o.password());
        assertEquals("\"unterminated", o.host());
        assertEquals("x\\qy", OptionFiles.value("x\\qy"), "an unknown escape keeps its backslash");
        assertEquals("a b", OptionFiles.value("a\\sb # c"));
        assertNull(only(write("empty.cnf", "[mysqld]\nsocket=/x\n")).socket());
    }
}
