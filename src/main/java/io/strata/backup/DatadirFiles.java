package io.strata.backup;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which files of the data directory a backup copies besides the InnoDB tablespaces, and under
 * which BACKUP STAGE (design.md, "How a hot backup works"). Pure: it judges names, and reads
 * nothing.
 *
 * <ul>
 * <li>In a database directory (one level down): table files by extension, in any case: .frm,
 *     .par, .opt (db.opt), .TRG, .TRN, .isl (the link of a DATA DIRECTORY tablespace), MyISAM .MYD/.MYI, MERGE .MRG, Aria .MAD/.MAI, CSV
 *     .CSV/.CSM, Archive .ARZ/.ARM. Copied under BLOCK_DDL, when no DDL can change them.</li>
 * <li>The server writes the statistics and log tables ({@link #COMMIT_STAGE_TABLES}) even under
 *     BLOCK_DDL: their data files are copied under BLOCK_COMMIT; their .frm under BLOCK_DDL.</li>
 * <li>At the top: the Aria log (aria_log.NNNNNNNN, aria_log_control), copied under BLOCK_COMMIT,
 *     and mysql_upgrade_info (mariadb_upgrade_info from 11.x) and multi-master.info, copied under BLOCK_DDL. Nothing else at the
 *     top (ibdata1, undo tablespaces, ib_logfile0, .pid, .err, ib_buffer_pool ...).</li>
 * <li>The binary log: every file whose absolute path starts with {@code log_bin_basename}
 *     (the numbered files, the .index, and since MariaDB 11.4 the GTID index of each file,
 *     {@code binlog.NNNNNN.idx}, binlog_gtid_index=ON) is skipped wherever it is; point-in-time
 *     recovery archives the binlogs separately.</li>
 * <li>{@code #binlog_cache_files/} (MariaDB 11.7 and later): the server keeps the spill files of
 *     transaction caches ({@code ML_<number>}) in this directory beside the binlogs, so in the
 *     data directory when the binlogs are there. It is no database directory (the server itself
 *     ignores it as one) and nothing in it is copied, whatever the binlog settings.</li>
 * <li>The directories of the system tablespace, the redo log and the undo tablespaces
 *     ({@code innodb_data_home_dir}, {@code innodb_log_group_home_dir}, {@code innodb_undo_directory})
 *     when they are sub-folders of the data directory: nothing in them is copied here (the page
 *     copier stores their tablespaces, the redo copier their log), whatever the names.</li>
 * </ul>
 * InnoDB files (.ibd and the rest) match none of these rules; the tablespaces the page copier
 * stores are also excluded by the caller by path. Files deeper than a database directory are
 * not listed by the caller and so are never judged.
 */
final class DatadirFiles {
    /** When a file is copied. */
    enum When { SKIP, BLOCK_DDL, BLOCK_COMMIT }

    /** Non-InnoDB files a server needs, by extension (MyISAM, Aria, CSV, Archive, MERGE, table metadata). */
    private static final Set<String> TABLE_FILE_EXT = Set.of("frm", "par", "opt", "trg", "trn", "myd", "myi", "mrg", "mad", "mai",
            "csv", "csm", "arz", "arm", "isl");
    private static final Pattern ARIA_LOG = Pattern.compile("aria_log\\.\\d{8}|aria_log_control");

    /** Whether the datadir-relative {@code rel} names the Aria log or its control file at the top of the data directory. */
    static boolean ariaLog(String rel) {
        return rel.indexOf('/') < 0 && ARIA_LOG.matcher(rel).matches();
    }
    /** Written by the server even under BLOCK_DDL: copied under BLOCK_COMMIT. */
    private static final Set<String> COMMIT_STAGE_TABLES = Set.of("mysql/table_stats", "mysql/column_stats", "mysql/index_stats",
            "mysql/general_log", "mysql/slow_log");
    private static final Set<String> TOP_LEVEL_FILES = Set.of("mysql_upgrade_info", "mariadb_upgrade_info", "multi-master.info");
    /** The directory of binlog cache files beside the binlogs (BINLOG_CACHE_DIR in log_cache.cc, MariaDB 11.7+). */
    static final String BINLOG_CACHE_DIR = "#binlog_cache_files";

    private final Path datadir;
    private final String binlogBase;
    /** Absolute sub-folders of the data directory that hold InnoDB's own files; never the data directory itself. */
    private final java.util.List<Path> innodbDirs;

    /**
     * @param datadir        the data directory the relative paths are in
     * @param logBinBasename {@code @@log_bin_basename}, or null when the server writes no binary log
     */
    DatadirFiles(Path datadir, String logBinBasename) {
        this(datadir, logBinBasename, java.util.List.of());
    }

    /**
     * @param innodbDirs the server's data home, log home and undo directories (absolute); those that are
     *                   sub-folders of {@code datadir} are skipped whole, the others are ignored
     */
    DatadirFiles(Path datadir, String logBinBasename, java.util.Collection<Path> innodbDirs) {
        this.datadir = datadir;
        this.binlogBase = logBinBasename == null ? null : Path.of(logBinBasename).toAbsolutePath().normalize().toString();
        Path dd = datadir.toAbsolutePath().normalize();
        this.innodbDirs = innodbDirs.stream().map(p -> p.toAbsolutePath().normalize()).filter(p -> p.startsWith(dd) && !p.equals(dd)).distinct().toList();
        this.datadirAbs = dd.toString();
        this.innodbDirNames = this.innodbDirs.stream().map(Path::toString).toList();
    }

    /** The data directory, absolute and normalized, and {@link #innodbDirs} as strings: {@link #when} compares strings, not paths. */
    private final String datadirAbs;
    private final java.util.List<String> innodbDirNames;

    /**
     * The absolute, normalized path of {@code rel} as a string, built without {@link Path}s (a
     * backup of 5,000 tables asks for 10,000 files twice); null when {@code rel} is absolute or
     * has a "." or ".." name, which {@link Path#normalize} settles.
     */
    private String absolute(String rel) {
        if (rel.isEmpty() || rel.startsWith("/")) {
            return null;
        }
        for (int from = 0; from <= rel.length(); ) {
            int slash = rel.indexOf('/', from);
            int end = slash < 0 ? rel.length() : slash;
            int n = end - from;
            if (n == 0 || (n == 1 && rel.charAt(from) == '.') || (n == 2 && rel.charAt(from) == '.' && rel.charAt(from + 1) == '.')) {
                return null;
            }
            from = end + 1;
        }
        return datadirAbs.endsWith("/") ? datadirAbs + rel : datadirAbs + "/" + rel;
    }

    /**
     * When the file at {@code rel} is copied.
     *
     * @param rel a path relative to the data directory, '/'-separated, of one or two names ("db/t.frm", "aria_log_control")
     */
    When when(String rel) {
        String absName = binlogBase != null || !innodbDirs.isEmpty() ? absolute(rel) : null;
        if (binlogBase != null && (absName != null ? absName : datadir.resolve(rel).toAbsolutePath().normalize().toString()).startsWith(binlogBase)) {
            return When.SKIP;
        }
        if (rel.startsWith(BINLOG_CACHE_DIR + "/")) {
            return When.SKIP;
        }
        if (!innodbDirs.isEmpty()) {
            if (absName != null) {
                for (String d : innodbDirNames) {
                    if (absName.startsWith(d) && (absName.length() == d.length() || absName.charAt(d.length()) == '/' || d.endsWith("/"))) {
                        return When.SKIP;
                    }
                }
            } else {
                Path abs = datadir.resolve(rel).toAbsolutePath().normalize();
                if (innodbDirs.stream().anyMatch(abs::startsWith)) {
                    return When.SKIP;
                }
            }
        }
        String name = rel.substring(rel.lastIndexOf('/') + 1);
        boolean topLevel = !rel.contains("/");
        boolean aria = topLevel && ARIA_LOG.matcher(name).matches();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        boolean tableFile = !topLevel && (TABLE_FILE_EXT.contains(ext) || name.equals("db.opt"));
        if (!aria && !tableFile && !(topLevel && TOP_LEVEL_FILES.contains(name))) {
            return When.SKIP;
        }
        String table = dot < 0 ? rel : rel.substring(0, rel.lastIndexOf('.'));
        boolean late = aria || (COMMIT_STAGE_TABLES.contains(table) && !ext.equals("frm"));
        return late ? When.BLOCK_COMMIT : When.BLOCK_DDL;
    }
}
