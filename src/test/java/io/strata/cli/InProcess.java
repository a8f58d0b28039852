package io.strata.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs strata's {@link Main#execute} in the test's JVM, with what it prints on stderr. */
final class InProcess {
    private InProcess() {}

    record Run(int exit, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        int exit;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            exit = Main.execute(args);
        } finally {
            System.setErr(saved);
        }
        return new Run(exit, err.toString(StandardCharsets.UTF_8));
    }
}
