package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Health;
import io.strata.repo.Json;
import io.strata.repo.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code strata check}: one verdict per server from the repository alone ({@link Health}), for a
 * monitoring system. Exit 0 ok, 1 warning, 2 critical, the monitoring plugins' convention, on
 * purpose unlike strata's error codes; an error that prevents any verdict (no repository, an
 * unreadable store, a missing key) keeps strata's own error code and its ERROR line. A wrong key is a
 * verdict: critical.
 */
@Command(name = "check", description = "One health verdict per server from the repository: backup ages, last attempt, archiver and tracker alive, archive gaps. "
        + "Exit 0 ok, 1 warning, 2 critical.")
final class CheckCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Mixin
    KeyMixin key;

    @Option(names = "--server", paramLabel = "KEY", description = "Only this server (its server key, as list --windows shows it).")
    String server;

    @Option(names = "--max-full-age", defaultValue = "8d", converter = Ranges.Span.class,
            description = "Critical when the newest full backup is older (default 8d; s, m, h or d).")
    Duration maxFullAge;

    @Option(names = "--max-backup-age", defaultValue = "26h", converter = Ranges.Span.class,
            description = "Critical when the newest backup of any type is older (default 26h).")
    Duration maxBackupAge;

    @Option(names = "--max-lag", defaultValue = "600", converter = Ranges.Span.class,
            description = "Warning when the binlog archiver or tracker is further behind the server (default 600 s).")
    Duration maxLag;

    @Option(names = "--stale-after", converter = Ranges.Span.class,
            description = "Critical when a heartbeat is older (default: max(3 x its interval, 60 s)).")
    Duration staleAfter;

    @Option(names = "--json", description = "Print a JSON array: per server its status {code, message} and each check.")
    boolean json;

    @Option(names = "--nagios", description = "Print one line: STRATA OK|WARNING|CRITICAL - message | perfdata.")
    boolean nagios;

    @Option(names = "--metrics-file", paramLabel = "PATH", description = "Also write the verdicts and backup facts in the node_exporter textfile format.")
    Path metricsFile;

    @Override
    public Integer call() throws Exception {
        if (json && nagios) {
            throw new StrataException(ErrorCode.USAGE, "--json and --nagios exclude each other", "choose one output");
        }
        List<Health.Verdict> verdicts;
        Repository opened = null;
        try {
            Repository r = repo.open(key);
            opened = r;
            verdicts = Health.check(r, server, new Health.Limits(maxFullAge, maxBackupAge, maxLag.getSeconds(),
                    staleAfter == null ? null : staleAfter.getSeconds()), Instant.now());
        } catch (StrataException e) {
            if (e.code() != ErrorCode.KEY_WRONG) {
                throw e;
            }
            Health.Check c = new Health.Check("key", Health.CRITICAL, e.getMessage());
            verdicts = List.of(new Health.Verdict(server == null ? "(repository)" : server, Health.CRITICAL, e.getMessage(), List.of(c),
                    new Health.Facts(Map.of(), List.of(), 0)));
        }
        if (verdicts.isEmpty()) {
            String msg = "the repository " + repo.location().display() + " holds no backup, binlog archive or heartbeat: nothing is backed up";
            verdicts = List.of(new Health.Verdict("(repository)", Health.CRITICAL, msg, List.of(new Health.Check("full-age", Health.CRITICAL, msg)),
                    new Health.Facts(Map.of(), List.of(), 0)));
        }
        if (metricsFile != null) {
            Metrics.write(metricsFile, Metrics.render(verdicts, opened == null ? Map.of() : opened.bytesByKind()));
        }
        int code = verdicts.stream().mapToInt(Health.Verdict::code).max().orElse(Health.OK);
        if (json) {
            System.out.println(Json.MAPPER.writeValueAsString(toJson(verdicts)));
        } else if (nagios) {
            System.out.println(nagiosLine(verdicts, code));
        } else {
            for (Health.Verdict v : verdicts) {
                System.out.println(v.server() + ": " + v.status() + " - " + v.message());
                for (Health.Check c : v.checks()) {
                    System.out.printf("  %-16s %-8s %s%n", c.name(), Health.name(c.code()), c.message());
                }
            }
        }
        return code;
    }

    /** As pgBackRest's info: per server its name, {@code status} {code, message} and each check. */
    static List<Map<String, Object>> toJson(List<Health.Verdict> verdicts) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Health.Verdict v : verdicts) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("server", v.server());
            j.put("status", Map.of("code", v.code(), "message", v.message()));
            List<Map<String, Object>> checks = new ArrayList<>();
            for (Health.Check c : v.checks()) {
                Map<String, Object> cj = new LinkedHashMap<>();
                cj.put("name", c.name());
                cj.put("code", c.code());
                cj.put("status", Health.name(c.code()));
                cj.put("message", c.message());
                checks.add(cj);
            }
            j.put("checks", checks);
            out.add(j);
        }
        return out;
    }

    /** {@code STRATA CRITICAL - srv1: msg; srv2: msg | srv1=2;1;2;0;2 ...}: the worst first, perfdata per server. */
    static String nagiosLine(List<Health.Verdict> verdicts, int code) {
        List<String> parts = new ArrayList<>();
        StringBuilder perf = new StringBuilder();
        for (Health.Verdict v : verdicts) {
            if (v.code() == code || code == Health.OK) {
                parts.add(v.server() + ": " + v.message());
            }
            perf.append(perf.length() == 0 ? "" : " ").append('\'').append(v.server().replace("'", "")).append("'=").append(v.code()).append(";1;2;0;2");
        }
        String msg = parts.isEmpty() ? "nothing to check" : String.join("; ", parts);
        return "STRATA " + Health.name(code) + " - " + msg.replace('|', '/') + (perf.length() == 0 ? "" : " | " + perf);
    }
}
