package io.strata.repo;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.strata.util.FileModes;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The history a data directory belongs to (design rule 9; docs/repository-format.md "Lineage").
 * Restore writes it as the file {@value #FILE_NAME} into the root of the directory it produces;
 * backup, track and the binlog archiver read it from the server's data directory, and every
 * manifest, tracking {@code lineage} object and archive timeline records it. A data directory
 * without the file has the <em>origin</em> lineage (never restored by strata), which is null
 * wherever a lineage is stored.
 *
 * <pre>
 * { "format" : "strata-lineage", "version" : 1, "lineage" : 32 hex digits (128 random bits),
 *   "restoredFrom" : backup id, "repository" : as the restore named it, "pitrTarget" : "until=…" or null,
 *   "restored" : ISO-8601 UTC }
 * </pre>
 * The file is JSON without the object frame (it lives in a data directory, not in a repository).
 * A file that cannot be read as version 1 of this format is an unreadable mark: its lineage is
 * {@code unreadable-XXXXXXXX} (CRC-32C of its bytes), which no other history carries.
 *
 * @param format       {@value #FORMAT}; null for an unreadable mark
 * @param version      {@value #VERSION}; 0 for an unreadable mark
 * @param lineage      the history's id, never null
 * @param restoredFrom the backup id restored; null for an unreadable mark
 * @param repository   the repository the restore read, for messages; may be null
 * @param pitrTarget   the point-in-time target of the restore, or null
 * @param restored     when the restore wrote the file (ISO-8601 UTC); null for an unreadable mark
 */
public record Lineage(String format, int version, String lineage, String restoredFrom, String repository, String pitrTarget, String restored) {
    /** The file's name in the data directory root. mariadbd ignores regular files there; backups never copy it. */
    public static final String FILE_NAME = "strata-lineage";
    public static final String FORMAT = "strata-lineage";
    public static final int VERSION = 1;
    /** How an origin lineage (null) is shown. */
    public static final String ORIGIN = "origin";
    private static final String UNREADABLE = "unreadable-";
    private static final SecureRandom RANDOM = new SecureRandom();

    public Lineage {
        Objects.requireNonNull(lineage, "lineage");
    }

    /** A new lineage for a directory restored now from {@code backupId} of {@code repository}. */
    public static Lineage restored(String backupId, String repository, String pitrTarget) {
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        return new Lineage(FORMAT, VERSION, HexFormat.of().formatHex(id), backupId, repository, pitrTarget, Instant.now().toString());
    }

    /**
     * Writes {@value #FILE_NAME} into {@code datadir} (mode 0640, replacing one that is there), durably.
     *
     * @throws IOException when it cannot be written
     */
    public void write(Path datadir) throws IOException {
        Path tmp = datadir.resolve(FILE_NAME + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                FileModes.attribute(FileModes.DATADIR_FILE))) {
            ch.write(java.nio.ByteBuffer.wrap(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this)));
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}));
            ch.force(true);
        }
        Files.move(tmp, datadir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The lineage of the data directory {@code datadir}: null (origin) when it holds no
     * {@value #FILE_NAME}; an unreadable mark when the file is there but not a valid one.
     *
     * @throws IOException when the file exists but cannot be read (permissions)
     */
    public static Lineage read(Path datadir) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(datadir.resolve(FILE_NAME));
        } catch (NoSuchFileException e) {
            return null;
        }
        return parse(bytes);
    }

    /**
     * {@link #read}, for the server's data directory.
     *
     * @throws io.strata.error.StrataException datadir-unreadable when the file is there but cannot be read
     */
    public static Lineage ofDatadir(Path datadir) {
        try {
            return read(datadir);
        } catch (IOException e) {
            throw new io.strata.error.StrataException(io.strata.error.ErrorCode.DATADIR_UNREADABLE, "cannot read " + datadir.resolve(FILE_NAME)
                    + ": " + e.getMessage(), "run strata as a user that can read the data directory (root or mysql)", e);
        }
    }

    /** The lineage the bytes of a {@value #FILE_NAME} file say (see {@link #read}); never null. */
    public static Lineage parse(byte[] bytes) {
        try {
            Lineage l = Json.MAPPER.readValue(bytes, Lineage.class);
            if (FORMAT.equals(l.format()) && l.version() == VERSION && l.lineage().matches("[0-9a-f]{32}") && l.restoredFrom() != null) {
                return l;
            }
        } catch (IOException | RuntimeException e) {
            // below: an unreadable mark
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return new Lineage(null, 0, UNREADABLE + String.format(Locale.ROOT, "%08x", crc.getValue()), null, null, null, null);
    }

    /** The id of {@code l}: null for the origin. */
    public static String idOf(Lineage l) {
        return l == null ? null : l.lineage();
    }

    /** Whether {@code a} and {@code b} are the same history (two origins are). */
    public static boolean same(Lineage a, Lineage b) {
        return Objects.equals(idOf(a), idOf(b));
    }

    /** A lineage id as shown: {@value #ORIGIN} for null, else its first 8 hex digits (an unreadable mark in full). */
    public static String shortId(String id) {
        if (id == null) {
            return ORIGIN;
        }
        return id.startsWith(UNREADABLE) ? id : id.substring(0, Math.min(8, id.length()));
    }

    /** {@link #shortId} of {@code l}'s id. */
    public static String shortId(Lineage l) {
        return shortId(idOf(l));
    }

    /** Whether this is an unreadable mark rather than a file restore wrote. */
    @JsonIgnore
    public boolean unreadable() {
        return lineage.startsWith(UNREADABLE);
    }

    /**
     * How a data directory of lineage {@code l} came to be, for messages: "restored by strata from
     * backup X at T (lineage abcd1234)", or "never restored by strata (lineage origin)".
     */
    public static String describe(Lineage l) {
        if (l == null) {
            return "never restored by strata (lineage " + ORIGIN + ")";
        }
        if (l.unreadable()) {
            return "marked by a " + FILE_NAME + " file strata cannot read (lineage " + l.lineage() + ")";
        }
        return "restored by strata from backup " + l.restoredFrom() + (l.pitrTarget() == null ? "" : " to " + l.pitrTarget())
                + " at " + l.restored() + " (lineage " + shortId(l) + ")";
    }
}
