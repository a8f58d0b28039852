package io.strata.codec;

import org.junit.jupiter.api.Test;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static io.strata.codec.TestData.textLike;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecTest {

    @Test
    void parsesCompressionOptions() {
        assertEquals(Compression.NONE, Compression.parse("none"));
        assertEquals(Compression.LZ4, Compression.parse("LZ4"));
        assertEquals(Compression.zstd(Compression.ZSTD_DEFAULT_LEVEL), Compression.parse("zstd"));
        assertEquals(Compression.zstd(19), Compression.parse("zstd:19"));
        assertEquals("zstd:1", Compression.parse("zstd:1").toString());
        assertEquals("zstd level must be 1 to 19, not 20", assertThrows(IllegalArgumentException.class, () -> Compression.parse("zstd:20")).getMessage());
        assertEquals("zstd level must be 1 to 19, not 0", assertThrows(IllegalArgumentException.class, () -> Compression.parse("zstd:0")).getMessage());
        assertEquals("zstd level must be a number from 1 to 19, not \"fast\"", assertThrows(IllegalArgumentException.class, () -> Compression.parse("zstd:fast")).getMessage());
        assertEquals("unknown compression \"gzip\": use zstd[:LEVEL] (1-19), lz4 or none",
                assertThrows(IllegalArgumentException.class, () -> Compression.parse("gzip")).getMessage());
    }

    @Test
    void zstdAndLz4RoundTripAndShrinkTextLikeData() {
        byte[] raw = textLike(1 << 20, 1);
        for (Compression c : new Compression[] {Compression.zstd(1), Compression.zstd(3), Compression.zstd(19), Compression.LZ4}) {
            byte[] dst = new byte[Compressors.bound(c, raw.length) + 5];
            int n = Compressors.compress(c, raw, 0, raw.length, dst, 5);
            assertTrue(n < raw.length * 0.6, c + " stored " + n + " of " + raw.length);
            byte[] back = new byte[raw.length];
            Compressors.decompress(c.algorithm(), dst, 5, n, back, raw.length);
            assertArrayEquals(raw, back, c.toString());
        }
    }

    @Test
    void damagedCompressedDataIsAnErrorNotGarbage() {
        byte[] raw = textLike(100_000, 2);
        for (Compression c : new Compression[] {Compression.zstd(1), Compression.LZ4}) {
            byte[] dst = new byte[Compressors.bound(c, raw.length)];
            int n = Compressors.compress(c, raw, 0, raw.length, dst, 0);
            // a wrong expected length is refused
            CodecException e = assertThrows(CodecException.class, () -> Compressors.decompress(c.algorithm(), dst, 0, n, new byte[raw.length + 10], raw.length + 10));
            assertTrue(e.getMessage().startsWith(c.algorithm().label() + " data is damaged"), e.getMessage());
            // cut short
            assertThrows(CodecException.class, () -> Compressors.decompress(c.algorithm(), dst, 0, n / 2, new byte[raw.length], raw.length));
        }
    }

    private static ChunkCipher cipher(int seed) {
        byte[] k = new byte[32];
        new Random(seed).nextBytes(k);
        return new ChunkCipher(new SecretKeySpec(k, "AES"));
    }

    @Test
    void gcmSealsWithFreshNoncesAndChecksAssociatedData() {
        ChunkCipher c = cipher(1);
        byte[] plain = textLike(5000, 3);
        byte[] aad = "object-1 chunk 0".getBytes(StandardCharsets.US_ASCII);
        byte[] a = new byte[plain.length + ChunkCipher.OVERHEAD];
        byte[] b = new byte[plain.length + ChunkCipher.OVERHEAD];
        assertEquals(plain.length + ChunkCipher.OVERHEAD, c.seal(aad, plain, 0, plain.length, a, 0));
        c.seal(aad, plain, 0, plain.length, b, 0);
        assertNotEquals(Arrays.toString(Arrays.copyOf(a, 12)), Arrays.toString(Arrays.copyOf(b, 12)), "every seal draws a new nonce");
        byte[] out = new byte[plain.length];
        assertEquals(plain.length, c.open(aad, a, 0, a.length, out));
        assertArrayEquals(plain, out);

        byte[] otherAad = "object-1 chunk 1".getBytes(StandardCharsets.US_ASCII);
        assertThrows(CodecException.AuthenticationFailed.class, () -> c.open(otherAad, a, 0, a.length, out));
        byte[] flipped = a.clone();
        flipped[100] ^= 1;
        assertThrows(CodecException.AuthenticationFailed.class, () -> c.open(aad, flipped, 0, flipped.length, out));
        assertThrows(CodecException.AuthenticationFailed.class, () -> cipher(2).open(aad, a, 0, a.length, out));
        assertThrows(CodecException.AuthenticationFailed.class, () -> c.open(aad, a, 0, 20, out));
    }

    @Test
    void keyFileKeysAreCheckedNotStored() {
        byte[] k = new byte[32];
        new Random(5).nextBytes(k);
        Secret.Key key = new Secret.Key(k);
        KeyParams p = KeyParams.create(key, 1000);
        assertEquals("aes-256-gcm", p.cipher());
        assertEquals("key-file", p.keySource());
        assertEquals("none", p.kdf());
        assertNull(p.salt());
        assertEquals(64, p.keyCheck().length());
        assertTrue(!p.toString().contains(java.util.HexFormat.of().formatHex(k)), "the parameters never hold the key");
        assertArrayEquals(k, p.unlock(key).getEncoded());

        byte[] other = k.clone();
        other[0] ^= 1;
        assertEquals("the key does not match the repository's key check",
                assertThrows(KeyParams.WrongSecret.class, () -> p.unlock(new Secret.Key(other))).getMessage());
        assertEquals("the repository is encrypted with a key file, but a passphrase was given",
                assertThrows(KeyParams.WrongSecret.class, () -> p.unlock(new Secret.Passphrase("x".toCharArray(), false))).getMessage());
    }

    @Test
    void passphrasesAreStretchedWithASaltedKdf() {
        Secret.Passphrase pass = new Secret.Passphrase("correct horse".toCharArray(), false);
        KeyParams a = KeyParams.create(pass, 1000);
        KeyParams b = KeyParams.create(pass, 1000);
        assertEquals("pbkdf2-hmac-sha256", a.kdf());
        assertEquals(1000, a.iterations());
        assertNotEquals(a.salt(), b.salt(), "a fresh salt per repository");
        assertNotEquals(a.keyCheck(), b.keyCheck());
        assertArrayEquals(a.unlock(pass).getEncoded(), a.unlock(new Secret.Passphrase("correct horse".toCharArray(), true)).getEncoded());
        assertEquals("the passphrase does not match the repository's key check",
                assertThrows(KeyParams.WrongSecret.class, () -> a.unlock(new Secret.Passphrase("correct horse!".toCharArray(), false))).getMessage());
    }

    @Test
    void keyAndPassphraseFilesAreParsed() {
        String hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        Secret.Key k = Secret.parseKeyFile((hex + "\n").getBytes(StandardCharsets.US_ASCII));
        assertEquals(0x11, k.bytes()[1]);
        assertEquals((byte) 0xff, k.bytes()[31]);
        byte[] raw = new byte[32];
        raw[0] = 9;
        assertEquals(9, Secret.parseKeyFile(raw).bytes()[0]);
        assertEquals("a key file must hold 64 hexadecimal digits (openssl rand -hex 32) or 32 raw bytes; this one has 6 bytes",
                assertThrows(IllegalArgumentException.class, () -> Secret.parseKeyFile("short\n".getBytes(StandardCharsets.US_ASCII))).getMessage());
        assertEquals("s3cret pass", new String(Secret.parsePassphrase("s3cret pass\r\nignored".getBytes(StandardCharsets.UTF_8)).chars()));
        assertEquals("the passphrase is empty", assertThrows(IllegalArgumentException.class, () -> Secret.parsePassphrase("\n".getBytes(StandardCharsets.UTF_8))).getMessage());
        assertEquals("Key[hidden]", k.toString());
    }
}
