package io.strata.cli;

import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.FileModes;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * The key of an encrypted repository: a key file, or a passphrase read from a file or from the
 * environment. Never from the command line itself, where other users could read it, and never from
 * a file that group or others may read (key-file-insecure) unless --allow-insecure-key-file says so.
 */
public final class KeyMixin {
    static final String PASSPHRASE_ENV = "STRATA_PASSPHRASE";

    @Option(names = "--encrypt-key-file", paramLabel = "FILE",
            description = "Key of the repository: 64 hex digits (openssl rand -hex 32 > FILE) or 32 raw bytes. A new repository created with it is encrypted (AES-256-GCM).")
    Path keyFile;

    @Option(names = "--encrypt-passphrase-file", paramLabel = "FILE",
            description = "Passphrase of the repository: the file's first line, stretched with PBKDF2. A new repository created with it is encrypted. "
                    + "Without either option, " + PASSPHRASE_ENV + " opens an encrypted repository.")
    Path passphraseFile;

    @Option(names = "--allow-insecure-key-file", description = "Use a key or passphrase file that group or others may read, with a warning, instead of refusing it.")
    boolean allowInsecure;

    /** The secret given, or null; a passphrase from the environment only opens encrypted repositories. */
    Secret secret() {
        if (keyFile != null && passphraseFile != null) {
            throw new StrataException(ErrorCode.USAGE, "give either --encrypt-key-file or --encrypt-passphrase-file, not both", null);
        }
        try {
            if (keyFile != null) {
                return Secret.parseKeyFile(read(keyFile, "key file"));
            }
            if (passphraseFile != null) {
                return Secret.parsePassphrase(read(passphraseFile, "passphrase file"));
            }
        } catch (IllegalArgumentException e) {
            throw new StrataException(ErrorCode.USAGE, (keyFile != null ? "key file " + keyFile : "passphrase file " + passphraseFile) + ": " + e.getMessage(), null);
        }
        String env = System.getenv(PASSPHRASE_ENV);
        if (env != null && !env.isEmpty()) {
            return new Secret.Passphrase(env.toCharArray(), true);
        }
        return null;
    }

    /** Refuses (or, with --allow-insecure-key-file, warns about) a file whose mode lets group or others read it. */
    void checkPrivate(Path p, String what) throws IOException {
        Set<PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(p);
        } catch (UnsupportedOperationException e) {
            return; // no POSIX modes on this file system: nothing to judge by
        }
        if (!mode.contains(PosixFilePermission.GROUP_READ) && !mode.contains(PosixFilePermission.OTHERS_READ)) {
            return;
        }
        String problem = what + " " + p + " is readable by " + (mode.contains(PosixFilePermission.OTHERS_READ) ? "every user of this host" : "its group")
                + " (mode " + FileModes.octal(mode) + ")";
        if (!allowInsecure) {
            throw new StrataException(ErrorCode.KEY_FILE_INSECURE, problem + ": whoever reads it can read the repository",
                    "chmod 600 " + p + ", or pass --allow-insecure-key-file to use it as it is");
        }
        System.err.println("WARNING: " + problem + "; using it as --allow-insecure-key-file says");
    }

    private byte[] read(Path p, String what) {
        try {
            checkPrivate(p, what);
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new StrataException(ErrorCode.USAGE, what + " " + p + " does not exist", null);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.USAGE, "cannot read the " + what + " " + p + ": " + e.getMessage(), null);
        }
    }
}
