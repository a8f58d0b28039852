package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Repository;
import io.strata.restore.Verifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "verify", description = "Check what the repository stores without restoring it: backups (objects, page checksums, redo log, chains), "
        + "history records, change sets and archived binlogs.")
final class VerifyCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Option(names = "--parallel", converter = Ranges.Threads.class, description = "Threads decoding chunks, 1-256 (default: the number of cores).")
    Integer parallel;

    @Parameters(index = "0", arity = "0..1", description = "Backup id (with the backups its restore needs); default: everything stored.")
    String id;

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Option(names = "--metrics-file", paramLabel = "PATH", description = "Write the repository's metrics in the node_exporter textfile format "
            + "(as strata check --metrics-file) after the verify.")
    Path metricsFile;

    @Mixin
    JsonMixin json = new JsonMixin();

    @Override
    public Integer call() {
        Repository r = repo.open(key);
        r.requireKey();
        io.strata.repo.ObjectCodec.setThreads(parallel != null ? Math.max(1, parallel) : Runtime.getRuntime().availableProcessors());
        List<String> report = new ArrayList<>();
        PrintStream text = json.text();
        Verifier v = new Verifier(r, line -> {
            text.println(line);
            report.add(line);
        });
        v.run(id);
        Metrics.afterRun(r, metricsFile, null);
        if (!v.problems().isEmpty()) {
            StrataException e = new StrataException(ErrorCode.CORRUPT_DATA, v.problems().size() + " problem(s) found; the first: " + v.problems().get(0),
                    "backups that verify \"ok\" above are usable; take a new backup to replace the damaged ones"
                            + " (binlogs and change sets: see the lines above)");
            if (!json.json) {
                throw e;
            }
            // the failure document keeps the report, which says which backups are still usable
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("id", id);
            fields.put("report", report);
            fields.put("problems", v.problems().stream().map(String::valueOf).toList());
            return JsonMixin.fail(e, true, fields);
        }
        if (json.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("report", report);
            JsonMixin.print(JsonMixin.ok(m));
        }
        return 0;
    }
}
