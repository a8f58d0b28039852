package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.repo.Prune;
import io.strata.repo.Repository;
import io.strata.restore.Verifier;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 item 8: verify finds every damage of a corruption matrix over every stored object type
 * (manifest, history record, whole InnoDB data file, page delta, redo, non-InnoDB file,
 * strata.repo, change set, binlog segment) × (flip a byte, truncate, delete, replace with another
 * object of the same type), names the damaged object and exits non-zero; a restore that needs the
 * damaged object refuses and leaves its target empty, and an undamaged backup of the same damaged
 * repository restores to exactly the files it restores from the intact repository (checked once per
 * object type, with the flipped byte).
 *
 * <p>One server and one prepared repository for all cases: F1 (full) ← I1 ← I2 (incrementals,
 * with deltas), F2 (full, standalone), three change sets of {@code strata track}, three segments of
 * the active binlog. Each case copies the repository (small, local) and damages the copy; verify
 * and restore run in process. The data of a restore of F2 is compared with the source's tables
 * once (a server started on it); every other restore of F2 is compared file by file (SHA-256) with
 * that reference restore, without recovery.
 */
class CorruptionMatrixIT {
    private static Path work;
    private static Path base;
    private static String f1;
    private static String i1;
    private static String i2;
    private static String f2;
    private static Map<String, String> reference;
    private static final Map<String, String> RESULTS = new TreeMap<>();

    enum Damage { FLIP, TRUNCATE, DELETE, REPLACE }

    enum Kind { MANIFEST, HISTORY, DATA, DELTA, REDO, NON_INNODB, MARKER, CHANGE_SET, BINLOG_SEGMENT }

    /** The damaged object (repository-relative), the object that replaces it, and the backup whose restore needs it (null: none). */
    private record Target(String key, String replacement, String needs) {}

