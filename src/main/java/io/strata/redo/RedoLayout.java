package io.strata.redo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.LogHeader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides, from what is on disk and not from the server's version number, whether strata can read
 * a running server's redo log. strata reads one layout: a single circular {@code ib_logfile0} in
 * {@code innodb_log_group_home_dir} whose first 4 bytes (big-endian) are the format word
 * {@code 0x50687973} ("Phys", the format MariaDB 10.8 introduced and 10.11, 11.4 and 11.8 still
 * write; log0log.h {@code log_t::FORMAT_10_8}). What it refuses, each with its own reason:
 * <ul>
 *   <li>no {@code ib_logfile0} but {@code ib_<LSN>.log} files: the archived, non-circular layout
 *       of {@code innodb_log_archive=ON} (MDEV-37949, after 11.8);</li>
 *   <li>format word {@code 0x50485953} ("PHYS", 512-byte log blocks) with or without bit 31: the
 *       format of MariaDB 10.5 to 10.7;</li>
 *   <li>format words 0, 1, 103 and 104 (with or without bit 31): MariaDB 10.4 and older, MySQL;</li>
 *   <li>any other word: a format strata does not know (a newer server).</li>
 * </ul>
 * An encrypted log ({@code 0xF09F979D}, MariaDB 10.11+) is accepted here; its readers get its key
 * ({@link RedoKeys}), which refuses what it cannot read ("Phys" with crypt info at offset 48, written by
 * 10.8 to 10.10, among others).
 */
public final class RedoLayout {
    /** The pre-10.8 format word ("PHYS"), written by MariaDB 10.5 to 10.7 (bit 31 set when encrypted). */
    static final int FORMAT_10_5 = 0x50485953;

    private RedoLayout() {
    }

    /**
     * Checks the redo log in {@code logDir} of the server whose {@code @@version} is
     * {@code serverVersion} and returns its {@code ib_logfile0}.
     *
     * @throws StrataException server-unsupported naming what was found (see the class comment);
     *         datadir-unreadable when the directory or file cannot be read
     */
    public static Path require(Path logDir, String serverVersion) {
        Path file = logDir.resolve("ib_logfile0");
        if (!Files.exists(file)) {
            List<String> archived = archivedFiles(logDir);
            if (!archived.isEmpty()) {
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "MariaDB " + serverVersion + " keeps its redo log in archived files ("
                        + String.join(", ", archived) + (archived.size() == 3 ? ", ..." : "") + " in " + logDir
                        + ", innodb_log_archive=ON) instead of a circular ib_logfile0; strata does not read that layout yet",
                        "start the server with innodb_log_archive=OFF, or back it up with mariadb-backup of the same version");
            }
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "the redo log " + file + " does not exist",
                    "point --datadir at the server's data directory, or check innodb_log_group_home_dir");
        }
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) < 4) {
                throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + file + " is shorter than its 4-byte format word",
                        "the server has not finished creating it; try again after the server has started");
            }
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the redo log " + file + ": " + e.getMessage(),
                    "strata must run on the database host as a user that can read the data directory (--datadir)", e);
        }
        int format = java.nio.ByteBuffer.wrap(head).getInt();
        if (format == LogHeader.FORMAT_10_8 || format == LogHeader.FORMAT_ENC_11) {
            return file;
        }
        int plain = format & 0x7fffffff;
        String word = String.format("format word 0x%08x", format);
        if (plain == FORMAT_10_5) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "MariaDB " + serverVersion + " writes its redo log " + file
                    + " in the format of MariaDB 10.5 to 10.7 (" + word + " \"PHYS\", 512-byte log blocks); strata reads the format of MariaDB 10.8 and later",
                    "back up this server with mariadb-backup of its own version, or upgrade it to MariaDB 10.11 or 11.8 (10.6 is out of support since July 2026)");
        }
        if (plain == 0 || plain == 1 || plain == 103 || plain == 104) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + file + " is in the format of MariaDB 10.4 or older ("
                    + word + "); strata reads the format of MariaDB 10.8 and later",
                    "back up this server with mariadb-backup of its own version, or upgrade it to MariaDB 10.11 or 11.8");
        }
        throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + file + " of MariaDB " + serverVersion + " has a " + word
                + " that strata does not know; strata reads the format of MariaDB 10.8 to 11.8 (0x50687973 \"Phys\")",
                "back up this server with mariadb-backup of the same version, or with a strata release that supports it");
    }

    /** Up to three {@code ib_<digits>.log} files in {@code dir}, sorted by name. */
    private static List<String> archivedFiles(Path dir) {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "ib_*.log")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.matches("ib_[0-9]+\\.log")) {
                    found.add(n);
                }
            }
        } catch (IOException e) {
            return found;
        }
        found.sort(null);
        return found.size() > 3 ? found.subList(0, 3) : found;
    }
}
