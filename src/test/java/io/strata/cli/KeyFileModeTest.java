package io.strata.cli;

import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A key or passphrase file that group or others may read is refused, or used with a warning under --allow-insecure-key-file. */
class KeyFileModeTest {
    private static final String KEY_HEX = "8f4c2a9e1b7d3f605a1c9e8d7b6a5f4e3d2c1b0a99887766554433221100ffee";

    private static Path file(Path dir, String name, String content, String mode) throws IOException {
        Path p = Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    @Test
    void aKeyFileOthersMayReadIsRefusedWithItsOwnCode(@TempDir Path dir) throws IOException {
        KeyMixin k = new KeyMixin();
        k.keyFile = file(dir, "key", KEY_HEX, "rw-r--r--");
        StrataException e = assertThrows(StrataException.class, k::secret);
        assertEquals(ErrorCode.KEY_FILE_INSECURE, e.code());
        assertEquals(42, e.code().exitCode());
        assertEquals("key file " + k.keyFile + " is readable by every user of this host (mode 0644): whoever reads it can read the repository", e.getMessage());
        assertEquals("ERROR [key-file-insecure]: key file " + k.keyFile + " is readable by every user of this host (mode 0644): whoever reads it can read the repository\n"
                + "HINT: chmod 600 " + k.keyFile + ", or pass --allow-insecure-key-file to use it as it is", e.render());

        KeyMixin p = new KeyMixin();
        p.passphraseFile = file(dir, "pass", "a passphrase\n", "rw-r-----");
        e = assertThrows(StrataException.class, p::secret);
        assertEquals("passphrase file " + p.passphraseFile + " is readable by its group (mode 0640): whoever reads it can read the repository", e.getMessage());
    }

    @Test
    void aPrivateFileIsTakenAndTheOptionTurnsTheRefusalIntoAWarning(@TempDir Path dir) throws IOException {
        KeyMixin k = new KeyMixin();
        k.keyFile = file(dir, "key", KEY_HEX, "rw-------");
        assertNotNull(k.secret());

        KeyMixin open = new KeyMixin();
        open.keyFile = file(dir, "open-key", KEY_HEX, "rw-rw-r--");
        open.allowInsecure = true;
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        Secret s;
        try {
            s = open.secret();
        } finally {
            System.setErr(saved);
        }
        assertNotNull(s);
        assertEquals("WARNING: key file " + open.keyFile + " is readable by every user of this host (mode 0664); using it as --allow-insecure-key-file says\n",
                err.toString(StandardCharsets.UTF_8));
    }
}
