package io.strata.repo;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.nio.file.Path;

/**
 * Where the source kept its InnoDB system tablespace, redo log and undo tablespaces: the manifest's
 * {@code innodbLayout} (docs/repository-format.md, "Manifest field reference"). The first three
 * components are the server variables as reported ({@code @@innodb_data_home_dir},
 * {@code @@innodb_log_group_home_dir}, {@code @@innodb_undo_directory}; "" when the server reports
 * NULL), the last three the same resolved to absolute, normalized paths (relative values are
 * relative to the data directory, as the server reads them; empty means the data directory).
 */
public record InnodbLayout(
        String dataHomeDir,
        String logGroupHomeDir,
        String undoDirectory,
        String dataHome,
        String logHome,
        String undoHome) {

    /** {@link FileEntry#home()} of a system tablespace file kept in {@link #dataHome()}. */
    public static final String DATA_HOME = "innodb_data_home_dir";
    /** {@link FileEntry#home()} of an undo tablespace file kept in {@link #undoHome()}. */
    public static final String UNDO_HOME = "innodb_undo_directory";

    /** Whether every directory is the data directory {@code datadir} itself (the default layout). */
    @JsonIgnore
    public boolean isDefault(Path datadir) {
        Path d = datadir.toAbsolutePath().normalize();
        return d.equals(Path.of(dataHome)) && d.equals(Path.of(logHome)) && d.equals(Path.of(undoHome));
    }
}
