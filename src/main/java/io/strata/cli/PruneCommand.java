package io.strata.cli;

import io.strata.repo.Prune;
import io.strata.repo.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "prune", description = "Remove backups outside the retention, never one that a kept backup needs, and what failed attempts left behind.")
final class PruneCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Mixin
    KeyMixin key;

    @Option(names = "--keep-full", required = true, description = "Keep the newest N full backups of each server and every backup resting on them.")
    int keepFull;

    @Option(names = "--keep-days", description = "Also keep every backup of the last D days, and the newest one before that (the base for those days).")
    Integer keepDays;

    @Option(names = "--dry-run", description = "Only print what would be removed and why.")
    boolean dryRun;

    @Option(names = "--metrics-file", paramLabel = "PATH", description = "Write the repository's metrics in the node_exporter textfile format "
            + "(as strata check --metrics-file) after the prune.")
    Path metricsFile;

    @Override
    public Integer call() {
        Repository r = repo.open(key);
        Prune.Result res = Prune.run(r, keepFull, keepDays, dryRun, System.out::println);
        Metrics.afterRun(r, metricsFile, null);
        System.out.printf("%s%d backup(s) kept, %d %s, leftovers of %d attempt(s) %s%n", dryRun ? "dry run: " : "", res.plan().keep().size(),
                res.plan().remove().size(), dryRun ? "to remove" : "removed", res.leftovers().size(), dryRun ? "to remove" : "removed");
        for (String w : res.warnings()) {
            System.err.println("WARNING: " + w);
        }
        return res.warnings().isEmpty() ? 0 : 3;
    }
}
