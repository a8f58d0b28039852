package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FileModesTest {
    private static String mode(Path p) throws IOException {
        return FileModes.octal(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void octalIsChmodsNotation() {
        assertEquals("0700", FileModes.octal(FileModes.PRIVATE_DIR));
        assertEquals("0600", FileModes.octal(FileModes.PRIVATE_FILE));
        assertEquals("0640", FileModes.octal(FileModes.DATADIR_FILE));
        assertEquals("0751", FileModes.octal(PosixFilePermissions.fromString("rwxr-x--x")));
    }

    @Test
    void restrictTreeClosesEveryDirectoryAndFileButLeavesLinksAlone(@TempDir Path dir) throws IOException {
        Path root = Files.createDirectories(dir.resolve("datadir/mysql"));
        Path file = Files.writeString(root.resolve("user.frm"), "x");
        Path top = Files.writeString(dir.resolve("datadir/ibdata1"), "y");
        Path outside = Files.writeString(dir.resolve("outside"), "z");
        Files.createSymbolicLink(dir.resolve("datadir/link"), outside);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-r--r--"));

        FileModes.restrictTree(dir.resolve("datadir"), FileModes.DATADIR_FILE);

        assertEquals("0700", mode(dir.resolve("datadir")));
        assertEquals("0700", mode(root));
        assertEquals("0640", mode(file));
        assertEquals("0640", mode(top));
        assertEquals("0644", mode(outside), "a link's target outside the tree is not touched");
    }

    @Test
    void newDirectoriesArePrivateAndExistingOnesKeepTheirMode(@TempDir Path dir) throws IOException {
        Path existing = Files.createDirectories(dir.resolve("a"));
        Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rwxr-xr-x"));
        FileModes.createPrivateDirectories(existing.resolve("b/c"));
        assertEquals("0755", mode(existing));
        assertEquals("0700", mode(existing.resolve("b")));
        assertEquals("0700", mode(existing.resolve("b/c")));
    }
}
