package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.server.ConnectionOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** -p/--password: a value is taken as the password, no value asks on the terminal, and no terminal is a usage error. */
class PasswordOptionTest {
    @CommandLine.Command(name = "t")
    static final class Holder {
        @CommandLine.Mixin
        ConnectionMixin conn;
    }

    private static ConnectionMixin parse(String... args) {
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.conn;
    }

    @Test
    void everySpellingOfAValueIsThePassword() {
        String[][] spellings = {{"--password=s3cret"}, {"--password", "s3cret"}, {"-p", "s3cret"}, {"-ps3cret"}};
        for (String[] args : spellings) {
            ConnectionOptions o = parse(concat(args, "--defaults-file", "/dev/null")).resolve();
            assertEquals("s3cret", o.password(), String.join(" ", args));
        }
    }

    @Test
    void withoutAValueItAsksAndWithoutATerminalThatIsAUsageError() {
        for (String[] args : new String[][] {{"-p"}, {"--password"}, {"-p", "--user", "root"}}) {
            ConnectionMixin c = parse(concat(args, "--defaults-file", "/dev/null"));
            StrataException e = assertThrows(StrataException.class, c::resolve, String.join(" ", args)); // the test JVM has no console
            assertEquals(ErrorCode.USAGE, e.code());
            assertEquals("ERROR [usage]: -p/--password without a value asks for the password on a terminal, and there is none\n"
                    + "HINT: put it in an option file ([client] password=... in ~/.my.cnf, or --defaults-file) or in the environment variable STRATA_PASSWORD",
                    e.render());
        }
    }

    @Test
    void theOptionsNeverShowThePassword() {
        ConnectionOptions o = parse("--password=s3cret", "--socket", "/run/x.sock", "--user", "backup", "--defaults-file", "/dev/null").resolve();
        assertEquals("ConnectionOptions[socket /run/x.sock, user=backup, password=***]", o.toString());
        assertFalse(o.toString().contains("s3cret"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
