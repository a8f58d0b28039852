package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.CodecException;
import io.strata.codec.Compression;
import io.strata.codec.KeyParams;
import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;
import io.strata.store.StoreErrors;
import io.strata.store.StoreLocation;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A strata repository (see docs/repository-format.md): the marker object, backups with their
 * manifests, and the history of attempts. Writers take the repository lock; readers never do.
 */
public final class Repository {
    public static final String MARKER = "strata.repo";
    private static final DateTimeFormatter ID_FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", java.util.Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Lock files this process holds. The lock is a POSIX record lock, and closing
     * any descriptor of the lock file drops all of a process's locks on it: a holder must never
     * open the file a second time, so it answers "who holds it" from here.
     */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final StoreLocation location;
    /** The directory of a local repository; null for object storage. */
    private final Path root;
    private final ObjectStore store;
    /** The lease lock this instance holds on an object-storage repository, if any. */
    volatile LeaseLock heldLease;
    /** The repository's encryption parameters, null when it is not encrypted. */
    private KeyParams encryption;
    /** Chunks are sealed with this when the repository is encrypted and its key was given. */
    private ChunkCipher cipher;

    private Repository(StoreLocation location) {
        this.location = location;
        this.root = location.isS3() ? null : location.dir();
        this.store = location.open();
    }

    public ObjectStore store() { return store; }

    /** The repository as messages name it: its directory, or s3://bucket/prefix. */
    public String root() { return location.display(); }

    public StoreLocation location() { return location; }

    /** Opens a repository that must already exist, without a key. */
    public static Repository open(Path dir) {
        return open(StoreLocation.local(dir), null);
    }

    /** Opens a repository that must already exist, without a key. */
    public static Repository open(StoreLocation where) {
        return open(where, null);
    }

    /**
     * Opens a repository that must already exist. {@code secret} unlocks an encrypted one (a
     * wrong secret fails here, before anything is read); without it, reading an encrypted
     * object fails with KEY_MISSING.
     */
    public static Repository open(StoreLocation where, Secret secret) {
        Repository r = new Repository(where);
        boolean there = r.root == null ? r.store.exists(MARKER) : Files.isDirectory(r.root) && Files.exists(r.root.resolve(MARKER));
        if (!there) {
            throw new StrataException(ErrorCode.REPO_MISSING, "no strata repository at " + r.root(),
                    "check --repo; a repository is created by the first \"strata backup --repo " + (r.root == null ? "s3://BUCKET/PREFIX" : "DIR") + "\"");
        }
        r.readMarker();
        r.unlock(secret);
        return r;
    }

    /** Opens a repository for a backup, creating it in a missing or empty directory. */
    public static Repository openOrCreate(Path dir) {
        return openOrCreate(StoreLocation.local(dir), null);
    }

    /** As {@link #openOrCreate(StoreLocation, Secret)} for an unencrypted repository. */
    public static Repository openOrCreate(StoreLocation where) {
        return openOrCreate(where, null);
    }

    /**
     * Opens a repository for a backup, creating it in a missing or empty directory or an empty
     * prefix; a new repository is encrypted when {@code secret} is given (encryption is chosen
     * once, for the whole repository: a chain never mixes keys).
     */
    public static Repository openOrCreate(StoreLocation where, Secret secret) {
        Repository r = new Repository(where);
        if (r.root == null) {
            if (r.store.exists(MARKER)) {
                r.readMarker();
                r.unlock(secret);
                return r;
            }
            try {
                if (!r.store.list("").isEmpty()) {
                    throw new StrataException(ErrorCode.REPO_MISSING, r.root() + " is not empty and is not a strata repository (no " + MARKER + ")",
                            "name an empty or new prefix for a new repository");
                }
            } catch (IOException e) {
                throw StoreErrors.translate(e, r.root());
            }
            r.writeMarker(secret);
            return r;
        }
        try {
            if (Files.exists(r.root.resolve(MARKER))) {
                r.readMarker();
                r.unlock(secret);
                r.checkWritable();
                return r;
            }
            if (Files.exists(r.root) && !Files.isDirectory(r.root)) {
                throw new StrataException(ErrorCode.REPO_MISSING, "--repo " + r.root + " is a file, not a directory", null);
            }
            if (Files.isDirectory(r.root)) {
                try (var s = Files.list(r.root)) {
                    // a process killed while it created the repository leaves only its probe or an unfinished marker
                    if (s.map(p -> p.getFileName().toString()).anyMatch(n -> !n.startsWith(".write-probe-") && !n.startsWith(".tmp-"))) {
                        throw new StrataException(ErrorCode.REPO_MISSING, r.root + " is not empty and is not a strata repository (no " + MARKER + ")",
                                "name an empty or new directory for a new repository");
                    }
                }
            }
            Files.createDirectories(r.root);
            r.checkWritable();
            r.writeMarker(secret);
            return r;
        } catch (AccessDeniedException e) {
            throw StoreErrors.translate(e, r.root.toString());
        } catch (IOException e) {
            throw StoreErrors.translate(e, r.root.toString());
        }
    }

