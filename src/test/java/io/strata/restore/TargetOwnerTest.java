package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TargetOwnerTest {
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    @Test
    void anUnknownUserOrGroupOrAnEmptyPartIsAUsageError() {
        StrataException e = assertThrows(StrataException.class, () -> TargetOwner.parse("no-such-user-x1"));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("--owner no-such-user-x1: there is no user no-such-user-x1 on this host", e.getMessage());
        e = assertThrows(StrataException.class, () -> TargetOwner.parse("nobody:no-such-group-x1"));
        assertEquals("--owner nobody:no-such-group-x1: there is no group no-such-group-x1 on this host", e.getMessage());
        e = assertThrows(StrataException.class, () -> TargetOwner.parse("nobody:"));
        assertEquals("--owner nobody: is not USER or USER:GROUP", e.getMessage());
    }

    @Test
    void rootGivesTheWholeTreeAwayOthersAreRefusedBeforeAnythingIsWritten(@TempDir Path dir) throws IOException {
        if (!ROOT) {
            StrataException e = assertThrows(StrataException.class, () -> TargetOwner.parse("nobody"));
            assertEquals("--owner nobody: only root can give the restored files to another user, and strata runs as "
                    + System.getProperty("user.name"), e.getMessage());
            return;
        }
        Path target = Files.createDirectories(dir.resolve("t/mysql"));
        Files.writeString(target.resolve("db.opt"), "x");
        TargetOwner o = TargetOwner.parse("nobody:nogroup");
        assertEquals("nobody:nogroup", o.describe());
        o.apply(dir.resolve("t"));
        for (Path p : new Path[] {dir.resolve("t"), target, target.resolve("db.opt")}) {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            assertEquals("nobody", a.owner().getName(), p.toString());
            assertEquals("nogroup", a.group().getName(), p.toString());
        }
    }
}
