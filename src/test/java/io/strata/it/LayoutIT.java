package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.BinlogReplay;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * InnoDB's own files in their own directories (issue 14, "layout"): innodb_data_home_dir with two
 * ibdata files, innodb_log_group_home_dir and innodb_undo_directory with three undo tablespaces, in
 * sub-folders of the data directory and outside it. Under a write load, a full, an incremental and
 * a differential backup each restore to the source (oracle: the restored server started with the
 * options restore printed, the source's binlog replayed from the backup's position, CHECKSUM TABLE
 * of every table equal).
 */
class LayoutIT {
    private static final String TWO_IBDATA = "--innodb-data-file-path=ibdata1:12M;ibdata2:12M:autoextend";

    private static MariaDbSandbox source(String... layout) {
        MariaDbSandbox.requireMariaDb();
        List<String> install = new ArrayList<>(Arrays.asList(layout));
        install.add(TWO_IBDATA);
        install.add("--innodb-undo-tablespaces=3");
        return MariaDbSandbox.builder().logBin(true).innodbLogFileSize("8M").installArgs(install.toArray(String[]::new))
                .extraArgs("--innodb-log-buffer-size=1M").start();
    }

    /** Backup ids in order: full, incremental, differential, each taken while the write load runs. */
    private static List<String> chainUnderLoad(MariaDbSandbox source, Path repo) throws Exception {
        try (Connection c = source.connection()) {
            SampleSchema.create(c, "app");
            SampleSchema.loadRows(c, "app", 3_000);
        }
        List<String> ids = new ArrayList<>();
        try (WriteLoad w = WriteLoad.on(source, "app").threads(2).rate(300).start()) {
            Thread.sleep(500);
            ids.add(ItSupport.backup(repo, source, "--type", "full"));
            Thread.sleep(700);
            ids.add(ItSupport.backup(repo, source, "--type", "incremental"));
            Thread.sleep(700);
            ids.add(ItSupport.backup(repo, source, "--type", "differential"));
            Thread.sleep(300);
            WriteLoad.Result load = w.stop();
            assertTrue(load.transactions() > 100, load.toString());
        }
        return ids;
    }

    /** The options restore printed on its "start the restored server with these options:" line. */
    private static String[] printedOptions(StrataCli.Result r) {
        String prefix = "start the restored server with these options: ";
        String line = r.out().lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no start options printed: " + r.out()));
        return line.substring(prefix.length(), line.indexOf(" (also in ")).split(" ");
    }

