package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.server.MariadbProcess;
import io.strata.server.ServerTools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Replays copied binlogs ({@link PitrBinlogs}) into a restored data directory: mariadbd on a
 * private socket with networking off and grant checks off (the replay must not depend on the
 * restored accounts), then either the server's own replication applier reading the copies as relay
 * logs ({@link PitrApplier}; parallel workers, a table filter possible) or
 * {@code mariadb-binlog --verify-binlog-checksum} from the backup's position piped into
 * {@code mariadb --binary-mode} ({@link ReplayOptions} chooses), then a clean shutdown.
 */
final class PitrReplay {
    private PitrReplay() {}

    /**
     * Starts mariadbd on {@code target} (crash recovery runs first), pipes mariadb-binlog of the
     * copies into mariadb, and stops the server cleanly; its error log is kept as
     * {@code strata-pitr.err} in the target.
     *
     * @param restored the restore of the backup the replay starts from, already in {@code target}
     * @param run      a private directory for the server's socket, pid file and the tools' output
     * @param tools    where mariadb-binlog and mariadb are found
     * @param server   the mariadbd to run, already checked against the backup's source
     * @param keyOptions the recorded key management's options ({@link RecoveryKeys}), empty for none
     * @throws StrataException replay-failed when mariadb-binlog or mariadb fails (the message ends
     *         with their error output) or the server logs an [ERROR] line during the replay;
     *         recovery-failed when mariadbd does not start or stop, or logs an [ERROR] line in crash
     *         recovery; interrupted
     */
    static void run(RestoreRun.Result restored, PitrBinlogs r, Path target, Path run, ServerTools tools, ServerTools.Server server, List<String> keyOptions,
                    Consumer<String> log) {
        run(restored, r, target, run, tools, server, keyOptions, ReplayOptions.DEFAULT, log);
    }

    /**
     * As {@link #run(RestoreRun.Result, PitrBinlogs, Path, Path, ServerTools, ServerTools.Server, List, Consumer)},
     * replaying by the path {@code how} chooses ({@link PitrApplier#useApplier}): the server's
     * replication applier ({@link PitrApplier}) or the pipe.
     *
     * @throws StrataException also replay-applier-failed when the applier stops with an error or
     *         short of the target; usage when the pipe is asked for with a table filter
     */
    static void run(RestoreRun.Result restored, PitrBinlogs r, Path target, Path run, ServerTools tools, ServerTools.Server server, List<String> keyOptions,
                    ReplayOptions how, Consumer<String> log) {
        run(restored, r, target, run, tools, server, keyOptions, how, null, log);
    }

