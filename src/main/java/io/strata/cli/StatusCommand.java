package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Heartbeat;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Json;
import io.strata.repo.Repository;
import io.strata.store.StorageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What the newest backup of a repository is doing, from any shell: its stage and progress while
 * it runs, or that nothing runs (and how the last one ended), or that its process died; and
 * whether each binlog archiver and tracker that wrote a heartbeat is alive. Reads only the
 * progress object a backup rewrites every two seconds, the heartbeats and the writer lock, so it
 * needs no key and never disturbs the backup. Exit 33 when the last backup attempt failed, else
 * 39 when a heartbeat is stale or says its process stopped on an error.
 */
@Command(name = "status", description = "Show a running backup's stage and progress, or that none is running, and whether the binlog archiver and tracker are alive.")
final class StatusCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    RepoOptions repo;

    @Option(names = "--json", description = "Print JSON: the backup's progress object with \"running\" and \"note\".")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Repository r = repo.open(null);
        String newest = r.history().newestWithProgress();
        Long holder = r.lockHolderPid();
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> p = null;
        if (newest != null) {
            p = r.history().progress(newest);
            out.putAll(p);
        }
        String state = p == null ? null : (String) p.get("state");
        Number pid = p == null ? null : (Number) p.get("pid");
        boolean running = "running".equals(state) && pid != null && holder != null && holder == pid.longValue();
        String note;
        if (p == null) {
            note = "no backup is running in " + r.root() + (holder != null ? " (pid " + holder + " holds the writer lock: a merge or another writer)" : "");
        } else if (running) {
            note = "backup " + newest + " is running (pid " + pid + "), stage " + p.get("stage") + ", " + p.get("elapsedSeconds")
                    + " s since it started, last update " + ago((String) p.get("updated"));
        } else if ("running".equals(state)) {
            note = "no backup is running: backup " + newest + " (pid " + pid + ") stopped during stage " + p.get("stage")
                    + " without finishing (killed or crashed; last update " + ago((String) p.get("updated")) + "); it is recorded as failed";
            out.put("state", "died");
        } else {
            note = "no backup is running; the last one, " + newest + ", ended " + state + " " + ago((String) p.get("updated"))
                    + (p.get("error") == null ? "" : ": " + p.get("error"));
        }
        out.put("running", running);
        out.put("note", note);
        Instant now = Instant.now();
        List<Heartbeat> beats = Heartbeat.all(r, null);
        List<Map<String, Object>> daemons = new java.util.ArrayList<>();
        List<String> daemonLines = new java.util.ArrayList<>();
        List<Heartbeat> stale = new java.util.ArrayList<>();
        for (Heartbeat h : beats) {
            boolean dead = h.stale(now, null) || h.stopped() != null;
            if (dead) {
                stale.add(h);
            }
            Map<String, Object> d = new LinkedHashMap<>(Json.MAPPER.convertValue(h, Map.class));
            d.put("ageSeconds", h.ageSeconds(now));
            d.put("stale", dead);
            daemons.add(d);
            daemonLines.add(describe(h, now));
        }
        out.put("daemons", daemons);
        // the newest attempt failed, was cancelled or died: the repository's newest backup is older than a monitor
        // expects, so status says so in its exit code too (a wrapper that checks only the code must not see success)
        boolean failed = p != null && !running && !HistoryRecord.COMPLETED.equals(state);
        if (json) {
            System.out.println(Json.MAPPER.writeValueAsString(out));
            return failed ? ErrorCode.LAST_BACKUP_FAILED.exitCode() : stale.isEmpty() ? 0 : ErrorCode.DAEMON_STALE.exitCode();
        }
        System.out.println(note);
        if (p != null && p.get("stages") != null) {
            for (String line : ProgressRenderer.table(p)) {
                System.out.println(line);
            }
        }
        daemonLines.forEach(System.out::println);
        StrataException staleError = stale.isEmpty() ? null : new StrataException(ErrorCode.DAEMON_STALE, stale.size() == 1
                ? "the " + stale.get(0).what() + " of " + stale.get(0).server() + (stale.get(0).stopped() != null
                        ? " stopped " + stale.get(0).ageSeconds(now) + " s ago: " + stale.get(0).stopped()
                        : " has not written its heartbeat for " + stale.get(0).ageSeconds(now) + " s")
                : stale.size() + " processes have stopped writing their heartbeats (the lines above say which)",
                "start it again (it continues where it stopped); its log says why it ended");
        if (staleError != null && !failed) {
            System.err.println(staleError.render());
            return staleError.code().exitCode();
        }
        if (staleError != null) {
            System.err.println(staleError.render());
        }
        if (failed) {
            StrataException e = new StrataException(ErrorCode.LAST_BACKUP_FAILED, "the newest backup attempt in " + r.root() + ", " + newest
                    + ", did not complete (" + out.get("state") + ")", "the line above says why; \"strata list\" shows every attempt");
            System.err.println(e.render());
            return e.code().exitCode();
        }
        return 0;
    }

    /** One line about a long-running process: alive or stale, since when, how far it reached. */
    static String describe(Heartbeat h, Instant now) {
        String who = h.what() + " of " + h.server() + " (pid " + h.pid() + " on " + h.host() + ")";
        String reached = h.reached() == null ? "nothing yet" : (Heartbeat.TRACK.equals(h.kind()) ? "LSN " : "") + h.reached();
        if (h.stopped() != null) {
            return who + ": STOPPED " + ago(h.lastPoll()) + " on an error: " + h.stopped()
                    + (h.reached() == null ? "; it had stored nothing" : "; it had stored up to " + reached);
        }
        if (h.stale(now, null)) {
            return who + ": STALE, last heartbeat " + ago(h.lastPoll()) + " (killed, crashed, hung or stopped); it had reached " + reached;
        }
        return who + ": alive, last poll " + ago(h.lastPoll()) + ", reached " + reached + ", lag " + h.lagSeconds() + " s"
                + (h.gaps() > 0 ? ", " + h.gaps() + " gaps recorded" : "") + (h.lastError() == null ? "" : "; last poll failed: " + h.lastError());
    }

    private static String ago(String iso) {
        if (iso == null) {
            return "at an unknown time";
        }
        Duration d = Duration.between(Instant.parse(iso), Instant.now());
        long s = Math.max(0, d.getSeconds());
        return (s < 120 ? s + " s" : s < 7200 ? (s / 60) + " min" : (s / 3600) + " h") + " ago (" + iso + ")";
    }
}
