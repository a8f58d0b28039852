package io.strata.restore;

import io.strata.restore.TableRestore.TableName;
import io.strata.server.ServerSession;
import io.strata.util.Dirs;
import io.strata.util.RunOwner;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code restore --table --import} makes outside its scratch directory, named after the run
 * ({@link RunOwner}) so that a later run can remove what a killed one (kill -9, a crash, a power
 * cut) left:
 * <ul>
 * <li>tables in the running server: {@code strata_new_<owner>_<id>} (the import, renamed to its
 *     destination only after its CHECKSUM TABLE matched), {@code strata_part_<owner>_<id>} (the
 *     twin a partition is imported into), {@code strata_old_<owner>_<id>} (the table
 *     {@code --replace} swapped out, dropped at once after the swap). {@code <id>} is 8 hex digits:
 *     4 random, then the first 4 of the CRC-32C of "strata_&lt;kind&gt;_&lt;owner&gt;_&lt;random&gt;",
 *     so that a user's table that merely looks like one (strata_new_feature_flags_cafe0123) is not
 *     taken for strata's: only names whose check digits match are;</li>
 * <li>files in a database directory: {@code .strata-<owner>-<hex6>.tmp} (a file on its way into
 *     the server's data directory);</li>
 * <li>the scratch directory {@code strata-table-<owner>-<random>} in its parent.</li>
 * </ul>
 * A new run drops the {@code new} and {@code part} tables of dead owners (with the files the server
 * leaves of a table whose tablespace was discarded), removes their temporary files and scratch
 * directories, and keeps a dead owner's {@code old} table (the replaced table's rows: the swap was
 * done, only its removal was not), naming it in a warning.
 */
final class TableLeftovers {
    private static final Pattern WORK = Pattern.compile("strata_(new|old|part)_([0-9a-z]+_[0-9a-z]+)_([0-9a-f]{4})([0-9a-f]{4})");
    private static final Pattern TMP = Pattern.compile("\\.strata-([0-9a-z]+_[0-9a-z]+)-[0-9a-f]{6}\\.tmp");
    private static final Pattern SCRATCH = Pattern.compile("strata-table-([0-9a-z]+_[0-9a-z]+)-.*");
    /** Database names whose directory is their name (no character the server encodes as @NNNN). */
    private static final Pattern PLAIN_DB = Pattern.compile("[A-Za-z0-9_]{1,64}");

    private TableLeftovers() {}

    /** A work table of this run in database {@code db}; {@code kind} is new, old or part. */
    static TableName workName(String db, String kind) {
        String random = hex(2);
        return new TableName(db, "strata_" + kind + "_" + RunOwner.self().tag() + "_" + random + check(kind, RunOwner.self().tag(), random));
    }

    /** The 4 check digits of a work name (see the class comment). */
    static String check(String kind, String tag, String random) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(("strata_" + kind + "_" + tag + "_" + random).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return String.format("%08x", c.getValue()).substring(0, 4);
    }

    /** The dead owner of work table {@code name}; null when it is no work table of strata's or its owner runs. */
    static RunOwner deadOwner(Matcher m) {
        if (!m.matches() || !check(m.group(1), m.group(2), m.group(3)).equals(m.group(4))) {
            return null;
        }
        RunOwner owner = RunOwner.parse(m.group(2));
        return owner == null || owner.alive() ? null : owner;
    }

    /** A temporary file name of this run (in a database directory). */
    static String tmpFileName() {
        return ".strata-" + RunOwner.self().tag() + "-" + hex(3) + ".tmp";
    }

    /** The prefix of this run's scratch directory (Files.createTempDirectory adds a random part). */
    static String scratchPrefix() {
        return "strata-table-" + RunOwner.self().tag() + "-";
    }

