package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.ArchivedBinlog;
import io.strata.repo.BinlogArchive.Pos;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.restore.PitrWindows.BackupPoint;
import io.strata.server.ServerTools;
import io.strata.util.Dirs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Point-in-time restore: the newest completed backup whose binlog position is at or before the
 * target, restored with {@link RestoreRun}, then the archived binlogs from that position to the
 * target replayed into it.
 *
 * <p>Order of work, so that a target strata cannot reach never touches the target directory:
 * (1) resolve the target to a binlog position inside the archive and choose the backup, refusing
 * targets the archive does not cover with the restorable windows in the message, and choose the
 * mariadbd (refused when older than the backup's source, {@link RestoreRun#serverFor}); (2) copy the
 * archived binlog files the replay needs into a temporary directory beside the target, checking
 * every chunk, every event CRC, and cutting the last file exactly at the target; (3) restore the
 * backup's files; (4) start mariadbd on the result (crash recovery runs first) on a private socket
 * with networking off and grant checks off, and replay the copied files from the backup's position,
 * through the server's replication applier ({@link PitrApplier}: the copies as relay logs, parallel
 * workers, an optional table filter) or by piping {@code mariadb-binlog} into {@code mariadb}
 * ({@link ReplayOptions} chooses); (5) stop the server cleanly. A failure
 * after (3) leaves the target empty, as a failed restore does, and so does a kill -9 of strata
 * during the replay: a {@link TargetGuard} watcher, started once the work directory exists, removes
 * the target's files (the replay server dies with strata), the work directory and the server's run
 * directory. Step (1) is {@link PitrPlan}, (2)
 * {@link PitrBinlogs}, (4) and (5) {@link PitrReplay}.
 *
 * <p>No stop option of mariadb-binlog is used: the copied files end where the replay must end, so
 * --stop-datetime's "first event at or after" rule and the GTID stop rules of mariadb-binlog 10.11
 * do not matter, and strata's own reading of the binlog decides where a target lies.
 */
public final class PitrRun {

    /**
     * @param tools  where mariadbd, mariadb-binlog and mariadb are found
     * @param replay how the binlogs are replayed (path, table filter, workers)
     */
    public record Options(PitrTarget target, String server, Path targetDir, int parallel, ServerTools tools, List<String> remaps, ReplayOptions replay) {
        /** Replayed as {@link ReplayOptions#DEFAULT}. */
        public Options(PitrTarget target, String server, Path targetDir, int parallel, ServerTools tools, List<String> remaps) {
            this(target, server, targetDir, parallel, tools, remaps, ReplayOptions.DEFAULT);
        }

        /** Without --remap: DATA DIRECTORY files go back to their location. */
        public Options(PitrTarget target, String server, Path targetDir, int parallel, ServerTools tools) {
            this(target, server, targetDir, parallel, tools, List.of());
        }
    }

    public record Result(BackupPoint backup, Pos from, Pos to, long transactions, String gtidAtTarget, RestoreRun.Result restore) {}

    private PitrRun() {}

    /**
     * Restores {@code o.target()} from {@code repo}, opened once by the caller (with the key when
     * it is encrypted): the backup's restore and the binlog reads share that handle.
     */
    public static Result run(Repository repo, Options o, Consumer<String> log) {
        return run(repo, o, log, null);
    }

