package io.strata.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Dirs#liveRegularFiles}: depth, links, order, and a root that is not there; {@link Dirs#relative}. */
class DirsTest {
    @Test
    void regularFilesToTheGivenDepthSortedThroughLinks(@TempDir Path d) throws Exception {
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
        // a linked database directory is entered (its files named below the link), a dangling link left out
        assertEquals(List.of(d.resolve("db/linked.ibd"), d.resolve("db/t1.ibd"), d.resolve("db/t2.ibd"), d.resolve("ibdata1"), d.resolve("linkeddb/o.ibd")),
                Dirs.liveRegularFiles(d, 2));
        assertEquals(List.of(d.resolve("ibdata1")), Dirs.liveRegularFiles(d, 1));
        Dirs.delete(outside, false);
    }

    /**
     * A root that is a link to a directory (a data directory moved to another disk, @@datadir
     * naming the link): its files, named below the link. The walk saw the link alone before, and a
     * backup of such a server stored none of its tables' files.
     */
    @Test
    void aLinkedRootIsListedThroughTheLink(@TempDir Path d) throws Exception {
        Path real = Files.createDirectories(d.resolve("srv/mysql"));
        Files.writeString(real.resolve("ibdata1"), "x");
        Files.createDirectories(real.resolve("db"));
        Files.writeString(real.resolve("db/t.ibd"), "x");
        Path link = Files.createSymbolicLink(d.resolve("datadir"), real);
        assertEquals(List.of(link.resolve("db/t.ibd"), link.resolve("ibdata1")), Dirs.liveRegularFiles(link, 2));
        assertEquals(List.of(link.resolve("ibdata1")), Dirs.liveRegularFiles(link, 1));
    }

    /** {@link Dirs#relative}: what relativize gives, from the strings when they allow it. */
    @Test
    void relativePathsAsRelativizeGivesThem() {
        Path root = Path.of("/var/lib/mysql");
        for (String rel : List.of("ibdata1", "db/t.frm", "db/.hidden", "db/..x", "db/a.b.ibd", ".x/y", "db/t.", "db/t..")) {
            assertEquals(rel, Dirs.relative(root, root.resolve(rel)), rel);
            assertEquals(root.relativize(root.resolve(rel)).toString(), Dirs.relative(root, root.resolve(rel)), rel);
        }
        // spellings the strings cannot settle go through relativize
        assertEquals("../elsewhere/f", Dirs.relative(root, Path.of("/var/lib/elsewhere/f")));
        assertEquals("../mysql2/f", Dirs.relative(root, Path.of("/var/lib/mysql2/f")), "a sibling whose name starts like the root");
        assertEquals("f", Dirs.relative(Path.of("/var/lib/./mysql"), Path.of("/var/lib/./mysql/f")));
        assertEquals("../f", Dirs.relative(root, Path.of("/var/lib/mysql/../f")));
        assertEquals("b/f", Dirs.relative(Path.of("/"), Path.of("/b/f")));
        assertEquals("db/f", Dirs.relative(Path.of("rel/dd"), Path.of("rel/dd/db/f")));
    }

    @Test
    void aMissingRootIsAnError(@TempDir Path d) {
        assertThrows(NoSuchFileException.class, () -> Dirs.liveRegularFiles(d.resolve("gone"), 2));
    }
}
