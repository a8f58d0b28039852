package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Which MariaDB programs strata runs: {@code mariadbd} for crash recovery, the point-in-time
 * replay and the demo, and the client tools ({@code mariadb}, {@code mariadb-binlog},
 * {@code mariadb-install-db}). The one place that decides it.
 *
 * <p>Lookup order, first hit wins:
 * <ol>
 *   <li>{@code mariadbd}: the binary {@code --mariadbd} names; else {@code --mariadb-tools DIR}/mariadbd;</li>
 *   <li>a client tool: {@code --mariadb-tools DIR}, then the directory of {@code --mariadbd} and its
 *       siblings {@code ../bin} and {@code ../sbin} (the same installation as the server);</li>
 *   <li>the directories of {@code PATH}, in order;</li>
 *   <li>{@code /usr/sbin}, {@code /usr/bin}, {@code /usr/local/sbin}, {@code /usr/local/bin}
 *       (mariadbd lives in /usr/sbin, which is not on every user's PATH).</li>
 * </ol>
 * PATH comes before the fixed directories so that a newer MariaDB installed beside the
 * distribution's (or the wrappers of another release's root) is the one that runs: a 10.11
 * mariadbd in /usr/sbin opening an 11.x data directory logs an error about the change buffer and
 * carries on, so picking the wrong server is not harmless. {@link #serverFor} refuses one older
 * than the backup's source.
 */
public final class ServerTools {
    static final List<String> FIXED_DIRS = List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin");

    private final Path mariadbd;
    private final Path toolsDir;
    private final List<Path> pathDirs;

    ServerTools(Path mariadbd, Path toolsDir, String pathVariable) {
        this.mariadbd = mariadbd;
        this.toolsDir = toolsDir;
        List<Path> dirs = new ArrayList<>();
        if (pathVariable != null) {
            for (String d : pathVariable.split(java.io.File.pathSeparator)) {
                if (!d.isEmpty()) {
                    dirs.add(Path.of(d).toAbsolutePath());
                }
            }
        }
        this.pathDirs = List.copyOf(dirs);
    }

    /**
     * The tools to use given {@code --mariadbd} and {@code --mariadb-tools} (either may be null).
     *
     * @throws StrataException usage when {@code mariadbd} is not an executable file or {@code toolsDir} not a directory
     */
    public static ServerTools of(Path mariadbd, Path toolsDir) {
        Path server = null;
        if (mariadbd != null) {
            server = mariadbd.toAbsolutePath().normalize();
            if (!executable(server)) {
                throw new StrataException(ErrorCode.USAGE, "--mariadbd " + mariadbd + " is not an executable file",
                        "name the MariaDB server binary, e.g. --mariadbd /usr/sbin/mariadbd");
            }
        }
        Path dir = null;
        if (toolsDir != null) {
            dir = toolsDir.toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new StrataException(ErrorCode.USAGE, "--mariadb-tools " + toolsDir + " is not a directory",
                        "name the directory that holds mariadb, mariadb-binlog (and mariadbd)");
            }
        }
        return new ServerTools(server, dir, io.strata.util.Environment.get("PATH"));
    }

    /** No option given: PATH, then the fixed directories. */
    public static ServerTools defaults() {
        return of(null, null);
    }

    /** The server binary to run. */
    public Path mariadbd() {
        if (mariadbd != null) {
            return mariadbd;
        }
        return find("mariadbd", toolsDir == null ? List.of() : List.of(toolsDir));
    }

    /** A client tool ({@code mariadb}, {@code mariadb-binlog}, {@code mariadb-install-db}, ...). */
    public Path client(String name) {
        List<Path> first = new ArrayList<>();
        if (toolsDir != null) {
            first.add(toolsDir);
        }
        if (mariadbd != null && mariadbd.getParent() != null) {
            Path dir = mariadbd.getParent();
            first.add(dir);
            if (dir.getParent() != null) {
                first.add(dir.getParent().resolve("bin"));
                first.add(dir.getParent().resolve("sbin"));
            }
        }
        return find(name, first);
    }

    /** Every place {@code name} is looked for, in order, without repeats. */
    List<Path> candidates(String name, List<Path> first) {
        Set<Path> dirs = new LinkedHashSet<>(first);
        dirs.addAll(pathDirs);
        FIXED_DIRS.forEach(d -> dirs.add(Path.of(d)));
        List<Path> out = new ArrayList<>();
        dirs.forEach(d -> out.add(d.resolve(name)));
        return out;
    }

    private Path find(String name, List<Path> first) {
        for (Path p : candidates(name, first)) {
            if (executable(p)) {
                return p;
            }
        }
        String where = (toolsDir != null ? "--mariadb-tools " + toolsDir + ", " : "") + "PATH, " + String.join(", ", FIXED_DIRS);
        throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, name + " was not found (looked in " + where + ")",
                "install Debian's mariadb-server and mariadb-client packages, or name the tools with --mariadbd and --mariadb-tools");
    }

    private static boolean executable(Path p) {
        return Files.isRegularFile(p) && Files.isExecutable(p);
    }

    /** A server binary and the release it reports. */
    public record Server(Path binary, ServerVersion version) {
        @Override
        public String toString() {
            return binary + " (MariaDB " + version + ")";
        }
    }

    /**
     * The mariadbd to run on a data directory written by MariaDB {@code sourceVersion}: it reports its
     * release with {@code --version}, and one of an older major.minor series is refused, since it
     * cannot read what the newer one wrote (an upgrade, a newer server, is fine). Runs nothing but
     * {@code mariadbd --version}.
     *
     * @param sourceVersion the source's {@code @@version} as a manifest records it; when it holds no
     *                      release, nothing is compared
     * @param source        how the message names the source, e.g. "the source server of backup X"
     * @throws StrataException mariadbd-too-old for an older series; server-unsupported when the binary
     *         does not run or does not report a MariaDB release
     */
    public Server serverFor(String sourceVersion, String source) {
        Path bin = mariadbd();
        return check(new Server(bin, versionOf(bin)), sourceVersion, source);
    }

    /**
     * Starts finding the mariadbd to run and its {@code --version} on a thread of its own, so that
     * the probe (a process start that reads the server binary, about 0.1 s from a cold page cache)
     * runs while the caller reads its manifests; {@link Probe#serverFor} waits for it and compares.
     * Any error of the lookup or the probe is thrown there, not here.
     */
    public Probe probe() {
        java.util.concurrent.FutureTask<Server> task = new java.util.concurrent.FutureTask<>(() -> {
            Path bin = mariadbd();
            return new Server(bin, versionOf(bin));
        });
        Thread t = new Thread(task, "strata-mariadbd-version");
        t.setDaemon(true);
        t.start();
        return new Probe(task);
    }

    /** A {@code mariadbd --version} under way ({@link #probe()}). */
    public static final class Probe {
        private final java.util.concurrent.Future<Server> result;

        private Probe(java.util.concurrent.Future<Server> result) {
            this.result = result;
        }

        /**
         * As {@link ServerTools#serverFor}, with the server the probe found.
         *
         * @throws StrataException as {@link ServerTools#serverFor}; interrupted
         */
        public Server serverFor(String sourceVersion, String source) {
            Server s;
            try {
                s = result.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while running mariadbd --version", null, e);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new StrataException(ErrorCode.BUG, "mariadbd --version failed: " + e.getCause(), null, e.getCause());
            }
            return check(s, sourceVersion, source);
        }
    }

    /** {@code s}, unless its release series is older than {@code sourceVersion}'s (see {@link #serverFor}). */
    private static Server check(Server s, String sourceVersion, String source) {
        Path bin = s.binary();
        ServerVersion v = s.version();
        Optional<ServerVersion> src = ServerVersion.ofVersionVariable(sourceVersion);
        if (src.isPresent() && v.olderSeriesThan(src.get())) {
            throw new StrataException(ErrorCode.MARIADBD_TOO_OLD, "mariadbd " + bin + " is MariaDB " + v + ", older than MariaDB " + src.get()
                    + " of " + source + ": a " + v.series() + " server cannot recover a data directory written by " + src.get().series(),
                    "pass --mariadbd naming a MariaDB " + src.get().series() + " or newer server (or --mariadb-tools DIR holding one)");
        }
        return s;
    }

    /** Runs {@code binary --version} and reads the MariaDB release from what it prints. */
    public static ServerVersion versionOf(Path binary) {
        String out;
        int rc;
        try {
            Process p = io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(binary.toString(), "--version")).redirectErrorStream(true).start();
            p.getOutputStream().close();
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8).strip();
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, binary + " --version did not finish within 60 s", null);
            }
            rc = p.exitValue();
        } catch (IOException e) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "cannot run " + binary + " --version: " + e.getMessage(), null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while running " + binary + " --version", null, e);
        }
        Optional<ServerVersion> v = rc == 0 ? ServerVersion.ofVersionOutput(out) : Optional.empty();
        if (v.isEmpty()) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, binary + " --version (exit " + rc + ") reports no MariaDB release: "
                    + (out.length() > 300 ? out.substring(0, 300) + "..." : out), "name a MariaDB server binary with --mariadbd");
        }
        return v.get();
    }
}
