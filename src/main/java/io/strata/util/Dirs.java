package io.strata.util;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;

/** Directory trees: the one place that walks them to delete or to make their entries durable. */
public final class Dirs {
    private Dirs() {}

    /** Deletes {@code dir} and everything below it, or with {@code keepRoot} only what is below it. */
    public static void delete(Path dir, boolean keepRoot) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!(keepRoot && p.equals(dir))) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * The regular files at most {@code maxDepth} levels below {@code root} (1: its own files), sorted
     * by path, in a tree that is changing while it is read: an entry removed or renamed between the
     * listing of its directory and the reading of its attributes (a DROP or RENAME TABLE on a live
     * server) is left out instead of failing the listing. A symbolic link counts when it leads to a
     * regular file; a linked directory (a database directory moved to another disk and linked, which
     * MariaDB reads through the link; a data directory that is a link) is entered as a directory, its
     * files named below the link.
     *
     * @throws IOException when the root or a directory cannot be read for another reason
     *         ({@link java.nio.file.AccessDeniedException} names the entry)
     */
    public static List<Path> liveRegularFiles(Path root, int maxDepth) throws IOException {
        if (Files.isSymbolicLink(root) && Files.isDirectory(root)) {
            // a data directory that is a link (/var/lib/mysql -> /srv/mysql, as @@datadir then says):
            // its files, named below the link. A walk that does not follow links would see the link
            // alone and list nothing, and a backup would have stored none of the tables' files.
            Path real = root.toRealPath();
            List<Path> out = new ArrayList<>();
            for (Path p : liveRegularFiles(real, maxDepth)) {
                out.add(root.resolve(real.relativize(p)));
            }
            out.sort(null);
            return out;
        }
        List<Path> out = new ArrayList<>();
        List<Path> linkedDirs = new ArrayList<>();
        Files.walkFileTree(root, EnumSet.noneOf(java.nio.file.FileVisitOption.class), maxDepth, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                if (a.isRegularFile() || (a.isSymbolicLink() && Files.isRegularFile(f))) {
                    out.add(f);
                } else if (a.isSymbolicLink() && Files.isDirectory(f) && root.relativize(f).getNameCount() < maxDepth) {
                    linkedDirs.add(f); // a database directory moved elsewhere and linked (MariaDB reads its tables through the link)
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                if (e instanceof NoSuchFileException && !f.equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException && !d.equals(root))) {
                    throw e;
                }
                return FileVisitResult.CONTINUE;
            }
        });
        for (Path d : linkedDirs) {
            out.addAll(liveRegularFiles(d, maxDepth - root.relativize(d).getNameCount()));
        }
        out.sort(null);
        return out;
    }

    /**
     * The path of {@code p} relative to {@code root}, '/'-separated, as
     * {@code root.relativize(p).toString()} gives it; taken from the two strings when {@code p}
     * names a file below {@code root} by {@code root}'s own spelling (the paths a walk of
     * {@code root} makes), which is most of the cost of a scan of many files saved: relativize
     * builds and normalizes two paths.
     */
    public static String relative(Path root, Path p) {
        String r = root.toString();
        String s = p.toString();
        if (!r.isEmpty() && s.length() > r.length() + 1 && s.startsWith(r) && s.charAt(r.length()) == '/' && !r.endsWith("/")
                && !hasDotNames(s, r.length() + 1) && !hasDotNames(r, 0)) {
            return s.substring(r.length() + 1);
        }
        return root.relativize(p).toString().replace('\\', '/');
    }

    /** Whether the '/'-separated names of {@code s} from {@code from} on include "." or "..". */
    private static boolean hasDotNames(String s, int from) {
        for (int i = s.indexOf('.', from); i >= 0; i = s.indexOf('.', i + 1)) {
            boolean startsName = i == 0 || s.charAt(i - 1) == '/';
            if (!startsName) {
                continue;
            }
            int end = i + 1 < s.length() && s.charAt(i + 1) == '.' ? i + 2 : i + 1;
            if (end == s.length() || s.charAt(end) == '/') {
                return true;
            }
        }
        return false;
    }

    /** fsyncs every directory of the tree, so the names of files written below it survive a crash. */
    public static void syncDirectories(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isDirectory).toList()) {
                syncDirectory(p);
            }
        }
    }

    /** fsyncs the directory {@code dir} alone: the names created or removed in it survive a crash. */
    public static void syncDirectory(Path dir) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** As {@link #delete}, for clean-up whose failure must not hide the error being reported. */
    public static boolean deleteQuietly(Path dir, boolean keepRoot) {
        try {
            delete(dir, keepRoot);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
