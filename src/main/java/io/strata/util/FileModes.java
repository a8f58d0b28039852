package io.strata.util;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The modes of what strata writes to local disk. A repository holds every table of the server (in
 * clear when it is not encrypted) and the archived binlogs, which hold passwords of CREATE USER
 * and GRANT statements: its directories are 0700 and its files 0600. A restored data directory is
 * 0700 with files 0640, the modes mariadb-backup gives its copy, so that the server's group may
 * read what its user owns. Modes are given when a file or directory is created, so nothing is
 * ever more open than that; the umask can only take bits away.
 */
public final class FileModes {
    public static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> DATADIR_FILE = PosixFilePermissions.fromString("rw-r-----");

    private FileModes() {}

    public static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> mode) {
        return PosixFilePermissions.asFileAttribute(mode);
    }

    /**
     * Replaces {@code file} with {@code bytes} and a newline, durably and at once: written to
     * {@code file}.tmp with {@code mode} from its creation, forced, then renamed over {@code file}
     * (a reader sees the old file or the new one, never a part), and the directory forced.
     *
     * @throws IOException writing, forcing or renaming
     */
    public static void replaceDurably(Path file, byte[] bytes, Set<PosixFilePermission> mode) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.util.EnumSet.of(java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE), attribute(mode))) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}));
            ch.force(true);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Dirs.syncDirectory(file.toAbsolutePath().getParent());
    }

    /** Creates {@code dir} and its missing parents, each new one 0700; existing directories keep their mode. */
    public static Path createPrivateDirectories(Path dir) throws IOException {
        return Files.createDirectories(dir, attribute(PRIVATE_DIR));
    }

    /**
     * Gives every directory of the tree under {@code root} (itself included) mode 0700 and every
     * regular file {@code fileMode} (a file that has it already is not changed, so keeps its change
     * time); symbolic links are neither followed nor changed.
     */
    public static void restrictTree(Path root, Set<PosixFilePermission> fileMode) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(dir, PRIVATE_DIR);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                // only where the mode differs: a chmod sets the change time, which a restore record compares (restore.RestoredState)
                if (attrs.isRegularFile() && !Files.getPosixFilePermissions(file, java.nio.file.LinkOption.NOFOLLOW_LINKS).equals(fileMode)) {
                    Files.setPosixFilePermissions(file, fileMode);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** "0644": a mode as chmod takes it, for messages. */
    public static String octal(Set<PosixFilePermission> mode) {
        int bits = 0;
        for (PosixFilePermission p : mode) {
            bits |= 1 << (8 - p.ordinal());
        }
        return String.format(java.util.Locale.ROOT, "%04o", bits);
    }
}
