package io.strata.cli;

import io.strata.repo.BinlogRetention;
import io.strata.repo.Prune;
import io.strata.repo.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "prune", description = "Remove backups outside the retention, never one that a kept backup needs, what failed attempts left behind, "
        + "and the archived binlogs no kept backup's point-in-time window needs. Give --keep-full, --keep-days or both.")
final class PruneCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Mixin
    KeyMixin key;

    @Mixin
    JsonMixin json = new JsonMixin();

    @Option(names = "--keep-full", paramLabel = "N", description = "Keep the newest N full backups of each server and every backup resting on them.")
    Integer keepFull;

    @Option(names = "--keep-days", paramLabel = "D", description = "Keep every backup of the last D days, and the newest one before that (the base for those days); "
            + "for a server with no kept backup in its binlog archive, archived binlogs older than D days go.")
    Integer keepDays;

    @Option(names = "--dry-run", description = "Only print what would be removed and why.")
    boolean dryRun;

    @Option(names = "--metrics-file", paramLabel = "PATH", description = "Write the repository's metrics in the node_exporter textfile format "
            + "(as strata check --metrics-file) after the prune.")
    Path metricsFile;

    @Override
    public Integer call() {
        Prune.requireRetention(keepFull, keepDays);
        Repository r = repo.open(key);
        Prune.Result res = Prune.run(r, keepFull, keepDays, dryRun, json.text()::println);
        Metrics.afterRun(r, metricsFile, null);
        json.text().printf("%s%d backup(s) kept, %d %s, leftovers of %d attempt(s) %s%n", dryRun ? "dry run: " : "", res.plan().keep().size(),
                res.plan().remove().size(), dryRun ? "to remove" : "removed", res.leftovers().size(), dryRun ? "to remove" : "removed");
        long files = 0;
        long bytes = 0;
        for (BinlogRetention.SourcePlan b : res.binlogs()) {
            files += b.removed().size();
            bytes += b.bytes();
        }
        if (!res.binlogs().isEmpty()) {
            json.text().printf("%sarchived binlogs: %d file(s), %d bytes %s, from %d archive(s)%n", dryRun ? "dry run: " : "", files, bytes,
                    dryRun ? "to remove" : "removed", res.binlogs().size());
        }
        for (String w : res.warnings()) {
            System.err.println("WARNING: " + w);
        }
        if (json.json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("dryRun", dryRun);
            out.put("kept", res.plan().keep());
            out.put("removed", res.plan().remove());
            out.put("leftovers", res.leftovers());
            out.put("unfinished", res.unfinished());
            out.put("warnings", res.warnings());
            out.put("binlogs", res.binlogs().stream().map(PruneCommand::binlogJson).toList());
            JsonMixin.print(JsonMixin.ok(out));
        }
        return res.warnings().isEmpty() ? 0 : 3;
    }

    /** One archive's verdict in --json: server, archive, files removed (or to remove), bytes, range, cut and why. */
    private static Map<String, Object> binlogJson(BinlogRetention.SourcePlan b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("server", b.server());
        m.put("archive", b.archive());
        m.put("files", b.removed().stream().map(f -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("timeline", f.timeline());
            x.put("file", f.file());
            x.put("segments", f.segments());
            x.put("bytes", f.bytes());
            return x;
        }).toList());
        m.put("records", b.records());
        m.put("bytes", b.bytes());
        m.put("range", b.range());
        m.put("keptFrom", b.keptFrom());
        m.put("reason", b.reason());
        m.put("notes", b.notes());
        return m;
    }
}