    /** Starts the restored directory with the printed options, replays the source's binlog from the backup's position and compares. */
    private static void assertRestoredEqualsSource(Path repo, String id, Path target, String[] options, MariaDbSandbox source) throws Exception {
        JsonNode m = ItSupport.manifest(repo, id);
        try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).extraArgs(options).extraArgs("--max-allowed-packet=1G").start()) {
            BinlogReplay.replay(source, m.get("binlogFile").asText(), m.get("binlogPosition").asLong(), restored.socket());
            ItSupport.assertSameData(source, restored, "app");
            assertEquals("3", restored.query("SELECT @@innodb_undo_tablespaces").get(0).get(0));
        }
    }

    /** The manifest's file entries by home ("" for the data directory) and path. */
    private static Map<String, List<String>> filesByHome(JsonNode m) {
        Map<String, List<String>> out = new TreeMap<>();
        for (JsonNode f : m.get("files")) {
            out.computeIfAbsent(f.get("home").isNull() ? "" : f.get("home").asText(), k -> new ArrayList<>()).add(f.get("path").asText());
        }
        return out;
    }

    @Test
    void subFoldersOfTheDatadirAreRecreatedUnderTheTarget() throws Exception {
        Path work = ItSupport.tempDir("layout-in-");
        Path repo = work.resolve("repo");
        try (MariaDbSandbox source = source("--innodb-data-home-dir=./ibdata", "--innodb-log-group-home-dir=./redo", "--innodb-undo-directory=undo",
                "--ignore-db-dirs=ibdata", "--ignore-db-dirs=redo", "--ignore-db-dirs=undo")) {
            assertTrue(Files.exists(source.datadir().resolve("ibdata/ibdata2")) && Files.exists(source.datadir().resolve("undo/undo003"))
                    && Files.exists(source.datadir().resolve("redo/ib_logfile0")) && !Files.exists(source.datadir().resolve("ibdata1")),
                    "the source keeps InnoDB's files in the sub-folders");
            List<String> ids = chainUnderLoad(source, repo);

            JsonNode m = ItSupport.manifest(repo, ids.get(0));
            JsonNode layout = m.get("innodbLayout");
            assertEquals(source.datadir().resolve("ibdata").toString(), layout.get("dataHome").asText());
            assertEquals(source.datadir().resolve("redo").toString(), layout.get("logHome").asText());
            assertEquals(source.datadir().resolve("undo").toString(), layout.get("undoHome").asText());
            assertEquals("undo", layout.get("undoDirectory").asText());
            Map<String, List<String>> all = filesByHome(m);
            assertTrue(all.get("").stream().noneMatch(p -> p.startsWith("ibdata/") || p.startsWith("redo/") || p.startsWith("undo/")),
                    "nothing of the InnoDB directories is stored twice: " + all.get(""));
            Map<String, List<String>> homes = new TreeMap<>(all);
            homes.remove("");
            assertEquals(Map.of("innodb_data_home_dir", List.of("ibdata1", "ibdata2"), "innodb_undo_directory", List.of("undo001", "undo002", "undo003")),
                    homes);

            // verify reads every stored InnoDB file wherever it lived; merge keeps each file's home and the layout
            StrataCli.Result v = StrataCli.run("verify", "--repo", repo.toString());
            assertEquals(0, v.exit(), v.toString());
            StrataCli.Result merged = StrataCli.run("merge", "--repo", repo.toString(), ids.get(1));
            assertEquals(0, merged.exit(), merged.toString());
            JsonNode mm = ItSupport.manifest(repo, merged.out().split(" ")[1]);
            assertEquals(layout, mm.get("innodbLayout"));
            assertEquals(homes, filesByHome(mm).entrySet().stream().filter(e -> !e.getKey().isEmpty())
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new)),
                    "merged: " + filesByHome(mm));

            for (int i = 0; i < ids.size(); i++) {
                Path target = work.resolve("r" + i);
                boolean recover = i < 2; // the differential is left to the first start; ids[1] now restores the merged backup
                List<String> args = new ArrayList<>(List.of("restore", "--repo", repo.toString(), "--backup", ids.get(i), "--target", target.toString()));
                if (!recover) {
                    args.add("--no-recover");
                }
                StrataCli.Result r = StrataCli.run(args.toArray(String[]::new));
                assertEquals(0, r.exit(), r.toString());
                String[] options = printedOptions(r);
                assertEquals(List.of("--datadir=" + target, "--innodb-data-home-dir=" + target.resolve("ibdata"),
                        "--innodb-log-group-home-dir=" + target.resolve("redo"), "--innodb-undo-directory=" + target.resolve("undo"),
                        "--innodb-data-file-path=ibdata1:12M;ibdata2:12M:autoextend", "--innodb-undo-tablespaces=3"), List.of(options));
                for (String f : List.of("ibdata/ibdata1", "ibdata/ibdata2", "undo/undo001", "undo/undo003", "redo/ib_logfile0", "strata-layout.cnf")) {
                    assertTrue(Files.exists(target.resolve(f)), f + " restored in " + target);
                }
                assertFalse(Files.exists(target.resolve("ibdata1")) || Files.exists(target.resolve("ib_logfile0")) || Files.exists(target.resolve("undo001")),
                        "nothing of InnoDB's own files in the target's root");
                String cnf = Files.readString(target.resolve("strata-layout.cnf"));
                assertTrue(cnf.contains("\n[mariadbd]\n") && cnf.contains("innodb-undo-directory = " + target.resolve("undo") + "\n"), cnf);
                assertRestoredEqualsSource(repo, ids.get(i), target, options, source);
            }
        }
    }

    @Test
    void directoriesOutsideTheDatadirGoToTheTargetOrWhereTheOptionsSay() throws Exception {
        Path work = ItSupport.tempDir("layout-out-");
        Path repo = work.resolve("repo");
        Path srcData = work.resolve("src-ibdata");
        Path srcRedo = work.resolve("src-redo");
        Path srcUndo = work.resolve("src-undo");
        try (MariaDbSandbox source = source("--innodb-data-home-dir=" + srcData, "--innodb-log-group-home-dir=" + srcRedo,
                "--innodb-undo-directory=" + srcUndo)) {
            assertTrue(Files.exists(srcData.resolve("ibdata2")) && Files.exists(srcUndo.resolve("undo003")) && Files.exists(srcRedo.resolve("ib_logfile0")));
            List<String> ids = chainUnderLoad(source, repo);
            Map<String, List<String>> homes = filesByHome(ItSupport.manifest(repo, ids.get(2)));
            assertEquals(List.of("ibdata1", "ibdata2"), homes.get("innodb_data_home_dir"));
            assertEquals(List.of("undo001", "undo002", "undo003"), homes.get("innodb_undo_directory"));

            // default: directories outside the source's datadir become the target itself
            Path flat = work.resolve("flat");
            StrataCli.Result r = StrataCli.run("restore", "--repo", repo.toString(), "--backup", ids.get(1), "--target", flat.toString(), "--json");
            assertEquals(0, r.exit(), r.toString());
            for (String f : List.of("ibdata1", "ibdata2", "undo001", "undo003", "ib_logfile0")) {
                assertTrue(Files.exists(flat.resolve(f)), f + " in the target's root");
            }
            List<String> expected = List.of("--datadir=" + flat, "--innodb-data-file-path=ibdata1:12M;ibdata2:12M:autoextend", "--innodb-undo-tablespaces=3");
            List<String> json = new ArrayList<>();
            ItSupport.JSON.readTree(r.out()).get("startOptions").forEach(o -> json.add(o.asText()));
            assertEquals(expected, json);
            assertTrue(r.err().contains("start the restored server with these options: " + String.join(" ", expected)), r.err());
            String[] options = expected.toArray(String[]::new);
            assertRestoredEqualsSource(repo, ids.get(1), flat, options, source);

            // where the options say: new directories outside the target, recovery with them, and
            // without recovery a directory that starts with the printed options
            Path occupied = Files.createDirectories(work.resolve("occupied"));
            Files.writeString(occupied.resolve("x"), "x");
            StrataCli.Result refused = StrataCli.run("restore", "--repo", repo.toString(), "--backup", ids.get(2), "--target", work.resolve("never").toString(),
                    "--innodb-undo-directory=" + occupied);
            assertEquals(18, refused.exit(), refused.toString());
            assertTrue(refused.err().contains("ERROR [target-not-empty]: the restored server's innodb_undo_directory " + occupied
                    + " exists and is not an empty directory"), refused.err());
            assertTrue(refused.err().contains("HINT: name a new or empty directory with --innodb-undo-directory"), refused.err());
            assertFalse(Files.exists(work.resolve("never")), "a refused restore writes nothing");

            for (int i : new int[] {0, 2}) {
                Path target = work.resolve("moved" + i);
                Path data = work.resolve("new-ibdata" + i);
                Path redo = work.resolve("new-redo" + i);
                Path undo = target.resolve("undo-in-target");
                List<String> args = new ArrayList<>(List.of("restore", "--repo", repo.toString(), "--backup", ids.get(i), "--target", target.toString(),
                        "--innodb-data-home-dir=" + data, "--innodb-log-group-home-dir=" + redo, "--innodb-undo-directory=" + undo));
                if (i == 2) {
                    args.add("--no-recover");
                }
                StrataCli.Result moved = StrataCli.run(args.toArray(String[]::new));
                assertEquals(0, moved.exit(), moved.toString());
                assertTrue(Files.exists(data.resolve("ibdata2")) && Files.exists(redo.resolve("ib_logfile0")) && Files.exists(undo.resolve("undo002")));
                String[] opts = printedOptions(moved);
                assertEquals(List.of("--datadir=" + target, "--innodb-data-home-dir=" + data, "--innodb-log-group-home-dir=" + redo,
                        "--innodb-undo-directory=" + undo, "--innodb-data-file-path=ibdata1:12M;ibdata2:12M:autoextend", "--innodb-undo-tablespaces=3"),
                        List.of(opts));
                assertRestoredEqualsSource(repo, ids.get(i), target, opts, source);
            }
        }
    }
}
