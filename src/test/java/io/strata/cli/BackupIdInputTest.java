package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Issue 15, case 10: an id that is not a backup id ("../x", a path) is "no such backup" (exit 19)
 * with one ERROR line, never a stack trace, in every command that takes one; restore leaves its
 * target untouched.
 */
class BackupIdInputTest {
    @TempDir
    Path dir;

    @Test
    void theRepositoryNamesNoBackupForAnIdOutsideTheGrammar() {
        Repository r = Repository.openOrCreate(dir.resolve("repo"));
        for (String bad : new String[] {"../x", "/etc/passwd", "backups/../strata.repo", "20260101T000000Z-XYZW", ""}) {
            assertFalse(r.hasManifest(bad), bad);
            StrataException e = assertThrows(StrataException.class, () -> r.manifest(bad), bad);
            assertEquals(ErrorCode.BACKUP_NOT_FOUND, e.code(), bad);
            assertEquals("no backup with id " + bad + " in " + r.root(), e.getMessage(), bad);
        }
    }

    @Test
    void everyCommandTakingAnIdSaysNoSuchBackup() throws Exception {
        Path repo = dir.resolve("repo");
        Repository.openOrCreate(repo);
        Path target = dir.resolve("target");
        String[][] calls = {
                {"show", "--repo", repo.toString(), "../x"},
                {"verify", "--repo", repo.toString(), "/etc/passwd"},
                {"merge", "--repo", repo.toString(), "../x"},
                {"restore", "--repo", repo.toString(), "--backup", "../x", "--target", target.toString()},
        };
        for (String[] call : calls) {
            InProcess.Run run = InProcess.run(call);
            int exit = run.exit();
            String text = run.err();
            String bad = call[call[0].equals("restore") ? 4 : 3];
            assertEquals(19, exit, call[0] + ": " + text);
            assertEquals("ERROR [backup-not-found]: no backup with id " + bad + " in " + repo.toAbsolutePath().normalize() + "\n"
                    + "HINT: run \"strata list --repo " + repo.toAbsolutePath().normalize() + "\" to see the backups\n", text, call[0]);
        }
        assertFalse(Files.exists(target), "a refused restore created its target");
    }
}
