package io.strata.codec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the user holds to open an encrypted repository: a 256-bit key (from a key file) or a
 * passphrase (stretched by {@link KeyParams}). Never stored, never printed.
 */
public sealed interface Secret {
    /** The kind recorded in the repository, so that a reader can ask for the right one. */
    String kind();

    /** True for a passphrase that only came from the environment. */
    default boolean implicit() { return false; }

    record Key(byte[] bytes) implements Secret {
        public Key {
            if (bytes.length != 32) {
                throw new IllegalArgumentException("a key is 32 bytes");
            }
        }

        @Override
        public String kind() { return KeyParams.KIND_KEY; }

        @Override
        public String toString() { return "Key[hidden]"; }
    }

    /**
     * @param implicit taken from the environment rather than an option: used to open an
     *                 encrypted repository, never to make a new repository encrypted
     */
    record Passphrase(char[] chars, boolean implicit) implements Secret {
        @Override
        public String kind() { return KeyParams.KIND_PASSPHRASE; }

        @Override
        public String toString() { return "Passphrase[hidden]"; }
    }

    /**
     * A key file holds the key as 64 hexadecimal digits (e.g. {@code openssl rand -hex 32}) or as
     * exactly 32 raw bytes; surrounding white space is ignored.
     */
    static Key parseKeyFile(byte[] content) {
        String text = new String(content, StandardCharsets.ISO_8859_1).strip();
        if (text.length() == 64 && text.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
            byte[] key = new byte[32];
            for (int i = 0; i < 32; i++) {
                key[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
            }
            return new Key(key);
        }
        if (content.length == 32) {
            return new Key(Arrays.copyOf(content, 32));
        }
        throw new IllegalArgumentException("a key file must hold 64 hexadecimal digits (openssl rand -hex 32) or 32 raw bytes; this one has "
                + content.length + " bytes");
    }

    /** A passphrase file's first line; it must not be empty. */
    static Passphrase parsePassphrase(byte[] content) {
        String text = new String(content, StandardCharsets.UTF_8);
        int nl = text.indexOf('\n');
        String line = (nl < 0 ? text : text.substring(0, nl)).replace("\r", "");
        if (line.isEmpty()) {
            throw new IllegalArgumentException("the passphrase is empty");
        }
        return new Passphrase(line.toCharArray(), false);
    }
}
