package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.CodecException;
import io.strata.codec.Compression;
import io.strata.codec.KeyParams;
import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The repository marker {@code strata.repo} (content "repository", always plain: it holds the
 * encryption parameters) and what follows from it: the format version, whether the repository is
 * encrypted, and the codecs objects are read and written with.
 *
 * <pre>
 * field       type     note
 * format      string   "strata-repository"
 * version     int      1 or 2; readers accept [{@value #MIN_VERSION},{@value #VERSION}]
 * created     string   ISO-8601 UTC time of creation
 * encryption  object   {@link KeyParams}: cipher, key source, salt, iterations, key check; absent when not encrypted
 * </pre>
 * The key itself is never stored; {@link #unlock} derives it (PBKDF2 for a passphrase, 600,000
 * iterations) once per opened repository.
 */
final class RepoConfig {
    static final int MIN_VERSION = 1;
    static final int VERSION = 2;

    private final String name;
    private KeyParams encryption;
    private ChunkCipher cipher;

    private RepoConfig(String name) {
        this.name = name;
    }

    /** Reads and checks the marker of an existing repository named {@code name} in messages. */
    static RepoConfig read(ObjectIo io, String name) {
        RepoConfig c = new RepoConfig(name);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = io.readJson(Keys.MARKER, "repository", Map.class, ObjectCodec.PLAIN);
        FormatVersion.checkJson("repository", io.store().describe(Keys.MARKER), m.get("version"), MIN_VERSION, VERSION);
        if (m.get("encryption") != null) {
            c.encryption = Json.MAPPER.convertValue(m.get("encryption"), KeyParams.class);
        }
        return c;
    }

    /** Stores the marker of a new repository, encrypted when an explicit secret is given. */
    static RepoConfig create(ObjectIo io, String name, Secret secret) {
        RepoConfig c = new RepoConfig(name);
        Map<String, Object> marker = new TreeMap<>();
        marker.put("format", "strata-repository");
        marker.put("version", VERSION);
        marker.put("created", Instant.now().toString());
        if (secret != null && !secret.implicit()) {
            c.encryption = KeyParams.create(secret, KeyParams.DEFAULT_ITERATIONS);
            marker.put("encryption", c.encryption);
        }
        io.writeJson(Keys.MARKER, "repository", marker, ObjectCodec.PLAIN);
        return c;
    }

    /**
     * Derives the key from {@code secret} and checks it against the stored key check value.
     * Nothing happens without a secret, or with one from the environment for a plain repository.
     *
     * @throws StrataException usage (a secret for a plain repository), key-wrong, or corrupt-data
     *                         (encryption parameters this strata cannot use)
     */
    void unlock(Secret secret) {
        if (secret == null || (encryption == null && secret.implicit())) {
            return;
        }
        if (encryption == null) {
            throw new StrataException(ErrorCode.USAGE, "repository " + name + " is not encrypted, but a key or passphrase was given",
                    "drop the key option for this repository; encryption is chosen when a repository is created, for all its backups");
        }
        try {
            cipher = new ChunkCipher(encryption.unlock(secret));
        } catch (KeyParams.WrongSecret e) {
            throw new StrataException(ErrorCode.KEY_WRONG, "wrong key for repository " + name + ": " + e.getMessage(),
                    "give the key file or passphrase this repository was created with");
        } catch (CodecException e) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "cannot use the encryption parameters of " + name + "/" + Keys.MARKER + ": " + e.getMessage(),
                    "upgrade strata, or check that the repository was not edited by hand");
        }
    }

    KeyParams encryption() { return encryption; }

    /** How objects are read: the repository's cipher when it is encrypted and unlocked. */
    ObjectCodec readCodec() {
        requireKey();
        return new ObjectCodec(Compression.NONE, cipher);
    }

    /** How new objects are written: {@code compression}, sealed when the repository is encrypted. */
    ObjectCodec writeCodec(Compression compression) {
        requireKey();
        return new ObjectCodec(compression, cipher);
    }

    /**
     * The codec of lock objects, without the key check: a reader without the key (strata status)
     * cannot read a sealed lock, which then counts as stale; writers checked the key before.
     */
    ObjectCodec lockCodec() {
        return new ObjectCodec(Compression.NONE, cipher);
    }

    /** Fails with key-missing when the repository is encrypted and was opened without its key. */
    void requireKey() {
        if (encryption != null && cipher == null) {
            boolean pass = KeyParams.KIND_PASSPHRASE.equals(encryption.keySource());
            throw new StrataException(ErrorCode.KEY_MISSING, "repository " + name + " is encrypted and no key was given",
                    pass ? "it was created with a passphrase: give it with --encrypt-passphrase-file FILE or in STRATA_PASSPHRASE"
                            : "it was created with a key file: give it with --encrypt-key-file FILE");
        }
    }
}
