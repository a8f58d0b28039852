package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.util.FileModes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where a restore writes the DATA DIRECTORY tablespaces of a backup (file entries with a
 * {@code location}; docs/repository-format.md, "DATA DIRECTORY tablespaces"): at their location, or
 * where the first matching {@code --remap OLD=NEW} moves it. Built and checked before anything is
 * written; the directories it will write into are noted ({@link TargetGuard}) so that a failed
 * restore removes what it created there, as in the target.
 */
final class DataDirectories {
    /**
     * One {@code --remap OLD=NEW}: a location whose directory is OLD or below it is written below NEW.
     *
     * @param from OLD, absolute and normalized
     * @param to   NEW, absolute and normalized
     */
    record Remap(Path from, Path to) {
        /** Parses "OLD=NEW"; a usage error unless both are absolute paths. */
        static Remap parse(String spec) {
            int eq = spec.indexOf('=');
            String from = eq < 0 ? "" : spec.substring(0, eq);
            String to = eq < 0 ? "" : spec.substring(eq + 1);
            if (from.isEmpty() || to.isEmpty() || !Path.of(from).isAbsolute() || !Path.of(to).isAbsolute()) {
                throw new StrataException(ErrorCode.USAGE, "--remap " + spec + " is not OLD=NEW with two absolute directories",
                        "write it as --remap /old/data/dir=/new/data/dir (repeat it for each DATA DIRECTORY to move)");
            }
            return new Remap(Path.of(from).normalize(), Path.of(to).normalize());
        }

        @Override
        public String toString() {
            return from + "=" + to;
        }
    }

    private final Path target;
    /** Logical path (db/t.ibd) → where the file goes, for entries with a location. */
    private final Map<String, Path> destinations = new LinkedHashMap<>();
    /** Logical path → location, for every entry with one. */
    private final Map<String, String> locations = new LinkedHashMap<>();
    /** Logical path → location, for the entries that {@link #destinations} moves elsewhere. */
    private final Map<String, String> moved = new LinkedHashMap<>();

    private DataDirectories(Path target) {
        this.target = target;
    }

    /**
     * Places every entry of {@code m} that has a location.
     *
     * @throws StrataException remap-unmatched (exit 37) for a remap that matches no location
     */
    static DataDirectories plan(Manifest m, Path target, List<Remap> remaps) {
        DataDirectories d = new DataDirectories(target);
        boolean[] used = new boolean[remaps.size()];
        for (FileEntry fe : m.files()) {
            if (fe.location() == null) {
                continue;
            }
            Path loc = Path.of(fe.location()).normalize();
            Path dest = loc;
            for (int i = 0; i < remaps.size(); i++) {
                Remap r = remaps.get(i);
                if (loc.getParent() != null && loc.getParent().startsWith(r.from())) {
                    dest = r.to().resolve(r.from().relativize(loc));
                    used[i] = true;
                    break;
                }
            }
            d.destinations.put(fe.path(), dest);
            d.locations.put(fe.path(), fe.location());
            if (!dest.equals(loc)) {
                d.moved.put(fe.path(), fe.location());
            }
        }
        for (int i = 0; i < remaps.size(); i++) {
            if (!used[i]) {
                List<String> dirs = d.locations.values().stream().map(l -> Path.of(l).getParent().toString()).distinct().toList();
                throw new StrataException(ErrorCode.REMAP_UNMATCHED, "--remap " + remaps.get(i) + " matches no DATA DIRECTORY file of backup " + m.id()
                        + (dirs.isEmpty() ? " (it has none)" : " (its files lie in " + String.join(", ", dirs) + ")"),
                        "name as OLD a directory the backup's files lie in, or one above it; nothing was written");
            }
        }
        return d;
    }

