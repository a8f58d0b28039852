package io.strata.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.testing.MariaDbSandbox;
import io.strata.testing.SampleSchema;
import io.strata.testing.TableChecksums;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * First backups started together on one new directory (issue 15, item 3): one repository marker
 * wins; with one passphrase every backup either completes or is refused with repo-locked, and
 * the repository then verifies and restores; with another passphrase the loser is refused with
 * key-wrong before writing anything.
 */
class ConcurrentCreateIT {

    private static Path secretFile(Path p, String content) throws Exception {
        Files.writeString(p, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return p;
    }

    /** Starts {@code passes.size()} backups of {@code source} into {@code repo} at once; returns their results in order. */
    private static List<StrataCli.Result> together(Path work, String name, Path repo, MariaDbSandbox source, List<Path> passes) throws Exception {
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < passes.size(); i++) {
            ps.add(StrataCli.start(work.resolve(name + i + ".out"), work.resolve(name + i + ".err"), "backup", "--repo", repo.toString(),
                    "--socket", source.socket().toString(), "--user", "root", "--encrypt-passphrase-file", passes.get(i).toString()));
        }
        List<StrataCli.Result> out = new ArrayList<>();
        for (int i = 0; i < ps.size(); i++) {
            assertTrue(ps.get(i).waitFor(120, TimeUnit.SECONDS), "backup " + i + " did not finish");
            out.add(new StrataCli.Result(ps.get(i).exitValue(), Files.readString(work.resolve(name + i + ".out")), Files.readString(work.resolve(name + i + ".err"))));
        }
        return out;
    }

    @Test
    void firstBackupsStartedTogetherShareOneRepository() throws Exception {
        Path work = ItSupport.tempDir("create-");
        Path pass = secretFile(work.resolve("pass"), "one passphrase for all\n");
        Path other = secretFile(work.resolve("other"), "another passphrase\n");
        try (MariaDbSandbox source = ItSupport.source()) {
            try (Connection c = source.connection()) {
                SampleSchema.create(c, "app");
                SampleSchema.loadRows(c, "app", 2_000);
            }
            Map<String, String> expected;
            try (Connection c = source.connection()) {
                expected = TableChecksums.of(c, "app"); // nothing writes while the backups run
            }

            // one passphrase, four backups at once on a directory that does not exist yet
            Path repo = work.resolve("same");
            List<StrataCli.Result> same = together(work, "same", repo, source, List.of(pass, pass, pass, pass));
            List<String> completed = new ArrayList<>();
            for (StrataCli.Result r : same) {
                if (r.exit() == 0) {
                    completed.add(ItSupport.completedId(r));
                } else {
                    assertEquals(11, r.exit(), "a concurrent first backup either completes or is refused with repo-locked: " + r);
                    assertTrue(r.err().startsWith("ERROR [repo-locked]: "), r.err());
                }
            }
            assertFalse(completed.isEmpty(), "no backup completed: " + same);
            String[] key = {"--encrypt-passphrase-file", pass.toString()};
            StrataCli.Result verify = StrataCli.run(ItSupport.concat(new String[] {"verify", "--repo", repo.toString()}, key));
            assertEquals(0, verify.exit(), verify.toString());
            JsonNode list = ItSupport.list(repo, key);
            List<String> listed = new ArrayList<>();
            for (JsonNode e : list) {
                if (e.get("state").asText().equals("completed")) {
                    listed.add(e.get("id").asText());
                }
            }
            assertEquals(completed.stream().sorted().toList(), listed.stream().sorted().toList(), list.toString());
            Path target = work.resolve("restored");
            StrataCli.Result restore = StrataCli.run(ItSupport.concat(new String[] {"restore", "--repo", repo.toString(), "--backup",
                    completed.get(completed.size() - 1), "--target", target.toString()}, key));
            assertEquals(0, restore.exit(), restore.toString());
            try (MariaDbSandbox restored = MariaDbSandbox.builder().startOn(target).start(); Connection c = restored.connection()) {
                assertEquals(expected, TableChecksums.of(c, "app"));
            }

            // two passphrases: one creates the repository, the other is refused with key-wrong and writes nothing
            Path mixed = work.resolve("mixed");
            List<StrataCli.Result> two = together(work, "mixed", mixed, source, List.of(pass, other));
            int winner = two.get(0).exit() == 0 ? 0 : 1;
            StrataCli.Result won = two.get(winner);
            StrataCli.Result lost = two.get(1 - winner);
            ItSupport.completedId(won);
            assertEquals(41, lost.exit(), lost.toString());
            assertTrue(lost.err().startsWith("ERROR [key-wrong]: wrong key for repository " + mixed + ": "), lost.err());
            Path winnerPass = winner == 0 ? pass : other;
            Path loserPass = winner == 0 ? other : pass;
            assertEquals(0, StrataCli.run("verify", "--repo", mixed.toString(), "--encrypt-passphrase-file", winnerPass.toString()).exit());
            assertEquals(41, StrataCli.run("verify", "--repo", mixed.toString(), "--encrypt-passphrase-file", loserPass.toString()).exit());
            assertEquals(1, ItSupport.list(mixed, "--encrypt-passphrase-file", winnerPass.toString()).size(), "the refused backup left no attempt");
        }
    }
}
