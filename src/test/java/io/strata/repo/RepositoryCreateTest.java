package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepositoryCreateTest {
    @Test
    void leftoversOfAKilledCreationDoNotBlockTheNext(@TempDir Path dir) throws IOException {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.write(repo.resolve(".write-probe-4242"), new byte[] {1});
        Files.write(repo.resolve(".tmp-strata.repo-0d5e"), new byte[] {1, 2});
        Repository.openOrCreate(repo);
        assertTrue(Files.exists(repo.resolve(Repository.MARKER)));
    }

    @Test
    void otherFilesStillDo(@TempDir Path dir) throws IOException {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.write(repo.resolve("notes.txt"), new byte[] {1});
        StrataException e = assertThrows(StrataException.class, () -> Repository.openOrCreate(repo));
        assertEquals(ErrorCode.REPO_MISSING, e.code());
    }
}
