package io.strata.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the built strata jar as a user would: a separate JVM started with the release launcher's
 * options ({@link #launcherOptions}), exit code, stdout and stderr.
 */
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

    /**
     * {@code prefix} runs the JVM (e.g. under another user or umask), {@code jvmOptions} go before -jar,
     * after the options of the release launcher ({@link #launcherOptions}).
     */
    static List<String> command(List<String> prefix, List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(java().toString());
        cmd.addAll(launcherOptions(args));
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(jar().toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /**
     * The JVM options src/dist/bin/strata gives strata, so that a test starts strata as a user's
     * launcher does and pays its start-up cost, not a bare JVM's: JVM warnings to stderr; the quick
     * compiler only (-XX:TieredStopAtLevel=1) except for track and encryption, where the launcher
     * keeps C2; the launcher's heap (track: -Xmx160m; the other commands 128 MiB + 32 MiB per
     * thread of --parallel, default the cores, times --jobs; serial collector, small NIO buffer cache), so that
     * the tests run strata within the memory a user's runs get; and a class-data-sharing archive of strata's classes recorded once by
     * "cds-train", here next to the jar (target/strata-it-HASH-local.jsa, and -s3.jsa with the AWS SDK
     * for commands that name an s3:// repository, as the launcher chooses; named after the jar's size
     * and time and this java), made by the first command of its kind in the test JVM. Without an archive (it could
     * not be made) strata runs without one.
     */
    static List<String> launcherOptions(String... args) {
        List<String> opts = new ArrayList<>(List.of("-Xlog:disable", "-Xlog:all=warning:stderr"));
        boolean track = args.length > 0 && args[0].equals("track");
        boolean quick = !track;
        int parallel = Runtime.getRuntime().availableProcessors();
        int jobs = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--encrypt-key-file") || a.startsWith("--encrypt-passphrase-file")) {
                quick = false;
            }
            String p = a.startsWith("--parallel=") ? a.substring("--parallel=".length()) : a.equals("--parallel") && i + 1 < args.length ? args[i + 1] : null;
            if (p != null && p.matches("[0-9]{1,3}")) {
                parallel = Math.max(1, Math.min(256, Integer.parseInt(p)));
            }
            String j = a.startsWith("--jobs=") ? a.substring("--jobs=".length()) : a.equals("--jobs") && i + 1 < args.length ? args[i + 1] : null;
            if (j != null && j.matches("[0-9]{1,2}")) {
                jobs = Math.max(1, Math.min(64, Integer.parseInt(j)));
            }
        }
        if (quick) {
            opts.add("-XX:TieredStopAtLevel=1");
        }
        if (track) {
            opts.addAll(List.of("-Xmx160m", "-XX:+UseSerialGC"));
        } else {
            opts.addAll(List.of("-Xmx" + (128 + 32 * parallel) * jobs + "m", "-XX:+UseSerialGC", "-Djdk.nio.maxCachedBufferSize=262144"));
        }
        Path jsa = cdsArchive(java.util.Arrays.stream(args).anyMatch(a -> a.startsWith("s3://") || a.contains("=s3://")));
        if (jsa != null) {
            opts.add("-Xshare:auto");
            opts.add("-XX:SharedArchiveFile=" + jsa);
        }
        return opts;
    }

    /** The archives made so far, by kind ("local", "s3"); a kind that could not be made maps to null. */
    private static final java.util.Map<String, Path> CDS = new java.util.HashMap<>();

    private static synchronized Path cdsArchive(boolean s3) {
        String kind = s3 ? "s3" : "local";
        if (CDS.containsKey(kind)) {
            return CDS.get(kind);
        }
        CDS.put(kind, null);
        try {
            Path jar = jar().toAbsolutePath();
            String key = Files.size(jar) + " " + Files.getLastModifiedTime(jar).toMillis() + " " + java() + " " + System.getProperty("java.vm.version");
            Path jsa = jar.resolveSibling("strata-it-" + Integer.toHexString(key.hashCode()) + "-" + kind + ".jsa");
            if (!Files.isRegularFile(jsa)) {
                Path tmp = jar.resolveSibling(jsa.getFileName() + "." + ProcessHandle.current().pid());
                List<String> cmd = new ArrayList<>(List.of(java().toString(), "-Xlog:disable", "-Xlog:all=off", "-XX:ArchiveClassesAtExit=" + tmp,
                        "-jar", jar.toString(), "cds-train"));
                if (s3) {
                    cmd.add("--s3");
                }
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(2, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                }
                if (p.isAlive() || p.exitValue() != 0 || !Files.isRegularFile(tmp) || Files.size(tmp) == 0) {
                    Files.deleteIfExists(tmp);
                    return null;
                }
                Files.move(tmp, jsa, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            CDS.put(kind, jsa);
        } catch (IOException e) {
            System.err.println("StrataCli: no class-data-sharing archive: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return CDS.get(kind);
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

    /** With extra environment variables, in working directory {@code dir} (to see what a command leaves there). */
    static Result runIn(Path dir, Map<String, String> env, String... args) {
        return exec(command(List.of(), args), env, dir);
    }

    /** Runs {@code cmd} as it is (a prefix and the JVM from {@link #command}, or bin/strata), with extra environment variables. */
    static Result exec(List<String> cmd, Map<String, String> env) {
        return exec(cmd, env, null);
    }

    static Result exec(List<String> cmd, Map<String, String> env, Path dir) {
        try {
            Path out = Files.createTempFile("strata-out", ".txt");
            Path err = Files.createTempFile("strata-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            if (dir != null) {
                pb.directory(dir.toFile());
            }
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
