package io.strata.cli;

import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.RepoCopy;
import io.strata.repo.Repository;
import io.strata.store.StoreLocation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * {@code strata copy --from REPO --to REPO (--backup ID | --all) [--binlogs]}: copies completed
 * backups with their chains, and archived binlogs, into a second repository (a fast local one and
 * an offsite one, as pgBackRest's repo1..N). Each side takes the options of {@link RepoOptions}
 * and {@link KeyMixin} with a prefix ({@code --from-s3-endpoint}, {@code --to-encrypt-key-file}
 * ...), parsed by the same code. The work is {@link RepoCopy}'s.
 */
@Command(name = "copy", description = "Copy completed backups (with their chains) and archived binlogs into another repository, "
        + "local or S3, re-encoded with its key; idempotent and resumable.")
final class CopyCommand implements Callable<Integer> {
    /** The environment variables holding each side's passphrase (STRATA_PASSPHRASE would be ambiguous here). */
    static final String FROM_PASSPHRASE_ENV = "STRATA_FROM_PASSPHRASE";
    static final String TO_PASSPHRASE_ENV = "STRATA_TO_PASSPHRASE";

    /** The source repository's options. */
    static final class From {
        @Option(names = "--from", required = true, description = "Source repository: a directory, or s3://BUCKET/PREFIX.")
        String repo;
        @Option(names = "--from-s3-endpoint", description = "URL of the source's S3-compatible service.")
        String endpoint;
        @Option(names = "--from-s3-region", description = "Region of the source's bucket.")
        String region;
        @Option(names = "--from-s3-part-size", description = "Multipart part size in MiB for the source's store.")
        Integer partMiB;
        @Option(names = "--from-s3-max-attempts", description = "Attempts per S3 request to the source.")
        Integer maxAttempts;
        @Option(names = "--from-encrypt-key-file", paramLabel = "FILE", description = "Key of an encrypted source repository.")
        Path keyFile;
        @Option(names = "--from-encrypt-passphrase-file", paramLabel = "FILE", description = "Passphrase of an encrypted source repository "
                + "(without either option, " + FROM_PASSPHRASE_ENV + ").")
        Path passphraseFile;

        StoreLocation location() {
            return RepoOptions.location("--from", repo, endpoint, region, partMiB, maxAttempts);
        }

        Secret secret(boolean allowInsecure) {
            return KeyMixin.secret(keyFile, passphraseFile, allowInsecure, "--from-encrypt-key-file", "--from-encrypt-passphrase-file", FROM_PASSPHRASE_ENV);
        }
    }

    /** The target repository's options. */
    static final class To {
        @Option(names = "--to", required = true, description = "Target repository: a directory, or s3://BUCKET/PREFIX; created when it does not exist.")
        String repo;
        @Option(names = "--to-s3-endpoint", description = "URL of the target's S3-compatible service.")
        String endpoint;
        @Option(names = "--to-s3-region", description = "Region of the target's bucket.")
        String region;
        @Option(names = "--to-s3-part-size", description = "Multipart part size in MiB for the target's store.")
        Integer partMiB;
        @Option(names = "--to-s3-max-attempts", description = "Attempts per S3 request to the target.")
        Integer maxAttempts;
        @Option(names = "--to-encrypt-key-file", paramLabel = "FILE", description = "Key of the target repository; a target created with it is encrypted.")
        Path keyFile;
        @Option(names = "--to-encrypt-passphrase-file", paramLabel = "FILE", description = "Passphrase of the target repository; a target created with it "
                + "is encrypted (without either option, " + TO_PASSPHRASE_ENV + ").")
        Path passphraseFile;

        StoreLocation location() {
            return RepoOptions.location("--to", repo, endpoint, region, partMiB, maxAttempts);
        }

        Secret secret(boolean allowInsecure) {
            return KeyMixin.secret(keyFile, passphraseFile, allowInsecure, "--to-encrypt-key-file", "--to-encrypt-passphrase-file", TO_PASSPHRASE_ENV);
        }
    }

    @Mixin
    From from = new From();

    @Mixin
    To to = new To();

    @Option(names = "--backup", paramLabel = "ID", description = "Copy this backup and the backups its restore needs (repeatable).")
    List<String> backups;

    @Option(names = "--all", description = "Copy every completed backup of the source.")
    boolean all;

    @Option(names = "--binlogs", description = "Also copy the archived binlogs (of every server archived in the source).")
    boolean binlogs;

    @Option(names = "--allow-insecure-key-file", description = "Use key or passphrase files that group or others may read, with a warning.")
    boolean allowInsecure;

    @Option(names = "--debug-copy-delay-ms", hidden = true, description = "Test hook: pause after every object copied.")
    long delayMs;

    @Mixin
    JsonMixin json = new JsonMixin();

    @Override
    public Integer call() {
        List<String> ids = selection(backups, all, binlogs);
        StoreLocation src = from.location();
        StoreLocation dst = to.location();
        refuseSame(src, dst);
        Secret srcSecret = from.secret(allowInsecure);
        Secret dstSecret = to.secret(allowInsecure);
        Repository source = Repository.open(src, srcSecret);
        requireKey(source, srcSecret, "--from-encrypt-key-file", "--from-encrypt-passphrase-file", FROM_PASSPHRASE_ENV);
        // the selection is checked in the source before the target is created: a failed copy leaves no empty target behind
        RepoCopy.checkSelection(source, ids);
        refuseImplicitForNew(dstSecret, Repository.exists(dst));
        Repository target = Repository.openOrCreate(dst, dstSecret, source.defaultCompression());
        requireKey(target, dstSecret, "--to-encrypt-key-file", "--to-encrypt-passphrase-file", TO_PASSPHRASE_ENV);
        if (source.encryption() != null && target.encryption() == null) {
            System.err.println("WARNING: " + source.root() + " is encrypted and " + target.root() + " is not: the copies are stored in plain text there");
        }
        RepoCopy.Result r = RepoCopy.run(source, target, new RepoCopy.Options(ids, binlogs, delayMs), System.err::println);
        json.text().printf("copied %d backup(s) from %s to %s%s; %d already there%s; %,d objects, %,d bytes stored%n", r.copied().size(), source.root(),
                target.root(), r.copied().isEmpty() ? "" : " (" + String.join(", ", r.copied()) + ")", r.present().size(),
                binlogs ? "; binlogs: " + r.binlogObjects() + " object(s) copied, " + r.binlogsPresent() + " already there" : "",
                r.objects(), r.storedBytes());
        for (String s : r.skipped()) {
            System.err.println("WARNING: not copied: " + s);
        }
        if (json.json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("from", source.root());
            out.put("to", target.root());
            out.put("copied", r.copied());
            out.put("present", r.present());
            out.put("skipped", r.skipped());
            out.put("retired", r.retired());
            out.put("objects", r.objects());
            out.put("rawBytes", r.rawBytes());
            out.put("storedBytes", r.storedBytes());
            out.put("binlogObjects", r.binlogObjects());
            out.put("binlogsPresent", r.binlogsPresent());
            JsonMixin.print(JsonMixin.ok(out));
        }
        return r.skipped().isEmpty() ? 0 : 3;
    }

    /**
     * The ids to copy (null: all), from the selection options: exactly one of --backup and --all
     * (--binlogs alone copies only the binlogs: an empty list).
     *
     * @throws StrataException usage when both or neither are given
     */
    static List<String> selection(List<String> backups, boolean all, boolean binlogs) {
        boolean named = backups != null && !backups.isEmpty();
        if (named && all) {
            throw new StrataException(ErrorCode.USAGE, "give either --backup ID or --all, not both", null);
        }
        if (!named && !all) {
            if (binlogs) {
                return List.of();
            }
            throw new StrataException(ErrorCode.USAGE, "copy needs --backup ID (a backup and its chain) or --all (every completed backup)",
                    "run \"strata list --repo SOURCE\" to see the backups");
        }
        return all ? null : List.copyOf(backups);
    }

    /**
     * Refuses a copy whose source and target are one repository, or one inside the other.
     *
     * @throws StrataException usage
     */
    static void refuseSame(StoreLocation a, StoreLocation b) {
        boolean same;
        if (a.isS3() != b.isS3()) {
            same = false;
        } else if (a.isS3()) {
            same = a.bucket().equals(b.bucket()) && Objects.equals(endpoint(a), endpoint(b))
                    && (a.prefix().startsWith(b.prefix()) || b.prefix().startsWith(a.prefix()));
        } else {
            Path x = real(a.dir());
            Path y = real(b.dir());
            same = x.startsWith(y) || y.startsWith(x);
        }
        if (same) {
            throw new StrataException(ErrorCode.USAGE, "--from " + a.display() + " and --to " + b.display()
                    + (a.display().equals(b.display()) ? " are the same repository" : " lie inside one another"),
                    "name a target repository apart from the source");
        }
    }

    private static String endpoint(StoreLocation l) {
        return l.s3() == null ? null : l.s3().endpoint();
    }

    private static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return Files.exists(abs) ? abs.toRealPath() : abs;
        } catch (IOException e) {
            return abs;
        }
    }

    /**
     * Refuses to create a target with only {@value #TO_PASSPHRASE_ENV}: a passphrase from the
     * environment opens an encrypted repository but never makes a new one encrypted (the target
     * would silently be stored in plain text).
     *
     * @throws StrataException usage
     */
    static void refuseImplicitForNew(Secret given, boolean targetExists) {
        if (!targetExists && given != null && given.implicit()) {
            throw new StrataException(ErrorCode.USAGE, TO_PASSPHRASE_ENV + " only opens an encrypted target; use --to-encrypt-passphrase-file to create one",
                    "or create the target without encryption by leaving " + TO_PASSPHRASE_ENV + " unset");
        }
    }

    private static void requireKey(Repository repo, Secret given, String keyOption, String passphraseOption, String env) {
        if (repo.encryption() != null && given == null) {
            throw new StrataException(ErrorCode.KEY_MISSING, repo.root() + " is encrypted and no key or passphrase was given for it",
                    "give " + keyOption + " FILE or " + passphraseOption + " FILE, or set " + env);
        }
    }
}
