package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** Entry point: runs a command and turns every outcome into one message and an exit code. */
@Command(name = "strata", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "strata 0.1.0",
        description = "Hot physical backups of MariaDB 10.11: full backups, restore, history.",
        subcommands = {BackupCommand.class, TrackCommand.class, RestoreCommand.class, BinlogCommand.class, ListCommand.class, ShowCommand.class, VerifyCommand.class, MergeCommand.class, StatusCommand.class,
                PruneCommand.class, DemoCommand.class, CdsTrainCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required: backup, restore, list, show or demo");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("ERROR [" + ErrorCode.USAGE.id() + "]: " + ex.getMessage());
            err.println("HINT: see \"" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help\"");
            return ErrorCode.USAGE.exitCode();
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (ex instanceof StrataException se) {
                err.println(se.render());
                err.flush();
                return se.code().exitCode();
            }
            err.println("BUG: strata failed unexpectedly; please report this with the output below");
            ex.printStackTrace(err);
            err.flush();
            return ErrorCode.BUG.exitCode();
        });
        return cl.execute(args);
    }
}
