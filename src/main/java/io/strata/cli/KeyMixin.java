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
        return secret(keyFile, passphraseFile, allowInsecure, "--encrypt-key-file", "--encrypt-passphrase-file", PASSPHRASE_ENV);
    }

    /**
     * The secret of one repository from a key file, a passphrase file or the environment variable
     * {@code env}, or null: the rule of this mixin, for commands that name several repositories
     * with prefixed options ({@code copy --from-encrypt-key-file}); {@code keyOption} and
     * {@code passphraseOption} are the option names messages use.
     *
     * @throws StrataException usage (both files given, a file missing or malformed), key-file-insecure
     */
    static Secret secret(Path keyFile, Path passphraseFile, boolean allowInsecure, String keyOption, String passphraseOption, String env) {
        if (keyFile != null && passphraseFile != null) {
            throw new StrataException(ErrorCode.USAGE, "give either " + keyOption + " or " + passphraseOption + ", not both", null);
        }
        try {
            if (keyFile != null) {
                return Secret.parseKeyFile(read(keyFile, "key file", allowInsecure));
            }
            if (passphraseFile != null) {
                return Secret.parsePassphrase(read(passphraseFile, "passphrase file", allowInsecure));
            }
        } catch (IllegalArgumentException e) {
            throw new StrataException(ErrorCode.USAGE, (keyFile != null ? "key file " + keyFile : "passphrase file " + passphraseFile) + ": " + e.getMessage(), null);
        }
        String value = io.strata.util.Environment.get(env);
        if (value != null && !value.isEmpty()) {
            return new Secret.Passphrase(value.toCharArray(), true);
        }
        return null;
    }

    /** Refuses (or, with --allow-insecure-key-file, warns about) a file whose mode lets group or others read it. */
    void checkPrivate(Path p, String what) throws IOException {
        checkPrivate(p, what, allowInsecure);
    }

    private static void checkPrivate(Path p, String what, boolean allowInsecure) throws IOException {
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

    private static byte[] read(Path p, String what, boolean allowInsecure) {
        try {
            checkPrivate(p, what, allowInsecure);
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new StrataException(ErrorCode.USAGE, what + " " + p + " does not exist", null);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.USAGE, "cannot read the " + what + " " + p + ": " + e.getMessage(), null);
        }
    }
}
