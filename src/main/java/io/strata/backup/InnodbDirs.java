package io.strata.backup;

import io.strata.repo.InnodbLayout;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The directories of InnoDB's own files on the source: {@code innodb_data_home_dir} (the system
 * tablespace files), {@code innodb_log_group_home_dir} ({@code ib_logfile0}) and
 * {@code innodb_undo_directory} (the undo tablespaces), each the data directory, a sub-folder of it
 * or a directory elsewhere. The backup records them in the manifest ({@link InnodbLayout}) so that
 * restore can recreate the layout and give recovery the same options.
 */
final class InnodbDirs {
    private InnodbDirs() {}

    /**
     * The layout to record: the options as the server reports them (SELECT @@...; NULL read as "")
     * and as {@code facts} resolved them against the data directory.
     */
    static InnodbLayout read(ServerSession s, ServerFacts facts) {
        Map<String, String> v = s.queryRows("SELECT @@innodb_data_home_dir AS data_home_dir, @@innodb_log_group_home_dir AS log_dir,"
                + " @@innodb_undo_directory AS undo_dir").get(0);
        return new InnodbLayout(orEmpty(v.get("data_home_dir")), orEmpty(v.get("log_dir")), orEmpty(v.get("undo_dir")),
                facts.dataHomeDir().toString(), facts.logDir().toString(), facts.undoDir().toString());
    }

    /** The three directories, absolute (some may be the data directory or equal to each other). */
    static List<Path> of(ServerFacts facts) {
        return List.of(facts.dataHomeDir(), facts.logDir(), facts.undoDir());
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
