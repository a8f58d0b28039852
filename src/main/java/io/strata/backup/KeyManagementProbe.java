package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.FspHeader;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.FileEntry;
import io.strata.repo.KeyManagement;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Finds out whether a backup holds server-encrypted InnoDB data and records the key management
 * the server runs with ({@link KeyManagement}, manifest field {@code keyManagement}).
 *
 * <p>Whether a tablespace is encrypted is decided from what the server knows, not only from page 0:
 * a table created with {@code ENCRYPTED=YES} moments before the backup has an all-zero page 0 on
 * disk until its first flush, yet recovery needs its key. A stored tablespace counts as encrypted
 * when any of these says so:
 * <ol>
 *   <li>INFORMATION_SCHEMA.INNODB_TABLESPACES_ENCRYPTION for its space id: ENCRYPTION_SCHEME 1,
 *       a MIN_KEY_VERSION above 0 (pages may still be encrypted while the rotation threads
 *       decrypt it), or a rotation in progress;</li>
 *   <li>the table's {@code ENCRYPTED=YES} option (CREATE_OPTIONS of INFORMATION_SCHEMA.TABLES);</li>
 *   <li>crypt data with scheme 1 on page 0 of the server's file.</li>
 * </ol>
 * Recovery needs the key management when a stored tablespace is encrypted or when
 * {@code innodb_encrypt_tables} (the rotation threads may encrypt any page at any moment) or
 * {@code innodb_encrypt_log} was on when the backup began or when its files were final.
 */
final class KeyManagementProbe {
    private KeyManagementProbe() {}

    /** Files named one by one in {@code reasons}; the rest are counted (all are in {@code encrypted}). */
    private static final int MAX_FILE_REASONS = 5;

    /** The innodb_encrypt_* / innodb_encryption_* variables with their global values, by lower-case name. */
    static Map<String, String> innodbSettings(ServerSession s) {
        Map<String, String> out = new TreeMap<>();
        for (Map<String, String> r : s.queryRows("SELECT VARIABLE_NAME, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES"
                + " WHERE VARIABLE_NAME LIKE 'INNODB_ENCRYPT%'")) {
            // no backslash escape in the pattern (sql_mode NO_BACKSLASH_ESCAPES would change it): '_' matches itself too
            String name = r.get("variable_name").toLowerCase(Locale.ROOT);
            if (name.startsWith("innodb_encrypt")) {
                out.put(name, r.get("global_value"));
            }
        }
        return out;
    }

    /**
     * Reads the key management and decides what in {@code files} is encrypted, once the file set is
     * final (under or after BLOCK_DDL).
     *
     * @param atStart  {@link #innodbSettings} as read when the backup began
     * @param datadir  where the stored InnoDB files are (page 0 is read again from there)
     * @param homes    the directory of each {@link FileEntry#home()} value (innodb_data_home_dir, innodb_undo_directory), resolved
     * @param systemFirstFile the first file of innodb_data_file_path ({@link io.strata.server.ServerFacts#systemFiles()}):
     *                        the one file of space 0 whose page 0 is read
     * @return null when the server has no active ENCRYPTION plugin and nothing needs one
     * @throws StrataException key-management-missing when something is encrypted but no active
     *                         ENCRYPTION plugin is found: such a backup could not be restored
     */
    static KeyManagement read(ServerSession s, Map<String, String> atStart, Path datadir, Map<String, Path> homes, Path systemFirstFile,
                              Collection<FileEntry> files) {
        return read(s, atStart, datadir, homes, systemFirstFile, files, (f, p) -> false);
    }

