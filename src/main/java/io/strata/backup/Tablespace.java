package io.strata.backup;

import java.nio.file.Path;

/**
 * An InnoDB data file found in the data directory. Its parts, as given to the constructor:
 *
 * @param path    datadir-relative path, '/' separated (as stored in the manifest); relative to the
 *                directory of {@code home} when that is set
 * @param file    absolute path of the file ({@link #file()}, {@link #filePath()})
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
final class Tablespace {
    private final String path;
    /** The directory of the file with a trailing '/', when the file is that directory's {@link #path}; one string shared by all. */
    private final String fileDir;
    /** The file, absolute, when it is not {@link #fileDir} + {@link #path} (a DATA DIRECTORY tablespace's). */
    private final String fileOther;
    private final long spaceId;
    private final int flags;
    /** Null when it is {@link #path} without ".ibd" (most tables): no string of its own per table. */
    private final String nameOther;
    private final String home;
    private final String location;
    private final long firstPage;

    /** The directory prefixes {@link #fileDir} holds, one string each: a data directory, its data home and undo directory. */
    private static final java.util.Map<String, String> DIRS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A tablespace whose file is {@code file} (absolute). Kept compact, as a backup of 100,000
     * tables holds 100,000 of these: the file as a shared directory string and the path, the name
     * only when it is not the path's.
     */
    Tablespace(String path, Path file, long spaceId, int flags, String name, String home, String location, long firstPage) {
        this.path = path;
        String f = file.toString();
        String dir = f.length() > path.length() && f.endsWith(path) && f.charAt(f.length() - path.length() - 1) == '/'
                ? f.substring(0, f.length() - path.length()) : null;
        if (dir != null) { // at most 64 prefixes kept: past that, one not kept is stored whole in fileOther
            dir = DIRS.size() < 64 ? DIRS.computeIfAbsent(dir, d -> d) : DIRS.get(dir);
        }
        this.fileDir = dir;
        this.fileOther = dir == null ? f : null;
        this.spaceId = spaceId;
        this.flags = flags;
        this.nameOther = name != null && name.equals(TablespaceScanner.withoutIbd(path)) ? null : name;
        this.home = home;
        this.location = location;
        this.firstPage = firstPage;
    }

    /** A tablespace whose path is relative to the data directory. */
    Tablespace(String path, Path file, long spaceId, int flags, String name) {
        this(path, file, spaceId, flags, name, null, null, 0);
    }

    /** A file whose first page is the tablespace's page 0. */
    Tablespace(String path, Path file, long spaceId, int flags, String name, String home, String location) {
        this(path, file, spaceId, flags, name, home, location, 0);
    }

    String path() { return path; }

    /** The file, absolute: a new {@link Path} on each call. */
    Path file() {
        return Path.of(filePath());
    }

    /** {@link #file()} as a string. */
    String filePath() {
        return fileDir != null ? fileDir + path : fileOther;
    }

    long spaceId() { return spaceId; }

    int flags() { return flags; }

    String name() { return nameOther != null ? nameOther : TablespaceScanner.withoutIbd(path); }

    String home() { return home; }

    String location() { return location; }

    long firstPage() { return firstPage; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tablespace t && path.equals(t.path) && filePath().equals(t.filePath()) && spaceId == t.spaceId && flags == t.flags
                && name().equals(t.name()) && java.util.Objects.equals(home, t.home) && java.util.Objects.equals(location, t.location) && firstPage == t.firstPage;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(path, filePath(), spaceId, flags, name(), home, location, firstPage);
    }

    @Override
    public String toString() {
        return "Tablespace[path=" + path + ", file=" + filePath() + ", spaceId=" + spaceId + ", flags=" + flags + ", name=" + name()
                + ", home=" + home + ", location=" + location + ", firstPage=" + firstPage + "]";
    }

    /** "`db`.`table`" for user tables, else the server's name. */
    String tableName() {
        String name = name();
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