    @BeforeAll
    static void prepare() throws Exception {
        work = ItSupport.tempDir("matrix-");
        base = work.resolve("repo");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            source.exec("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            // every commit flushed: "track --once" stores the redo log up to the flushed LSN, and the sandbox's
            // setting (2) flushes once a second, so rounds quicker than that could leave nothing new to store
            source.exec("SET GLOBAL innodb_flush_log_at_trx_commit = 1");
            f1 = ItSupport.backup(base, source, "--type", "full");
            String[] track = {"track", "--repo", base.toString(), "--socket", source.socket().toString(), "--user", "root", "--once"};
            for (int round = 0; round < 3; round++) {
                source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < " + (300 + round * 100), "UPDATE app.t_myisam SET k = k + 1 WHERE id < 100");
                StrataCli.Result tr = StrataCli.run(track);
                assertEquals(0, tr.exit(), tr.toString());
                PitrSupport.archiveOnce(base, source);
            }
            ItSupport.waitForCheckpoint(source);
            i1 = ItSupport.backup(base, source, "--type", "incremental");
            source.exec("UPDATE app.t_fcrc32 SET k = k + 1 WHERE id < 700", "UPDATE app.t_legacy SET k = k + 1 WHERE id < 700");
            ItSupport.waitForCheckpoint(source); // the DELTA case needs the UPDATE's pages in I2's deltas
            i2 = ItSupport.backup(base, source, "--type", "incremental");
            source.exec("UPDATE app.t_myisam SET k = k + 1 WHERE id < 500", "UPDATE app.t_aria SET k = k + 1 WHERE id < 500");
            f2 = ItSupport.backup(base, source, "--type", "full");

            Run ok = run("verify", "--repo", base.toString());
            assertEquals(0, ok.exit(), ok.toString());
            assertTrue(ok.out().contains("ok     change sets of "), ok.out());
            assertTrue(ok.out().contains("run    binlogs of "), ok.out());
            String summary = ok.out().lines().filter(l -> l.startsWith("summary: ")).findFirst().orElse("");
            assertTrue(summary.startsWith("summary: 4 backup(s) ok, 0 damaged, 0 not usable (resting on a damaged one), 0 gone meanwhile; "
                    + "binlogs: 1 archive(s), 1 run(s), 3 segment(s), 0 recorded gap(s); change sets: "), ok.out());
            assertTrue(summary.endsWith(" verified; 0 problem(s)"), ok.out());

            // the reference restore of F2 holds the source's data (nothing was written after F2)
            Path checked = work.resolve("f2-recovered");
            Run r = run("restore", "--repo", base.toString(), "--backup", f2, "--target", checked.toString());
            assertEquals(0, r.exit(), r.toString());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(checked).start()) {
                ItSupport.assertSameData(source, restored, "app");
            }
        }
        Path ref = work.resolve("f2-reference");
        Run r = run("restore", "--repo", base.toString(), "--backup", f2, "--target", ref.toString(), "--no-recover");
        assertEquals(0, r.exit(), r.toString());
        reference = digests(ref);
    }

    @AfterAll
    static void report() {
        StringBuilder b = new StringBuilder("corruption matrix (object type x damage -> verify exit, object named):\n");
        RESULTS.forEach((k, v) -> b.append("  ").append(k).append(" -> ").append(v).append('\n'));
        System.out.print(b);
    }

    static Stream<Arguments> matrix() {
        List<Arguments> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (Damage d : Damage.values()) {
                out.add(Arguments.of(k, d));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} x {1}")
    @MethodSource("matrix")
    void verifyNamesTheDamageAndRestoreRefusesIt(Kind kind, Damage damage) throws Exception {
        Path repo = work.resolve("case-" + kind + "-" + damage);
        copyTree(base, repo);
        Target t = target(kind);
        ItSupport.StoredAt at = storedAt(repo, t.key());
        Path file = at.file();
        apply(damage, at, t.replacement() == null ? null : storedAt(repo, t.replacement()).file());

        Run v = run("verify", "--repo", repo.toString());
        int expectedExit = expectedExit(kind, damage);
        assertEquals(expectedExit, v.exit(), v.toString());
        String named = named(kind, damage, at, repo);
        assertTrue(v.out().contains(named) || v.err().contains(named), "verify does not name " + named + ":\n" + v);
        assertFalse(v.err().contains("\tat "), v.toString());
        if (expectedExit == 12 && kind != Kind.MARKER) {
            assertTrue(v.out().contains("FAILED "), v.toString());
            assertTrue(v.err().startsWith("ERROR [corrupt-data]: "), v.toString());
        }
        RESULTS.put(String.format("%-14s x %-8s", kind, damage), "exit " + v.exit() + ", named: " + named);

        if (t.needs() != null || kind == Kind.BINLOG_SEGMENT) {
            Path target = work.resolve("refused-" + kind + "-" + damage);
            Run r;
            if (kind == Kind.BINLOG_SEGMENT) {
                // a point-in-time restore to the end of the damaged segment starts at F1 and replays through it
                String name = file.getFileName().toString();
                String until = file.getParent().getFileName() + ":" + Long.parseLong(name.substring(13, 25));
                r = run("restore", "--repo", repo.toString(), "--target", target.toString(), "--until-position", until);
                // it names the archived file (restore reads segments as one stream: a foreign segment fails at its first
                // event, before its digest; a missing one ends the archive there, exit 52 pitr-after-window)
                assertTrue(r.err().contains(file.getParent().getFileName().toString()), "the refusal names the binlog:\n" + r);
            } else {
                r = run("restore", "--repo", repo.toString(), "--backup", t.needs(), "--target", target.toString(), "--no-recover");
            }
            assertNotEquals(0, r.exit(), "the restore of " + t.needs() + " must refuse " + file + ":\n" + r);
            assertFalse(r.err().contains("\tat "), r.toString());
            assertTrue(!Files.exists(target) || isEmpty(target), "a refused restore leaves its target empty: " + target);
        }
        if (kind == Kind.MARKER || damage != Damage.FLIP) {
            // without its marker the repository cannot be opened at all: nothing restores. The undamaged
            // restore is checked once per object type (with the flipped byte) to keep the test short.
            deleteTree(repo);
            return;
        }
        // an undamaged backup of the same repository restores exactly as from the intact one
        Path other = work.resolve("restored-" + kind + "-" + damage);
        Run r = run("restore", "--repo", repo.toString(), "--backup", f2, "--target", other.toString(), "--no-recover");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(reference, digests(other));
        deleteTree(other);
        deleteTree(repo);
    }

    /** A prune that removes backups between verify's listing and its reads is not damage: those backups are "gone". */
    @Test
    void verifyDuringPruneReportsNothingItCannotSee() throws Exception {
        Path repo = work.resolve("prune-race");
        copyTree(base, repo);
        Repository r = Repository.open(repo);
        List<String> lines = new ArrayList<>();
        Verifier v = new Verifier(r, lines::add);
        List<String> pruned = new ArrayList<>();
        v.afterListing(() -> Prune.run(Repository.open(repo), 1, null, false, pruned::add));
        v.run(null);
        assertEquals(List.of(), v.problems(), String.join("\n", lines));
        assertTrue(pruned.contains("keep   " + f2 + ": one of the newest 1 full backup(s)"), pruned.toString());
        for (String id : List.of(f1, i1, i2)) {
            assertTrue(lines.contains("gone   " + id + ": removed while verify ran (a prune or merge); not checked"), String.join("\n", lines));
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ok     " + f2 + " (full)")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("summary: 1 backup(s) ok, 0 damaged, 0 not usable (resting on a damaged one), 3 gone meanwhile; ")),
                String.join("\n", lines));
        deleteTree(repo);
    }

    /** A backup whose parent is damaged is "not usable", naming the damaged one, never "ok". */
    @Test
    void aBackupOnADamagedParentIsNotUsable() throws Exception {
        Path repo = work.resolve("chain");
        copyTree(base, repo);
        Target t = target(Kind.DATA);
        apply(Damage.FLIP, storedAt(repo, t.key()), null);
        Run v = run("verify", "--repo", repo.toString());
        assertEquals(12, v.exit(), v.toString());
        assertTrue(v.out().contains("FAILED " + f1 + ": 1 problem(s)"), v.out());
        for (String id : List.of(i1, i2)) {
            assertTrue(v.out().contains("FAILED " + id + " (incremental): its own "), v.out());
            assertTrue(v.out().contains("but it is not usable: its restore needs app/t_fcrc32.ibd of backup " + f1 + ", which is damaged"), v.out());
            assertFalse(v.out().contains("ok     " + id), v.out());
        }
        assertTrue(v.out().contains("ok     " + f2 + " (full)"), v.out());
        assertTrue(v.out().contains("summary: 1 backup(s) ok, 1 damaged, 2 not usable (resting on a damaged one), 0 gone meanwhile; "), v.out());
        Run one = run("verify", "--repo", repo.toString(), i2);
        assertEquals(12, one.exit(), one.toString());
        assertTrue(one.out().contains("FAILED " + i2 + " (incremental): its own "), one.out());
        // the restore of I2 names the damaged file with the backup that holds it, not with I2
        Path target = work.resolve("i2-on-damaged-f1");
        Run r = run("restore", "--repo", repo.toString(), "--backup", i2, "--target", target.toString(), "--no-recover");
        assertEquals(12, r.exit(), r.toString());
        Path damaged = storedAt(repo, t.key()).file();
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("ERROR [corrupt-data]: app/t_fcrc32.ibd of backup " + f1 + ", which the restore of backup " + i2
                + " reads: chunk ") && l.endsWith("(resource=" + damaged + ")")), r.err());
        assertTrue(!Files.exists(target) || isEmpty(target), "a refused restore leaves its target empty: " + target);
        deleteTree(repo);
    }

    /**
     * A backup that stores the damaged file of its ancestor itself does not read the ancestor's
     * copy: F1's MyISAM data file is damaged, I1 stores that file again (it changed) and I2 refers
     * to I1's copy, so both stay "ok", and I2 restores exactly as from the intact repository.
     */
    @Test
    void aBackupStoringTheDamagedFileItselfStaysUsable() throws Exception {
        Path repo = work.resolve("stored-again");
        copyTree(base, repo);
        apply(Damage.FLIP, storedAt(repo, object(f1, "app/t_myisam.MYD")), null);
        Run v = run("verify", "--repo", repo.toString());
        assertEquals(12, v.exit(), v.toString());
        List<String> lines = v.out().lines().toList();
        assertTrue(lines.contains("FAILED " + f1 + ": 1 problem(s)"), v.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  app/t_myisam.MYD of backup " + f1 + ": ")), v.out());
        for (String id : List.of(i1, i2)) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("ok     " + id + " (incremental): ")), v.out());
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("summary: 3 backup(s) ok, 1 damaged, 0 not usable (resting on a damaged one), 0 gone meanwhile; ")
                && l.endsWith("; 1 problem(s)")), v.out());

        Path fromDamaged = work.resolve("i2-stored-again");
        Path fromIntact = work.resolve("i2-stored-again-intact");
        Run r = run("restore", "--repo", repo.toString(), "--backup", i2, "--target", fromDamaged.toString(), "--no-recover");
        assertEquals(0, r.exit(), r.toString());
        Run ri = run("restore", "--repo", base.toString(), "--backup", i2, "--target", fromIntact.toString(), "--no-recover");
        assertEquals(0, ri.exit(), ri.toString());
        assertEquals(digests(fromIntact), digests(fromDamaged));
        // the restore of F1 itself reads the damaged file and refuses
        Run f = run("restore", "--repo", repo.toString(), "--backup", f1, "--target", work.resolve("f1-stored-again").toString(), "--no-recover");
        assertEquals(12, f.exit(), f.toString());
        assertTrue(f.err().contains("app/t_myisam.MYD"), f.err());
        deleteTree(repo);
        deleteTree(fromDamaged);
        deleteTree(fromIntact);
    }

    /**
     * Only a restore of the backup itself applies its redo log: a full whose redo object is damaged
     * is damaged, but the incrementals resting on it are usable, and restore as from the intact repository.
     */
    @Test
    void aDamagedRedoOfTheFullLeavesItsIncrementalsUsable() throws Exception {
        Path repo = work.resolve("full-redo");
        copyTree(base, repo);
        Path redo = repo.resolve("backups/" + f1 + "/redo");
        apply(Damage.FLIP, storedAt(repo, "backups/" + f1 + "/redo"), null);
        Run v = run("verify", "--repo", repo.toString());
        assertEquals(12, v.exit(), v.toString());
        List<String> lines = v.out().lines().toList();
        List<String> problems = lines.stream().filter(l -> l.startsWith("  ")).toList();
        assertEquals(1, problems.size(), v.out());
        assertTrue(problems.get(0).endsWith("(resource=" + redo + ")"), v.out());
        assertTrue(lines.contains("FAILED " + f1 + ": 1 problem(s), all in its redo log, which only a restore of this backup applies"
                + " (backups resting on it do not read it)"), v.out());
        for (String id : List.of(i1, i2)) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("ok     " + id + " (incremental): ")), v.out());
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ok     " + f2 + " (full): ")), v.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("summary: 3 backup(s) ok, 1 damaged, 0 not usable (resting on a damaged one), 0 gone meanwhile; ")
                && l.endsWith("; 1 problem(s)")), v.out());
        assertTrue(v.err().startsWith("ERROR [corrupt-data]: 1 problem(s) found; the first: "), v.err());

        // the restore of I2 reads F1's data but not its redo: the same files as from the intact repository, and recovery succeeds
        Path intact = work.resolve("i2-intact");
        Run a = run("restore", "--repo", base.toString(), "--backup", i2, "--target", intact.toString(), "--no-recover");
        assertEquals(0, a.exit(), a.toString());
        Path fromDamaged = work.resolve("i2-damaged-repo");
        Run b = run("restore", "--repo", repo.toString(), "--backup", i2, "--target", fromDamaged.toString(), "--no-recover");
        assertEquals(0, b.exit(), b.toString());
        assertEquals(digests(intact), digests(fromDamaged));
        Path recovered = work.resolve("i2-recovered");
        Run c = run("restore", "--repo", repo.toString(), "--backup", i2, "--target", recovered.toString());
        assertEquals(0, c.exit(), c.toString());
        // the full itself is not restorable
        Run f = run("restore", "--repo", repo.toString(), "--backup", f1, "--target", work.resolve("f1-refused").toString(), "--no-recover");
        assertEquals(12, f.exit(), f.toString());
        for (Path p : List.of(intact, fromDamaged, recovered, repo)) {
            deleteTree(p);
        }
    }

    // ---- the cases ------------------------------------------------------------------------

    private static int expectedExit(Kind kind, Damage damage) {
        if (kind == Kind.MARKER && damage == Damage.DELETE) {
            return 10; // repo-missing: the directory is no repository without its marker
        }
        if (kind == Kind.HISTORY && damage == Damage.DELETE) {
            return 0; // a lost history record is named ("note"), but the manifests decide (HistoryRecordsIT)
        }
        return 12;
    }

    /** What verify must print: the damaged object's path (or, for a lost history record, its key). */
    private static String named(Kind kind, Damage damage, ItSupport.StoredAt at, Path repo) {
        Path file = at.file();
        if (kind == Kind.HISTORY && damage == Damage.DELETE) {
            return "note   history record " + repo.relativize(file) + " of completed backup " + i2 + " is missing";
        }
        if (kind == Kind.HISTORY && damage == Damage.REPLACE) {
            return "history record " + repo.relativize(file) + " names backup " + i1 + ", not " + i2;
        }
        if (kind == Kind.MANIFEST && damage == Damage.DELETE) {
            return "backup " + i2 + " is completed by its history, but its manifest " + file + " is missing";
        }
        if (kind == Kind.CHANGE_SET && damage == Damage.DELETE) {
            return "(no change set and no recorded gap: a change set is missing from " + file.getParent() + ")";
        }
        if (kind == Kind.MARKER && damage == Damage.DELETE) {
            return "no strata repository at " + repo + ": its marker strata.repo is missing";
        }
        return at.named();
    }

    private static Target target(Kind kind) throws IOException {
        switch (kind) {
            case MANIFEST:
                return new Target("backups/" + i2 + "/manifest", "backups/" + i1 + "/manifest", i2);
            case HISTORY:
                return new Target("history/" + i2 + "/end", "history/" + i1 + "/end", null);
            case REDO:
                return new Target("backups/" + i2 + "/redo", "backups/" + i1 + "/redo", i2);
            case DATA:
                return new Target(object(f1, "app/t_fcrc32.ibd"), object(f2, "app/t_fcrc32.ibd"), f1);
            case NON_INNODB:
                return new Target(object(f1, "app/t_myisam.MYD"), object(f2, "app/t_myisam.MYD"), f1);
            case DELTA: {
                JsonNode m = ItSupport.JSON.readTree(Files.readString(writeManifestJson(i2)));
                String best = null;
                long most = 0;
                for (JsonNode f : m.get("files")) {
                    if ("delta".equals(f.get("storage").asText()) && f.get("deltaPages").asLong() > most && f.get("path").asText().endsWith(".ibd")) {
                        best = f.get("path").asText();
                        most = f.get("deltaPages").asLong();
                    }
                }
                assertTrue(best != null, "I2 holds no delta with pages");
                return new Target(object(i2, best), object(i1, best), i2);
            }
            case MARKER:
                return new Target("strata.repo", "history/" + i1 + "/end", null);
            case CHANGE_SET: {
                List<Path> sets = sorted(base.resolve("tracking"), "sets");
                assertTrue(sets.size() >= 3, "the tracker stored " + sets);
                return new Target(base.relativize(sets.get(1)).toString(), base.relativize(sets.get(2)).toString(), null);
            }
            case BINLOG_SEGMENT: {
                List<Path> segs = sorted(base.resolve("binlogs"), ".binlog");
                assertTrue(segs.size() >= 3, "the archiver stored " + segs);
                return new Target(base.relativize(segs.get(1)).toString(), base.relativize(segs.get(2)).toString(), null);
            }
            default:
                throw new AssertionError(kind);
        }
    }

    /** Files below {@code dir} whose path contains {@code part}, sorted (offsets and LSNs are zero-padded). */
    private static List<Path> sorted(Path dir, String part) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> p.toString().contains(part)).sorted().toList();
        }
    }

    private static Path writeManifestJson(String id) throws IOException {
        Path p = work.resolve("manifest-" + id + ".json");
        if (!Files.exists(p)) {
            Run r = run("show", "--repo", base.toString(), id, "--json");
            assertEquals(0, r.exit(), r.toString());
            Files.writeString(p, r.out());
        }
        return p;
    }

    /** The repository-relative key of the object holding {@code path} in backup {@code id}. */
    private static String object(String id, String path) throws IOException {
        JsonNode m = ItSupport.JSON.readTree(Files.readString(writeManifestJson(id)));
        for (JsonNode f : m.get("files")) {
            if (f.get("path").asText().equals(path)) {
                return "backups/" + id + "/" + f.get("object").asText();
            }
        }
        throw new AssertionError(path + " is not in backup " + id);
    }

    /**
     * Where the object of repository key {@code key} lies in {@code repo}: a backup's pack member
     * ({@code backups/<id>/pack/NNNNNN@OFFSET+LENGTH}) is a range of its pack, anything else a whole file.
     */
    private static ItSupport.StoredAt storedAt(Path repo, String key) throws IOException {
        String[] parts = key.split("/", 3);
        if (parts.length == 3 && parts[0].equals("backups") && parts[2].startsWith("pack/")) {
            return ItSupport.storedAt(repo, parts[1], parts[2]);
        }
        Path f = repo.resolve(key);
        return new ItSupport.StoredAt(f, 0, Files.size(f), false);
    }

    /**
     * Damages the object {@code at}: flips its middle byte, cuts it at two thirds, deletes its file
     * or replaces its file by {@code replacement}. A pack member's damage reaches its pack: a cut
     * takes the members after it, a deletion or replacement all of them.
     */
    private static void apply(Damage d, ItSupport.StoredAt at, Path replacement) throws IOException {
        Path file = at.file();
        assertTrue(Files.isRegularFile(file), file.toString());
        byte[] b = Files.readAllBytes(file);
        switch (d) {
            case FLIP -> at.flip(at.length() / 2, 0x20);
            case TRUNCATE -> at.truncateAt(at.length() * 2 / 3);
            case DELETE -> Files.delete(file);
            case REPLACE -> {
                assertFalse(java.util.Arrays.equals(b, Files.readAllBytes(replacement)), "the replacement must differ: " + replacement);
                Files.copy(replacement, file, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    // ---- plumbing -------------------------------------------------------------------------

    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit=" + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** Runs strata in this JVM (Main.execute), capturing what it prints. */
    static Run run(String... args) {
        StrataCli.Result r = StrataCli.inProcess(args);
        return new Run(r.exit(), r.out(), r.err());
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /**
     * SHA-256 of every regular file below {@code dir}, by relative path; not the lineage file,
     * which holds a new random lineage id in every restore (io.strata.repo.Lineage).
     */
    private static Map<String, String> digests(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            // the lineage mark (a new id) and the restore record (inodes, times) differ between two restores of one backup
            files = s.filter(Files::isRegularFile).filter(f -> !dir.resolve(io.strata.repo.Lineage.FILE_NAME).equals(f)
                    && !dir.resolve(io.strata.restore.RestoredState.FILE_NAME).equals(f)).toList();
        }
        for (Path p : files) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(p)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            out.put(dir.relativize(p).toString(), HexFormat.of().formatHex(md.digest()));
        }
        return out;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
