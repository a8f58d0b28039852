package io.strata.cli;

import io.strata.util.ChildProcesses;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The processes strata starts do not inherit the variables that carry its secrets. */
class ChildProcessesTest {

    @Test
    void theSecretVariablesAreTheOnesStrataReads() {
        assertEquals(List.of(ConnectionMixin.PASSWORD_ENV, KeyMixin.PASSPHRASE_ENV), ChildProcesses.SECRET_ENV.subList(0, 2));
    }

    @Test
    void aChildSeesNeitherPasswordNorPassphrase() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "echo \"${STRATA_PASSWORD-unset} ${STRATA_PASSPHRASE-unset} ${AWS_SECRET_ACCESS_KEY-unset} $KEPT\"");
        pb.environment().put("STRATA_PASSWORD", "pw");
        pb.environment().put("STRATA_PASSPHRASE", "phrase");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "s3");
        pb.environment().put("KEPT", "kept");
        Process p = ChildProcesses.withoutSecrets(pb).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor());
        assertEquals("unset unset unset kept", out);
    }
}