    /**
     * As {@link #run(Repository, Options, Consumer)} for a table restore: with {@code tables} (null:
     * none), when the copied range allows it ({@link TableScope}), only the tables' files are
     * restored and only their changes replayed; otherwise, said in the log, everything is.
     */
    static Result run(Repository repo, Options o, Consumer<String> log, TableScope tables) {
        Path target = o.targetDir().toAbsolutePath().normalize();
        RestoreRun.checkTarget(target);
        PitrWindows w = PitrWindows.of(repo, chooseServer(repo, o.server()));
        PitrPlan plan = PitrPlan.of(w, o.target());
        BackupPoint b = plan.backup();
        if (plan.note() != null) {
            log.accept(plan.note());
        }
        List<ArchivedBinlog> files = plan.files();
        log.accept("target " + o.target() + (o.target().kind() == PitrTarget.Kind.POSITION ? "" : " is binlog position " + plan.stop())
                + "; starting from backup " + b.id() + " at " + b.pos()
                + " and replaying " + files.size() + " archived binlog file(s)");
        Manifest bm = repo.manifest(b.id()); // whole: the windows hold each backup's manifest without its files
        ServerTools.Server server = RestoreRun.serverFor(o.tools(), bm, log);
        RecoveryKeys.Plan keys = RecoveryKeys.check(bm, server.binary(), null, log); // before anything is written
        TargetGuard found = TargetGuard.before(target); // a failure puts the target back so
        // and the directories of DATA DIRECTORY files outside the target (RestoreRun refuses them unless new or empty)
        DataDirectories outside = DataDirectories.plan(bm, target, o.remaps().stream().map(DataDirectories.Remap::parse).toList());
        outside.check();
        outside.directories().forEach(found::alsoOutside);
        Path work;
        try {
            Path parent = target.getParent() == null ? Path.of(".").toAbsolutePath() : target.getParent();
            Files.createDirectories(parent);
            work = Files.createTempDirectory(parent, ".strata-pitr-");
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot create a work directory beside " + target + ": " + e.getMessage(), null, e);
        }
        // a kill -9 during the replay (after RestoreRun's own guard has ended) leaves the target as found too, and no work directory
        found.watch().workDirectory(work);
        try {
            RestoreProgress progress = RestoreProgress.of(log);
            long toCopy = 0;
            for (ArchivedBinlog f : files) {
                toCopy += f.name().equals(plan.stop().file()) ? plan.stop().offset() : f.usableEnd();
            }
            progress.setEstimate(RestoreProgress.BINLOG_COPY, toCopy);
            progress.stage(RestoreProgress.BINLOG_COPY, "copying " + files.size() + " archived binlog file(s), " + toCopy + " bytes, out of the repository");
            PitrBinlogs binlogs = PitrBinlogs.copy(w.archive(), TempTables.from(plan.span(), b.pos().file()), files, b, plan.stop(), work.resolve("binlogs"));
            if (binlogs.hazard() != null) {
                throw new StrataException(ErrorCode.REPLAY_FAILED, "the replay to target " + o.target() + " would fail: " + binlogs.hazard().description(),
                        "a backup holds no temporary tables, so archived statements that use one created before the backup fail in the replay;"
                                + " nothing was written to " + target + "; \"strata list --windows\" shows the restorable windows");
            }
            progress.set(RestoreProgress.BINLOG_COPY, toCopy);
            progress.done(RestoreProgress.BINLOG_COPY);
            ReplayOptions replay = o.replay();
            if (tables != null && binlogs.unfiltered() != null) {
                log.accept("table restore: restoring the whole backup and replaying every table, since a replay of " + String.join(", ", tables.tables())
                        + " alone could be wrong: " + binlogs.unfiltered());
                tables = null;
            } else if (tables != null) {
                log.accept("table restore: replaying only the changes of " + String.join(", ", tables.tables())
                        + " (every change of the range is in row format; no foreign key or database statement in it)");
                replay = replay.tables(tables.tables());
                tables.markFiltered();
            }
            RestoreRun.Result restored = RestoreRun.run(repo, new RestoreRun.Options(b.id(), target, false, o.parallel(), null, null, RestoredLayout.Dirs.NONE, o.remaps()), log,
                    o.target().toString(), tables);
            try {
                RestoreRun.markUnfinished(target, found.token(), found::undo); // until the replay is done; names this run for the watcher
                // the server's run directory: in java.io.tmpdir (a short socket path), kept on failure for its log
                Path run = Files.createTempDirectory("strata-pitr-");
                found.runDirectory(run);
                if (tables != null) {
                    tables.runDirectory(run);
                }
                PitrReplay.run(restored, binlogs, target, run, o.tools(), server, keys.options(), replay, tables, log);
                Dirs.deleteQuietly(run, false);
                ReplicaInfo replica = ReplicaInfo.pointInTime(bm, o.target(), plan.stop().file(), plan.stop().offset(), binlogs.gtids());
                replica.write(target);
                log.accept("wrote " + ReplicaInfo.FILE_NAME + ": binlog " + replica.binlogFile() + ":" + replica.binlogPosition()
                        + ", gtid_binlog_pos " + replica.gtidBinlogPos() + " (the target's; a new replica starts there)");
                RestoreRun.restrictModes(target);
                RestoreRun.markFinished(target);
            } catch (IOException e) {
                found.undo();
                throw new StrataException(ErrorCode.IO_ERROR, "cannot create a temporary directory: " + e.getMessage(), null, e);
            } catch (StrataException e) {
                found.undo();
                throw e;
            }
            return new Result(b, b.pos(), plan.stop(), binlogs.transactions(), binlogs.gtids(), restored);
        } catch (RuntimeException e) {
            found.undo(); // also the parent directories made for the work directory beside the target
            throw e;
        } finally {
            Dirs.deleteQuietly(work, false);
            found.close();
        }
    }

    /** The server whose backups and binlogs to use: the only one, or the one --server names. */
    static String chooseServer(Repository repo, String wanted) {
        List<String> servers = PitrWindows.servers(repo);
        if (wanted != null) {
            for (String s : servers) {
                if (s.equals(wanted)) {
                    return s;
                }
            }
            throw new StrataException(ErrorCode.USAGE, "--server " + wanted + " has no backups or binlogs in " + repo.root() + "; it holds " + servers, null);
        }
        if (servers.isEmpty()) {
            throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "repository " + repo.root() + " holds no completed backup",
                    "take one with \"strata backup --repo " + repo.root() + "\"");
        }
        if (servers.size() > 1) {
            throw new StrataException(ErrorCode.USAGE, "repository " + repo.root() + " holds backups of " + servers.size() + " servers; name one with --server: "
                    + String.join(", ", servers), null);
        }
        return servers.get(0);
    }
}
