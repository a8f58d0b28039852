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
 * compression string   zstd:LEVEL, lz4 or none: what a backup given no --compress uses; absent (none) in markers
 *                      written before it existed
 * </pre>
 * The key itself is never stored; {@link #unlock} derives it (PBKDF2 for a passphrase, 600,000
 * iterations) once per opened repository.
 */
final class RepoConfig {
    static final int MIN_VERSION = 1;
    static final int VERSION = 2;

    private final String name;
    private KeyParams encryption;
    private Compression compression = Compression.NONE;
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
        if (m.get("compression") != null) {
            try {
                c.compression = Compression.parse(String.valueOf(m.get("compression")));
            } catch (IllegalArgumentException e) {
                throw new StrataException(ErrorCode.FORMAT_TOO_NEW, io.store().describe(Keys.MARKER) + ": default compression " + m.get("compression")
                        + " is unknown to this strata (" + e.getMessage() + ")", "upgrade strata");
            }
        }
        return c;
    }

    /** How long a creator that lost the race waits for the winner's marker to become readable (S3: 409 while the winner's PUT runs). */
    private static final long WINNER_WAIT_MILLIS = 30_000;

    /**
     * Stores the marker of a new repository, encrypted when an explicit secret is given, with
     * an exclusive put: when another process stored a marker first (two first backups started
     * together), its marker is read and returned instead, and the caller's secret is checked
     * against it as for any existing repository (docs/repository-format.md, "Creating a repository").
     */
    static RepoConfig create(ObjectIo io, String name, Secret secret, Compression compression) {
        RepoConfig c = new RepoConfig(name);
        c.compression = compression == null ? Compression.NONE : compression;
        Map<String, Object> marker = new TreeMap<>();
        marker.put("format", "strata-repository");
        marker.put("version", VERSION);
        marker.put("created", Instant.now().toString());
        marker.put("compression", c.compression.toString());
        if (secret != null && !secret.implicit()) {
            c.encryption = KeyParams.create(secret, KeyParams.DEFAULT_ITERATIONS);
            marker.put("encryption", c.encryption);
        }
        if (io.writeJsonIfAbsent(Keys.MARKER, "repository", marker, ObjectCodec.PLAIN)) {
            return c;
        }
        return readWinner(io, name);
    }

    /**
     * As {@link #create}, for object storage, where a store may ignore the conditional PUT: the
     * creator first holds a claim, a lease lock below {@link Keys#CREATING} (plain, since no key
     * exists yet), so that of creators started together at most one stores the marker; the others
     * retry after a random pause until the marker is there, and then read it.
     */
    static RepoConfig createClaimed(ObjectIo io, String name, Secret secret, Compression compression) {
        LeaseLock.Place place = new LeaseLock.Place(io, ObjectCodec.PLAIN, name, Keys.CREATING);
        long deadline = System.nanoTime() + WINNER_WAIT_MILLIS * 1_000_000;
        while (true) {
            if (io.store().exists(Keys.MARKER)) {
                return read(io, name);
            }
            try (LeaseLock claim = LeaseLock.acquire(place)) {
                return io.store().exists(Keys.MARKER) ? read(io, name) : create(io, name, secret, compression);
            } catch (StrataException e) {
                if (e.code() != ErrorCode.REPO_LOCKED) {
                    throw e;
                }
                if (System.nanoTime() > deadline) {
                    throw new StrataException(ErrorCode.REPO_LOCKED, "another process has been creating the repository " + name + " for more than "
                            + WINNER_WAIT_MILLIS / 1000 + " s (" + e.getMessage() + ")", "try again when the other backup has started");
                }
                pause(100 + java.util.concurrent.ThreadLocalRandom.current().nextInt(500), name);
            }
        }
    }

    private static void pause(long millis, String name) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted while waiting for the marker of " + name, null);
        }
    }

    /** The marker another creator published first; in object storage it may take a moment to be readable. */
    private static RepoConfig readWinner(ObjectIo io, String name) {
        long deadline = System.nanoTime() + WINNER_WAIT_MILLIS * 1_000_000;
        while (!io.store().exists(Keys.MARKER)) {
            if (System.nanoTime() > deadline) {
                throw new StrataException(ErrorCode.REPO_LOCKED, "another process is creating the repository " + name + ", and its "
                        + Keys.MARKER + " did not appear within " + WINNER_WAIT_MILLIS / 1000 + " s", "try again when the other backup has started");
            }
            pause(200, name);
        }
        return read(io, name);
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

    /** The compression recorded at creation: a backup's when it gives none. */
    Compression compression() { return compression; }

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
