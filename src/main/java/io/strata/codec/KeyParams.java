package io.strata.codec;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The encryption parameters a repository stores: never the key, only what is needed to derive
 * it from the user's secret and to tell a wrong secret from a right one.
 *
 * <p>With a key file the key is the file's 32 bytes. With a passphrase the key is
 * PBKDF2-HMAC-SHA256(passphrase, salt, iterations, 256 bits). The key check is
 * HMAC-SHA256(key, "strata key check v1") in hex: a wrong key fails it before anything is read,
 * and it says nothing about the key beyond that.
 *
 * @param cipher     "aes-256-gcm"
 * @param keySource  "key-file" or "passphrase": what the user must give
 * @param kdf        "none" (key file) or "pbkdf2-hmac-sha256"
 * @param salt       16 random bytes, base64 (passphrase only)
 * @param iterations PBKDF2 iterations (passphrase only)
 * @param keyCheck   HMAC-SHA256 of a fixed label under the key, hex
 */
public record KeyParams(String cipher, String keySource, String kdf, String salt, Integer iterations, String keyCheck) {
    public static final String CIPHER = "aes-256-gcm";
    public static final String KIND_KEY = "key-file";
    public static final String KIND_PASSPHRASE = "passphrase";
    public static final String KDF_NONE = "none";
    public static final String KDF_PBKDF2 = "pbkdf2-hmac-sha256";
    /** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256; about half a second here. */
    public static final int DEFAULT_ITERATIONS = 600_000;
    private static final byte[] CHECK_LABEL = "strata key check v1".getBytes(StandardCharsets.US_ASCII);
    /** PBKDF2 derivations run in this process, and their total time in nanoseconds (see {@link #derivations()}). */
    private static final java.util.concurrent.atomic.AtomicInteger DERIVATIONS = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicLong DERIVATION_NANOS = new java.util.concurrent.atomic.AtomicLong();

    /** What deriving keys from passphrases has cost this process so far: the count and the time in seconds. */
    public record Derivations(int count, double seconds) {}

    /** PBKDF2 runs of this process so far (each about half a second at the default iterations). */
    public static Derivations derivations() {
        return new Derivations(DERIVATIONS.get(), DERIVATION_NANOS.get() / 1e9);
    }

    /** New parameters for a new repository, with a fresh salt. */
    public static KeyParams create(Secret secret, int iterations) {
        if (secret instanceof Secret.Passphrase p) {
            byte[] salt = new byte[16];
            new SecureRandom().nextBytes(salt);
            String s = Base64.getEncoder().encodeToString(salt);
            SecretKey key = pbkdf2(p.chars(), salt, iterations);
            return new KeyParams(CIPHER, KIND_PASSPHRASE, KDF_PBKDF2, s, iterations, check(key));
        }
        SecretKey key = new SecretKeySpec(((Secret.Key) secret).bytes(), "AES");
        return new KeyParams(CIPHER, KIND_KEY, KDF_NONE, null, null, check(key));
    }

    /**
     * The key for {@code secret}. Throws {@link WrongSecret} when the secret is of the other kind
     * or fails the key check; the message says which.
     */
    public SecretKey unlock(Secret secret) {
        if (!CIPHER.equals(cipher)) {
            throw new CodecException("unknown cipher \"" + cipher + "\"");
        }
        if (!secret.kind().equals(keySource)) {
            throw new WrongSecret("the repository is encrypted with a " + (KIND_KEY.equals(keySource) ? "key file" : "passphrase")
                    + ", but a " + (secret instanceof Secret.Key ? "key file" : "passphrase") + " was given");
        }
        SecretKey key;
        if (secret instanceof Secret.Passphrase p) {
            if (!KDF_PBKDF2.equals(kdf) || salt == null || iterations == null || iterations < 1) {
                throw new CodecException("unknown key derivation \"" + kdf + "\"");
            }
            key = pbkdf2(p.chars(), Base64.getDecoder().decode(salt), iterations);
        } else {
            key = new SecretKeySpec(((Secret.Key) secret).bytes(), "AES");
        }
        if (!MessageDigest.isEqual(check(key).getBytes(StandardCharsets.US_ASCII), String.valueOf(keyCheck).getBytes(StandardCharsets.US_ASCII))) {
            throw new WrongSecret("the " + (secret instanceof Secret.Key ? "key" : "passphrase") + " does not match the repository's key check");
        }
        return key;
    }

    private static SecretKey pbkdf2(char[] pass, byte[] salt, int iterations) {
        long t0 = System.nanoTime();
        DERIVATIONS.incrementAndGet();
        try {
            SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
            byte[] k = f.generateSecret(new PBEKeySpec(pass, salt, iterations, 256)).getEncoded();
            return new SecretKeySpec(k, "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no PBKDF2WithHmacSHA256", e);
        } finally {
            DERIVATION_NANOS.addAndGet(System.nanoTime() - t0);
        }
    }

    static String check(SecretKey key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(CHECK_LABEL));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no HmacSHA256", e);
        }
    }

    /** The secret given is not the repository's. */
    public static final class WrongSecret extends CodecException {
        public WrongSecret(String message) {
            super(message);
        }
    }
}
