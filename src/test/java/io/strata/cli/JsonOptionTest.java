package io.strata.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every command that does something, and every subcommand, takes --json (README "Machine-readable output"). */
class JsonOptionTest {
    /** demo prints a guided tour for people; cds-train only builds the class-data archive; agent is a service whose output is its log. */
    private static final Set<String> WITHOUT = Set.of("demo", "cds-train", "agent");

    @Test
    void everyCommandTakesJson() {
        List<String> missing = new ArrayList<>();
        for (String name : Main.commandNames()) {
            if (!WITHOUT.contains(name)) {
                collect(new CommandLine(Main.newCommand(name)), missing);
            }
        }
        assertEquals(List.of(), missing);
    }

    /** Leaves (commands that run) without --json; a parent such as "binlog" only names its subcommands. */
    private static void collect(CommandLine cl, List<String> missing) {
        if (!cl.getSubcommands().isEmpty()) {
            cl.getSubcommands().values().forEach(sub -> collect(sub, missing));
        } else if (cl.getCommandSpec().findOption(JsonMixin.NAME) == null) {
            missing.add(cl.getCommandSpec().qualifiedName());
        }
    }
}
