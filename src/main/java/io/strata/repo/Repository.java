package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.codec.KeyParams;
import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;
import io.strata.store.StoreLocation;
import io.strata.util.FileModes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One opened strata repository (docs/repository-format.md): the handle every command opens once
 * and hands to its run. It owns the keys of backups and their objects (no other package builds
 * a key), and gives access to the parts it is made of:
 * <ul>
 *   <li>{@link RepoConfig}: the marker {@code strata.repo}, its version, encryption and codecs;
 *       the key is derived once, when the handle is opened;</li>
 *   <li>{@link History}: the records of every attempt;</li>
 *   <li>{@link RepoLocks}: the writer lock and the named locks ({@link RepoLock});</li>
 *   <li>backups: manifests ({@link Manifest}) and stored objects below {@code backups/<id>/}.</li>
 * </ul>
 * Writers take the writer lock; readers never do. Every storage failure is a
 * {@link StorageException}.
 */
public final class Repository {
    public static final String MARKER = Keys.MARKER;
    private static final DateTimeFormatter ID_FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final StoreLocation location;
    private final ObjectStore store;
    private final ObjectIo io;
    private final RepoConfig config;
    private final RepoLocks locks;
    private final History history;
    /** The writer lock this handle holds, checked before a manifest is stored. */
    private volatile RepoLock writerLock;
    private Compression compression = Compression.NONE;

    private Repository(StoreLocation location, ObjectStore store, RepoConfig config) {
        this.location = location;
        this.store = store;
        this.io = new ObjectIo(store);
        this.config = config;
        this.locks = new RepoLocks(location, new LeaseLock.Place(io, config.lockCodec(), location.display()));
        this.history = new History(io, config, locks);
    }

