package io.strata.repo;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyManagementTest {

    @Test
    void secretsAreNamedByTheirVariableUnlessTheyReferToAFile() {
        assertTrue(KeyManagement.isSecret("file_key_management_filekey", "hunter2"));
        assertFalse(KeyManagement.isSecret("file_key_management_filekey", "FILE:/etc/mysql/filekey"));
        assertFalse(KeyManagement.isSecret("file_key_management_filekey", ""), "empty: nothing set");
        assertTrue(KeyManagement.isSecret("hashicorp_key_management_token", "s.abc"));
        assertTrue(KeyManagement.isSecret("some_plugin_password", null), "unknown value: treated as a secret");
        assertFalse(KeyManagement.isSecret("file_key_management_filename", "/etc/mysql/keys.txt"));
        assertFalse(KeyManagement.isSecret("file_key_management_encryption_algorithm", "aes_cbc"));
    }

    @Test
    void recoveryOptionsLoadThePluginWithItsRecordedValuesOnly() {
        Map<String, String> vars = new TreeMap<>();
        vars.put("file_key_management_encryption_algorithm", "aes_ctr");
        vars.put("file_key_management_filekey", null);
        vars.put("file_key_management_filename", "/k/keys.txt");
        vars.put("file_key_management_unused", "");
        KeyManagement km = new KeyManagement(true, List.of("r"), List.of("d/e.ibd"),
                List.of(new KeyManagement.Plugin("file_key_management", "file_key_management.so", vars, List.of("file_key_management_filekey"))),
                Map.of("innodb_encrypt_tables", "ON"));
        assertEquals(List.of("--plugin-load-add=file_key_management=file_key_management.so",
                "--file-key-management-encryption-algorithm=aes_ctr", "--file-key-management-filename=/k/keys.txt"), km.recoveryOptions());
        assertEquals(List.of("file_key_management file_key_management_filekey"), km.missingSecrets());
    }
}