    /**
     * As {@link #read(ServerSession, Map, Path, Map, Path, Collection)}, without reading page 0 again of
     * the files {@code knownUnencrypted} accepts: unchanged since the parent backup, which found no
     * crypt data there ({@link ParentInnodbFiles#knownUnencrypted}). The server's other evidence
     * (INNODB_TABLESPACES_ENCRYPTION, ENCRYPTED=YES) is still asked of every file.
     */
    static KeyManagement read(ServerSession s, Map<String, String> atStart, Path datadir, Map<String, Path> homes, Path systemFirstFile,
                              Collection<FileEntry> files, java.util.function.BiPredicate<FileEntry, Path> knownUnencrypted) {
        Map<String, String> innodb = innodbSettings(s);
        List<String> reasons = new ArrayList<>();
        for (String when : List.of("began", "ended")) {
            Map<String, String> v = when.equals("began") ? atStart : innodb;
            String tables = v.getOrDefault("innodb_encrypt_tables", "OFF");
            if (!"OFF".equalsIgnoreCase(tables)) {
                reasons.add("innodb_encrypt_tables=" + tables + " when the backup " + when);
            }
            if ("ON".equalsIgnoreCase(v.get("innodb_encrypt_log"))) {
                reasons.add("innodb_encrypt_log=ON when the backup " + when);
            }
        }
        List<KeyManagement.Plugin> plugins = plugins(s);
        Set<String> encrypted = encryptedFiles(s, datadir, homes, systemFirstFile, files, reasons, !plugins.isEmpty(), knownUnencrypted);
        boolean required = !reasons.isEmpty();
        if (required && plugins.isEmpty()) {
            throw new StrataException(ErrorCode.KEY_MANAGEMENT_MISSING, "the server encrypts InnoDB data (" + String.join("; ", reasons)
                    + ") but INFORMATION_SCHEMA.PLUGINS shows no active ENCRYPTION plugin, so the key management cannot be recorded"
                    + " and the backup could not be restored; it is not completed",
                    "check that the backup user can read INFORMATION_SCHEMA.PLUGINS and that the key management plugin is loaded (SHOW PLUGINS)");
        }
        if (!required && plugins.isEmpty()) {
            return null;
        }
        return new KeyManagement(required, reasons, new ArrayList<>(encrypted), plugins, innodb);
    }

    private static List<KeyManagement.Plugin> plugins(ServerSession s) {
        List<KeyManagement.Plugin> out = new ArrayList<>();
        for (Map<String, String> r : s.queryRows("SELECT PLUGIN_NAME, PLUGIN_LIBRARY FROM information_schema.PLUGINS"
                + " WHERE PLUGIN_TYPE = 'ENCRYPTION' AND PLUGIN_STATUS = 'ACTIVE'")) {
            String name = r.get("plugin_name").toLowerCase(Locale.ROOT);
            Map<String, String> vars = new TreeMap<>();
            Set<String> secrets = new TreeSet<>();
            for (Map<String, String> v : s.queryRows("SELECT VARIABLE_NAME, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES"
                    + " WHERE VARIABLE_NAME LIKE '" + name.toUpperCase(Locale.ROOT).replace("'", "") + "%'")) {
                String var = v.get("variable_name").toLowerCase(Locale.ROOT);
                if (!var.startsWith(name + "_")) {
                    continue;
                }
                String value = v.get("global_value");
                if (KeyManagement.isSecret(var, value)) {
                    vars.put(var, null);
                    secrets.add(var);
                } else {
                    vars.put(var, value);
                }
            }
            out.add(new KeyManagement.Plugin(name, r.get("plugin_library"), vars, new ArrayList<>(secrets)));
        }
        return out;
    }

