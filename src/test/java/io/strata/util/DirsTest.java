package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Dirs#liveRegularFiles}: depth, links, order, and a root that is not there. */
class DirsTest {
    @Test
    void regularFilesToTheGivenDepthSortedLinkedFilesInLinkedDirectoriesNot(@TempDir Path d) throws Exception {
        Files.writeString(d.resolve("ibdata1"), "x");
        Files.createDirectories(d.resolve("db/deeper"));
        Files.writeString(d.resolve("db/t2.ibd"), "x");
        Files.writeString(d.resolve("db/t1.ibd"), "x");
        Files.writeString(d.resolve("db/deeper/too-deep.ibd"), "x");
        Path outside = Files.createDirectories(d.resolve("../" + d.getFileName() + "-out"));
        Files.writeString(outside.resolve("o.ibd"), "x");
        Files.createSymbolicLink(d.resolve("db/linked.ibd"), outside.resolve("o.ibd"));
        Files.createSymbolicLink(d.resolve("db/dangling.ibd"), outside.resolve("none.ibd"));
        Files.createSymbolicLink(d.resolve("linkeddb"), outside);
        assertEquals(List.of(d.resolve("db/linked.ibd"), d.resolve("db/t1.ibd"), d.resolve("db/t2.ibd"), d.resolve("ibdata1")),
                Dirs.liveRegularFiles(d, 2));
        assertEquals(List.of(d.resolve("ibdata1")), Dirs.liveRegularFiles(d, 1));
        Dirs.delete(outside, false);
    }

    @Test
    void aMissingRootIsAnError(@TempDir Path d) {
        assertThrows(NoSuchFileException.class, () -> Dirs.liveRegularFiles(d.resolve("gone"), 2));
    }
}
