package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.server.ServerSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Facts of the running server that a backup, the binlog archiver and the redo tracker depend on,
 * read once at their start from server variables ({@code @@version}, {@code @@datadir},
 * {@code @@innodb_*}, {@code @@log_bin*}). Paths are absolute and normalized; relative server
 * paths are resolved against the data directory. {@code logFileSize} is in bytes, {@code pageSize}
 * in bytes. {@code lowerCaseTableNames} is {@code @@lower_case_table_names} (0, 1 or 2): how the
 * server names the files of its tables and databases. {@code ariaLogDir} is where the Aria log
 * ({@code aria_log.NNNNNNNN}) and its control file ({@code aria_log_control}) are:
 * {@code @@aria_log_dir_path}, the data directory unless the server was told otherwise.
 */
public record ServerFacts(
        String version,
        String hostname,
        int port,
        int serverId,
        Path datadir,
        int pageSize,
        long logFileSize,
        Path logDir,
        int undoTablespaces,
        Path undoDir,
        String dataFilePath,
        Path dataHomeDir,
        String checksumAlgorithm,
        boolean logBin,
        String logBinBasename,
        int lowerCaseTableNames,
        Path ariaLogDir) {

    /**
     * Reads the facts through {@code s}.
     *
     * @param datadirOverride the data directory to use instead of {@code @@datadir} (--datadir), or null
     * @throws StrataException server-unsupported when the server is not MariaDB;
     *         datadir-unreadable when this user cannot read the data directory
     */
    public static ServerFacts read(ServerSession s, Path datadirOverride) {
        Map<String, String> v = s.queryRows("SELECT @@version AS version, @@hostname AS hostname, @@port AS port, @@server_id AS server_id,"
                + " @@datadir AS datadir, @@innodb_page_size AS page_size, @@innodb_log_file_size AS log_file_size,"
                + " @@innodb_log_group_home_dir AS log_dir, @@innodb_undo_tablespaces AS undo_tablespaces, @@innodb_undo_directory AS undo_dir,"
                + " @@innodb_data_file_path AS data_file_path, @@innodb_data_home_dir AS data_home_dir,"
                + " @@innodb_checksum_algorithm AS checksum_algorithm, @@log_bin AS log_bin, @@log_bin_basename AS log_bin_basename,"
                + " @@lower_case_table_names AS lower_case_table_names, @@aria_log_dir_path AS aria_log_dir").get(0);
        String version = v.get("version");
        checkVersion(version);
        Path datadir = datadirOverride != null ? datadirOverride.toAbsolutePath().normalize() : Path.of(v.get("datadir")).toAbsolutePath().normalize();
        if (!Files.isDirectory(datadir) || !Files.isReadable(datadir) || !Files.isExecutable(datadir)) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "the data directory " + datadir + " is not readable by this user ("
                    + System.getProperty("user.name") + ")",
                    "run strata on the database host as a user that can read the data directory (root or mysql), or point --datadir to it");
        }
        return new ServerFacts(version, v.get("hostname"), Integer.parseInt(v.get("port")), Integer.parseInt(v.get("server_id")), datadir,
                Integer.parseInt(v.get("page_size")), Long.parseLong(v.get("log_file_size")),
                resolve(datadir, v.get("log_dir")), Integer.parseInt(v.get("undo_tablespaces")), resolve(datadir, v.get("undo_dir")),
                v.get("data_file_path"), resolve(datadir, v.get("data_home_dir")), v.get("checksum_algorithm"),
                "1".equals(v.get("log_bin")) || "ON".equalsIgnoreCase(v.get("log_bin")), v.get("log_bin_basename"),
                Integer.parseInt(v.get("lower_case_table_names")), ariaLogDir(datadir, v.get("datadir"), v.get("aria_log_dir")));
    }

    /**
     * {@code @@aria_log_dir_path} as this process sees it: the data directory (also a --datadir
     * given instead of {@code @@datadir}) when the server's value names its data directory,
     * which is its default; else the value, resolved against the data directory when relative.
     */
    static Path ariaLogDir(Path datadir, String serverDatadir, String ariaLogDirPath) {
        if (ariaLogDirPath == null || ariaLogDirPath.isEmpty()) {
            return datadir;
        }
        Path server = serverDatadir == null ? null : Path.of(serverDatadir).toAbsolutePath().normalize();
        Path x = Path.of(ariaLogDirPath);
        if (x.isAbsolute() && x.normalize().equals(server)) {
            return datadir;
        }
        return resolve(datadir, ariaLogDirPath);
    }

    /** Relative server paths are relative to the data directory. */
    private static Path resolve(Path datadir, String p) {
        if (p == null || p.isEmpty()) {
            return datadir;
        }
        Path x = Path.of(p);
        return (x.isAbsolute() ? x : datadir.resolve(x)).normalize();
    }

    /**
     * Refuses a server that is not MariaDB. Which MariaDB versions strata can back up is decided by
     * the redo log found on disk (RedoLayout, in the redo package), not here: 10.8 and later write
     * the one format strata reads (10.11, 11.4 and 11.8 are the supported releases).
     */
    static void checkVersion(String version) {
        if (version == null || !version.contains("MariaDB")) {
            throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the server is not MariaDB (version " + version + ")",
                    "strata backs up MariaDB 10.11, 11.4 and 11.8; use XtraBackup or MySQL Enterprise Backup for MySQL");
        }
    }

    /** How the repository names this server: {@code host:port:datadir}, as in manifests' source. */
    public String serverKey() {
        return hostname + ":" + port + ":" + datadir;
    }

    /**
     * The files of the system tablespace, in the order {@code innodb_data_file_path} names them,
     * resolved against {@code innodb_data_home_dir}: only the first begins with page 0; InnoDB
     * numbers the pages of each later file on from the earlier files' pages.
     */
    public List<Path> systemFiles() {
        List<Path> out = new ArrayList<>();
        for (String part : dataFilePath.split(";")) {
            out.add(dataHomeDir.resolve(part.split(":")[0]).normalize());
        }
        return out;
    }
}