    /**
     * For each directory outside the target: the outermost directory of its path that does not exist
     * yet (the restore creates it), or the directory itself when it exists. What {@code --owner}
     * gives away besides the target. Call before anything is written.
     */
    List<Path> roots() {
        List<Path> out = new ArrayList<>();
        for (Path dir : directories()) {
            Path root = dir;
            for (Path p = dir; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
                root = p;
            }
            if (!out.contains(root)) {
                out.add(root);
            }
        }
        return out;
    }

    /** Whether a --remap moves some DATA DIRECTORY file away from its location. */
    boolean anyMoved() {
        return !moved.isEmpty();
    }

    /** Whether the backup has DATA DIRECTORY files. */
    boolean any() {
        return !destinations.isEmpty();
    }

    /** Where the file of {@code fe} is written: its destination outside the target, or null for a file of the target. */
    Path outside(FileEntry fe) {
        return fe.location() == null ? null : destinations.get(fe.path());
    }

    /** The directories the restore writes into outside the target, in order. */
    List<Path> directories() {
        return destinations.values().stream().map(Path::getParent).distinct().toList();
    }

    /**
     * Refuses (target-not-empty, exit 18) a destination file that exists, and a destination
     * directory that exists and is not empty; changes nothing.
     */
    void check() {
        for (Map.Entry<String, Path> e : destinations.entrySet()) {
            Path dest = e.getValue();
            Path dir = dest.getParent();
            String first = firstEntry(dir);
            if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS) || first != null) {
                throw new StrataException(ErrorCode.TARGET_NOT_EMPTY, "the DATA DIRECTORY file " + e.getKey() + " would be restored to " + dest
                        + ", but " + dir + " is not empty (it holds " + (first != null ? first : dest.getFileName()) + ")",
                        "strata never overwrites files: move them away, or restore the file elsewhere with --remap "
                                + Path.of(locations.get(e.getKey())).getParent().getParent() + "=NEWDIR");
            }
        }
    }

    /** The first name in {@code dir}, or null when it does not exist or is empty. */
    private static String firstEntry(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Files.exists(dir, LinkOption.NOFOLLOW_LINKS) ? "" : null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot read the DATA DIRECTORY destination " + dir + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Rewrites the restored .isl of every moved tablespace: it then holds the new path alone. Entries stay as stored when their file goes back to its location.
     */
    void rewriteLinks() throws IOException {
        for (Map.Entry<String, String> e : moved.entrySet()) {
            String logical = e.getKey();
            Path isl = target.resolve(logical.substring(0, logical.length() - ".ibd".length()) + ".isl");
            String text = Files.exists(isl) ? Files.readString(isl, StandardCharsets.UTF_8) : e.getValue();
            // the .isl holds the path alone; the server's text may differ from the normalized location (a doubled
            // slash, a "./"), so the whole text is replaced rather than the old path within it
            String now = destinations.get(logical).toString() + (text.endsWith("\n") ? "\n" : "");
            if (Files.exists(isl)) {
                Files.writeString(isl, now, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            } else {
                FileModes.createPrivateDirectories(isl.getParent());
                try (var ch = RestoreRun.createFile(isl)) {
                    ch.write(java.nio.ByteBuffer.wrap(now.getBytes(StandardCharsets.UTF_8)));
                }
            }
            try (var ch = java.nio.channels.FileChannel.open(isl, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
    }

    /** Gives the restored directories outside the target the modes of the target (0700, files 0640). */
    void restrictModes() {
        for (Path dir : directories()) {
            try {
                if (Files.isDirectory(dir)) {
                    FileModes.restrictTree(dir, FileModes.DATADIR_FILE);
                }
            } catch (IOException e) {
                throw new StrataException(ErrorCode.IO_ERROR, "cannot set the modes of the restored files in " + dir + ": " + e.getMessage(), null, e);
            }
        }
    }

    /** For messages: "db/t.ibd -> /new/db/t.ibd" for each file. */
    List<String> describe() {
        List<String> out = new ArrayList<>();
        destinations.forEach((k, v) -> out.add(k + " -> " + v + (moved.containsKey(k) ? " (remapped from " + moved.get(k) + ")" : "")));
        return out;
    }
}
