package io.strata.store;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.nio.file.Path;

/**
 * Where a repository lives, as named by --repo: {@code s3://BUCKET[/PREFIX]} for object storage,
 * anything else for a local directory. The one place that decides which store serves a repository.
 *
 * @param dir    the directory of a local repository (null for S3)
 * @param bucket the bucket of an S3 repository (null for local)
 * @param prefix the key prefix inside the bucket, "" or ending with '/'
 * @param s3     client settings for S3 (ignored for local)
 */
public record StoreLocation(Path dir, String bucket, String prefix, S3ObjectStore.Settings s3) {

    public static StoreLocation local(Path dir) {
        return new StoreLocation(dir.toAbsolutePath().normalize(), null, null, null);
    }

    public static StoreLocation parse(String repo, S3ObjectStore.Settings s3) {
        return parse("--repo", repo, s3);
    }

    /**
     * As {@link #parse(String, S3ObjectStore.Settings)}, with messages naming {@code option}
     * (a command naming several repositories: {@code copy --from}, {@code --to}).
     *
     * @throws StrataException usage: blank, another URL scheme, or an invalid s3:// URL
     */
    public static StoreLocation parse(String option, String repo, S3ObjectStore.Settings s3) {
        if (repo == null || repo.isBlank()) {
            throw new StrataException(ErrorCode.USAGE, option + " must name a directory or s3://BUCKET/PREFIX", null);
        }
        if (!repo.startsWith("s3://")) {
            if (repo.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
                throw new StrataException(ErrorCode.USAGE, option + " " + repo + ": only local directories and s3:// URLs are supported", null);
            }
            return local(Path.of(repo));
        }
        String rest = repo.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        while (prefix.startsWith("/")) {
            prefix = prefix.substring(1);
        }
        while (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") || prefix.contains("//") || prefix.contains("..")) {
            throw new StrataException(ErrorCode.USAGE, option + " " + repo + " is not a valid s3://BUCKET/PREFIX (bucket names are 3 to 63 "
                    + "lower-case letters, digits, dots and hyphens)", null);
        }
        return new StoreLocation(null, bucket, prefix.isEmpty() ? "" : prefix + "/", s3 == null ? S3ObjectStore.Settings.of(null, null, null, null) : s3);
    }

    public boolean isS3() { return bucket != null; }

    /** How messages name the repository: the directory, or s3://bucket/prefix. */
    public String display() {
        if (!isS3()) {
            return dir.toString();
        }
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix.substring(0, prefix.length() - 1));
    }

    public ObjectStore open() {
        return isS3() ? new S3ObjectStore(bucket, prefix, s3) : new LocalObjectStore(dir);
    }

    @Override
    public String toString() { return display(); }
}
