package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StoreLocation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code strata copy}'s options: the selection, the two repositories' prefixed options and the refusals, without a server. */
class CopyCommandTest {

    @Test
    void selectionNeedsExactlyOneOfBackupAndAll() {
        assertNull(CopyCommand.selection(null, true, false));
        assertEquals(List.of("a", "b"), CopyCommand.selection(List.of("a", "b"), false, false));
        assertEquals(List.of(), CopyCommand.selection(null, false, true), "--binlogs alone copies only the binlogs");
        StrataException both = assertThrows(StrataException.class, () -> CopyCommand.selection(List.of("a"), true, false));
        assertEquals("give either --backup ID or --all, not both", both.getMessage());
        StrataException none = assertThrows(StrataException.class, () -> CopyCommand.selection(null, false, false));
        assertEquals(ErrorCode.USAGE, none.code());
        assertEquals("copy needs --backup ID (a backup and its chain) or --all (every completed backup)", none.getMessage());
    }

    @Test
    void theSameRepositoryOrOneInsideTheOtherIsRefused(@TempDir Path dir) {
        StrataException same = assertThrows(StrataException.class,
                () -> CopyCommand.refuseSame(StoreLocation.local(dir.resolve("r")), StoreLocation.local(dir.resolve("x/../r"))));
        assertEquals("--from " + dir.resolve("r") + " and --to " + dir.resolve("r") + " are the same repository", same.getMessage());
        StrataException inside = assertThrows(StrataException.class,
                () -> CopyCommand.refuseSame(StoreLocation.local(dir.resolve("r")), StoreLocation.local(dir.resolve("r/copy"))));
        assertTrue(inside.getMessage().endsWith(" lie inside one another"), inside.getMessage());
        assertThrows(StrataException.class, () -> CopyCommand.refuseSame(StoreLocation.parse("s3://bkp/a", null), StoreLocation.parse("s3://bkp/a/", null)));
        assertThrows(StrataException.class, () -> CopyCommand.refuseSame(StoreLocation.parse("s3://bkp", null), StoreLocation.parse("s3://bkp/b", null)));
        // apart: other prefixes, other buckets, local and S3
        CopyCommand.refuseSame(StoreLocation.parse("s3://bkp/a", null), StoreLocation.parse("s3://bkp/ab", null));
        CopyCommand.refuseSame(StoreLocation.parse("s3://bkp/a", null), StoreLocation.parse("s3://other/a", null));
        CopyCommand.refuseSame(StoreLocation.local(dir.resolve("a")), StoreLocation.local(dir.resolve("ab")));
        CopyCommand.refuseSame(StoreLocation.local(Path.of("bkp/a")), StoreLocation.parse("s3://bkp/a", null));
    }

    @Test
    void eachSideTakesItsOwnPrefixedOptions(@TempDir Path dir) throws IOException {
        CopyCommand c = new CopyCommand();
        picocli.CommandLine cl = new picocli.CommandLine(c);
        Path key = Files.writeString(dir.resolve("key"), "8f4c2a9e1b7d3f605a1c9e8d7b6a5f4e3d2c1b0a99887766554433221100ffee", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        cl.parseArgs("--from", dir.resolve("a").toString(), "--to", "s3://bkp/offsite", "--to-s3-endpoint", "http://127.0.0.1:9000",
                "--to-s3-region", "eu-west-1", "--to-encrypt-key-file", key.toString(), "--all", "--binlogs");
        assertFalse(c.from.location().isS3());
        StoreLocation to = c.to.location();
        assertEquals("s3://bkp/offsite", to.display());
        assertEquals("http://127.0.0.1:9000", to.s3().endpoint());
        assertEquals("eu-west-1", to.s3().region());
        assertNull(c.from.secret(false));
        assertTrue(c.to.secret(false) != null);
        assertTrue(c.all && c.binlogs);

        // one parser of s3:// URLs, its messages naming the option
        CopyCommand bad = new CopyCommand();
        new picocli.CommandLine(bad).parseArgs("--from", "s3://Bad_Bucket/x", "--to", dir.toString(), "--all");
        StrataException e = assertThrows(StrataException.class, () -> bad.from.location());
        assertTrue(e.getMessage().startsWith("--from s3://Bad_Bucket/x is not a valid s3://BUCKET/PREFIX"), e.getMessage());

        // a side's key options exclude each other, named as given
        CopyCommand both = new CopyCommand();
        new picocli.CommandLine(both).parseArgs("--from", "a", "--to", "b", "--from-encrypt-key-file", key.toString(), "--from-encrypt-passphrase-file",
                key.toString(), "--all");
        e = assertThrows(StrataException.class, () -> both.from.secret(false));
        assertEquals("give either --from-encrypt-key-file or --from-encrypt-passphrase-file, not both", e.getMessage());

        // the key file rules of every command: a file others may read is refused
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        e = assertThrows(StrataException.class, () -> c.to.secret(false));
        assertEquals(ErrorCode.KEY_FILE_INSECURE, e.code());
    }

    @Test
    void commandLineErrorsExitWithUsageOrTheirOwnCode(@TempDir Path dir) {
        InProcess.Run missing = InProcess.run("copy", "--from", dir.resolve("a").toString(), "--all");
        assertEquals(2, missing.exit(), missing.err());
        assertTrue(missing.err().contains("Missing required option: '--to=<repo>'"), missing.err());

        InProcess.Run same = InProcess.run("copy", "--from", dir.resolve("a").toString(), "--to", dir.resolve("a").toString(), "--all");
        assertEquals(2, same.exit(), same.err());
        assertTrue(same.err().startsWith("ERROR [usage]: --from " + dir.resolve("a") + " and --to " + dir.resolve("a") + " are the same repository"), same.err());

        InProcess.Run noSource = InProcess.run("copy", "--from", dir.resolve("nothing").toString(), "--to", dir.resolve("b").toString(), "--all");
        assertEquals(10, noSource.exit(), noSource.err());
        assertFalse(Files.exists(dir.resolve("b")), "no target is created for a source that does not exist");
    }

    @Test
    void aPassphraseFromTheEnvironmentDoesNotCreateAnEncryptedTarget() {
        io.strata.codec.Secret implicit = new io.strata.codec.Secret.Passphrase("secret".toCharArray(), true);
        StrataException e = assertThrows(StrataException.class, () -> CopyCommand.refuseImplicitForNew(implicit, false));
        assertEquals(ErrorCode.USAGE, e.code());
        assertEquals("STRATA_TO_PASSPHRASE only opens an encrypted target; use --to-encrypt-passphrase-file to create one", e.getMessage());
        CopyCommand.refuseImplicitForNew(implicit, true); // it opens an existing target
        CopyCommand.refuseImplicitForNew(new io.strata.codec.Secret.Passphrase("secret".toCharArray(), false), false);
        CopyCommand.refuseImplicitForNew(null, false);
    }

    @Test
    void anUnknownBackupLeavesNoTargetBehind(@TempDir Path dir) {
        io.strata.repo.Repository.openOrCreate(dir.resolve("a"));
        InProcess.Run unknown = InProcess.run("copy", "--from", dir.resolve("a").toString(), "--to", dir.resolve("b").toString(),
                "--backup", "20261201T000001Z-0001");
        assertEquals(19, unknown.exit(), unknown.err());
        assertTrue(unknown.err().startsWith("ERROR [backup-not-found]: no backup with id 20261201T000001Z-0001 in " + dir.resolve("a")), unknown.err());
        assertFalse(Files.exists(dir.resolve("b")), "no target is created for a selection the source cannot satisfy");
    }
}
