package io.strata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The package direction of design.md ("Layout of the code"): {@code cli → backup, restore,
 * archive, track → redo → innodb, binlog, server, repo → store, codec → error, util}. The four
 * runs beside each other ({@code backup}, {@code restore}, the binlog archiver {@code archive},
 * the redo tracker {@code track}) do not use each other; what two of them share lies below them.
 *
 * <p>It reads the source text of {@code src/main/java/io/strata}, not the compiled classes, and
 * every {@code io.strata.<package>} it finds counts: import lines, static imports, the fully
 * qualified names the code uses inline, {@code {@link}} targets and class names in strings. The
 * compiled classes would miss the constants javac inlines, and source lines give the message a
 * line to point at. A use that names no type (a {@code var} holding what another package returns)
 * is not seen, and needs no check: every package a permitted package may use is permitted too, so
 * such a use can only reach a permitted package.
 */
class LayeringTest {

    /**
     * Which packages each package of {@code io.strata} may name besides itself. A package with no
     * row here fails the test, so a new package gets its rule when it is added. {@code redo} (the
     * running server's redo log) serves the backup's change detection and the tracker.
     */
    private static final String RULES = """
            cli      may use  backup restore archive track redo innodb binlog server repo store codec error util
            backup   may use  redo innodb binlog server repo store codec error util
            restore  may use  redo innodb binlog server repo store codec error util
            archive  may use  innodb binlog server repo store codec error util
            track    may use  redo innodb binlog server repo store codec error util
            redo     may use  innodb server repo store codec error util
            repo     may use  store codec error util
            innodb   may use  error
            binlog   may use  error
            server   may use  error util
            store    may use  error util
            codec    may use  error
            util     may use  error
            error    may use
            """;

    static final Map<String, Set<String>> MAY_USE = parse(RULES);

    /** A reference to a package of ours; group 1 is the package, the whole match what is named. */
    private static final Pattern REFERENCE = Pattern.compile("(?<![\\w.])io\\.strata\\.([a-z_][a-z0-9_]*)(?:\\.[A-Za-z_$][\\w$]*)*");

    private static final Path ROOT = Path.of("src", "main", "java", "io", "strata");

    @Test
    void everyReferenceBetweenPackagesPointsDown() throws IOException {
        assertTrue(Files.isDirectory(ROOT), "run from the project directory: " + ROOT.toAbsolutePath() + " is missing");
        List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(ROOT)) {
            for (Path p : all.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                files++;
                Path rel = ROOT.relativize(p);
                String from = rel.getNameCount() > 1 ? rel.getName(0).toString() : "(root)";
                violations.addAll(violations(from, p.toString(), Files.readAllLines(p, StandardCharsets.UTF_8)));
            }
        }
        assertTrue(files > 50, "found only " + files + " source files under " + ROOT);
        assertTrue(violations.isEmpty(), violations.size() + " reference(s) against the package direction (rules in "
                + LayeringTest.class.getSimpleName() + ".RULES):\n" + String.join("\n", violations));
    }

    @Test
    void theCheckSeesImportsStaticImportsAndInlineNames() {
        List<String> lines = List.of(
                "package io.strata.innodb;",
                "import io.strata.error.StrataException;",
                "import io.strata.cli.Main;",
                "import static io.strata.repo.Keys.backupKey;",
                "    var x = new io.strata.store.LocalObjectStore(dir); // and {@link io.strata.backup.BackupRun}");
        assertEquals(List.of(
                        "F.java:3: innodb must not use io.strata.cli.Main (innodb may use: error)",
                        "F.java:4: innodb must not use io.strata.repo.Keys.backupKey (innodb may use: error)",
                        "F.java:5: innodb must not use io.strata.store.LocalObjectStore (innodb may use: error)",
                        "F.java:5: innodb must not use io.strata.backup.BackupRun (innodb may use: error)"),
                violations("innodb", "F.java", lines));
        assertEquals(List.of("F.java:1: package archive2 has no row in LayeringTest.RULES"),
                violations("archive2", "F.java", List.of("class F {}")));
        assertEquals(List.of("F.java:1: repo must not use io.strata.testing.Fake (no package testing in LayeringTest.RULES)"),
                violations("repo", "F.java", List.of("io.strata.testing.Fake f;")));
    }

    @Test
    void theRunsDoNotUseEachOther() {
        List<String> runs = List.of("backup", "restore", "archive", "track");
        for (String run : runs) {
            for (String other : runs) {
                assertTrue(run.equals(other) || !MAY_USE.get(run).contains(other), run + " may use " + other);
            }
            assertTrue(MAY_USE.get("cli").contains(run), "cli may not use " + run);
        }
    }

    /** What a package may use, it may also hand on: so a {@code var} that names no type cannot reach a forbidden package. */
    @Test
    void theRulesAreClosedUnderUse() {
        for (Map.Entry<String, Set<String>> row : MAY_USE.entrySet()) {
            for (String used : row.getValue()) {
                assertTrue(MAY_USE.containsKey(used), row.getKey() + " may use " + used + ", which has no row");
                Set<String> missing = new LinkedHashSet<>(MAY_USE.get(used));
                missing.removeAll(row.getValue());
                missing.remove(row.getKey());
                assertEquals(Set.of(), missing, row.getKey() + " may use " + used + " but not what " + used + " may use");
            }
        }
    }

    static List<String> violations(String from, String file, List<String> lines) {
        Set<String> allowed = MAY_USE.get(from);
        if (allowed == null) {
            return List.of(file + ":1: package " + from + " has no row in LayeringTest.RULES");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = REFERENCE.matcher(lines.get(i));
            while (m.find()) {
                String to = m.group(1);
                if (to.equals(from) || allowed.contains(to)) {
                    continue;
                }
                String why = MAY_USE.containsKey(to)
                        ? from + " may use: " + (allowed.isEmpty() ? "nothing" : String.join(" ", allowed))
                        : "no package " + to + " in LayeringTest.RULES";
                String named = m.group().endsWith(".class") ? m.group().substring(0, m.group().length() - 6) : m.group();
                out.add(file + ":" + (i + 1) + ": " + from + " must not use " + named + " (" + why + ")");
            }
        }
        return out;
    }

    private static Map<String, Set<String>> parse(String rules) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        for (String row : rules.strip().split("\n")) {
            String[] parts = row.strip().split("\\s+may use\\s*", 2);
            Set<String> uses = parts.length < 2 || parts[1].isBlank() ? Set.of()
                    : Stream.of(parts[1].strip().split("\\s+")).collect(Collectors.toCollection(LinkedHashSet::new));
            out.put(parts[0], uses);
        }
        return out;
    }
}
