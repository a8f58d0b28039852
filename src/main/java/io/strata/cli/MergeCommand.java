package io.strata.cli;

import io.strata.repo.Manifest;
import io.strata.restore.MergeRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "merge", description = "Fold an incremental or differential backup into its parent: a synthetic full, or a shorter chain, that restores identically.")
final class MergeCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Parameters(index = "0", description = "The backup to fold into its parent.")
    String id;

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Mixin
    JsonMixin json = new JsonMixin();

    @Override
    public Integer call() {
        Manifest m = MergeRun.run(repo.open(key), id, System.err::println);
        json.text().printf("backup %s (%s%s) now holds the state of %s; %,d bytes stored%n", m.id(), m.type(),
                m.parent() == null ? "" : " on " + m.parent(), id, m.storedBytes());
        if (json.json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("merged", id);
            out.put("id", m.id());
            out.put("type", m.type());
            out.put("parent", m.parent());
            out.put("storedBytes", m.storedBytes());
            JsonMixin.print(JsonMixin.ok(out));
        }
        return 0;
    }
}
