package io.strata.cli;

import io.strata.codec.Compression;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerFacts;
import io.strata.store.S3ObjectStore;
import io.strata.store.StoreLocation;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * --repo and the options of an object-storage repository, for every command that names one.
 * Credentials come from the AWS SDK's default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 * (and AWS_SESSION_TOKEN), AWS_PROFILE with ~/.aws/credentials and ~/.aws/config, or the
 * instance's role; never from the command line.
 */
public final class RepoOptions {
    @Option(names = "--repo", required = true, description = "Repository: a directory, or s3://BUCKET/PREFIX.")
    String repo;

    @Option(names = "--s3-endpoint", description = "URL of an S3-compatible service (MinIO, Ceph, S3Proxy ...); path-style addressing is used.")
    String endpoint;

    @Option(names = "--s3-region", description = "Region of the bucket (default: AWS_REGION or the profile's, else us-east-1).")
    String region;

    @Option(names = "--s3-part-size", description = "Multipart upload part size in MiB, at least 5 (default: " + S3ObjectStore.Settings.DEFAULT_PART_MIB + ").")
    Integer partMiB;

    @Option(names = "--s3-max-attempts", description = "Attempts per S3 request before giving up, with exponential backoff (default: "
            + S3ObjectStore.Settings.DEFAULT_MAX_ATTEMPTS + ").")
    Integer maxAttempts;

    StoreLocation location() {
        return location("--repo", repo, endpoint, region, partMiB, maxAttempts);
    }

    /**
     * A repository's location from the values of these options (null: not given), for commands
     * that name several repositories with prefixed options ({@code copy --from-s3-endpoint}).
     *
     * @throws io.strata.error.StrataException usage: not a directory or a valid s3:// URL
     */
    static StoreLocation location(String option, String repo, String endpoint, String region, Integer partMiB, Integer maxAttempts) {
        return StoreLocation.parse(option, repo, S3ObjectStore.Settings.of(endpoint, region, partMiB, maxAttempts));
    }

    /**
     * Opens the existing repository once for the whole command, unlocked with {@code key}'s
     * secret when one is given (the key is derived here, once; runs get the opened handle).
     */
    Repository open(KeyMixin key) {
        return Repository.open(location(), key == null ? null : key.secret());
    }

    /**
     * As {@link #open}, creating the repository when it does not exist yet (writers: backup, track,
     * binlog archive), and only once the server passed the checks of {@link FirstUse}.
     */
    Repository openOrCreate(KeyMixin key, ConnectionOptions conn, Path datadir, java.util.function.BiConsumer<io.strata.server.ServerSession, ServerFacts> more) {
        return openOrCreate(key, null, conn, datadir, more);
    }

    /** As above; a repository created here records {@code compression} (null: none) as its default. */
    Repository openOrCreate(KeyMixin key, Compression compression, ConnectionOptions conn, Path datadir, java.util.function.BiConsumer<io.strata.server.ServerSession, ServerFacts> more) {
        return FirstUse.openOrCreate(location(), key == null ? null : key.secret(), compression, conn, datadir, more);
    }
}
