package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.LocalObjectStore;
import io.strata.store.ObjectStore;
import io.strata.store.StoreErrors;

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
    private static final DateTimeFormatter ID_FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Lock files this process holds. The lock is a POSIX record lock, and closing
     * any descriptor of the lock file drops all of a process's locks on it: a holder must never
     * open the file a second time, so it answers "who holds it" from here.
     */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Path root;
    private final LocalObjectStore store;

    private Repository(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.store = new LocalObjectStore(this.root);
    }

    public ObjectStore store() { return store; }

    public Path root() { return root; }

    /** Opens a repository that must already exist. */
    public static Repository open(Path dir) {
        Repository r = new Repository(dir);
        if (!Files.isDirectory(r.root) || !Files.exists(r.root.resolve(MARKER))) {
            throw new StrataException(ErrorCode.REPO_MISSING, "no strata repository at " + r.root,
                    "check --repo; a repository is created by the first \"strata backup --repo DIR\"");
        }
        r.readMarker();
        return r;
    }

    /** Opens a repository for a backup, creating it in a missing or empty directory. */
    public static Repository openOrCreate(Path dir) {
        Repository r = new Repository(dir);
        try {
            if (Files.exists(r.root.resolve(MARKER))) {
                r.readMarker();
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
            Map<String, Object> marker = new TreeMap<>();
            marker.put("format", "strata-repository");
            marker.put("version", 1);
            marker.put("created", Instant.now().toString());
            r.writeJson(MARKER, "repository", marker);
            return r;
        } catch (AccessDeniedException e) {
            throw StoreErrors.translate(e, r.root.toString());
        } catch (IOException e) {
            throw StoreErrors.translate(e, r.root.toString());
        }
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
        Map<String, Object> m = readJson(MARKER, "repository", Map.class);
        Object v = m.get("version");
        if (!(v instanceof Integer) || (Integer) v != 1) {
            throw new StrataException(ErrorCode.CORRUPT_DATA, "repository format version " + v + " is outside the supported range [1,1] (resource="
                    + store.describe(MARKER) + ")", "upgrade strata to read this repository");
        }
    }

    public static String newBackupId(Instant now) {
        return ID_FORMAT.format(now) + "-" + String.format("%04x", RANDOM.nextInt(1 << 16));
    }

    // ---- objects ---------------------------------------------------------------------------

    public void writeJson(String key, String content, Object value) {
        try (ObjectStore.Writer w = store.create(key)) {
            ChunkedWriter cw = new ChunkedWriter(w.stream(), content);
            cw.write(Json.MAPPER.writeValueAsBytes(value));
            cw.finish();
            w.commit();
        } catch (IOException e) {
            throw StoreErrors.translate(e, store.describe(key));
        }
    }

    public <T> T readJson(String key, String content, Class<T> type) {
        String where = store.describe(key);
        try (InputStream in = store.open(key); ChunkedReader r = new ChunkedReader(in, content, where)) {
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
            if (h.isPresent()) {
                throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "backup " + id + " did not complete (state " + h.get().state()
                        + (h.get().error() == null ? "" : ": " + h.get().error()) + ") and cannot be used",
                        "run \"strata list --repo " + root + "\" to see the completed backups");
            }
            throw new StrataException(ErrorCode.BACKUP_NOT_FOUND, "no backup with id " + id + " in " + root,
                    "run \"strata list --repo " + root + "\" to see the backups");
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
        for (String k : keys) {
            String[] parts = k.split("/");
            if (parts.length != 3) {
                continue;
            }
            if (parts[2].equals("begin")) {
                begins.put(parts[1], readJson(k, "history", HistoryRecord.class));
            } else if (parts[2].equals("end")) {
                ends.put(parts[1], readJson(k, "history", HistoryRecord.class));
            }
        }
        Long writer = lockHolderPid();
        List<HistoryRecord> out = new ArrayList<>();
        for (var e : begins.entrySet()) {
            HistoryRecord end = ends.get(e.getKey());
            HistoryRecord b = e.getValue();
            if (end != null) {
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

    // ---- lock ------------------------------------------------------------------------------

    /** Takes the writer lock, or fails with REPO_LOCKED naming the holder. */
    public Lock lock() {
        return lock("lock", "repository " + root + " is locked by another strata process",
                "wait for it to finish, or check \"strata list\" for a running backup");
    }

    /**
     * Takes another lock of the repository, a file {@code name} in its root: the binlog archiver of
     * a server takes its own, so that it runs beside backups but never twice.
     */
    public Lock lock(String name, String lockedMessage, String hint) {
        Path p = root.resolve(name);
        if (HELD.contains(p)) {
            throw new StrataException(ErrorCode.REPO_LOCKED, "lock " + p + " is already held by this strata process", null);
        }
        try {
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
            return new Lock(p, ch, fl);
        } catch (IOException e) {
            throw StoreErrors.translate(e, p.toString());
        }
    }

    /** The pid of the process holding the writer lock, or null when nobody holds it. */
    public Long lockHolderPid() {
        return lockHolderPid("lock");
    }

    /** The pid of the process holding lock file {@code name}, or null when nobody holds it. */
    public Long lockHolderPid(String name) {
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
            store.deleteTree(backupPrefix(id));
        } catch (IOException e) {
            throw StoreErrors.translate(e, store.describe(backupPrefix(id)));
        }
    }

    /** Removes stored data of attempts that never completed and of merged backups; their history stays. */
    public void cleanupIncomplete() {
        for (HistoryRecord h : history()) {
            boolean mergedAway = HistoryRecord.COMPLETED.equals(h.state()) && !hasManifest(h.id()) && mergedInto(h.id()) != null;
            if ((HistoryRecord.FAILED.equals(h.state()) || mergedAway) && !hasManifest(h.id())) {
                deleteBackupObjects(h.id());
            }
        }
    }

    public static final class Lock implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final FileLock lock;

        Lock(Path file, FileChannel channel, FileLock lock) {
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
