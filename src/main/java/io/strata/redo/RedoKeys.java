package io.strata.redo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.Checkpoint;
import io.strata.innodb.LogCrypt;
import io.strata.innodb.LogGeometry;
import io.strata.innodb.LogHeader;
import io.strata.innodb.MtrParser;
import io.strata.innodb.MtrVisitor;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The key that decrypts an encrypted redo log ({@code innodb_encrypt_log=ON}, {@link LogCrypt}), taken
 * where the server takes it: from the {@code file_key_management} plugin's key file, whose path and
 * cipher the running server reports ({@code @@file_key_management_filename},
 * {@code @@file_key_management_encryption_algorithm}). strata reads the data directory as root or
 * {@code mysql}, so it can read the key file the server reads. Only key 1 (the redo log's) is read and
 * only the derived log key is kept; no key byte is ever logged, stored or put in a message.
 *
 * <p>Key file (file_key_management's parser.cc): lines {@code <id>;<hex key>} with a 32-, 48- or 64-digit
 * key (AES-128/192/256); lines starting with {@code #} and empty lines are ignored; every key is version 1.
 * A key file encrypted with {@code file_key_management_filekey} ("Salted__" OpenSSL format) and other key
 * management plugins (hashicorp, aws) are refused (server-unsupported), naming the plugin.
 */
public final class RedoKeys {
    private RedoKeys() {}

    /**
     * The decryptor for the log whose first 512 bytes are {@code head}, or null when it is not encrypted.
     *
     * @param session a connection to the server that writes the log (a relative key file path is
     *                taken relative to its {@code @@datadir}, the server's working directory)
     * @throws StrataException server-unsupported when the key cannot be had (plugin, encrypted key file,
     *         key 1 missing, key version not 1); datadir-unreadable when the key file cannot be read
     */
    public static LogCrypt forLog(LogHeader header, byte[] head, ServerSession session, Path logFile) {
        if (!header.encrypted()) {
            return null;
        }
        if (header.format() != LogHeader.FORMAT_ENC_11) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + logFile
                    + " is encrypted in the format of MariaDB 10.8 to 10.10 (\"Phys\" with crypt info at offset 48); strata reads the encrypted format of 10.11 and later",
                    "upgrade the server to 10.11 or later (it rewrites the log at start-up), or back it up with mariadb-backup");
        }
        LogCrypt.Info info = LogCrypt.headerInfo(head);
        if (session == null) {
            throw new StrataException(ErrorCode.BUG, "the encrypted redo log " + logFile + " was opened without a server connection", null);
        }
        String plugin = session.queryString(
                "SELECT PLUGIN_NAME FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'ENCRYPTION' AND PLUGIN_STATUS = 'ACTIVE' LIMIT 1");
        if (plugin == null || !plugin.equalsIgnoreCase("file_key_management")) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + logFile + " is encrypted (innodb_encrypt_log=ON) "
                    + (plugin == null ? "but the server reports no active key management plugin" : "with keys of the key management plugin " + plugin)
                    + "; strata reads the keys of file_key_management only",
                    "back up this server with mariadb-backup, or run it with innodb_encrypt_log=OFF");
        }
        String file = session.queryString("SELECT @@file_key_management_filename");
        String algorithm = session.queryString("SELECT @@file_key_management_encryption_algorithm");
        // only whether it is set: its value is a secret
        boolean filekey = "1".equals(session.queryString("SELECT @@file_key_management_filekey <> ''"));
        LogCrypt.Mode mode = switch (algorithm == null ? "" : algorithm.toLowerCase(Locale.ROOT)) {
            case "aes_cbc" -> LogCrypt.Mode.CBC;
            case "aes_ctr" -> LogCrypt.Mode.CTR;
            default -> throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "file_key_management_encryption_algorithm=" + algorithm
                    + " is not one strata reads (AES_CBC, AES_CTR)", "back up this server with mariadb-backup");
        };
        if (info.keyVersion() != 1) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + logFile + " is encrypted with version "
                    + Integer.toUnsignedLong(info.keyVersion()) + " of key 1; file_key_management has only version 1",
                    "check that the server's key management plugin is the one it ran with when it created its redo log");
        }
        if (file == null || file.isEmpty()) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "file_key_management has no key file (file_key_management_filename is empty)",
                    "check the server's configuration");
        }
        Path keyFile = Path.of(file);
        if (!keyFile.isAbsolute()) {
            keyFile = Path.of(session.queryString("SELECT @@datadir")).resolve(file);
        }
        byte[] key = readKey(keyFile, filekey);
        try {
            return LogCrypt.of(info, key, mode);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Bytes read from the checkpoint's end_lsn to find its FILE_CHECKPOINT mtr. */
    static final int CHECK_WINDOW = 1 << 20;

    /**
     * Proves that {@code crypt} decrypts the log: the mini-transactions from the newest checkpoint's
     * end_lsn, which the server made durable before it wrote the checkpoint, must decrypt to records
     * that end in FILE_CHECKPOINT(C). A wrong key, another key file or another cipher mode decrypts them
     * to garbage that fails the record checks; the backup then stops here, before anything is copied,
     * instead of later as a damaged log.
     *
     * @throws StrataException server-unsupported when the key does not decrypt the log
     * @throws IOException     when the file cannot be read
     */
    public static void checkKey(LogCrypt crypt, FileChannel channel, Path logFile, LogGeometry geometry, long fileSize, Checkpoint cp)
            throws IOException {
        int len = (int) Math.min(CHECK_WINDOW, geometry.capacity());
        byte[] buf = new byte[len];
        LiveLog.readCircular(channel, logFile, geometry, fileSize, cp.endLsn(), buf, len);
        long c = cp.checkpointLsn();
        boolean[] found = {false};
        MtrParser.ParseResult r = MtrParser.parse(buf, 0, len, cp.endLsn(), geometry, false, new MtrVisitor() {
            @Override
            public void checkpoint(long lsn) {
                found[0] |= lsn == c;
            }
        }, crypt);
        if (!found[0] && r.stop() == MtrParser.Stop.INVALID) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "key 1 of file_key_management (" + crypt.mode()
                    + ") does not decrypt the redo log " + logFile + ": " + r.reason(),
                    "check that file_key_management_filename and file_key_management_encryption_algorithm are the ones the server created its redo log with");
        }
    }

    /**
     * Key 1 of a file_key_management key file.
     *
     * @param hasFilekey the server decrypts the file with file_key_management_filekey
     */
    static byte[] readKey(Path keyFile, boolean hasFilekey) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(keyFile);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the key file " + keyFile
                    + " of file_key_management (needed to read the encrypted redo log): " + e.getClass().getSimpleName(),
                    "run strata as root or as the server's user (mysql), which can read the key file");
        }
        try {
            if (hasFilekey || startsWith(raw, "Salted__")) {
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the key file " + keyFile
                        + " of file_key_management is encrypted (file_key_management_filekey); strata cannot read the redo log keys from it",
                        "back up this server with mariadb-backup, or keep the key file unencrypted on a protected file system");
            }
            return keyOne(new String(raw, StandardCharsets.US_ASCII), keyFile);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** Key 1 of the key file text; the message never holds key bytes. */
    static byte[] keyOne(String text, Path keyFile) {
        int lineNo = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            int semi = l.indexOf(';');
            if (semi <= 0 || !l.substring(0, semi).strip().equals("1")) continue;
            String hex = l.substring(semi + 1).strip();
            if ((hex.length() != 32 && hex.length() != 48 && hex.length() != 64) || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "key 1 in line " + lineNo + " of the key file " + keyFile
                        + " is not 32, 48 or 64 hex digits", "check the key file; the server could not use it either");
            }
            byte[] key = new byte[hex.length() / 2];
            for (int i = 0; i < key.length; i++) {
                key[i] = (byte) Integer.parseInt(hex, 2 * i, 2 * i + 2, 16);
            }
            return key;
        }
        throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the key file " + keyFile + " of file_key_management has no key 1, the key of the redo log",
                "check that the server reads this key file (file_key_management_filename)");
    }

    private static boolean startsWith(byte[] b, String prefix) {
        byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
        return b.length >= p.length && Arrays.equals(b, 0, p.length, p, 0, p.length);
    }
}
