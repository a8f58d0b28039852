package io.strata.cli;

import io.strata.restore.RestoreRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "restore", description = "Restore a backup into an empty directory and run crash recovery on it.")
final class RestoreCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Option(names = "--backup", description = "Backup id (default: the newest completed backup).")
    String backup;

    @Option(names = "--target", required = true, description = "New or empty directory for the restored data directory.")
    Path target;

    @Option(names = "--no-recover", description = "Leave crash recovery to the first start of the server.")
    boolean noRecover;

    @Option(names = "--parallel", description = "Threads writing files, and as many decoding chunks (default: number of cores).")
    Integer parallel;

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Override
    public Integer call() {
        int threads = parallel != null ? Math.max(1, parallel) : Runtime.getRuntime().availableProcessors();
        RestoreRun.Result r = RestoreRun.run(new RestoreRun.Options(repo.location(), backup, target, !noRecover, threads, key.secret()), System.err::println);
        var m = r.manifest();
        System.out.printf("restored backup %s into %s (%d files, %,d bytes)%s%n", m.id(), target.toAbsolutePath(), r.files(), r.bytes(),
                r.recovered() ? ", crash recovery done" : ", recovery left to the first start");
        if (m.binlogFile() != null) {
            System.out.printf("binlog position of this backup: %s:%d (gtid_binlog_pos %s); replay later changes from there%n",
                    m.binlogFile(), m.binlogPosition(), m.gtidBinlogPos());
        }
        System.out.println("before starting it with your own configuration, give it to the server's user, e.g.: chown -R mysql:mysql " + target.toAbsolutePath());
        return 0;
    }
}
