package io.strata.backup;

import java.nio.file.Path;

/**
 * An InnoDB data file found in the data directory.
 *
 * @param path    datadir-relative path, '/' separated (as stored in the manifest); relative to the
 *                directory of {@code home} when that is set
 * @param filePath absolute path of the file, as {@link #file()} gives it: kept as a string, about a
 *                third of the heap of a {@link Path} whose string form was asked for (100,000 of
 *                these at 100,000 tables)
 * @param spaceId from page 0, or from INNODB_SYS_TABLESPACES when page 0 is still all zero
 * @param flags   FSP_SPACE_FLAGS, same sources
 * @param name    the server's name for it ("db/table", "innodb_system", "innodb_undo001"), for messages
 * @param home    null for a file whose path is datadir-relative; else the option whose directory holds it
 *                ({@link io.strata.repo.InnodbLayout#DATA_HOME}, {@link io.strata.repo.InnodbLayout#UNDO_HOME}), as the manifest's {@code home}
 * @param location absolute path of a DATA DIRECTORY tablespace (= {@code file}, as its .isl names it); null for files in the data directory
 * @param firstPage the tablespace's page number of the file's first page: 0 but for the second and later
 *                files of a system tablespace of several (innodb_data_file_path ibdata1:12M;ibdata2:...):
 *                InnoDB numbers the system tablespace's pages across its files, so page k of ibdata2 is
 *                page (pages of ibdata1) + k, and FIL_PAGE_OFFSET says so
 */
record Tablespace(String path, String filePath, long spaceId, int flags, String name, String home, String location, long firstPage) {

    /** A tablespace whose file is {@code file} (absolute). */
    Tablespace(String path, Path file, long spaceId, int flags, String name, String home, String location, long firstPage) {
        this(path, file.toString(), spaceId, flags, name, home, location, firstPage);
    }

    /** The file, absolute: a new {@link Path} on each call. */
    Path file() {
        return Path.of(filePath);
    }

    /** A tablespace whose path is relative to the data directory. */
    Tablespace(String path, Path file, long spaceId, int flags, String name) {
        this(path, file, spaceId, flags, name, null, null, 0);
    }

    /** A file whose first page is the tablespace's page 0. */
    Tablespace(String path, Path file, long spaceId, int flags, String name, String home, String location) {
        this(path, file, spaceId, flags, name, home, location, 0);
    }

    /** "`db`.`table`" for user tables, else the server's name. */
    String tableName() {
        int slash = name.indexOf('/');
        if (slash < 0) {
            return name;
        }
        String table = name.substring(slash + 1);
        int part = table.indexOf("#P#");
        if (part >= 0) {
            table = table.substring(0, part);
        }
        return "`" + name.substring(0, slash) + "`.`" + table + "`";
    }
}
