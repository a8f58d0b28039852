package io.strata.cli;

import io.strata.repo.Manifest;
import io.strata.restore.MergeRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "merge", description = "Fold an incremental or differential backup into its parent: a synthetic full, or a shorter chain, that restores identically.")
final class MergeCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Parameters(index = "0", description = "The backup to fold into its parent.")
    String id;

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Override
    public Integer call() {
        Manifest m = MergeRun.run(repo.open(key), id, System.err::println);
        System.out.printf("backup %s (%s%s) now holds the state of %s; %,d bytes stored%n", m.id(), m.type(),
                m.parent() == null ? "" : " on " + m.parent(), id, m.storedBytes());
        return 0;
    }
}
