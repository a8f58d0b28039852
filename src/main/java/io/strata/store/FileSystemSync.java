package io.strata.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One durability barrier over whole file systems: syncfs(2) on each file system that holds one of
 * the given directories, which writes back every dirty file, inode and directory entry of that file
 * system and commits its journal. For a backup's thousands of small objects this replaces one fsync
 * per object and per directory (10,000 fsyncs at 5,000 tables) with one call.
 *
 * <p>Java has no syncfs, so the coreutils {@code sync --file-system} program makes the call (an
 * absolute path, never one found on {@code PATH}). It is used only where syncfs reports write-back
 * errors (Linux 5.8 and later: the error of any write to the file system since the file it syncs
 * was opened, or not yet seen); on older kernels, other systems, without the program, or when it
 * fails, {@link #syncAll} returns false and the caller fsyncs each object, which also reports the
 * error of a failed write-back.
 */
final class FileSystemSync {
    /** Where coreutils installs {@code sync}; the first one that exists is used. */
    private static final List<String> PROGRAMS = List.of("/usr/bin/sync", "/bin/sync");
    /** The program making the call; null: none, use fsync. Tests point it elsewhere. */
    static volatile String program = find();

    private FileSystemSync() {}

    private static String find() {
        if (!reportsErrors(System.getProperty("os.name", ""), System.getProperty("os.version", ""))) {
            return null;
        }
        for (String p : PROGRAMS) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    /** Whether syncfs(2) of this system reports write-back errors: Linux 5.8 or later ({@code os.version} "5.8.0-…", "6.1.0"). */
    static boolean reportsErrors(String osName, String osVersion) {
        if (!osName.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return false;
        }
        String[] v = osVersion.split("[^0-9]+", 3);
        try {
            int major = Integer.parseInt(v[0]);
            int minor = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return major > 5 || major == 5 && minor >= 8;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * Makes everything written to the file systems of {@code dirs} durable.
     *
     * @param dirs existing directories (one per file system is enough; duplicates are dropped)
     * @return true when done; false when it could not be done this way (no program, an old kernel,
     *         a directory that vanished, the call failed): then the caller must fsync each file
     * @throws StorageException of kind INTERRUPTED when interrupted while waiting
     */
    static boolean syncAll(List<Path> dirs) {
        String prog = program;
        if (prog == null || dirs.isEmpty()) {
            return false;
        }
        Map<Object, Path> byFileSystem = new LinkedHashMap<>();
        try {
            for (Path d : dirs) {
                byFileSystem.putIfAbsent(Files.getAttribute(d, "unix:dev"), d);
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
        List<String> cmd = new ArrayList<>(List.of(prog, "--file-system"));
        byFileSystem.values().forEach(d -> cmd.add(d.toString()));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return false;
        }
        try {
            p.getOutputStream().close();
            return p.waitFor() == 0;
        } catch (IOException e) {
            p.destroy();
            return false;
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            String where = byFileSystem.values().iterator().next().toString();
            throw new StorageException(StorageException.Kind.INTERRUPTED, "sync", where, "interrupted while syncing " + where, null, e);
        }
    }
}