    /**
     * As {@link #run(RestoreRun.Result, PitrBinlogs, Path, Path, ServerTools, ServerTools.Server, List, ReplayOptions, Consumer)}
     * on the narrowed restore of a table restore ({@code tables}, null: none): recovery is that of a
     * partial backup ({@link PartialRestore}: the left-out tables dropped, a skipped kept tablespace
     * refused; the replay then runs on the same server, still with innodb_force_recovery=1, which
     * allows every write), and a named table with a foreign key to another table refuses the
     * filtered replay ({@link TableScope#checkForeignKeys}, replay-applier-failed) before anything
     * is replayed.
     */
    static void run(RestoreRun.Result restored, PitrBinlogs r, Path target, Path run, ServerTools tools, ServerTools.Server server, List<String> keyOptions,
                    ReplayOptions how, TableScope tables, Consumer<String> log) {
        boolean applier = !r.files().isEmpty() && r.transactions() > 0 && PitrApplier.useApplier(how.mode(), how.tables(), server.version());
        Path relay = r.files().isEmpty() ? null : r.files().get(0).getParent().resolveSibling("relay");
        List<String> args = new ArrayList<>(RestoreRun.recoveryArgs(restored.manifest(), restored.layout()));
        args.addAll(keyOptions);
        // grant checks off: the replay must not depend on the restored accounts; FLUSH PRIVILEGES
        // (below) turns them on again for GRANT and CREATE USER in the binlog
        args.add("--skip-grant-tables");
        args.add("--max-allowed-packet=1G");
        List<Path> relayFiles = List.of();
        if (applier) {
            relayFiles = PitrApplier.install(r.files(), relay);
            args.addAll(PitrApplier.serverArgs(relay, how.threads(), how.tables()));
        }
        // durability relaxed for this run only (a failed replay is redone from the backup; the clean shutdown makes the result durable)
        long pool = ReplayTuning.bufferPool(restored.layout() != null ? restored.layout() : new RestoredLayout(target, target, target, target));
        args.addAll(ReplayTuning.args(applier, pool));
        log.accept(ReplayTuning.describe(applier, pool));
        RestoreProgress progress = RestoreProgress.of(log);
        if (tables != null) {
            tables.recovering(true);
        }
        progress.stage(RestoreProgress.RECOVERY, "starting " + server.binary() + " on " + target + " (crash recovery, then the replay; log " + run.resolve("mysqld.err") + ")");
        try (MariadbProcess p = MariadbProcess.start(server.binary(), target, run, args, Duration.ofMinutes(30))) {
            java.util.function.Predicate<String> judged = PartialRestore.dropLeftOut(restored.manifest(), p.socket(), target, log);
            PartialRestore.failOnSkippedKeptTablespaces(restored.manifest(), p.errorLogText());
            List<String> recoveryErrors = p.errorLines();
            RestoreRun.failOnErrorLines(recoveryErrors.stream().filter(judged).toList(), ErrorCode.RECOVERY_FAILED, "crash recovery by " + server, p.errorLog());
            progress.done(RestoreProgress.RECOVERY);
            if (tables != null) {
                tables.recovering(false);
            }
            if (tables != null && !how.tables().isEmpty()) {
                tables.checkForeignKeys(p.socket());
            }
            if (applier) {
                progress.stage(RestoreProgress.REPLAY, "replaying through the server's replication applier (" + how.threads() + " parallel workers; relay logs in " + relay + ")");
                PitrApplier.apply(p.socket(), relayFiles, r.files().get(0).getFileName().toString(), r.startPosition(),
                        Files.size(r.files().get(r.files().size() - 1)), log);
            } else if (!r.files().isEmpty()) {
                List<String> dump = new ArrayList<>(List.of(tools.client("mariadb-binlog").toString(), "--no-defaults", "--verify-binlog-checksum",
                        "--start-position=" + r.startPosition()));
                r.files().forEach(f -> dump.add(f.toString()));
                List<String> apply = List.of(tools.client("mariadb").toString(), "--no-defaults", "--socket=" + p.socket(), "--user=root",
                        "--binary-mode", "--max-allowed-packet=1G", "--init-command=FLUSH PRIVILEGES");
                progress.stage(RestoreProgress.REPLAY, "replaying with " + dump.get(0) + " | " + apply.get(0));
                pipe(dump, apply, run);
            }
            p.shutdown(Duration.ofMinutes(10));
            List<String> all = p.errorLines();
            // the rollback of recovered transactions runs on in the background: its lines about left-out tablespaces may come after the snapshot
            RestoreRun.failOnErrorLines(all.subList(recoveryErrors.size(), all.size()).stream().filter(judged).toList(), ErrorCode.REPLAY_FAILED, "the server " + server + " during the binlog replay", p.errorLog());
            Files.copy(p.errorLog(), target.resolve("strata-pitr.err"));
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot keep the server log: " + e.getMessage(), null, e);
        }
        log.accept("replayed " + r.transactions() + " transaction(s); the server stopped cleanly (its log kept as strata-pitr.err)");
        progress.done(RestoreProgress.REPLAY);
    }

    private static void pipe(List<String> producer, List<String> consumer, Path run) throws IOException {
        Path err1 = run.resolve("mariadb-binlog.err");
        Path err2 = run.resolve("mariadb.err");
        List<Process> ps = ProcessBuilder.startPipeline(List.of(
                io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(io.strata.util.ChildProcesses.inOwnSession(producer))).redirectError(err1.toFile()),
                io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder(io.strata.util.ChildProcesses.inOwnSession(consumer))).redirectError(err2.toFile()).redirectOutput(run.resolve("mariadb.out").toFile())));
        try {
            for (Process x : ps) {
                x.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ps.forEach(Process::destroyForcibly);
            throw new StrataException(ErrorCode.INTERRUPTED, "interrupted during the binlog replay", null, e);
        }
        int rc1 = ps.get(0).exitValue();
        int rc2 = ps.get(1).exitValue();
        if (rc1 != 0 || rc2 != 0) {
            throw new StrataException(ErrorCode.REPLAY_FAILED, "binlog replay failed: mariadb-binlog exit " + rc1 + ", mariadb exit " + rc2 + ": "
                    + (tail(err2) + " " + tail(err1)).trim(), "the restored server could not apply the archived binlogs; the target was left empty");
        }
        ps.forEach(x -> x.onExit().orTimeout(1, TimeUnit.SECONDS));
    }

    private static String tail(Path p) {
        try {
            String s = Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8).trim() : "";
            return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "";
        }
    }
}
