package io.strata.innodb;

import io.strata.error.CorruptDataException;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The encryption of the 10.8+ redo log as MariaDB 10.11 writes it with {@code innodb_encrypt_log=ON}
 * (header format word {@code 0xF09F979D}, {@code log_t::FORMAT_ENC_11}; log0crypt.cc
 * {@code log_crypt_write_header()}, {@code log_decrypt_mtr()}, {@code mtr_t::encrypt()}; log0recv.cc
 * {@code log_parse_start()}). Learned from the 10.11 source and checked byte by byte against logs
 * written by MariaDB 10.11.19.
 *
 * <p>Header block, bytes 48..75 (the rest of the block up to the checksum at 508 stays zero):
 * <pre>
 * off size field        note
 *  48    4 key_id       always 1: the redo log is encrypted with key id 1 of the key management plugin
 *  52    4 key_version  the plugin's version of key 1 when the log file was created
 *  56   16 message      random bytes; the log key is AES-ECB-encrypt(master key 1 at key_version, message)
 *  72    4 nonce        random bytes; used by temporary files and the older FORMAT_ENC_10_8, not by mtrs
 * </pre>
 * Mini-transaction ({@link MtrParser} frames it):
 * <pre>
 * mtr    := record+ term nonce[8] crc32c[4]
 * record := hdr [varint len] body      hdr and len are plain text (they frame the log without a key);
 *                                      body (space id, page number, payload; for file records the
 *                                      name, for FILE_CHECKPOINT the LSN) is encrypted
 * nonce  := 8 bytes, big-endian; the server puts its flushed LSN at the moment it encrypted the mtr,
 *           so it is unique per mtr, but a reader treats it as opaque
 * crc    := CRC-32C over the record bytes as stored (encrypted), continued over the 8 nonce bytes;
 *           the term byte is not covered (so it can be rewritten as for a plain log)
 * </pre>
 * The bodies of all records of an mtr, concatenated in order, form one cipher stream under the log
 * key with the IV {@code nonce[8] || hdr and len bytes of the FIRST record || zeros} (16 bytes).
 * The cipher is the key management plugin's: for file_key_management
 * {@code file_key_management_encryption_algorithm} AES_CBC (the default) or AES_CTR. With AES_CBC
 * the whole 16-byte blocks of the stream are plain CBC without padding and the last partial block
 * (stream length mod 16 bytes) is XORed with AES-ECB-encrypt(log key, IV), as MariaDB's
 * {@code my_aes} "nopad" mode does; with AES_CTR the stream is AES-CTR with a 128-bit big-endian counter.
 * Nothing in an mtr depends on its LSN or file offset, so encrypted mtrs can be copied into a new
 * log at the same LSNs unchanged, given a header that carries the same bytes 48..75.
 */
public final class LogCrypt {
    /** Header offset of key_id. */
    public static final int HEADER_OFFSET = 48;
    /** Bytes of crypt info in the header: key id, key version, message, nonce. */
    public static final int HEADER_SIZE = 4 + 4 + 16 + 4;
    /** Bytes between an encrypted mtr's term byte and its CRC. */
    public static final int NONCE_SIZE = 8;
    /** The key id every encrypted redo log uses (LOG_DEFAULT_ENCRYPTION_KEY). */
    public static final int LOG_KEY_ID = 1;

    /** The cipher modes of the key management plugin. */
    public enum Mode { CBC, CTR }

    /** Crypt info of a header: key id, key version, message (16 bytes) and header nonce (4 bytes). Not secret. */
    public record Info(int keyId, int keyVersion, byte[] message, byte[] nonce) {
        /** The 28 header bytes 48..75 as lowercase hex (what a manifest records). */
        public String toHex() {
            return HexFormat.of().formatHex(bytes());
        }

        /** The 28 header bytes 48..75. */
        public byte[] bytes() {
            byte[] b = new byte[HEADER_SIZE];
            Be.put32(b, 0, keyId);
            Be.put32(b, 4, keyVersion);
            System.arraycopy(message, 0, b, 8, 16);
            System.arraycopy(nonce, 0, b, 24, 4);
            return b;
        }

        /**
         * Parses the 28 bytes written by {@link #toHex}.
         *
         * @throws IllegalArgumentException when the text is not 56 hex digits
         */
        public static Info ofHex(String hex) {
            byte[] b = HexFormat.of().parseHex(hex);
            if (b.length != HEADER_SIZE) {
                throw new IllegalArgumentException("redo log crypt info must be " + HEADER_SIZE + " bytes, not " + b.length);
            }
            return of(b, 0);
        }

        static Info of(byte[] b, int off) {
            return new Info(Be.i32(b, off), Be.i32(b, off + 4), Arrays.copyOfRange(b, off + 8, off + 24),
                    Arrays.copyOfRange(b, off + 24, off + 28));
        }
    }

    private final SecretKeySpec key;
    private final Mode mode;
    private final Cipher stream;
    private final Cipher ecb;
    private final byte[] iv = new byte[16];
    private byte[] body = new byte[1024];

