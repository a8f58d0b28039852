package io.strata.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the built strata jar as a user would: a separate JVM, exit code, stdout and stderr. */
final class StrataCli {
    private StrataCli() {}

    /** The time strata's log puts before each stderr line when stderr is not a terminal (io.strata.util.Log). */
    static final java.util.regex.Pattern LOG_TIME = java.util.regex.Pattern.compile("(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ");

    /** stderr without the log's time prefixes, so that tests compare messages; {@link #rawErr} keeps them. */
    record Result(int exit, String out, String err, String rawErr) {
        Result(int exit, String out, String rawErr) {
            this(exit, out, LOG_TIME.matcher(rawErr).replaceAll(""), rawErr);
        }

        @Override
        public String toString() {
            return "exit=" + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** A strata stderr file written by {@link #start}, without the log's time prefixes. */
    static String readLog(Path stderr) {
        try {
            return LOG_TIME.matcher(Files.readString(stderr, StandardCharsets.UTF_8)).replaceAll("");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path jar() {
        Path p = Path.of(System.getProperty("strata.jar", "target/strata-0.1.0-SNAPSHOT-all.jar"));
        if (!Files.exists(p)) {
            throw new IllegalStateException("build the jar first (mvn package): " + p);
        }
        return p;
    }

    static List<String> command(List<String> prefix, String... args) {
        return command(prefix, List.of(), args);
    }

    /** {@code prefix} runs the JVM (e.g. under another user or umask), {@code jvmOptions} go before -jar. */
    static List<String> command(List<String> prefix, List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(jar().toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Result run(String... args) {
        return exec(command(List.of(), args), Map.of());
    }

    /**
     * Runs strata in this JVM ({@code Main.execute}, no log prefix: the log is installed by
     * {@code main} only), capturing what it prints; one at a time, as it swaps System.out and System.err.
     */
    static synchronized Result inProcess(String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream savedOut = System.out;
        java.io.PrintStream savedErr = System.err;
        int exit;
        System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            exit = io.strata.cli.Main.execute(args);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** With extra environment variables (e.g. S3 credentials). */
    static Result runWithEnv(Map<String, String> env, String... args) {
        return exec(command(List.of(), args), env);
    }

    /** Runs as the unprivileged user nobody, to meet permission errors even when tests run as root. */
    static Result runAsNobody(String... args) {
        return exec(command(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), args), Map.of());
    }

    /** A prefix that runs the command under {@code umask}, e.g. 022 (the usual default, which leaves new files readable by everyone). */
    static List<String> umask(String umask) {
        return List.of("sh", "-c", "umask " + umask + " && exec \"$@\"", "sh");
    }

    static Process start(Path stdout, Path stderr, String... args) throws IOException {
        return startWithEnv(Map.of(), stdout, stderr, args);
    }

    static Process startWithEnv(Map<String, String> env, Path stdout, Path stderr, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(List.of(), args)).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Runs {@code cmd} as it is (a prefix and the JVM from {@link #command}, or bin/strata), with extra environment variables. */
    static Result exec(List<String> cmd, Map<String, String> env) {
        try {
            Path out = Files.createTempFile("strata-out", ".txt");
            Path err = Files.createTempFile("strata-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("strata did not finish: " + cmd);
            }
            Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