    // ---- opening ---------------------------------------------------------------------------

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
     * wrong secret fails here, before anything is read: key-wrong); without it, reading an
     * encrypted object fails with key-missing.
     *
     * @throws StrataException repo-missing when there is no repository at {@code where}
     */
    public static Repository open(StoreLocation where, Secret secret) {
        ObjectStore store = where.open();
        boolean there = where.isS3() ? store.exists(MARKER) : Files.isDirectory(where.dir()) && Files.exists(where.dir().resolve(MARKER));
        if (!there && !where.isS3() && (Files.isDirectory(where.dir().resolve(Keys.BACKUPS)) || Files.isDirectory(where.dir().resolve(Keys.HISTORY)))) {
            throw new StrataException(ErrorCode.REPO_MISSING, "no strata repository at " + where.display() + ": its marker " + MARKER
                    + " is missing, though the directory holds backups or history", "the marker was deleted; copy it back from a copy of the repository, "
                    + "or restore from another repository");
        }
        if (!there) {
            throw new StrataException(ErrorCode.REPO_MISSING, "no strata repository at " + where.display(),
                    "check --repo; a repository is created by the first \"strata backup --repo " + (where.isS3() ? "s3://BUCKET/PREFIX" : "DIR") + "\"");
        }
        return unlocked(where, store, RepoConfig.read(new ObjectIo(store), where.display()), secret);
    }

    /** Whether {@code where} holds a repository (its marker), without opening it. */
    public static boolean exists(StoreLocation where) {
        if (!where.isS3()) {
            return Files.exists(where.dir().resolve(MARKER));
        }
        try (ObjectStore store = where.open()) {
            return store.exists(MARKER);
        }
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
     * Opens a repository for a writer, creating it in a missing or empty directory or an empty
     * prefix; a new repository is encrypted when {@code secret} is given (encryption is chosen
     * once, for the whole repository: a chain never mixes keys). Creation is atomic: of writers
     * creating one repository together, one marker is published and the others open it (a
     * different key then fails with key-wrong before anything is written).
     *
     * @throws StrataException repo-missing when {@code where} holds something that is not a
     *                         repository; repo-not-writable, disk-full or io-error from the store
     */
    public static Repository openOrCreate(StoreLocation where, Secret secret) {
        return openOrCreate(where, secret, null);
    }

    /**
     * As {@link #openOrCreate(StoreLocation, Secret)}; a repository created here records
     * {@code compression} (null: none) as its default, {@link #defaultCompression}.
     */
    public static Repository openOrCreate(StoreLocation where, Secret secret, Compression compression) {
        ObjectStore store = where.open();
        ObjectIo io = new ObjectIo(store);
        if (where.isS3()) {
            if (store.exists(MARKER)) {
                return unlocked(where, store, RepoConfig.read(io, where.display()), secret);
            }
            // a creator that started together with this one may have stored the marker and more since;
            // the claims of creators (creating/) do not make a prefix a repository, nor something else
            if (store.list("").stream().anyMatch(k -> !k.startsWith(Keys.CREATING)) && !store.exists(MARKER)) {
                throw new StrataException(ErrorCode.REPO_MISSING, where.display() + " is not empty and is not a strata repository (no " + MARKER + ")",
                        "name an empty or new prefix for a new repository");
            }
            return unlocked(where, store, RepoConfig.createClaimed(io, where.display(), secret, compression), secret);
        }
        Path root = where.dir();
        try {
            if (Files.exists(root.resolve(MARKER))) {
                Repository r = unlocked(where, store, RepoConfig.read(io, where.display()), secret);
                checkWritable(root);
                return r;
            }
            if (Files.exists(root) && !Files.isDirectory(root)) {
                throw cannotCreate(root, root + " is a file, not a directory");
            }
            if (Files.isDirectory(root)) {
                try (var s = Files.list(root)) {
                    // a process killed while it created the repository leaves only its probe or an unfinished marker
                    // (a creator that started together with this one may have published the marker and more since)
                    if (s.map(p -> p.getFileName().toString()).anyMatch(n -> !n.startsWith(".write-probe-") && !n.startsWith(".tmp-"))
                            && !Files.exists(root.resolve(MARKER))) {
                        throw new StrataException(ErrorCode.REPO_MISSING, root + " is not empty and is not a strata repository (no " + MARKER + ")",
                                "name an empty or new directory for a new repository");
                    }
                }
            }
            createDirectories(root);
        } catch (IOException e) {
            throw StorageException.local("create", root.toString(), e);
        }
        checkWritable(root);
        return unlocked(where, store, RepoConfig.create(io, where.display(), secret, compression), secret);
    }

    /**
     * Creates the repository's directory and its missing parents; a directory that cannot be made
     * (a file in the way, a parent this user may not write) is repo-not-writable, a full device disk-full.
     */
    private static void createDirectories(Path root) throws IOException {
        try {
            FileModes.createPrivateDirectories(root);
        } catch (IOException e) {
            if (StorageException.noSpace(e)) {
                throw e;
            }
            Path blocking = root;
            while (blocking != null && !Files.exists(blocking)) {
                blocking = blocking.getParent();
            }
            String why = blocking != null && !Files.isDirectory(blocking) ? blocking + " is a file, not a directory"
                    : e instanceof java.nio.file.AccessDeniedException && blocking != null ? "permission denied in " + blocking
                    : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : e.toString();
            throw cannotCreate(root, why);
        }
    }

    private static StrataException cannotCreate(Path root, String why) {
        return new StrataException(ErrorCode.REPO_NOT_WRITABLE, "cannot create the repository " + root + ": " + why + " (user "
                + System.getProperty("user.name") + ")", "name a directory this user can create, in a writable parent directory");
    }

    private static Repository unlocked(StoreLocation where, ObjectStore store, RepoConfig config, Secret secret) {
        config.unlock(secret);
        return new Repository(where, store, config);
    }

    private static void checkWritable(Path root) {
        // unique per call: several creators (threads, processes) may probe one new directory together
        Path probe = root.resolve(".write-probe-" + ProcessHandle.current().pid() + "-" + java.util.UUID.randomUUID());
        try {
            Files.write(probe, new byte[] {1});
            Files.delete(probe);
        } catch (IOException e) {
            throw StorageException.local("write", root.toString(), e);
        }
    }

    // ---- what it is ------------------------------------------------------------------------

    /** The repository as messages name it: its directory, or s3://bucket/prefix. */
    public String root() { return location.display(); }

    public StoreLocation location() { return location; }

    /** The store below the repository: for the format owners of this package and for tests. */
    ObjectStore store() { return store; }

    /**
     * The bytes this repository stores, by kind: the first part of each object's key
     * ({@code backups}, {@code binlogs}, {@code tracking}, {@code history}, {@code heartbeats},
     * ...), {@code marker} for {@value #MARKER}. One listing of the whole repository (one paged
     * LIST on S3, a directory walk on disk).
     *
     * @throws io.strata.store.StorageException when the store cannot be listed
     */
    public java.util.SortedMap<String, Long> bytesByKind() {
        java.util.SortedMap<String, Long> out = new java.util.TreeMap<>();
        store.listSizes("").forEach((key, size) -> {
            int slash = key.indexOf('/');
            out.merge(slash < 0 ? "marker" : key.substring(0, slash), size, Long::sum);
        });
        return out;
    }

    ObjectIo io() { return io; }

    public History history() { return history; }

    /** The repository's encryption parameters (never the key), or null when it is not encrypted. */
    public KeyParams encryption() { return config.encryption(); }

    /** "aes-256-gcm" or null, as recorded in manifests. */
    public String encryptionName() { return config.encryption() == null ? null : config.encryption().cipher(); }

    /** Fails with key-missing now, rather than at the first object, when the repository needs a key that was not given. */
    public void requireKey() {
        config.requireKey();
    }

    /** The compression chosen when the repository was created (strata.repo): a backup's when it gives no --compress. */
    public Compression defaultCompression() { return config.compression(); }

    /** How this handle compresses the objects it writes from now on (the backup's --compress; none by default). */
    public void setCompression(Compression c) {
        this.compression = c;
    }

    /** The compression of objects this handle writes. */
    public Compression compression() { return compression; }

    /** How objects are read: the repository's cipher, when it is encrypted and unlocked. */
    ObjectCodec readCodec() { return config.readCodec(); }

    /** How this handle writes data objects: its compression, sealed when the repository is encrypted (key-missing without the key). */
    ObjectCodec writeCodec(Compression c) { return config.writeCodec(c); }

    /** A new backup id: {@code yyyyMMddTHHmmssZ-xxxx}, UTC start time and 16 random bits (ids sort by start time). */
    public static String newBackupId(Instant now) {
        return ID_FORMAT.format(now) + "-" + String.format(Locale.ROOT, "%04x", RANDOM.nextInt(1 << 16));
    }

    // ---- objects of the format owners of this package ---------------------------------------

    void writeJson(String key, String content, Object value) {
        io.writeJson(key, content, value, config.writeCodec(Compression.NONE));
    }

    <T> T readJson(String key, String content, Class<T> type) {
        return io.readJson(key, content, type, config.readCodec());
    }

    ChunkedReader reader(String key, String content) {
        return io.reader(key, content, config.readCodec());
    }

    // ---- backups ---------------------------------------------------------------------------

    /**
     * Starts object {@code object} (a manifest's {@code object} field, e.g. "data/000001" or
     * "redo") of backup {@code id} with content {@code content}, compressed as this handle says.
     */
    public StoredObject createBackupObject(String id, String object, String content) {
        return createBackupObject(id, object, content, compression);
    }

    /** As above with an explicit compression (merge keeps each backup's own); an object of its own, never a pack member. */
    public StoredObject createBackupObject(String id, String object, String content, Compression c) {
        String key = Keys.backupObject(id, object);
        return new StoredObject(store, key, object, content, config.writeCodec(c), -1);
    }

    /**
     * As {@link #createBackupObject(String, String, String)} for an object of about
     * {@code expectedBytes} raw bytes (the file's size when the copy starts): its chunk buffer is
     * sized to it ({@link ChunkedWriter#ChunkedWriter(java.io.OutputStream, String, ObjectCodec, long)}),
     * and one of at most {@link Packs#MEMBER_MAX} bytes is written into one of the backup's packs
     * when one is free ({@link Packs}), else as {@code object}. The name to record is
     * {@link StoredObject#object()}, after the commit.
     */
    public StoredObject createBackupObject(String id, String object, String content, long expectedBytes) {
        return createBackupObject(id, object, content, compression, expectedBytes);
    }

    /**
     * As {@link #createBackupObject(String, String, String, long)} compressed as {@code c} says
     * (a copy keeps each backup's own compression): a member of one of the backup's packs when
     * {@code expectedBytes} is at most {@link Packs#MEMBER_MAX} and a pack is free.
     */
    public StoredObject createBackupObject(String id, String object, String content, Compression c, long expectedBytes) {
        if (expectedBytes >= 0 && expectedBytes <= Packs.MEMBER_MAX) {
            Packs p = packsOf(id);
            Packs.Pack pack = p.take();
            if (pack != null) {
                return new StoredObject(store, p, pack, content, config.writeCodec(c), expectedBytes);
            }
        }
        String key = Keys.backupObject(id, object);
        return new StoredObject(store, key, object, content, config.writeCodec(c), expectedBytes);
    }

    /** The packs of the backups being written through this handle, by backup id ({@link #createBackupObject(String, String, String, long)}). */
    private final java.util.concurrent.ConcurrentHashMap<String, Packs> packs = new java.util.concurrent.ConcurrentHashMap<>();

    private Packs packsOf(String id) {
        return packs.computeIfAbsent(id, k -> isLocal() ? new Packs(store, k, Packs.MAX_OPEN_LOCAL, Packs.PACK_TARGET)
                : new Packs(store, k, Packs.MAX_OPEN_REMOTE, Packs.PACK_TARGET_REMOTE));
    }

    /** The name ({@link FileEntry#object()}) of a backup's {@code seq}-th data object: {@code data/NNNNNN}, numbered from 1. */
    public static String dataObject(int seq) {
        return Keys.dataObject(seq);
    }

    /**
     * Opens object {@code object} of backup {@code id} for reading, checking its content name; the
     * caller closes it. A pack member ({@code pack/NNNNNN@OFFSET+LENGTH}) is read from its bytes
     * in the pack: a ranged GET in object storage.
     */
    public ChunkedReader openBackupObject(String id, String object, String content) {
        Keys.Member m = Keys.member(object);
        if (m != null) {
            String key = Keys.backupObject(id, m.pack());
            try {
                return io.reader(key, m.offset(), m.length(), describeBackupObject(id, object), content, config.readCodec());
            } catch (ObjectStore.NoSuchObjectException e) {
                throw missing(id, object);
            }
        }
        return reader(Keys.backupObject(id, object), content);
    }

    /** Whether this repository's objects are local files (a directory), not in object storage. */
    public boolean isLocal() {
        return store instanceof io.strata.store.LocalObjectStore;
    }

    /**
     * The pack holding object {@code object} of a backup ({@code pack/NNNNNN}), or null when it is
     * an object of its own: readers in object storage group members by pack ({@link PackCache}).
     */
    public static String packOf(String object) {
        Keys.Member m = Keys.member(object);
        return m == null ? null : m.pack();
    }

    /** Where pack member {@code object} starts in its pack, in bytes; 0 for an object of its own. */
    public static long offsetInPack(String object) {
        Keys.Member m = Keys.member(object);
        return m == null ? 0 : m.offset();
    }

    /**
     * As {@link #openBackupObject(String, String, String)}; in object storage a pack member is
     * read from {@code cache}, which reads its whole pack in one GET when it holds another
     * ({@link PackCache}): for a reader that takes members in the order of their packs (a copy).
     * On disk, and with a null cache, as without it.
     */
    public ChunkedReader openBackupObject(String id, String object, String content, PackCache cache) {
        Keys.Member m = Keys.member(object);
        if (m == null || cache == null || isLocal()) {
            return openBackupObject(id, object, content);
        }
        String where = describeBackupObject(id, object);
        InputStream in;
        try {
            in = cache.range(store, Keys.backupObject(id, m.pack()), m.offset(), m.length());
        } catch (ObjectStore.NoSuchObjectException e) {
            throw missing(id, object);
        }
        try {
            return new ChunkedReader(in, content, where, config.readCodec());
        } catch (IOException e) {
            throw StorageException.local("read", where, e);
        }
    }

    /**
     * A {@link ChunkScan} of object {@code object} of backup {@code id}, which must hold
     * {@code content}: its chunk headers read one by one, chunks decoded on demand. Null when the
     * store does not keep objects as local files (S3): read those with {@link #openBackupObject}.
     * A pack member is scanned in its pack's file (positions are the pack's).
     *
     * @throws io.strata.store.ObjectStore.NoSuchObjectException when the object does not exist
     * @throws io.strata.error.CorruptDataException when its header does not check
     */
    public ChunkScan scanBackupObject(String id, String object, String content) {
        Keys.Member m = Keys.member(object);
        String key = Keys.backupObject(id, m != null ? m.pack() : object);
        java.nio.channels.FileChannel ch;
        try {
            ch = store.openFile(key);
        } catch (ObjectStore.NoSuchObjectException e) {
            throw m == null ? e : missing(id, object);
        }
        if (ch == null) {
            return null;
        }
        try {
            String where = describeBackupObject(id, object);
            ChunkScan scan = m != null ? ChunkScan.open(ch, m.offset(), m.length(), content, where, config.readCodec())
                    : ChunkScan.open(ch, content, where, config.readCodec());
            return scan.directReads(() -> store.openFileDirect(key));
        } catch (IOException e) {
            throw StorageException.local("read", store.describe(key), e);
        }
    }

    /** How messages name object {@code object} of backup {@code id}: a path or an s3:// URL, for a pack member the pack's followed by {@code @OFFSET+LENGTH}. */
    public String describeBackupObject(String id, String object) {
        Keys.Member m = Keys.member(object);
        if (m != null) {
            return store.describe(Keys.backupObject(id, m.pack())) + object.substring(m.pack().length());
        }
        return store.describe(Keys.backupObject(id, object));
    }

    /** Size in bytes of a stored object of a backup (of a pack member: its length in the pack). */
    public long backupObjectSize(String id, String object) {
        Keys.Member m = Keys.member(object);
        return m != null ? m.length() : store.size(Keys.backupObject(id, object));
    }

    /**
     * Removes one object of a backup that is being written (a file dropped or copied again). A
     * pack member stays in its pack, named by nothing: its bytes go with the backup.
     */
    public void deleteBackupObject(String id, String object) {
        if (Keys.member(object) != null) {
            return;
        }
        store.delete(Keys.backupObject(id, object));
    }

    /**
     * Copies a stored object byte for byte, durably, into another backup as an object of its own
     * named {@code toObject}: objects are immutable and self-checking, so copying the bytes copies
     * the object (sealed chunks too: their authenticated data names no key). A pack member's bytes
     * are copied from its pack.
     */
    public void copyBackupObject(String fromId, String fromObject, String toId, String toObject) {
        String to = Keys.backupObject(toId, toObject);
        Keys.Member m = Keys.member(fromObject);
        try (var in = openStored(fromId, fromObject, m);
             ObjectStore.Writer w = store.create(to)) {
            long n = in.transferTo(w.stream());
            if (m != null && n != m.length()) {
                throw truncated(fromId, fromObject, n, m);
            }
            w.commit();
        } catch (IOException e) {
            throw StorageException.local("copy", store.describe(to), e);
        }
    }

    private io.strata.error.CorruptDataException truncated(String id, String object, long n, Keys.Member m) {
        return new io.strata.error.CorruptDataException(describeBackupObject(id, object) + " ends after " + n + " of its " + m.length() + " bytes: the pack is truncated", null);
    }

    /**
     * As {@link #copyBackupObject}, into backup {@code toId} being written (a merge), whose
     * objects {@link #syncBackupObjects()} makes durable: an object of a file of at most
     * {@link Packs#MEMBER_MAX} bytes ({@code fileBytes}) goes into one of its packs when one is
     * free, byte for byte as a member; any other is copied as {@code toObject}.
     *
     * @return the name of the copy in {@code toId}: {@code pack/NNNNNN@OFFSET+LENGTH} or {@code toObject}
     */
    public String copyBackupObjectBatched(String fromId, String fromObject, String toId, String toObject, long fileBytes) {
        if (fileBytes >= 0 && fileBytes <= Packs.MEMBER_MAX) {
            Packs p = packsOf(toId);
            Packs.Pack pack = p.take();
            if (pack != null) {
                Keys.Member m = Keys.member(fromObject);
                long start = pack.size();
                String name;
                try (var in = openStored(fromId, fromObject, m)) {
                    long n = in.transferTo(pack.out);
                    if (m != null && n != m.length()) {
                        throw truncated(fromId, fromObject, n, m); // the bytes written stay in the pack, named by nothing
                    }
                    name = new Keys.Member(pack.object, start, pack.size() - start).name();
                } catch (IOException | RuntimeException e) {
                    RuntimeException first = e instanceof IOException io ? StorageException.local("read", describeBackupObject(fromId, fromObject), io)
                            : (RuntimeException) e;
                    try {
                        p.give(pack);
                    } catch (RuntimeException commit) {
                        first.addSuppressed(commit); // the pack's own failure is thrown again by the sync before any manifest
                    }
                    throw first;
                }
                p.give(pack); // a full pack is committed here; its failure is this member's
                return name;
            }
        }
        copyBackupObject(fromId, fromObject, toId, toObject);
        return toObject;
    }

    /** The stored bytes of object {@code object} of backup {@code id} ({@code m}: its member, or null), a missing member named as such. */
    private java.io.InputStream openStored(String id, String object, Keys.Member m) {
        if (m == null) {
            return store.open(Keys.backupObject(id, object));
        }
        try {
            return store.openRange(Keys.backupObject(id, m.pack()), m.offset(), m.length());
        } catch (ObjectStore.NoSuchObjectException e) {
            throw missing(id, object);
        }
    }

    /** The missing-object error of pack member {@code object} of backup {@code id} (its pack is not there): named as the member, not only its pack. */
    private ObjectStore.NoSuchObjectException missing(String id, String object) {
        return new ObjectStore.NoSuchObjectException("read", describeBackupObject(id, object));
    }

    /**
     * Makes durable every backup object committed with {@link StoredObject#commitBatched()}, the
     * packs still open committed first; call before the manifest, when no object is being written.
     *
     * @throws StrataException the first failure of a pack or of a batched object: what it held is not stored
     */
    public void syncBackupObjects() {
        for (Packs p : packs.values()) {
            p.finish();
        }
        store.sync();
    }

    /** Removes every stored object of a backup (never its history), and drops its packs not yet committed. */
    public void deleteBackupObjects(String id) {
        Packs p = packs.get(id);
        if (p != null) {
            p.discard(); // kept: a copy thread still running gets no pack from it, and writes nothing that lasts
        }
        store.deletePrefix(Keys.backupPrefix(id));
    }

    /** Whether backup {@code id} has a stored manifest (false for anything that is not a backup id). */
    public boolean hasManifest(String id) { return Keys.isBackupId(id) && store.exists(Keys.manifest(id)); }

    /**
     * Stores the manifest of a backup, the step that makes it complete (design rule 7). Under a
     * lease, only while the lease is surely this writer's.
     */
    public void writeManifest(Manifest m) {
        RepoLock lock = writerLock;
        if (lock != null) {
            lock.check();
        }
        writeJson(Keys.manifest(m.id()), "manifest", m);
    }

    /** Removes a backup's manifest: the first step of removing a completed backup (merge, prune). */
    public void deleteManifest(String id) {
        store.delete(Keys.manifest(id));
    }

    /**
     * The manifest of a completed backup. A backup that was merged away resolves to the backup
     * that holds its state now, which restores to exactly the same data; a parent a merge folded
     * away (its own state is stored nowhere any more) resolves to nothing.
     *
     * @throws StrataException backup-not-found (pruned, folded by a merge, never completed,
     *                         unknown), corrupt-data
     */
    public Manifest manifest(String id) {
        return manifest(id, false);
    }

    /**
     * As {@link #manifest(String)}, without the file entries ({@link Manifest#files()} empty):
     * read past, not built, which at thousands of tables is most of a manifest's reading time.
     */
    public Manifest manifestHead(String id) {
        return manifest(id, true);
    }

    private Manifest manifest(String id, boolean head) {
        if (!Keys.isBackupId(id)) {
            // never part of a key: "../x" or a path given as an id names no backup
            throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "no backup with id " + id + " in " + root(),
                    "run \"strata list --repo " + root() + "\" to see the backups");
        }
        if (!hasManifest(id)) {
            History.Merge merged = history.merge(id);
            if (merged != null && !merged.folded()) {
                try {
                    return manifest(merged.into(), head);
                } catch (StrataException e) {
                    // the successor was itself folded away by a later merge: say so for this id
                    boolean folded = e.code() == ErrorCode.BACKUP_NOT_FOUND
                            && history.find(id).map(h -> HistoryRecord.FOLDED.equals(h.state())).orElse(false);
                    throw folded ? history.notFound(id, root()) : e;
                }
            }
            throw history.notFound(id, root());
        }
        return Manifest.read(io, config.readCodec(), id, head);
    }

    /**
     * The manifests stored in the repository, read from {@code backups/} rather than from the
     * history (no lock probing); {@code known} holds those read before (manifests never change)
     * and is updated; a manifest that cannot be read maps to null. Each without its file entries
     * ({@link #manifestHead}): the tracker keeps them for as long as it runs.
     */
    public List<Manifest> storedManifests(java.util.Map<String, Manifest> known) {
        java.util.Set<String> present = new java.util.HashSet<>();
        for (String k : store.list(Keys.BACKUPS)) {
            String[] parts = k.split("/");
            if (parts.length != 3 || !parts[2].equals("manifest")) {
                continue;
            }
            present.add(parts[1]);
            if (!known.containsKey(parts[1])) {
                try {
                    // as the tracker always read them: any manifest that parses counts
                    known.put(parts[1], io.readJson(k, "manifest", Manifest.class, config.readCodec(), "files"));
                } catch (StrataException e) {
                    known.put(parts[1], null); // damaged or removed while we looked
                }
            }
        }
        known.keySet().retainAll(present);
        List<Manifest> out = new ArrayList<>();
        for (Manifest m : known.values()) {
            if (m != null) {
                out.add(m);
            }
        }
        return out;
    }

    // ---- locks -----------------------------------------------------------------------------

    /** Takes the writer lock (a file lock here, a lease in object storage), or fails with repo-locked naming the holder. */
    public RepoLock lock() {
        if (location.isS3()) {
            // a lease object is sealed like every other object of an encrypted repository: without
            // the key it could be neither written sealed nor told apart from a stale one
            config.requireKey();
        }
        RepoLock l = locks.writer();
        writerLock = l; // checked before a manifest is stored (a lease can be lost)
        return l;
    }

    /**
     * Takes lock {@code name} beside the writer lock: the binlog archiver of a server and the
     * tracker take their own, so that they run beside backups but never twice.
     */
    public RepoLock lock(String name, String lockedMessage, String hint) {
        if (location.isS3()) {
            config.requireKey(); // a lease object is sealed in an encrypted repository, as the writer's
        }
        return locks.named(name, lockedMessage, hint);
    }

    /** The pid of the process holding the writer lock, or null when nobody holds it. */
    public Long lockHolderPid() {
        return locks.writerPid();
    }

    /** The pid of the process holding lock {@code name}, or null when nobody holds it. */
    public Long lockHolderPid(String name) {
        return locks.namedPid(name);
    }

    /**
     * Whether a writer may be running, judged without touching the lock (a probe of a file lock
     * could make a writer that starts at that moment fail): the pid a local lock file names is
     * alive, or a live lease exists. Errs on "yes" when it cannot tell.
     */
    public boolean writerMayRun() {
        return locks.writerMayRun();
    }

    /**
     * Removes stored data of attempts that never completed and of merged backups (their history
     * stays), and finishes a prune that stopped half-way. Then, once {@value #RETIRE_BATCH} failed
     * or pruned attempts are settled, moves their records into {@code history/retired}
     * ({@link History#retire}). Only under the writer lock.
     */
    public void cleanupIncomplete() {
        // objects are written only below the prefix of a backup that has no manifest yet, so the
        // unfinished writes of a killed run (.tmp- files, multipart uploads) are all inside the
        // prefixes deleted here; no walk over every stored object of the repository is needed
        int settled = 0;
        for (HistoryRecord h : history.liveAttempts()) {
            if (HistoryRecord.FAILED.equals(h.state()) || HistoryRecord.PRUNED.equals(h.state())) {
                settled++;
            }
            boolean mergedAway = (HistoryRecord.FOLDED.equals(h.state()) || HistoryRecord.COMPLETED.equals(h.state()) && history.mergedInto(h.id()) != null)
                    && !hasManifest(h.id());
            if (HistoryRecord.PRUNED.equals(h.state())) {
                // a prune that stopped half-way: finish it, manifest first
                deleteManifest(h.id());
                deleteBackupObjects(h.id());
            } else if ((HistoryRecord.FAILED.equals(h.state()) || mergedAway) && !hasManifest(h.id())) {
                deleteBackupObjects(h.id());
            }
        }
        if (settled >= RETIRE_BATCH + History.KEEP_NEWEST) {
            try {
                history.retire(RETIRE_BATCH);
            } catch (StrataException e) {
                // housekeeping: the records stay where they are (a reader sees each attempt once either way) and the next
                // writer retires them; what failed here, the command's own writes meet and report
            }
        }
    }

    /** How many settled attempts {@link #cleanupIncomplete()} retires at once (the retired object is rewritten whole each time). */
    static final int RETIRE_BATCH = 32;
}