    private void writeMarker(Secret secret) {
        Map<String, Object> marker = new TreeMap<>();
        marker.put("format", "strata-repository");
        marker.put("version", 2);
        marker.put("created", Instant.now().toString());
        if (secret != null && !secret.implicit()) {
            encryption = KeyParams.create(secret, KeyParams.DEFAULT_ITERATIONS);
            marker.put("encryption", encryption);
            unlock(secret);
        }
        writeJson(MARKER, "repository", marker, ObjectCodec.PLAIN);
    }

    private void checkWritable() {
        Path probe = root.resolve(".write-probe-" + ProcessHandle.current().pid());
        try {
            Files.write(probe, new byte[] {1});
            Files.delete(probe);
        } catch (IOException e) {
            throw StoreErrors.translate(e, root.toString());
        }
    }

    private void readMarker() {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = readJson(MARKER, "repository", Map.class, ObjectCodec.PLAIN);
        Object v = m.get("version");
        if (!(v instanceof Integer) || (Integer) v < 1 || (Integer) v > 2) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "repository format version " + v + " is outside the supported range [1,2] (resource="
                    + store.describe(MARKER) + ")", "upgrade strata to read this repository");
        }
        if (m.get("encryption") != null) {
            encryption = Json.MAPPER.convertValue(m.get("encryption"), KeyParams.class);
        }
    }

    private void unlock(Secret secret) {
        if (secret == null || (encryption == null && secret.implicit())) {
            return;
        }
        if (encryption == null) {
            throw new StrataException(ErrorCode.USAGE, "repository " + root + " is not encrypted, but a key or passphrase was given",
                    "drop the key option for this repository; encryption is chosen when a repository is created, for all its backups");
        }
        try {
            cipher = new ChunkCipher(encryption.unlock(secret));
        } catch (KeyParams.WrongSecret e) {
            throw new StrataException(ErrorCode.KEY_WRONG, "wrong key for repository " + root + ": " + e.getMessage(),
                    "give the key file or passphrase this repository was created with");
        } catch (CodecException e) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "cannot use the encryption parameters of " + store.describe(MARKER) + ": " + e.getMessage(),
                    "upgrade strata, or check that the repository was not edited by hand");
        }
    }

    /** The repository's encryption parameters (never the key), or null when it is not encrypted. */
    public KeyParams encryption() { return encryption; }

    /** "aes-256-gcm" or null, as recorded in manifests. */
    public String encryptionName() { return encryption == null ? null : encryption.cipher(); }

    /** How objects are read: the repository's cipher, when it is encrypted and unlocked. */
    public ObjectCodec codec() {
        return new ObjectCodec(Compression.NONE, cipher);
    }

    /**
     * How new objects are written: {@code compression}, sealed when the repository is encrypted.
     * Fails with KEY_MISSING for an encrypted repository opened without its key, so that nothing
     * unencrypted is ever written into it.
     */
    public ObjectCodec codec(Compression compression) {
        if (encryption != null && cipher == null) {
            throw new StrataException(ErrorCode.KEY_MISSING, "repository " + root + " is encrypted and no key was given",
                    keyHint());
        }
        return new ObjectCodec(compression, cipher);
    }

    /** Fails with KEY_MISSING now, rather than at the first object, when the repository needs a key that was not given. */
    public void requireKey() {
        codec(Compression.NONE);
    }

    private String keyHint() {
        boolean pass = encryption != null && KeyParams.KIND_PASSPHRASE.equals(encryption.keySource());
        return pass ? "it was created with a passphrase: give it with --encrypt-passphrase-file FILE or in STRATA_PASSPHRASE"
                : "it was created with a key file: give it with --encrypt-key-file FILE";
    }

    /** Opens a stored object for reading with the repository's codec; the caller closes it. */
    public ChunkedReader reader(String key, String content) throws IOException {
        if (encryption != null && cipher == null) {
            requireKey();
        }
        return new ChunkedReader(store.open(key), content, store.describe(key), codec());
    }

    public static String newBackupId(Instant now) {
        return ID_FORMAT.format(now) + "-" + String.format(java.util.Locale.ROOT, "%04x", RANDOM.nextInt(1 << 16));
    }

    // ---- objects ---------------------------------------------------------------------------

    public void writeJson(String key, String content, Object value) {
        writeJson(key, content, value, codec(Compression.NONE));
    }

    /** Writes an object that needs no key to read (the marker, a running backup's progress). */
    public void writePlainJson(String key, String content, Object value) {
        writeJson(key, content, value, ObjectCodec.PLAIN);
    }

    private void writeJson(String key, String content, Object value, ObjectCodec codec) {
        LeaseLock lease = heldLease;
        if (lease != null && key.endsWith("/manifest")) {
            lease.check(); // a manifest only while the lease is surely ours (see LeaseLock)
        }
        try (ObjectStore.Writer w = store.create(key)) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), content, codec);
            cw.write(Json.MAPPER.writeValueAsBytes(value));
            cw.finish();
            w.commit();
        } catch (IOException e) {
            throw StoreErrors.translate(e, store.describe(key));
        }
    }

    public <T> T readJson(String key, String content, Class<T> type) {
        if (encryption != null && cipher == null) {
            requireKey();
        }
        return readJson(key, content, type, codec());
    }

    /** Reads an object written by {@link #writePlainJson}. */
    public <T> T readPlainJson(String key, String content, Class<T> type) {
        return readJson(key, content, type, ObjectCodec.PLAIN);
    }

    private <T> T readJson(String key, String content, Class<T> type, ObjectCodec codec) {
        String where = store.describe(key);
        try (InputStream in = store.open(key); ChunkedReader r = new ChunkedReader(in, content, where, codec)) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            r.transferTo(buf);
            try {
                return Json.MAPPER.readValue(buf.toByteArray(), type);
            } catch (IOException e) {
                throw new StrataException(ErrorCode.CORRUPT_DATA, content + " is not readable JSON: " + e.getMessage() + " (resource=" + where + ")",
                        "the object passed its checksum, so a different strata version may have written it");
            }
        } catch (ObjectStore.NoSuchObjectException e) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "missing object " + where, "the repository is incomplete; was it copied partially?");
        } catch (IOException e) {
            throw StoreErrors.translate(e, where);
        }
    }

    // ---- backups ---------------------------------------------------------------------------

    public static String backupPrefix(String id) { return "backups/" + id + "/"; }

    public static String manifestKey(String id) { return backupPrefix(id) + "manifest"; }

    /** A backup's progress while it runs and its final state after (plain JSON, no key needed; see strata status). */
    public static String progressKey(String id) { return "history/" + id + "/progress"; }

    public boolean hasManifest(String id) { return store.exists(manifestKey(id)); }

    /** The backup that took over a merged backup's state, or null. */
    public String mergedInto(String id) {
        String key = "history/" + id + "/merged";
        if (!store.exists(key)) {
            return null;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = readJson(key, "history", Map.class);
        return (String) m.get("mergedInto");
    }

    /** Records that {@code id}'s state is now held by {@code successor} (written before id is deleted). */
    public void markMerged(String id, String successor) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("mergedInto", successor);
        m.put("time", Instant.now().toString());
        writeJson("history/" + id + "/merged", "history", m);
    }

    /**
     * The manifest of a completed backup. A backup that was merged away resolves to the backup
     * that holds its state now, which restores to exactly the same data.
     */
    public Manifest manifest(String id) {
        if (!store.exists(manifestKey(id))) {
            String successor = mergedInto(id);
            if (successor != null) {
                return manifest(successor);
            }
            Optional<HistoryRecord> h = history().stream().filter(x -> x.id().equals(id)).findFirst();
            if (h.isPresent() && HistoryRecord.PRUNED.equals(h.get().state())) {
                throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "backup " + id + " was " + h.get().error(),
                        "run \"strata list --repo " + root() + "\" to see the backups");
            }
            if (h.isPresent()) {
                throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "backup " + id + " did not complete (state " + h.get().state()
                        + (h.get().error() == null ? "" : ": " + h.get().error()) + ") and cannot be used",
                        "run \"strata list --repo " + root() + "\" to see the completed backups");
            }
            throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "no backup with id " + id + " in " + root(),
                    "run \"strata list --repo " + root() + "\" to see the backups");
        }
        Manifest m = readJson(manifestKey(id), "manifest", Manifest.class);
        if (m.formatVersion() != Manifest.FORMAT_VERSION || !id.equals(m.id())) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "manifest of backup " + id + " has format " + m.formatVersion() + " and id " + m.id()
                    + ", expected format 1 and id " + id + " (resource=" + store.describe(manifestKey(id)) + ")", null);
        }
        return m;
    }

    /** Completed backups, oldest first. */
    public List<String> completedIds() {
        List<String> out = new ArrayList<>();
        for (HistoryRecord h : history()) {
            if (HistoryRecord.COMPLETED.equals(h.state())) {
                out.add(h.id());
            }
        }
        return out;
    }

    // ---- history ---------------------------------------------------------------------------

    public void beginAttempt(HistoryRecord r) {
        writeJson("history/" + r.id() + "/begin", "history", r);
    }

    public void endAttempt(HistoryRecord r) {
        writeJson("history/" + r.id() + "/end", "history", r);
    }

    /** Every attempt, oldest first; an attempt with neither end record nor live writer is failed. */
    public List<HistoryRecord> history() {
        List<String> keys;
        try {
            keys = store.list("history/");
        } catch (IOException e) {
            throw StoreErrors.translate(e, store.describe("history/"));
        }
        Map<String, HistoryRecord> begins = new TreeMap<>();
        Map<String, HistoryRecord> ends = new TreeMap<>();
        Map<String, Map<String, Object>> pruned = new TreeMap<>();
        for (String k : keys) {
            String[] parts = k.split("/");
            if (parts.length != 3) {
                continue;
            }
            if (parts[2].equals("begin")) {
                begins.put(parts[1], readJson(k, "history", HistoryRecord.class));
            } else if (parts[2].equals("end")) {
                ends.put(parts[1], readJson(k, "history", HistoryRecord.class));
            } else if (parts[2].equals(PRUNED_MARKER)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = readJson(k, "history", Map.class);
                pruned.put(parts[1], m);
            }
        }
        Long writer = null;
        boolean writerKnown = false;
        List<HistoryRecord> out = new ArrayList<>();
        for (var e : begins.entrySet()) {
            HistoryRecord end = ends.get(e.getKey());
            HistoryRecord b = e.getValue();
            Map<String, Object> p = pruned.get(e.getKey());
            if (!writerKnown && end == null && p == null) {
                writer = lockHolderPid();
                writerKnown = true;
            }
            if (p != null) {
                HistoryRecord base = end != null ? end : b;
                out.add(base.withState(HistoryRecord.PRUNED, base.endTime(), "removed by strata prune at " + p.get("time") + ": " + p.get("reason")));
            } else if (end != null) {
                out.add(end);
            } else if (hasManifest(b.id())) {
                // the process stopped between storing the manifest and the end record: complete
                out.add(HistoryRecord.completed(b, manifest(b.id())));
            } else if (writer != null && writer.equals(b.pid())) {
                out.add(b);
            } else {
                out.add(b.withState(HistoryRecord.FAILED, null,
                        "interrupted: the backup process (pid " + b.pid() + ") ended before the backup completed (killed, crashed or machine stopped)"));
            }
        }
        // ids sort by second only; the begin time orders attempts started within one second
        out.sort(java.util.Comparator.comparing((HistoryRecord h) -> java.time.Instant.parse(h.beginTime())).thenComparing(HistoryRecord::id));
        return out;
    }

    /** Marker written by prune before it removes a backup: history/ID/pruned. */
    public static final String PRUNED_MARKER = "pruned";

    /** Records that a backup is being removed by prune, and why (written before anything is removed). */
    public void markPruned(String id, String reason) {
        Map<String, Object> m = new TreeMap<>();
        m.put("id", id);
        m.put("time", Instant.now().toString());
        m.put("reason", reason);
        writeJson("history/" + id + "/" + PRUNED_MARKER, "history", m);
    }

    // ---- lock ------------------------------------------------------------------------------

    /**
     * Takes the writer lock, or fails with REPO_LOCKED naming the holder. A local repository
     * uses an OS file lock on {@code lock}; object storage uses a lock object with a lease
     * ({@link LeaseLock}).
     */
    public Lock lock() {
        if (root == null) {
            return LeaseLock.acquire(this);
        }
        return lock("lock", "repository " + root + " is locked by another strata process",
                "wait for it to finish, or check \"strata list\" for a running backup");
    }

    /**
     * Takes another lock of the repository, a file {@code name} in its root: the binlog archiver of
     * a server takes its own, so that it runs beside backups but never twice.
     */
    public Lock lock(String name, String lockedMessage, String hint) {
        if (root == null) {
            throw new StrataException(ErrorCode.USAGE, "the " + name + " lock needs a repository on a local file system, not " + root(),
                    "archive binlogs into a local repository; object storage has only the backup writer's lock");
        }
        Path p = root.resolve(name);
        if (HELD.contains(p)) {
            throw new StrataException(ErrorCode.REPO_LOCKED, "lock " + p + " is already held by this strata process", null);
        }
        try {
            Files.createDirectories(p.getParent());
            FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            FileLock fl;
            try {
                fl = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                fl = null;
            }
            if (fl == null) {
                ch.close();
                Long pid = lockHolderPid(name);
                throw new StrataException(ErrorCode.REPO_LOCKED, lockedMessage + (pid == null ? "" : " (pid " + pid + ")"), hint);
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)), 0);
            ch.force(false);
            HELD.add(p);
            return new FileRepoLock(p, ch, fl);
        } catch (IOException e) {
            throw StoreErrors.translate(e, p.toString());
        }
    }

    /** The pid of the process holding the writer lock, or null when nobody holds it. */
    public Long lockHolderPid() {
        if (root == null) {
            LeaseLock.Info holder = LeaseLock.liveHolder(this);
            return holder == null ? null : holder.pid();
        }
        return lockHolderPid("lock");
    }

    /** The pid of the process holding lock file {@code name}, or null when nobody holds it. */
    public Long lockHolderPid(String name) {
        if (root == null) {
            return null;
        }
        Path p = root.resolve(name);
        if (HELD.contains(p)) {
            return ProcessHandle.current().pid();
        }
        if (!Files.exists(p)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            FileLock fl;
            try {
                fl = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                return ProcessHandle.current().pid();
            }
            if (fl != null) {
                fl.release();
                return null;
            }
            String s = Files.readString(p, StandardCharsets.US_ASCII).trim();
            return s.isEmpty() ? -1L : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** Removes every stored object of a backup (never its history). */
    public void deleteBackupObjects(String id) {
        try {
            store.deletePrefix(backupPrefix(id));
        } catch (IOException e) {
            throw StoreErrors.translate(e, store.describe(backupPrefix(id)));
        }
    }

    /**
     * Removes stored data of attempts that never completed and of merged backups (their history
     * stays), and what killed writers left half-written below backups/ (temporary files,
     * unfinished multipart uploads). Only under the writer lock.
     */
    public void cleanupIncomplete() {
        // objects are written only below the prefix of a backup that has no manifest yet, so the
        // unfinished writes of a killed run (.tmp- files, multipart uploads) are all inside the
        // prefixes deleted here; no walk over every stored object of the repository is needed
        for (HistoryRecord h : history()) {
            boolean mergedAway = HistoryRecord.COMPLETED.equals(h.state()) && !hasManifest(h.id()) && mergedInto(h.id()) != null;
            if (HistoryRecord.PRUNED.equals(h.state())) {
                // a prune that stopped half-way: finish it, manifest first
                try {
                    store.delete(manifestKey(h.id()));
                } catch (IOException e) {
                    throw StoreErrors.translate(e, store.describe(manifestKey(h.id())));
                }
                deleteBackupObjects(h.id());
            } else if ((HistoryRecord.FAILED.equals(h.state()) || mergedAway) && !hasManifest(h.id())) {
                deleteBackupObjects(h.id());
            }
        }
    }

    /** The writer lock; closing it releases it. */
    public interface Lock extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    private static final class FileRepoLock implements Lock {
        private final Path file;
        private final FileChannel channel;
        private final FileLock lock;

        FileRepoLock(Path file, FileChannel channel, FileLock lock) {
            this.file = file;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                lock.release();
            } finally {
                HELD.remove(file);
                channel.close();
            }
        }
    }
}
