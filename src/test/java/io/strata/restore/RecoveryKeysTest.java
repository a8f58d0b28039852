package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.KeyManagement;
import io.strata.repo.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RecoveryKeysTest {
    @TempDir
    Path dir;

    /** A built-in plugin (no library), so that no mariadbd runs to find the plugin directory. */
    private static Manifest manifest(boolean required, String keyFile, List<String> secrets) {
        KeyManagement km = new KeyManagement(required, required ? List.of("d/e2.ibd is encrypted (ENCRYPTED=YES)") : List.of(), List.of("d/e2.ibd"),
                List.of(new KeyManagement.Plugin("kms", null, Map.of("kms_filename", keyFile), secrets)), Map.of());
        return Manifest.builder().id("B1").keyManagement(km).build();
    }

    @Test
    void aMissingKeyFileIsExit36NamingPluginAndOption() {
        Path keys = dir.resolve("gone.txt");
        StrataException e = assertThrows(StrataException.class, () -> RecoveryKeys.check(manifest(true, keys.toString(), List.of()), Path.of("/nonexistent/mariadbd"), null, l -> { }));
        assertEquals(ErrorCode.KEY_MANAGEMENT_MISSING, e.code());
        assertEquals(36, e.code().exitCode());
        assertEquals("backup B1 holds encrypted InnoDB data (d/e2.ibd is encrypted (ENCRYPTED=YES)), but crash recovery cannot get its keys: plugin kms needs the file "
                + keys + " (option kms_filename), which is not readable; nothing was written", e.getMessage());
        assertEquals("give mariadbd the key configuration with --mariadbd-defaults-file FILE (an option file with plugin-load-add=kms and its settings),"
                + " or restore with --no-recover", e.hint());
    }

    @Test
    void aSecretNotRecordedIsNamed() throws Exception {
        Path keys = Files.writeString(dir.resolve("k.txt"), "1;00\n", StandardCharsets.US_ASCII);
        StrataException e = assertThrows(StrataException.class, () -> RecoveryKeys.check(manifest(true, keys.toString(), List.of("kms_filekey")), Path.of("/x"), null, l -> { }));
        assertEquals("backup B1 holds encrypted InnoDB data (d/e2.ibd is encrypted (ENCRYPTED=YES)), but crash recovery cannot get its keys: plugin kms needs option"
                + " kms_filekey, a secret the backup does not record; nothing was written", e.getMessage());
    }

    @Test
    void recordedOptionsWhenEverythingIsThere() throws Exception {
        Path keys = Files.writeString(dir.resolve("k.txt"), "1;00\n", StandardCharsets.US_ASCII);
        List<String> log = new ArrayList<>();
        RecoveryKeys.Plan p = RecoveryKeys.check(manifest(true, keys.toString(), List.of()), Path.of("/x"), null, log::add);
        assertEquals(List.of("--kms-filename=" + keys), p.options());
        assertEquals(null, p.defaultsFile());
    }

    @Test
    void notRequiredRunsWithoutThePlugin() {
        List<String> log = new ArrayList<>();
        RecoveryKeys.Plan p = RecoveryKeys.check(manifest(false, dir.resolve("gone").toString(), List.of()), Path.of("/x"), null, log::add);
        assertEquals(List.of(), p.options());
        assertEquals(1, log.size(), log.toString());
    }

    @Test
    void aDefaultsFileReplacesTheRecordedOptionsAndItsKeyFileIsChecked() throws Exception {
        Path cnf = Files.writeString(dir.resolve("my.cnf"), "[mysqld]\nplugin-load-add=kms\nkms-filename = " + dir.resolve("nope") + "\n", StandardCharsets.UTF_8);
        StrataException e = assertThrows(StrataException.class, () -> RecoveryKeys.check(manifest(true, "/old/keys", List.of()), Path.of("/x"), cnf, l -> { }));
        assertEquals(ErrorCode.KEY_MANAGEMENT_MISSING, e.code());
        assertEquals("backup B1 needs plugin kms, but the file " + dir.resolve("nope") + " that --mariadbd-defaults-file " + cnf
                + " names (option kms_filename) is not readable; nothing was written", e.getMessage());
        Path keys = Files.writeString(dir.resolve("k.txt"), "1;00\n", StandardCharsets.US_ASCII);
        Files.writeString(cnf, "[mysqld]\nplugin-load-add=kms\nkms_filename=" + keys + "\n", StandardCharsets.UTF_8);
        RecoveryKeys.Plan p = RecoveryKeys.check(manifest(true, "/old/keys", List.of()), Path.of("/x"), cnf, l -> { });
        assertEquals(List.of(), p.options());
        assertEquals(cnf.toAbsolutePath(), p.defaultsFile());
        assertThrows(StrataException.class, () -> RecoveryKeys.check(manifest(true, "/old/keys", List.of()), Path.of("/x"), dir.resolve("missing.cnf"), l -> { }));
    }
}