    /**
     * Removes what dead runs left in the server at {@code live} (data directory {@code datadir}) and in
     * the scratch parent {@code scratchParent}; {@code log} gets a NOTE per removal and a WARNING per
     * replaced table kept. Errors of the removal are warnings: they do not stop this run.
     */
    static void clean(ServerSession live, Path datadir, Path scratchParent, Consumer<String> log) {
        List<String> dbs = new ArrayList<>();
        for (Map<String, String> row : live.queryRows("SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES"
                + " WHERE TABLE_NAME LIKE 'strata!_%' ESCAPE '!' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')")) {
            Matcher m = WORK.matcher(row.get("t"));
            RunOwner owner = deadOwner(m);
            if (owner == null) {
                continue;
            }
            TableName t = new TableName(row.get("db"), row.get("t"));
            if (m.group(1).equals("old")) {
                log.accept("WARNING: table " + t + " is the table a killed restore --table --replace (process " + owner.pid() + ") swapped out;"
                        + " the restored table took its name. Drop it when its rows are no longer needed: DROP TABLE " + t.sql());
                continue;
            }
            try {
                live.exec("SET SESSION foreign_key_checks = 0");
                live.exec("DROP TABLE IF EXISTS " + t.sql());
                log.accept("NOTE: dropped table " + t + ", left half-imported by a restore --table that was killed (process " + owner.pid() + ")");
                if (!dbs.contains(t.db())) {
                    dbs.add(t.db());
                }
                removeFiles(datadir, t, log);
            } catch (RuntimeException e) {
                log.accept("WARNING: cannot drop table " + t + ", left by a restore --table that was killed (process " + owner.pid() + "): " + e.getMessage());
            }
        }
        removeTmpFiles(datadir, dbs, log);
        removeScratch(scratchParent, log);
    }

    /** The files a dropped work table may leave (a discarded tablespace's placed .ibd, a .cfg): {@code t.table} then '.' or '#'. */
    private static void removeFiles(Path datadir, TableName t, Consumer<String> log) {
        if (!PLAIN_DB.matcher(t.db()).matches()) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(datadir.resolve(t.db()), t.table() + "[.#]*")) {
            for (Path f : ds) {
                Files.deleteIfExists(f);
                log.accept("NOTE: removed " + f + ", a file of the dropped table " + t);
            }
        } catch (IOException e) {
            log.accept("WARNING: cannot remove the files of the dropped table " + t + " in " + datadir.resolve(t.db()) + ": " + e.getMessage());
        }
    }

    /** Temporary files of dead runs in the directories of {@code dbs}. */
    static void removeTmpFiles(Path datadir, Collection<String> dbs, Consumer<String> log) {
        for (String db : dbs) {
            if (!PLAIN_DB.matcher(db).matches() || !Files.isDirectory(datadir.resolve(db))) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(datadir.resolve(db), ".strata-*.tmp")) {
                for (Path f : ds) {
                    Matcher m = TMP.matcher(f.getFileName().toString());
                    RunOwner owner = m.matches() ? RunOwner.parse(m.group(1)) : null;
                    if (owner != null && !owner.alive()) {
                        Files.deleteIfExists(f);
                        log.accept("NOTE: removed " + f + ", left by a restore --table that was killed (process " + owner.pid() + ")");
                    }
                }
            } catch (IOException e) {
                log.accept("WARNING: cannot look for files left by a killed restore --table in " + datadir.resolve(db) + ": " + e.getMessage());
            }
        }
    }

    /** Scratch directories of dead runs in {@code parent}. */
    private static void removeScratch(Path parent, Consumer<String> log) {
        if (!Files.isDirectory(parent)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, "strata-table-*")) {
            for (Path d : ds) {
                Matcher m = SCRATCH.matcher(d.getFileName().toString());
                RunOwner owner = m.matches() ? RunOwner.parse(m.group(1)) : null;
                if (owner != null && !owner.alive() && Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Dirs.deleteQuietly(d, false);
                    log.accept("NOTE: removed the scratch directory " + d + ", left by a restore --table that was killed (process " + owner.pid() + ")");
                }
            }
        } catch (IOException e) {
            log.accept("WARNING: cannot look for scratch directories left by a killed restore --table in " + parent + ": " + e.getMessage());
        }
    }

    /** {@code bytes} random bytes in hex. */
    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
