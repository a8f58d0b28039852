package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.Repository;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.MariaDbSandbox.BinlogPosition;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention of archived binlogs (issue 17; docs/repository-format.md, "Binlog archive", rule 7):
 * three full backups F1, F2, F3 under a write load, each in a binlog file of its own, the archive
 * topped up with {@code binlog archive --once} between them. {@code prune --keep-full 2 --dry-run}
 * prints what would go and removes nothing; {@code prune --keep-full 2} removes F1 and exactly the
 * archived files before F2's binlog file (the archive's bytes go down by what it reports), the
 * windows start at F2 without a break, and a point in F2's window and one in F3's window, each a
 * GTID, restore equal to the source at that point (the replay oracle of PitrIT).
 */
class PruneBinlogsIT {

    @Test
    void pruneKeepsEveryWindowOfTheKeptBackupsAndNothingElse() throws Exception {
        Path work = ItSupport.tempDir("prune-binlogs-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            PitrSupport.createApp(source, 2_000);
            String f1;
            String f2;
            String f3;
            String inF2;
            String inF3;
            WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(200).start();
            try {
                PitrSupport.archiveOnce(repo, source);
                source.exec("FLUSH BINARY LOGS");
                f1 = ItSupport.backup(repo, source, "--type", "full");
                source.exec("FLUSH BINARY LOGS");
                PitrSupport.archiveOnce(repo, source);
                f2 = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(300);
                source.exec("FLUSH BINARY LOGS");
                Thread.sleep(300);
                inF2 = PitrSupport.markerTransaction(source, 2); // after F2 and a rotation, before F3
                PitrSupport.archiveOnce(repo, source);
                source.exec("FLUSH BINARY LOGS");
                f3 = ItSupport.backup(repo, source, "--type", "full");
                Thread.sleep(300);
                inF3 = PitrSupport.markerTransaction(source, 3);
                Thread.sleep(300);
                w.stop();
            } finally {
                w.close();
            }
            PitrSupport.archiveOnce(repo, source);
            Repository r = Repository.open(repo);
            String file1 = r.manifest(f1).binlogFile();
            String file2 = r.manifest(f2).binlogFile();
            assertTrue(number(file2) > number(file1), "F1 and F2 in binlog files of their own: " + file1 + ", " + file2);
            String server = PitrSupport.windows(repo).get("server").asText();

            // the files before F2's: the setup's, F1's, and any the backups rotated to
            Map<String, Long> before = archived(repo);
            List<String> expected = new ArrayList<>();
            for (String k : before.keySet()) {
                String file = Path.of(k).getParent().getFileName().toString();
                if (number(file) < number(file2) && !expected.contains(file)) {
                    expected.add(file);
                }
            }
            assertTrue(expected.size() >= 2 && expected.contains(file1), expected + " in " + before.keySet());
            assertEquals(file2, nextFile(expected.get(expected.size() - 1)), "the archive has a hole before " + file2 + ": " + before.keySet());

            StrataCli.Result none = StrataCli.inProcess("prune", "--repo", repo.toString());
            assertEquals(2, none.exit(), none.toString());
            assertEquals("ERROR [usage]: prune needs a retention: --keep-full N, --keep-days D, or both", none.err().lines().findFirst().orElse(""), none.toString());

            StrataCli.Result dry = StrataCli.run("prune", "--repo", repo.toString(), "--keep-full", "2", "--dry-run", "--metrics-file", work.resolve("dry.prom").toString());
            assertEquals(0, dry.exit(), dry.toString());
            String line = binlogLine(dry.out(), "would remove binlogs of " + server + " ");
            assertTrue(line.startsWith("would remove binlogs of " + server + " t0001 " + expected.get(0) + " to t0001 " + expected.get(expected.size() - 1) + ": " + expected.size() + " file(s), "), line);
            assertTrue(line.endsWith(": t0001 " + file2 + " holds the binlog position " + file2 + ":" + r.manifest(f2).binlogPosition()
                    + " of backup " + f2 + ", the oldest kept backup of this server: every window a kept backup promises starts there or later; keep from t0001 " + file2), line);
            assertTrue(dry.out().contains("would remove " + f1 + ": full backup outside the retention (--keep-full 2) and needed by no kept backup"), dry.out());
            assertEquals(before, archived(repo), "the dry run removed archived binlogs");
            assertTrue(r.hasManifest(f1), "the dry run removed F1");

            StrataCli.Result pr = StrataCli.run("prune", "--repo", repo.toString(), "--keep-full", "2", "--json", "--metrics-file", work.resolve("pruned.prom").toString());
            assertEquals(0, pr.exit(), pr.toString());
            assertEquals(line.replaceFirst("^would remove", "remove"), binlogLine(pr.err(), "remove binlogs of " + server + " "), "the dry run did not show what the prune did");
            JsonNode doc = ItSupport.JSON.readTree(pr.out());
            assertEquals(List.of(f1), iterable(doc.get("removed").fieldNames()));
            JsonNode b = doc.get("binlogs").get(0);
            assertEquals(server, b.get("server").asText());
            List<String> removed = new ArrayList<>();
            long removedBytes = 0;
            for (JsonNode f : b.get("files")) {
                removed.add(f.get("file").asText());
                removedBytes += f.get("bytes").asLong();
            }
            assertEquals(expected, removed);
            Map<String, Long> after = archived(repo);
            for (String k : before.keySet()) {
                String file = Path.of(k).getParent().getFileName().toString();
                assertEquals(!expected.contains(file), after.containsKey(k), k);
            }
            long sumBefore = before.values().stream().mapToLong(Long::longValue).sum();
            long sumAfter = after.values().stream().mapToLong(Long::longValue).sum();
            assertTrue(removedBytes > 0, b.toString());
            assertEquals(sumBefore - removedBytes, sumAfter, "the archive's bytes went down by what prune reported");
            assertFalse(r.hasManifest(f1));
            // the metrics written after the prune: the archive's bytes less by what went (and the start's record, rewritten, a little longer)
            long metricBefore = binlogBytesMetric(work.resolve("dry.prom"));
            long metricAfter = binlogBytesMetric(work.resolve("pruned.prom"));
            assertTrue(metricBefore - metricAfter <= removedBytes && metricBefore - metricAfter > removedBytes - 512,
                    metricBefore + " - " + metricAfter + " vs " + removedBytes);

            // verify reads the rest of the archive as one run from F2's file, without a problem
            StrataCli.Result v = StrataCli.inProcess("verify", "--repo", repo.toString());
            assertEquals(0, v.exit(), v.toString());
            assertTrue(v.out().lines().anyMatch(l -> l.startsWith("run    binlogs of " + server + ", t0001 " + file2 + ":0 to ")), v.out());
            assertFalse(v.out().contains("FAILED"), v.out());

            // the windows start at F2, with no break: nothing of what prune removed reads as damage
            JsonNode win = PitrSupport.windows(repo);
            assertEquals(1, win.get("windows").size(), win.toString());
            assertEquals(f2, win.get("windows").get(0).get("from").get("backup").asText(), win.toString());
            assertEquals(0, win.get("gaps").size(), win.toString());

            // a point in F2's window (across a rotation) and one in F3's, each equal to the source there
            BinlogPosition atF2 = PitrSupport.endOf(source, inF2);
            BinlogPosition atF3 = PitrSupport.endOf(source, inF3);
            Path t2 = work.resolve("in-f2");
            StrataCli.Result r2 = PitrSupport.restore(repo, t2, "--until-gtid", inF2);
            assertEquals(0, r2.exit(), r2.toString());
            assertTrue(r2.out().contains(": backup " + f2 + " (full) and "), r2.toString());
            PitrSupport.assertSameAfterReplay(source, t2, atF2);
            Path t3 = work.resolve("in-f3");
            StrataCli.Result r3 = PitrSupport.restore(repo, t3, "--until-gtid", inF3);
            assertEquals(0, r3.exit(), r3.toString());
            assertTrue(r3.out().contains(": backup " + f3 + " (full) and "), r3.toString());
            PitrSupport.assertSameAfterReplay(source, t3, atF3);
        }
    }

