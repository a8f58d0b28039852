package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.FileEntry;
import io.strata.repo.InnodbLayout;
import io.strata.repo.Manifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a restore puts InnoDB's own files: the system tablespace files ({@code innodb_data_home_dir}),
 * {@code ib_logfile0} ({@code innodb_log_group_home_dir}) and the undo tablespaces
 * ({@code innodb_undo_directory}), and the server options that make a server started on the
 * restored directory find them (docs/repository-format.md, {@code innodbLayout} and "Restored layout").
 *
 * <p>By default the source's layout is recreated under the target: a directory that was the data
 * directory is the target, a sub-folder of the source's data directory is the same sub-folder of
 * the target, and a directory outside the source's data directory becomes the target itself (as
 * mariadb-backup's copy-back does when it is given none of these options). A directory named by
 * the user ({@link Dirs}) is used as given.
 *
 * @param target   the restored data directory (absolute, normalized)
 * @param dataHome where the system tablespace files go
 * @param logHome  where {@code ib_logfile0} goes
 * @param undoHome where the undo tablespaces go
 */
public record RestoredLayout(Path target, Path dataHome, Path logHome, Path undoHome) {

    /** The option file written into a target whose layout is not the default one. */
    public static final String OPTION_FILE = "strata-layout.cnf";

    /**
     * The directories the user named ({@code --innodb-data-home-dir}, {@code --innodb-log-group-home-dir},
     * {@code --innodb-undo-directory}); each null to recreate the source's.
     */
    public record Dirs(Path dataHomeDir, Path logGroupHomeDir, Path undoDirectory) {
        /** None named: the source's layout under the target. */
        public static final Dirs NONE = new Dirs(null, null, null);

        boolean any() {
            return dataHomeDir != null || logGroupHomeDir != null || undoDirectory != null;
        }
    }

    /** The layout for restoring backup {@code m} into {@code target} (absolute, normalized); {@code dirs} null for {@link Dirs#NONE}. */
    public static RestoredLayout of(Manifest m, Path target, Dirs dirs) {
        Dirs d = dirs == null ? Dirs.NONE : dirs;
        InnodbLayout l = m.innodbLayout();
        Path srcDatadir = Path.of(m.source().datadir()).toAbsolutePath().normalize();
        return new RestoredLayout(target,
                place(d.dataHomeDir(), l == null ? null : l.dataHome(), srcDatadir, target),
                place(d.logGroupHomeDir(), l == null ? null : l.logHome(), srcDatadir, target),
                place(d.undoDirectory(), l == null ? null : l.undoHome(), srcDatadir, target));
    }

    private static Path place(Path given, String source, Path srcDatadir, Path target) {
        if (given != null) {
            return given.toAbsolutePath().normalize();
        }
        if (source == null) {
            return target;
        }
        Path s = Path.of(source).toAbsolutePath().normalize();
        return s.startsWith(srcDatadir) ? target.resolve(srcDatadir.relativize(s)).normalize() : target;
    }

    /** Whether every directory is the target (nothing to tell the server). */
    public boolean isDefault() {
        return dataHome.equals(target) && logHome.equals(target) && undoHome.equals(target);
    }

    /** MariaDB's default {@code innodb_data_file_path}. */
    private static final String DEFAULT_DATA_FILE_PATH = "ibdata1:12M:autoextend";

    /**
     * Whether a server started on the restored directory needs options besides {@code --datadir}:
     * a layout that is not {@link #isDefault()}, or the source's page size, data file path or undo
     * tablespaces differing from the server's defaults. Then restore prints {@link #startArgs} and
     * writes {@link #OPTION_FILE}.
     */
    public boolean needsOptions(Manifest m) {
        return !isDefault() || !DEFAULT_DATA_FILE_PATH.equals(m.source().dataFilePath()) || m.source().undoTablespaces() > 0
                || m.source().pageSize() != 16384;
    }

    /** The directory {@code fe} is restored into: the target, or the directory of its {@link FileEntry#home()}. */
    Path dirOf(FileEntry fe, Manifest m) {
        if (fe.home() == null) {
            return target;
        }
        return switch (fe.home()) {
            case InnodbLayout.DATA_HOME -> dataHome;
            case InnodbLayout.UNDO_HOME -> undoHome;
            default -> throw new CorruptDataException("manifest of backup " + m.id() + " places " + fe.path() + " in an unknown directory \"" + fe.home() + "\"",
                    "the backup was written by a newer strata, or is damaged: restore it with the strata that took it");
        };
    }

    /** The directories outside the target that the restore writes into, each once. */
    List<Path> outside() {
        Set<Path> out = new LinkedHashSet<>();
        for (Path p : List.of(dataHome, logHome, undoHome)) {
            if (!p.startsWith(target)) {
                out.add(p);
            }
        }
        return new ArrayList<>(out);
    }

    /** The option(s) of the restored server that name {@code dir}, e.g. "innodb_undo_directory", for messages. */
    String optionsOf(Path dir) {
        List<String> o = new ArrayList<>();
        if (dataHome.equals(dir)) {
            o.add("innodb_data_home_dir");
        }
        if (logHome.equals(dir)) {
            o.add("innodb_log_group_home_dir");
        }
        if (undoHome.equals(dir)) {
            o.add("innodb_undo_directory");
        }
        return String.join(" and ", o);
    }

    /**
     * The options that name the directories that are not the target, for mariadbd: recovery runs with
     * them, and so must every later start of the restored server.
     */
    public List<String> directoryArgs() {
        List<String> a = new ArrayList<>();
        if (!dataHome.equals(target)) {
            a.add("--innodb-data-home-dir=" + dataHome);
        }
        if (!logHome.equals(target)) {
            a.add("--innodb-log-group-home-dir=" + logHome);
        }
        if (!undoHome.equals(target)) {
            a.add("--innodb-undo-directory=" + undoHome);
        }
        return a;
    }

    /**
     * Every option the restored server must be started with besides its usual ones: the data
     * directory, {@link #directoryArgs()} and the source's InnoDB file settings that differ from the
     * server's defaults (page size, data file path, undo tablespaces).
     */
    public List<String> startArgs(Manifest m) {
        List<String> a = new ArrayList<>();
        a.add("--datadir=" + target);
        a.addAll(directoryArgs());
        a.add("--innodb-data-file-path=" + m.source().dataFilePath());
        if (m.source().undoTablespaces() > 0) {
            a.add("--innodb-undo-tablespaces=" + m.source().undoTablespaces());
        }
        if (m.source().pageSize() != 16384) {
            a.add("--innodb-page-size=" + m.source().pageSize());
        }
        return a;
    }

    /**
     * Writes {@link #OPTION_FILE} into the target: {@link #startArgs} as one {@code [mariadbd]} group,
     * for {@code mariadbd --defaults-extra-file=}. Only when {@link #needsOptions}.
     */
    void writeOptionFile(Manifest m) {
        StringBuilder sb = new StringBuilder("# written by strata restore of backup ").append(m.id())
                .append(": start the restored server with these options (mariadbd --defaults-extra-file=this file, or copy them into its configuration)\n")
                .append("[mariadbd]\n");
        for (String a : startArgs(m)) {
            sb.append(a.substring(2).replaceFirst("=", " = ")).append('\n');
        }
        Path f = target.resolve(OPTION_FILE);
        try {
            Files.writeString(f, sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write " + f + ": " + e.getMessage(), null, e);
        }
    }
}