    /**
     * Frames encrypted mtrs (nonce, CRC over records and nonce) without decrypting them: {@link MtrParser}
     * then checks sequence bytes and checksums only, and reports no records (for readers without the key).
     */
    public static final LogCrypt FRAME_ONLY = new LogCrypt();

    private LogCrypt() {
        this.key = null;
        this.mode = null;
        this.stream = null;
        this.ecb = null;
    }

    private LogCrypt(byte[] logKey, Mode mode) {
        this.key = new SecretKeySpec(logKey, "AES");
        this.mode = mode;
        try {
            this.stream = Cipher.getInstance(mode == Mode.CBC ? "AES/CBC/NoPadding" : "AES/CTR/NoPadding");
            this.ecb = Cipher.getInstance("AES/ECB/NoPadding");
            ecb.init(Cipher.ENCRYPT_MODE, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES is not available in this Java runtime: " + e, e);
        }
    }

    /**
     * The crypt info of a FORMAT_ENC_11 header block.
     *
     * @throws CorruptDataException when key_id is not 1 (the server refuses such a log too)
     */
    public static Info headerInfo(byte[] first512) {
        Info i = Info.of(first512, HEADER_OFFSET);
        if (i.keyId() != LOG_KEY_ID) {
            throw new CorruptDataException("encrypted redo log header names key id " + Integer.toUnsignedLong(i.keyId())
                    + " at offset 48, not 1", "the header of ib_logfile0 is damaged");
        }
        return i;
    }

    /**
     * A decryptor for the mtrs of a log with crypt info {@code info}.
     *
     * @param masterKey key 1 at {@code info.keyVersion()} from the key management plugin (16, 24 or 32 bytes);
     *                  only the derived log key is kept
     * @param mode      the plugin's cipher mode
     */
    public static LogCrypt of(Info info, byte[] masterKey, Mode mode) {
        try {
            Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(masterKey, "AES"));
            byte[] logKey = c.doFinal(info.message());
            LogCrypt lc = new LogCrypt(logKey, mode);
            Arrays.fill(logKey, (byte) 0);
            return lc;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot derive the redo log key from a " + masterKey.length + "-byte key: " + e.getMessage(), e);
        }
    }

    public Mode mode() { return mode; }

    /** Whether this decryptor has a key (it is not {@link #FRAME_ONLY}). */
    public boolean canDecrypt() { return key != null; }

    /**
     * Decrypts the record bodies of one framed mtr in place: {@code buf[start, term)} are its records
     * (stored form), {@code nonce[nonceOff, nonceOff+8)} its nonce. Record headers and lengths are left as they are.
     * The records must frame exactly to {@code term} (the caller framed them).
     */
    public void decryptMtr(byte[] buf, int start, int term, byte[] nonce, int nonceOff) {
        if (key == null) throw new IllegalStateException("no key to decrypt the redo log with");
        // 1. gather the bodies
        int n = 0;
        int firstBodyAt = -1;
        int p = start;
        while (p < term) {
            int[] hl = headerAndLength(buf, p);
            int bodyAt = p + hl[0];
            if (firstBodyAt < 0) firstBodyAt = bodyAt;
            if (n + hl[1] > body.length) body = Arrays.copyOf(body, Math.max(body.length * 2, n + hl[1]));
            System.arraycopy(buf, bodyAt, body, n, hl[1]);
            n += hl[1];
            p = bodyAt + hl[1];
        }
        // 2. the IV: nonce, then the first record's header and length bytes
        Arrays.fill(iv, (byte) 0);
        System.arraycopy(nonce, nonceOff, iv, 0, NONCE_SIZE);
        System.arraycopy(buf, start, iv, 8, Math.min(8, firstBodyAt - start));
        try {
            if (mode == Mode.CTR) {
                stream.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(iv));
                stream.doFinal(body, 0, n, body, 0);
            } else {
                int whole = n & ~15;
                if (whole > 0) {
                    stream.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(iv));
                    stream.doFinal(body, 0, whole, body, 0);
                }
                if (whole < n) {
                    byte[] mask = ecb.doFinal(iv);
                    for (int i = whole; i < n; i++) body[i] ^= mask[i - whole];
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES failed: " + e, e);
        }
        // 3. scatter
        n = 0;
        p = start;
        while (p < term) {
            int[] hl = headerAndLength(buf, p);
            System.arraycopy(body, n, buf, p + hl[0], hl[1]);
            n += hl[1];
            p += hl[0] + hl[1];
        }
    }

    /** {bytes of hdr and len, bytes of body} of the record at {@code p}. */
    private static int[] headerAndLength(byte[] buf, int p) {
        int rlen = buf[p] & 0x0F;
        if (rlen != 0) return new int[] {1, rlen};
        int lenLen = Varint.length(buf[p + 1]);
        return new int[] {1 + lenLen, (int) Varint.decode(buf, p + 1) + 15 - lenLen};
    }
}
