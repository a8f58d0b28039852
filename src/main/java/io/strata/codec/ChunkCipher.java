package io.strata.codec;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * AES-256-GCM for one chunk. A sealed chunk is {@code nonce (12 bytes) | ciphertext | tag (16 bytes)};
 * the nonce is random for every chunk, so one key can seal about 2^32 chunks (4 PiB in 1 MiB
 * chunks) before the chance of a repeated nonce reaches 2^-32. The caller's associated data is
 * authenticated but not stored: opening with other associated data fails, which is how a chunk
 * moved to another object or another position is caught.
 */
public final class ChunkCipher {
    public static final int NONCE_BYTES = 12;
    public static final int TAG_BYTES = 16;
    public static final int OVERHEAD = NONCE_BYTES + TAG_BYTES;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Cipher> CIPHERS = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no AES/GCM", e);
        }
    });

    private final SecretKey key;

    public ChunkCipher(SecretKey key) {
        if (key.getEncoded().length != 32) {
            throw new IllegalArgumentException("AES-256 needs a 32-byte key");
        }
        this.key = key;
    }

    /**
     * Seals {@code plain[off, off+len)} into {@code dst} from {@code dstOff} (which needs
     * {@code len + OVERHEAD} bytes); returns the sealed length.
     */
    public int seal(byte[] aad, byte[] plain, int off, int len, byte[] dst, int dstOff) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, dst, dstOff, NONCE_BYTES);
        try {
            Cipher c = CIPHERS.get();
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
            c.updateAAD(aad);
            return NONCE_BYTES + c.doFinal(plain, off, len, dst, dstOff + NONCE_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    /**
     * Opens a sealed chunk {@code sealed[off, off+len)} into {@code dst} from 0; returns the
     * plaintext length. Throws {@link CodecException.AuthenticationFailed} when the tag does not
     * verify (another key, other associated data, or altered bytes).
     */
    public int open(byte[] aad, byte[] sealed, int off, int len, byte[] dst) {
        if (len < OVERHEAD) {
            throw new CodecException.AuthenticationFailed("sealed chunk of " + len + " bytes is shorter than its nonce and tag");
        }
        try {
            Cipher c = CIPHERS.get();
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, sealed, off, NONCE_BYTES));
            c.updateAAD(aad);
            return c.doFinal(sealed, off + NONCE_BYTES, len - NONCE_BYTES, dst, 0);
        } catch (AEADBadTagException e) {
            throw new CodecException.AuthenticationFailed("AES-GCM authentication failed");
        } catch (GeneralSecurityException e) {
            throw new CodecException("AES-GCM decryption failed: " + e.getMessage(), e);
        }
    }
}