    /** strata_repository_bytes{kind="binlogs"} in a metrics file. */
    private static long binlogBytesMetric(Path prom) throws IOException {
        String prefix = "strata_repository_bytes{kind=\"binlogs\"} ";
        String line = Files.readAllLines(prom).stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(prom.toString()));
        return Long.parseLong(line.substring(prefix.length()).trim());
    }

    /** The one line of {@code out} that starts with {@code prefix}. */
    private static String binlogLine(String out, String prefix) {
        List<String> lines = out.lines().filter(l -> l.startsWith(prefix)).toList();
        assertEquals(1, lines.size(), out);
        return lines.get(0);
    }

    /** Segment objects (.binlog and .sum) of the archive, by path, with their sizes. */
    private static Map<String, Long> archived(Path repo) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(repo.resolve("binlogs"))) {
            for (Path p : s.filter(x -> x.toString().endsWith(".sum") || x.toString().endsWith(".binlog")).toList()) {
                out.put(repo.relativize(p).toString(), Files.size(p));
            }
        }
        return out;
    }

    private static long number(String binlog) {
        return Long.parseLong(binlog.substring(binlog.lastIndexOf('.') + 1));
    }

    private static String nextFile(String binlog) {
        String digits = binlog.substring(binlog.lastIndexOf('.') + 1);
        return binlog.substring(0, binlog.lastIndexOf('.') + 1) + String.format(java.util.Locale.ROOT, "%0" + digits.length() + "d", number(binlog) + 1);
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
