package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: a backup given only {@code --config FILE --server db1} takes the repository, the
 * socket, the user and the compression from the file and stores compressed objects; a later
 * backup given neither the file nor --compress uses the repository's default compression, and
 * one with STRATA_COMPRESS overrides it for itself only.
 */
class ConfigFileIT {
    @Test
    void backupFromTheConfigurationFileAndTheRepositoryDefault() throws Exception {
        Path work = ItSupport.tempDir("conf-");
        Path repo = work.resolve("repo-db1");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 5_000);
            }
            Path conf = Files.writeString(work.resolve("strata.conf"), """
                    [global]
                    user = root
                    compress = lz4    # overridden by [db1]
                    quiet = true

                    [db1]
                    repo = %s
                    socket = %s
                    compress = zstd:3
                    """.formatted(repo, source.socket()));
            String full = ItSupport.completedId(StrataCli.run("--config", conf.toString(), "backup", "--server", "db1", "--type", "full"));
            JsonNode m = ItSupport.manifest(repo, full);
            assertEquals("zstd:3", m.get("compression").asText());
            assertTrue(m.get("storedBytes").asLong() * 2 < m.get("rawBytes").asLong(), "stored " + m.get("storedBytes") + " of " + m.get("rawBytes"));

            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id % 7 = 0");
            String diff = ItSupport.backup(repo, source, "--type", "differential");
            assertEquals("zstd:3", ItSupport.manifest(repo, diff).get("compression").asText(), "a backup without --compress uses the repository's default");

            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id % 5 = 0");
            String lz4 = ItSupport.completedId(StrataCli.runWithEnv(Map.of("STRATA_COMPRESS", "lz4", "STRATA_REPO", repo.toString(),
                    "STRATA_SOCKET", source.socket().toString(), "STRATA_USER", "root"), "backup", "--type", "incremental"));
            assertEquals("lz4", ItSupport.manifest(repo, lz4).get("compression").asText());

            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString(), lz4);
            assertEquals(0, v.exit(), v.toString());
        }
    }
}