    /**
     * Datadir-relative paths of the stored tablespaces that are encrypted; adds one reason per file.
     *
     * @param tableOptions whether to ask information_schema.TABLES for tables created ENCRYPTED=YES:
     *                     only with an active ENCRYPTION plugin. That query opens every table's
     *                     definition (4 s at 5,000 tables), and without a plugin the server can neither
     *                     create nor open such a table, so the option could only name a file whose
     *                     page 0 carries crypt data, which the page-0 check finds.
     */
    private static Set<String> encryptedFiles(ServerSession s, Path datadir, Map<String, Path> homes, Path systemFirstFile, Collection<FileEntry> files,
                                              List<String> reasons, boolean tableOptions, java.util.function.BiPredicate<FileEntry, Path> knownUnencrypted) {
        Map<Long, String> bySpace = new HashMap<>();
        for (Map<String, String> r : s.queryRows("SELECT SPACE, ENCRYPTION_SCHEME, MIN_KEY_VERSION, ROTATING_OR_FLUSHING"
                + " FROM information_schema.INNODB_TABLESPACES_ENCRYPTION")) {
            if (!"0".equals(r.get("encryption_scheme")) || !"0".equals(r.get("min_key_version")) || "1".equals(r.get("rotating_or_flushing"))) {
                bySpace.put(Long.parseLong(r.get("space")), "INNODB_TABLESPACES_ENCRYPTION scheme " + r.get("encryption_scheme")
                        + ", min key version " + r.get("min_key_version"));
            }
        }
        Set<String> byOption = new HashSet<>();
        for (Map<String, String> r : !tableOptions ? List.<Map<String, String>>of() : s.queryRows("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
                + " WHERE ENGINE = 'InnoDB' AND CREATE_OPTIONS LIKE '%ENCRYPTED=YES%'")) {
            byOption.add(r.get("table_schema") + "/" + r.get("table_name"));
        }
        Set<String> out = new TreeSet<>();
        for (FileEntry f : files) {
            if (!"innodb".equals(f.kind())) {
                continue;
            }
            String why = f.spaceId() == null ? null : bySpace.get(f.spaceId());
            if (why == null && byOption.contains(tableOf(f.path()))) {
                why = "ENCRYPTED=YES";
            }
            Path file = fileOf(datadir, homes, f);
            if (why == null && f.flags() != null && !knownUnencrypted.test(f, file) && cryptDataOnPage0(f, file, systemFirstFile)) {
                why = "crypt data on page 0";
            }
            if (why != null) {
                out.add(f.path());
                if (out.size() <= MAX_FILE_REASONS) {
                    reasons.add(f.path() + " is encrypted (" + why + ")");
                }
            }
        }
        if (out.size() > MAX_FILE_REASONS) {
            reasons.add((out.size() - MAX_FILE_REASONS) + " more encrypted files (see encrypted)");
        }
        return out;
    }

    /** "db/table" of "db/table.ibd" or of a partition "db/table#P#p0.ibd". */
    static String tableOf(String path) {
        String base = path.endsWith(".ibd") ? path.substring(0, path.length() - 4) : path;
        int part = base.toUpperCase(Locale.ROOT).indexOf("#P#");
        return part < 0 ? base : base.substring(0, part);
    }

    /**
     * The source file of {@code f}: its DATA DIRECTORY location, else its path below the directory of its
     * home (system and undo tablespaces kept in their own directories), else below the data directory.
     */
    private static Path fileOf(Path datadir, Map<String, Path> homes, FileEntry f) {
        if (f.location() != null) {
            return Path.of(f.location());
        }
        if (f.home() != null) {
            Path home = homes.get(f.home());
            if (home != null) {
                return home.resolve(f.path());
            }
        }
        return datadir.resolve(f.path());
    }

    /**
     * Whether page 0 of the tablespace of {@code f} (flags known), read from its source
     * {@code file}, carries crypt data with scheme 1. Only the first file of a tablespace begins
     * with page 0: a later file of the system tablespace (space 0, not {@code systemFirstFile})
     * begins with an ordinary page, numbered on from the earlier files' pages, whose bytes where
     * page 0 keeps its FSP flags and crypt data are records that could read as "encrypted"; it is
     * not read (the first file's page 0 speaks for the whole system tablespace).
     */
    static boolean cryptDataOnPage0(FileEntry f, Path file, Path systemFirstFile) {
        if (f.spaceId() != null && f.spaceId() == 0 && !file.toAbsolutePath().normalize().equals(systemFirstFile.toAbsolutePath().normalize())) {
            return false;
        }
        return page0Encrypted(file, new TablespaceFlags(f.flags()));
    }

    private static boolean page0Encrypted(Path file, TablespaceFlags flags) {
        if (!flags.isValid()) {
            return false;
        }
        int ps = flags.physicalPageSize();
        byte[] page0 = new byte[ps];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.read(ByteBuffer.wrap(page0), 0) < ps) {
                return false;
            }
        } catch (IOException e) {
            return false; // dropped or unreadable now: the other two sources decide
        }
        return FspHeader.cryptDataEncrypted(page0, 0, flags);
    }
}
