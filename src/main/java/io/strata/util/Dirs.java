package io.strata.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
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

    /** fsyncs every directory of the tree, so the names of files written below it survive a crash. */
    public static void syncDirectories(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isDirectory).toList()) {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.READ)) {
                    ch.force(true);
                }
            }
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
