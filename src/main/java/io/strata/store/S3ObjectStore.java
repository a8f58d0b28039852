package io.strata.store;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.WorkerPriority;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Objects in an S3 bucket below a key prefix, through the AWS SDK for Java 2.x.
 *
 * <p>Writes: an object smaller than one part is sent as one PUT when it is committed; a larger
 * one is a multipart upload whose parts are sent while the writer keeps filling the next part,
 * with at most {@link Settings#partsInFlight()} parts of one writer buffered or on the wire. All
 * writers of one store share {@link #partBuffers(int)} part-sized buffers (64 MiB of them, at
 * least 2): a writer that needs one while all are filling or on the wire waits for an upload to
 * finish, so the memory of the parts is bounded whatever the number of writers and the size of
 * the data (issue 17: a backup's peak resident size ≤ 300 MB). S3 makes an object visible
 * only when its PUT or CompleteMultipartUpload succeeds, which gives the same "visible when
 * committed" rule as the local store; closing a writer that was not committed aborts its
 * multipart upload. An object committed batched ({@link Writer#commitBatched()}, a backup's data
 * objects) that fits one PUT is handed to {@link #BATCH_THREADS} threads of its own and the
 * committing thread goes on: a backup of 5,000 tables stores 10,000 small objects, one request
 * each, and a PUT waits for the object store's reply (S3: tens of milliseconds), so sent one after
 * the other by the two copy threads they took most of the backup's time. At most
 * {@link #BATCH_BUDGET_KIB} KiB of such objects wait or are on the wire at once (the next commit
 * waits); {@link #sync()} waits for all of them and throws the first PUT that failed, and a
 * commit after a failed one throws that failure at once. Every request is retried with exponential backoff on errors the SDK deems
 * retryable (5xx, throttling, I/O errors, timeouts), up to {@link Settings#maxAttempts()}.
 *
 * <p>Reads: one streamed GET; when the connection breaks mid-object the read resumes with a
 * ranged GET from the current offset, pinned to the object's ETag.
 *
 * <p>Failures that survive the retries are {@link StorageException}s (store-failed,
 * repo-not-writable, repo-missing) naming the request and the s3:// location.
 */
public final class S3ObjectStore implements ObjectStore {
    private static final int MIN_PART = 5 << 20;
    private static final int SMALL_START = 64 << 10;
    /** Bytes of part buffers one store may hold at once (filling, queued or being sent). */
    static final long PART_BUFFER_BUDGET = 64L << 20;
    /** How long a writer waits for a part buffer before it takes one beyond the budget (never a deadlock). */
    private static final long BUFFER_WAIT_MILLIS = 120_000;

    /**
     * Test-only knob, read here and nowhere else: {@code STRATA_TEST_S3_BACKOFF_DIVISOR=N} (an
     * integer from 1 to 1000) divides every retry delay (the backoff after an error, 200 ms
     * doubling up to 20 s; after throttling, 1 s doubling up to 20 s; before a broken read
     * resumes, 400 ms doubling up to 20 s) by N. The integration tests that inject faults set it,
     * so that their retries cost no seconds of waiting; the attempts and what is retried do not
     * change. Unset or invalid: 1, the delays above.
     */
    static final String BACKOFF_DIVISOR_ENV = "STRATA_TEST_S3_BACKOFF_DIVISOR";
    private static final int BACKOFF_DIVISOR = backoffDivisor(System.getenv(BACKOFF_DIVISOR_ENV));

    static int backoffDivisor(String value) {
        try {
            int n = value == null ? 1 : Integer.parseInt(value.trim());
            return n >= 1 && n <= 1000 ? n : 1;
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static Duration backoff(long millis) {
        return Duration.ofNanos(Duration.ofMillis(millis).toNanos() / BACKOFF_DIVISOR);
    }

    /**
     * @param endpoint      URL of an S3-compatible service (null: AWS, virtual-hosted addressing)
     * @param region        signing region (null: the SDK's region chain, else us-east-1)
     * @param partSize      bytes per multipart part (at least 5 MiB, S3's minimum)
     * @param partsInFlight parts of one writer buffered or uploading at once
     * @param maxAttempts   attempts per request, the first included
     * @param timeout       bound on one attempt of one request
     */
    public record Settings(String endpoint, String region, int partSize, int partsInFlight, int maxAttempts, Duration timeout) {
        public static final int DEFAULT_PART_MIB = 16;
        public static final int DEFAULT_MAX_ATTEMPTS = 8;

        public static Settings of(String endpoint, String region, Integer partMiB, Integer maxAttempts) {
            return new Settings(endpoint, region, (partMiB == null ? DEFAULT_PART_MIB : partMiB) << 20, 2,
                    maxAttempts == null ? DEFAULT_MAX_ATTEMPTS : maxAttempts, Duration.ofMinutes(2));
        }
    }

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final Settings settings;
    private final ExecutorService uploads;
    private final BlockingQueue<byte[]> spare;
    private final Semaphore bufferPermits;
    private final AtomicInteger overdraft = new AtomicInteger();
    private final Map<String, Long> committedSizes = new ConcurrentHashMap<>();
    private volatile boolean batchDeleteUnsupported;
    /** Threads sending the PUTs of objects committed batched (with the uploads' 8, the copy and redo threads, within the 64 connections). */
    static final int BATCH_THREADS = 16;
    /** KiB of objects committed batched whose PUT has not ended, at most: their buffers, held until then. */
    static final int BATCH_BUDGET_KIB = 4 << 10;
    /** The largest object put batched (bytes of its buffer), a quarter of the budget (never more: it could wait for ever); a larger one is sent by the committing thread. */
    private static final int BATCH_MAX_BUFFER = (BATCH_BUDGET_KIB << 10) / 4;
    private final Semaphore batchBudget = new Semaphore(BATCH_BUDGET_KIB);
    /** PUTs of objects committed batched not yet ended; each leaves the set when it ends. */
    private final java.util.Set<java.util.concurrent.Future<?>> batchInFlight = ConcurrentHashMap.newKeySet();
    /** The first batched PUT that failed since the last {@link #sync}, or null. */
    private final java.util.concurrent.atomic.AtomicReference<RuntimeException> batchFailed = new java.util.concurrent.atomic.AtomicReference<>();
    /** The threads of the batched PUTs, made on first use; idle ones end after a few seconds. */
    private java.util.concurrent.ThreadPoolExecutor batchPool;

    /** {@code prefix} is "" or ends with '/'. */
    public S3ObjectStore(String bucket, String prefix, Settings settings) {
        if (settings.partSize() < MIN_PART) {
            throw new StrataException(ErrorCode.USAGE, "--s3-part-size must be at least 5 (MiB), S3's smallest part", null);
        }
        if (settings.maxAttempts() < 1) {
            throw new StrataException(ErrorCode.USAGE, "--s3-max-attempts must be at least 1, got " + settings.maxAttempts(), null);
        }
        this.bucket = bucket;
        this.prefix = prefix;
        this.settings = settings;
        S3ClientBuilder b = S3Client.builder()
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(64)
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                // SigV4 without hashing the body, over http too (UnsignedPayloadScheme says why)
                .putAuthScheme(new UnsignedPayloadScheme())
                .region(region(settings))
                // our objects carry CRC-32C per chunk; S3-compatible services often reject the
                // SDK's newer default of trailing checksums in aws-chunked bodies
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                .maxAttempts(settings.maxAttempts())
                                .backoffStrategy(BackoffStrategy.exponentialDelay(backoff(200), backoff(20_000)))
                                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(backoff(1_000), backoff(20_000)))
                                .circuitBreakerEnabled(false)
                                .build())
                        .apiCallAttemptTimeout(settings.timeout()));
        if (settings.endpoint() != null) {
            b.endpointOverride(URI.create(settings.endpoint())).forcePathStyle(true);
        }
        this.s3 = b.build();
        AtomicInteger n = new AtomicInteger();
        // grown by copy threads as well as the redo copier: never lowered (backup --priority)
        this.uploads = Executors.newFixedThreadPool(8, r -> WorkerPriority.asStarted(r, "strata-s3-upload-" + n.incrementAndGet()));
        int buffers = partBuffers(settings.partSize());
        this.spare = new ArrayBlockingQueue<>(buffers);
        this.bufferPermits = new Semaphore(buffers);
    }

    /** Part buffers one store holds at most: {@link #PART_BUFFER_BUDGET} of them, at least 2. */
    static int partBuffers(int partSize) {
        return (int) Math.max(2, PART_BUFFER_BUDGET / partSize);
    }

    private static Region region(Settings s) {
        if (s.region() != null) {
            return Region.of(s.region());
        }
        try {
            return DefaultAwsRegionProviderChain.builder().build().getRegion();
        } catch (SdkException e) {
            return Region.US_EAST_1; // S3-compatible services mostly ignore the region
        }
    }

    public String bucket() { return bucket; }

    public String prefix() { return prefix; }

    String key(String k) {
        if (k.isEmpty() || k.startsWith("/") || k.contains("..")) {
            throw new IllegalArgumentException("bad object key: " + k);
        }
        return prefix + k;
    }

    @Override
    public String describe(String key) {
        return "s3://" + bucket + "/" + prefix + key;
    }

    // ---- requests and their failures ---------------------------------------------------------

    private <T> T call(String op, String key, Supplier<T> request) {
        try {
            return request.get();
        } catch (RuntimeException e) {
            throw mapped(op, key, e);
        }
    }

    /** What {@link #call} throws for {@code e}: a missing object, one clear failure of the store, or {@code e} itself when it is not the SDK's. */
    private RuntimeException mapped(String op, String key, RuntimeException e) {
        if (e instanceof NoSuchKeyException) {
            return new NoSuchObjectException(op, describe(key));
        }
        if (e instanceof S3Exception se) {
            if (se.statusCode() == 404 && !"NoSuchBucket".equals(errorCode(se))) {
                return new NoSuchObjectException(op, describe(key));
            }
            return failure(op, key, se);
        }
        if (e instanceof SdkException se) {
            return failure(op, key, se);
        }
        if (e instanceof java.io.UncheckedIOException) {
            return failure(op, key, SdkClientException.create(String.valueOf(e.getCause()), e));
        }
        return e;
    }

    private static String errorCode(S3Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /** One clear message for a request that failed for good. */
    StorageException failure(String op, String key, SdkException e) {
        String where = describe(key);
        int attempts = e.numAttempts() == null ? 1 : e.numAttempts();
        String tries = attempts > 1 ? " after " + attempts + " attempts" : "";
        if (e instanceof S3Exception se) {
            String code = errorCode(se);
            String why = "HTTP " + se.statusCode() + (code == null ? "" : " " + code)
                    + (se.awsErrorDetails() != null && se.awsErrorDetails().errorMessage() != null ? ": " + se.awsErrorDetails().errorMessage() : "");
            if ("NoSuchBucket".equals(code)) {
                return new StorageException(StorageException.Kind.NO_BUCKET, op, where, "bucket " + bucket + " does not exist (" + where + ")",
                        "create the bucket, or check --repo and --s3-endpoint", e);
            }
            if (se.statusCode() == 403 && isWrite(op)) {
                return new StorageException(StorageException.Kind.NOT_WRITABLE, op, where, "cannot write to the repository: " + op + " " + where + " was refused (" + why + ")",
                        "check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and the bucket's policy", e);
            }
            return new StorageException(StorageException.Kind.REMOTE_FAILED, op, where, "the object store failed " + op + " " + where + tries + ": " + why,
                    se.statusCode() == 403 ? "check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and the bucket's policy"
                            : "check the object store; a backup that meets this is recorded as failed, and nothing stored before is lost", e);
        }
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("Unable to load credentials")) {
            return new StorageException(StorageException.Kind.REMOTE_FAILED, op, where, "no credentials for " + where + ": none in the environment, the profile files or the instance",
                    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials", e);
        }
        return new StorageException(StorageException.Kind.REMOTE_FAILED, op, where, "the object store " + (settings.endpoint() == null ? "" : "at " + settings.endpoint() + " ")
                + "did not complete " + op + " " + where + tries + ": " + oneLine(msg),
                "check the network and the service (--s3-endpoint); a backup that meets this is recorded as failed, and nothing stored before is lost", e);
    }

    private static boolean isWrite(String op) {
        return op.startsWith("PUT") || op.startsWith("DELETE") || op.contains("multipart");
    }

    private static String oneLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    // ---- ObjectStore ---------------------------------------------------------------------------

    @Override
    public Writer create(String key) {
        return new S3Writer(key, key(key));
    }

    /**
     * One PUT with {@code If-None-Match: *}: the store refuses it (412 PreconditionFailed, or 409
     * ConditionalRequestConflict while another such PUT runs) when the key exists. The object is
     * then read back, so that a store that ignores the header (the last PUT wins there) is caught
     * unless the two writers' PUTs and reads interleave exactly (docs/repository-format.md,
     * "Creating a repository").
     */
    @Override
    public boolean putIfAbsent(String key, byte[] data) {
        String k = key(key);
        try {
            call("PUT (if absent)", key, () -> s3.putObject(r -> r.bucket(bucket).key(k).ifNoneMatch("*").contentLength((long) data.length),
                    body(data, data.length)));
        } catch (StorageException e) {
            if (e.getCause() instanceof S3Exception se && (se.statusCode() == 412 || se.statusCode() == 409)) {
                return false;
            }
            throw e;
        }
        return java.util.Arrays.equals(get(key), data);
    }

    @Override
    public InputStream open(String key) {
        String k = key(key);
        ResponseInputStream<GetObjectResponse> in = call("GET", key, () -> s3.getObject(r -> r.bucket(bucket).key(k)));
        return new ResumingInput(key, k, in, 0, false);
    }

    /** One ranged GET ({@code Range: bytes=offset-(offset+length-1)}), resumed within the range as {@link #open} is. */
    @Override
    public InputStream openRange(String key, long offset, long length) {
        if (length <= 0) {
            size(key); // a missing object fails as one; an empty range of an existing one reads nothing
            return InputStream.nullInputStream();
        }
        String k = key(key);
        String range = "bytes=" + offset + "-" + (offset + length - 1);
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = s3.getObject(r -> r.bucket(bucket).key(k).range(range));
        } catch (RuntimeException e) {
            if (e instanceof S3Exception se && se.statusCode() == 416) {
                return InputStream.nullInputStream(); // the object ends before offset: the range reads nothing, as from a file
            }
            throw mapped("GET", key, e);
        }
        if (in.response().contentLength() == null || in.response().contentRange() == null || !in.response().contentRange().startsWith("bytes " + offset + "-")) {
            // a server that ignored the range (200, the whole object) or answered another one: not these bytes
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing was read
            }
            throw new StorageException(StorageException.Kind.REMOTE_FAILED, "GET", describe(key), "the object store answered a ranged GET of " + describe(key)
                    + " (" + range + ") with " + (in.response().contentRange() == null ? "no Content-Range" : "Content-Range " + in.response().contentRange()),
                    "use an object store that supports ranged GETs (S3 does)", null);
        }
        return new ResumingInput(key, k, in, offset, true);
    }

    @Override
    public boolean exists(String key) {
        try {
            size(key);
            return true;
        } catch (NoSuchObjectException e) {
            return false;
        }
    }

    @Override
    public long size(String key) {
        Long known = committedSizes.get(key);
        if (known != null) {
            return known;
        }
        String k = key(key);
        return call("HEAD", key, () -> s3.headObject(r -> r.bucket(bucket).key(k))).contentLength();
    }

    @Override
    public List<String> list(String p) {
        String full = prefix + p;
        List<String> keys = new ArrayList<>();
        String token = null;
        do {
            String t = token;
            ListObjectsV2Response page = call("LIST", p, () -> s3.listObjectsV2(r -> r.bucket(bucket).prefix(full).continuationToken(t)));
            for (S3Object o : page.contents()) {
                keys.add(o.key().substring(prefix.length()));
            }
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
        keys.sort(Comparator.naturalOrder());
        return keys;
    }

    /** One paged LIST, as {@link #list}: the sizes come with the keys. */
    @Override
    public java.util.SortedMap<String, Long> listSizes(String p) {
        String full = prefix + p;
        java.util.SortedMap<String, Long> out = new java.util.TreeMap<>();
        String token = null;
        do {
            String t = token;
            ListObjectsV2Response page = call("LIST", p, () -> s3.listObjectsV2(r -> r.bucket(bucket).prefix(full).continuationToken(t)));
            for (S3Object o : page.contents()) {
                out.put(o.key().substring(prefix.length()), o.size());
            }
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
        return out;
    }

    @Override
    public void delete(String key) {
        awaitBatched(); // a PUT still pending would bring the object back after the delete
        String k = key(key);
        committedSizes.remove(key);
        call("DELETE", key, () -> s3.deleteObject(r -> r.bucket(bucket).key(k)));
    }

    @Override
    public void deletePrefix(String p) {
        awaitBatched();
        discardUnfinished(p);
        List<String> keys = list(p);
        for (int i = 0; i < keys.size(); i += 1000) {
            List<String> batch = keys.subList(i, Math.min(keys.size(), i + 1000));
            if (batchDeleteUnsupported || batch.size() == 1) {
                for (String k : batch) {
                    delete(k);
                }
            } else {
                deleteBatch(p, batch);
            }
        }
    }

    private void deleteBatch(String p, List<String> keys) {
        List<ObjectIdentifier> ids = new ArrayList<>();
        for (String k : keys) {
            committedSizes.remove(k);
            ids.add(ObjectIdentifier.builder().key(prefix + k).build());
        }
        DeleteObjectsResponse resp;
        try {
            resp = call("DELETE (batch)", p, () -> s3.deleteObjects(r -> r.bucket(bucket).delete(Delete.builder().objects(ids).quiet(true).build())));
        } catch (StorageException e) {
            if (e.getCause() instanceof S3Exception se && se.statusCode() == 501) {
                // some S3-compatible services lack DeleteObjects or its checksum header: one by one
                batchDeleteUnsupported = true;
                for (String k : keys) {
                    delete(k);
                }
                return;
            }
            throw e;
        }
        if (resp.hasErrors() && !resp.errors().isEmpty()) {
            var err = resp.errors().get(0);
            throw new StorageException(StorageException.Kind.REMOTE_FAILED, "DELETE (batch)", describe(p), "the object store could not delete " + resp.errors().size() + " object(s) below "
                    + describe(p) + ", e.g. " + err.key() + ": " + err.code() + " " + err.message(), "run the command again", null);
        }
    }

    @Override
    public int discardUnfinished(String p) {
        String full = prefix + p;
        int n = 0;
        String keyMarker = null;
        String idMarker = null;
        ListMultipartUploadsResponse page;
        do {
            String km = keyMarker;
            String im = idMarker;
            try {
                page = call("LIST multipart uploads", p, () -> s3.listMultipartUploads(r -> r.bucket(bucket).prefix(full).keyMarker(km).uploadIdMarker(im)));
            } catch (StorageException e) {
                if (e.getCause() instanceof S3Exception se && (se.statusCode() == 501 || "NotImplemented".equals(errorCode(se)))) {
                    return 0; // the service cannot list them; its own expiry (a lifecycle rule) has to
                }
                throw e;
            }
            for (MultipartUpload u : page.uploads()) {
                try {
                    call("abort multipart upload", u.key().substring(prefix.length()),
                            () -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(u.key()).uploadId(u.uploadId())));
                    n++;
                } catch (NoSuchObjectException gone) {
                    // finished or aborted meanwhile
                }
            }
            boolean more = Boolean.TRUE.equals(page.isTruncated());
            keyMarker = more ? page.nextKeyMarker() : null;
            idMarker = more ? page.nextUploadIdMarker() : null;
        } while (keyMarker != null);
        return n;
    }

    @Override
    public void close() {
        uploads.shutdownNow();
        java.util.concurrent.ThreadPoolExecutor pool;
        synchronized (this) {
            pool = batchPool;
        }
        if (pool != null) {
            // a store closed without its sync (a failed backup): the PUTs not begun never start, and
            // none lands after the close, when the next writer under the repository lock may clean up
            pool.shutdownNow();
            try {
                pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        s3.close();
    }

    /**
     * Waits for the PUT of every object committed batched since the last call, and throws the first
     * that failed (after its retries): a {@link StorageException} naming the object.
     */
    @Override
    public void sync() {
        awaitBatched();
        RuntimeException failed = batchFailed.getAndSet(null);
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Waits until no PUT of an object committed batched is pending (a failure stays recorded for
     * {@link #sync}): before a delete, which a PUT ending later would undo. After a failure the
     * pending ones end at once (they are not sent).
     */
    private void awaitBatched() {
        for (java.util.concurrent.Future<?> f : new ArrayList<>(batchInFlight)) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                // the task records its own failure in batchFailed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StorageException(StorageException.Kind.INTERRUPTED, "PUT", "s3://" + bucket + "/" + prefix,
                        "interrupted while waiting for the objects being sent to s3://" + bucket + "/" + prefix, null, e);
            }
        }
    }

    /** PUTs of objects committed batched not yet ended (for tests). */
    int batchedInFlight() {
        return batchInFlight.size();
    }

    private synchronized java.util.concurrent.ThreadPoolExecutor batchPool() {
        if (batchPool == null) {
            AtomicInteger n = new AtomicInteger();
            batchPool = new java.util.concurrent.ThreadPoolExecutor(BATCH_THREADS, BATCH_THREADS, 5, java.util.concurrent.TimeUnit.SECONDS,
                    new java.util.concurrent.LinkedBlockingQueue<>(), r -> WorkerPriority.asStarted(r, "strata-s3-put-" + n.incrementAndGet()));
            batchPool.allowCoreThreadTimeOut(true);
        }
        return batchPool;
    }

    // ---- reading -------------------------------------------------------------------------------

    /** A streamed GET that resumes with a ranged GET of the same object version when the connection breaks. */
    private final class ResumingInput extends InputStream {
        private final String key;
        private final String s3key;
        private final String etag;
        private final long length;
        /** Where in the object the stream's first byte lies; whether it ends at {@link #length} bytes after that (a range) or at the object's end. */
        private final long base;
        private final boolean ranged;
        private InputStream in;
        private long pos;
        private int resumes;

        ResumingInput(String key, String s3key, ResponseInputStream<GetObjectResponse> first, long base, boolean ranged) {
            this.key = key;
            this.s3key = s3key;
            this.in = first;
            this.base = base;
            this.ranged = ranged;
            this.etag = first.response().eTag();
            this.length = first.response().contentLength() == null ? -1 : first.response().contentLength();
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            while (true) {
                try {
                    int n = in.read(b, off, len);
                    if (n < 0 && length >= 0 && pos < length) {
                        throw new IOException("connection closed at byte " + pos + " of " + length);
                    }
                    if (n > 0) {
                        pos += n;
                    }
                    return n;
                } catch (IOException | SdkException e) {
                    resume(e);
                }
            }
        }

        private void resume(Exception cause) {
            try {
                in.close();
            } catch (IOException | RuntimeException ignored) {
                // the broken stream
            }
            if (++resumes >= settings.maxAttempts()) {
                throw new StorageException(StorageException.Kind.REMOTE_FAILED, "GET", describe(key), "reading " + describe(key) + " broke off at byte " + pos + " " + resumes
                        + " times; the last error: " + oneLine(String.valueOf(cause.getMessage())), "check the network and the object store, then try again", cause);
            }
            try {
                Thread.sleep(backoff(Math.min(20_000L, 200L << Math.min(resumes, 7))).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StorageException(StorageException.Kind.INTERRUPTED, "GET", describe(key), "interrupted while reading " + describe(key), null, e);
            }
            String range = "bytes=" + (base + pos) + "-" + (ranged && length >= 0 ? String.valueOf(base + length - 1) : "");
            in = call("GET (resume)", key, () -> s3.getObject(r -> r.bucket(bucket).key(s3key).ifMatch(etag).range(range)));
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                // the response stream of a finished read: nothing stored depends on it
            }
        }
    }

    // ---- writing -------------------------------------------------------------------------------

    /**
     * A part-sized buffer within the store's budget: waits while all of them are taken (they come
     * back as uploads finish). Only a writer kept waiting {@link #BUFFER_WAIT_MILLIS} takes one
     * beyond it, so that no pattern of writers can deadlock here.
     */
    private byte[] buffer(String key) {
        try {
            if (!bufferPermits.tryAcquire(BUFFER_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                overdraft.incrementAndGet();
                return new byte[settings.partSize()];
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(StorageException.Kind.INTERRUPTED, "PUT", describe(key), "interrupted while writing " + describe(key), null, e);
        }
        byte[] b = spare.poll();
        return b != null ? b : new byte[settings.partSize()];
    }

    /** Gives back a buffer from {@link #buffer}; smaller ones (the start of a small object) are just dropped. */
    private void recycle(byte[] b) {
        if (b.length != settings.partSize()) {
            return;
        }
        for (int o = overdraft.get(); o > 0; o = overdraft.get()) {
            if (overdraft.compareAndSet(o, o - 1)) {
                return; // one taken beyond the budget: let it go
            }
        }
        spare.offer(b);
        bufferPermits.release();
    }

    /** Part buffers not taken now (for tests). */
    int freePartBuffers() {
        return bufferPermits.availablePermits();
    }

    private final class S3Writer implements Writer {
        private final String key;
        private final String s3key;
        private final Semaphore inFlight = new Semaphore(settings.partsInFlight());
        private final List<Future<CompletedPart>> parts = new ArrayList<>();
        /**
         * Per part in {@link #parts}: set by whichever comes first, its upload task when it starts
         * (and then gives the buffer back when done) or close() (which then gives it back itself).
         * A FutureTask's cancel cannot tell: it returns true for a task that is already running.
         */
        private final List<java.util.concurrent.atomic.AtomicBoolean> partTaken = new ArrayList<>();
        private final List<byte[]> partData = new ArrayList<>();
        private final OutputStream out = new PartStream();
        private byte[] buf;
        private int fill;
        private long total;
        private String uploadId;
        private volatile Throwable partFailure;
        private boolean done;

        S3Writer(String key, String s3key) {
            this.key = key;
            this.s3key = s3key;
        }

        @Override
        public OutputStream stream() { return out; }

        /** The object's bytes into part buffers; a buffer written as it is ({@link io.strata.util.BufferSink}) is copied once, into the part. */
        private final class PartStream extends OutputStream implements io.strata.util.BufferSink {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                java.util.Objects.checkFromIndexSize(off, len, b.length);
                write(java.nio.ByteBuffer.wrap(b, off, len));
            }

            @Override
            public void write(java.nio.ByteBuffer src) {
                int len = src.remaining();
                if (done) {
                    throw new IllegalStateException("writer of " + describe(key) + " is closed");
                }
                while (len > 0) {
                    if (buf == null) {
                        // most objects are small (.frm, .opt, history): start small, grow to a part
                        buf = parts.isEmpty() ? new byte[Math.min(SMALL_START, settings.partSize())] : buffer(key);
                        fill = 0;
                    }
                    if (fill == buf.length) {
                        if (buf.length < settings.partSize()) {
                            byte[] bigger = buf.length * 4 >= settings.partSize() ? buffer(key) : new byte[buf.length * 4];
                            System.arraycopy(buf, 0, bigger, 0, fill);
                            buf = bigger;
                        } else {
                            sendPart();
                            continue;
                        }
                    }
                    int n = Math.min(len, buf.length - fill);
                    src.get(buf, fill, n);
                    fill += n;
                    len -= n;
                    total += n;
                }
            }
        }

        /** Hands the full buffer to an upload thread; blocks while partsInFlight parts are pending. */
        private void sendPart() {
            rethrowPartFailure();
            if (uploadId == null) {
                uploadId = call("create multipart upload of", key, () -> s3.createMultipartUpload(r -> r.bucket(bucket).key(s3key))).uploadId();
            }
            try {
                inFlight.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw interrupted(e);
            }
            byte[] data = buf;
            int len = fill;
            int number = parts.size() + 1;
            buf = null;
            fill = 0;
            String id = uploadId;
            java.util.concurrent.atomic.AtomicBoolean taken = new java.util.concurrent.atomic.AtomicBoolean();
            partTaken.add(taken);
            partData.add(data);
            parts.add(uploads.submit(() -> {
                if (!taken.compareAndSet(false, true)) {
                    inFlight.release();
                    return null; // the writer was closed first and kept the buffer
                }
                try {
                    var resp = call("PUT part " + number + " of", key, () -> s3.uploadPart(r -> r.bucket(bucket).key(s3key).uploadId(id).partNumber(number)
                            .contentLength((long) len), body(data, len)));
                    return CompletedPart.builder().partNumber(number).eTag(resp.eTag()).build();
                } catch (Throwable t) {
                    partFailure = t;
                    throw t;
                } finally {
                    recycle(data);
                    inFlight.release();
                }
            }));
        }

        private void rethrowPartFailure() {
            Throwable t = partFailure;
            if (t != null) {
                throw partFailed(t);
            }
        }

        private RuntimeException partFailed(Throwable t) {
            if (t instanceof RuntimeException re) {
                return re;
            }
            return new StorageException(StorageException.Kind.REMOTE_FAILED, "PUT part", describe(key), "uploading a part of " + describe(key) + " failed: " + t,
                    "check the network and the object store, then try again", t);
        }

        private StorageException interrupted(InterruptedException e) {
            return new StorageException(StorageException.Kind.INTERRUPTED, "PUT", describe(key), "interrupted while writing " + describe(key), null, e);
        }

        @Override
        public void commit() {
            if (done) {
                throw new IllegalStateException("writer of " + describe(key) + " is closed");
            }
            if (uploadId == null) {
                byte[] data = buf == null ? new byte[0] : buf;
                int len = fill;
                call("PUT", key, () -> s3.putObject(r -> r.bucket(bucket).key(s3key).contentLength((long) len), body(data, len)));
            } else {
                if (fill > 0) {
                    sendPart();
                }
                List<CompletedPart> done = new ArrayList<>();
                for (Future<CompletedPart> f : parts) {
                    done.add(await(f));
                }
                complete(done);
            }
            committedSizes.put(key, total);
            finish();
        }

        /**
         * An object that fits one PUT is sent by {@link #BATCH_THREADS} threads of the store while
         * the caller goes on, and is visible once that PUT succeeded, at the latest when
         * {@link S3ObjectStore#sync()} returns; a larger one is committed here, as {@link #commit()} does.
         *
         * @throws StorageException the failure of an earlier batched PUT of this store (the object is then not sent)
         */
        @Override
        public void commitBatched() {
            if (done) {
                throw new IllegalStateException("writer of " + describe(key) + " is closed");
            }
            if (uploadId != null || fill > BATCH_MAX_BUFFER) {
                commit();
                return;
            }
            RuntimeException failed = batchFailed.get();
            if (failed != null) {
                throw failed;
            }
            // held until the PUT ends: trimmed to the object (a small object's buffer grows 4x at a time)
            byte[] data = buf == null ? new byte[0] : buf.length > fill + (fill >> 2) ? java.util.Arrays.copyOf(buf, fill) : buf;
            if (data != buf && buf != null) {
                recycle(buf);
            }
            int len = fill;
            long size = total;
            int kib = Math.max(1, (data.length + 1023) >> 10);
            try {
                batchBudget.acquire(kib);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw interrupted(e);
            }
            buf = null; // the PUT's now: finish() must not give it back
            finish();
            committedSizes.put(key, size); // its writer's storedBytes() is asked before the PUT ends
            java.util.concurrent.FutureTask<Void> task = new java.util.concurrent.FutureTask<>(() -> {
                try {
                    if (batchFailed.get() != null) {
                        committedSizes.remove(key); // the run fails with the first failure: not sent
                        return null;
                    }
                    call("PUT", key, () -> s3.putObject(r -> r.bucket(bucket).key(s3key).contentLength((long) len), body(data, len)));
                } catch (RuntimeException | Error e) {
                    committedSizes.remove(key);
                    batchFailed.compareAndSet(null, e instanceof RuntimeException re ? re : e instanceof OutOfMemoryError ? StrataException.outOfMemory(e)
                            : new StrataException(ErrorCode.BUG, "sending " + describe(key) + " failed: " + e, null, e));
                } finally {
                    recycle(data);
                    batchBudget.release(kib);
                }
                return null;
            }) {
                @Override
                protected void done() {
                    batchInFlight.remove(this);
                }
            };
            batchInFlight.add(task);
            try {
                batchPool().execute(task);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                batchInFlight.remove(task);
                batchBudget.release(kib);
                recycle(data);
                throw new StorageException(StorageException.Kind.INTERRUPTED, "PUT", describe(key), "the store of " + describe(key) + " was closed", null, e);
            }
        }

        private CompletedPart await(Future<CompletedPart> f) {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw interrupted(e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw partFailed(e.getCause());
            }
        }

        private void complete(List<CompletedPart> done) {
            try {
                call("complete multipart upload of", key, () -> s3.completeMultipartUpload(r -> r.bucket(bucket).key(s3key).uploadId(uploadId)
                        .multipartUpload(m -> m.parts(done))));
            } catch (StorageException e) {
                // a retried Complete whose first try succeeded finds the upload gone: the object tells
                if (e.getCause() instanceof NoSuchUploadException) {
                    try {
                        String k = s3key;
                        long size = call("HEAD", key, () -> s3.headObject(r -> r.bucket(bucket).key(k))).contentLength();
                        if (size == total) {
                            uploadId = null;
                            return;
                        }
                    } catch (NoSuchObjectException missing) {
                        // fall through: it did not complete
                    }
                }
                throw e;
            }
            uploadId = null;
        }

        private void finish() {
            done = true;
            if (buf != null) {
                recycle(buf);
                buf = null;
            }
        }

        @Override
        public void close() {
            if (done) {
                return;
            }
            finish();
            if (uploadId != null) {
                for (int i = 0; i < parts.size(); i++) {
                    if (partTaken.get(i).compareAndSet(false, true)) {
                        recycle(partData.get(i)); // never started: its task will not send it nor give it back
                    }
                }
                for (Future<CompletedPart> f : parts) {
                    try {
                        f.get();
                    } catch (Exception ignored) {
                        // cancelled or failed: the abort below discards it
                    }
                }
                String id = uploadId;
                uploadId = null;
                try {
                    call("abort multipart upload of", key, () -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(s3key).uploadId(id)));
                } catch (StorageException ignored) {
                    // the next writer under the repository lock discards unfinished uploads
                }
            }
        }
    }

    /** A request body read from the buffer afresh on every attempt, so that retries resend it whole. */
    private static RequestBody body(byte[] data, int len) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, len), len, "application/octet-stream");
    }
}
