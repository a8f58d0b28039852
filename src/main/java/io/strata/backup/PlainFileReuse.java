package io.strata.backup;

import io.strata.repo.FileEntry;
import io.strata.repo.FileStat;
import io.strata.repo.Manifest;
import io.strata.repo.References;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Decides whether a non-InnoDB file is unchanged since the parent backup stored it, so that the
 * backup refers to the parent's object instead of reading and storing the file again
 * (docs/repository-format.md, "Reference entries"): same size, inode, device and change time
 * (to the nanosecond) as the parent's entry recorded, and that change time older than the
 * parent's copy by {@link #MARGIN_NANOS}. Thread-safe once built (read-only).
 */
final class PlainFileReuse {
    /**
     * How much older than the parent's copy a file's change time must be: more than the
     * granularity of any file system's timestamps (FAT keeps two seconds) and the lag of the
     * kernel's coarse clock behind the wall clock (a tick, at most 10 ms).
     */
    static final long MARGIN_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** No parent: every file is stored. */
    static final PlainFileReuse NONE = new PlainFileReuse(null, Map.of(), null);

    private final String parentId;
    private final Map<String, FileEntry> parentFiles;
    private final References refs;

    private PlainFileReuse(String parentId, Map<String, FileEntry> parentFiles, References refs) {
        this.parentId = parentId;
        this.parentFiles = parentFiles;
        this.refs = refs;
    }

    /** The reuse of {@code parent}'s non-InnoDB files (null parent: none), resolving its references with {@code refs}. */
    static PlainFileReuse of(Manifest parent, References refs) {
        if (parent == null) {
            return NONE;
        }
        Map<String, FileEntry> files = new HashMap<>();
        for (FileEntry f : parent.files()) {
            if ("file".equals(f.kind()) && !f.isDelta() && f.stat() != null) {
                files.put(f.path(), f);
            }
        }
        return new PlainFileReuse(parent.id(), files, refs);
    }

    /** What the copy of a file sees before it reads the bytes: its size and {@code stat}. */
    record Seen(long size, FileStat stat) {}

    /**
     * Reads the wall clock, then the attributes of the file whose bytes the copy reads: a symbolic
     * link (a MyISAM table's DATA/INDEX DIRECTORY) is followed, since the link's own inode and
     * change time stay the same while the table's data changes.
     *
     * @return null when the file system gives no inode, device or change time (not Linux or another Unix)
     * @throws java.nio.file.NoSuchFileException when the file vanished
     */
    static Seen look(Path p) throws IOException {
        Instant began = Instant.now();
        Map<String, Object> a;
        try {
            a = Files.readAttributes(p, "unix:size,ino,dev,ctime");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        long beganNanos = TimeUnit.SECONDS.toNanos(began.getEpochSecond()) + began.getNano();
        return new Seen((Long) a.get("size"), new FileStat((Long) a.get("ino"), (Long) a.get("dev"),
                ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS), beganNanos));
    }

    /**
     * The regular files below a directory, as {@link io.strata.util.Dirs#liveRegularFiles} lists
     * them (sorted; down to {@code maxDepth} levels; a symbolic link to a regular file included,
     * linked directories entered as directories; entries that vanish during the walk left out), each with
     * what the one {@code lstat} of the walk said of it ({@link #seenOf}).
     *
     * <p>Kept compact, as a backup holds one or two of these at once and at 50,000 tables each
     * lists 100,000 files: the names in one byte array, the files' attributes four longs per file
     * in one array in the order the walk found them ({@code attrs[4k..4k+3]} for the walk's file
     * {@code k}: size in bytes, {@code st_ino}, {@code st_dev}, {@code st_ctim} in nanoseconds; size
     * -1 when the walk saw nothing of it) and one wall-clock time for all, instead of a Path, a map
     * entry, a {@link Seen} and a {@link FileStat} per file (about 300 bytes per file less).
     * Read-only once built, thread-safe.
     */
    static final class Listing {
        static final Listing EMPTY = new Listing(null, new byte[0], new int[0], new int[0], new long[0], 0, Map.of());

        /** The directory listed; null for {@link #EMPTY}. */
        private final Path root;
        /** The files' names relative to {@link #root}, '/'-separated, in UTF-8 one after the other, in {@link Path#compareTo} order. */
        private final byte[] names;
        /** {@code ends[i]}: where name {@code i} ends in {@link #names} (it begins where name {@code i - 1} ends). */
        private final int[] ends;
        /** {@code attrAt[i]}: where file {@code i}'s four attributes begin in {@link #attrs} (the walk's order), or -1 for none. */
        private final int[] attrAt;
        private final long[] attrs;
        private final long copyBegan;

        /**
         * The files whose name is not valid UTF-8 (a byte the file system allows and the name's
         * string form replaces by U+FFFD), by index: {@link #file} gives them as the walk found
         * them, as a name rebuilt from the string would not open.
         */
        private final Map<Integer, Path> raw;

        private Listing(Path root, byte[] names, int[] ends, int[] attrAt, long[] attrs, long copyBegan, Map<Integer, Path> raw) {
            this.raw = raw;
            this.root = root;
            this.names = names;
            this.ends = ends;
            this.attrAt = attrAt;
            this.attrs = attrs;
            this.copyBegan = copyBegan;
        }

        /**
         * The files named {@code rel} (relative to {@code root}, UTF-8, in any order), with
         * {@code attrs[4i..4i+3]} those of file {@code i} (or none), kept as their names sorted: a
         * {@link Path} costs about 200 bytes of heap once its string form was asked for, a name
         * here its length in bytes and two ints (at 100,000 tables, 200,000 files: some 40 MB less).
         */
        private static Listing of(Path root, List<byte[]> rel, long[] attrs, long copyBegan, Map<Integer, Path> rawByWalk) {
            int n = rel.size();
            Integer[] order = new Integer[n];
            int total = 0;
            for (int i = 0; i < n; i++) {
                total += rel.get(i).length;
                order[i] = i;
            }
            // by the names' bytes, which is the files' Path order below one directory, and what indexOf searches by
            java.util.Arrays.sort(order, (a, b) -> java.util.Arrays.compareUnsigned(rel.get(a), rel.get(b)));
            byte[] names = new byte[total];
            int[] ends = new int[n];
            int[] attrAt = new int[n];
            int at = 0;
            for (int i = 0; i < n; i++) {
                byte[] name = rel.get(order[i]);
                System.arraycopy(name, 0, names, at, name.length);
                at += name.length;
                ends[i] = at;
                attrAt[i] = attrs.length >= 4 * (order[i] + 1) ? 4 * order[i] : -1;
            }
            Map<Integer, Path> raw = Map.of();
            if (!rawByWalk.isEmpty()) {
                raw = new java.util.HashMap<>();
                for (int i = 0; i < n; i++) {
                    Path p = rawByWalk.get(order[i]);
                    if (p != null) {
                        raw.put(i, p);
                    }
                }
            }
            // the walk's array grows by doubling: kept at its size
            return new Listing(root, names, ends, attrAt, attrs.length > 4 * n ? java.util.Arrays.copyOf(attrs, 4 * n) : attrs, copyBegan, raw);
        }

        /** How many files were listed. */
        int size() {
            return ends.length;
        }

        /** File {@code i}'s path relative to the directory listed, '/'-separated (as {@link io.strata.util.Dirs#relative} gives it). */
        String name(int i) {
            int from = i == 0 ? 0 : ends[i - 1];
            return new String(names, from, ends[i] - from, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** File {@code i}: a new {@link Path} on each call. */
        Path file(int i) {
            Path p = raw.get(i);
            return p != null ? p : root.resolve(name(i));
        }

        /**
         * The files, sorted by {@link Path#compareTo}; a read-only view whose every {@code get}
         * makes the {@link Path} anew, so that a caller keeps only the ones it holds on to.
         */
        List<Path> files() {
            return new java.util.AbstractList<>() {
                @Override
                public Path get(int i) {
                    return file(i);
                }

                @Override
                public int size() {
                    return ends.length;
                }
            };
        }

        /** How many files the walk saw the attributes of. */
        int seenCount() {
            int n = 0;
            for (int i = 0; i < ends.length; i++) {
                n += attrAt[i] >= 0 && attrs[attrAt[i]] >= 0 ? 1 : 0;
            }
            return n;
        }

        /** What the walk saw of {@code file} (a path of {@link #files}), or null. */
        Seen seenOf(Path file) {
            return seenAt(indexOf(file));
        }

        /** What the walk saw of the file named {@code rel} (a {@link #name}), or null. */
        Seen seenOfName(String rel) {
            return seenAt(indexOfName(rel));
        }

        /** The index of {@code file} (as {@link #file} gives it), or -1 when it is not listed. */
        int indexOf(Path file) {
            return root == null ? -1 : indexOfName(io.strata.util.Dirs.relative(root, file));
        }

        /** The index of the file named {@code rel} (as {@link #name} gives it), or -1 when it is not listed. */
        int indexOfName(String rel) {
            return indexOf(rel.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        /** What the walk saw of file {@code i} (a new object on each call), or null for none or for {@code i} -1. */
        Seen seenAt(int i) {
            int a = i < 0 ? -1 : attrAt[i];
            if (a < 0 || attrs[a] < 0) {
                return null;
            }
            return new Seen(attrs[a], new FileStat(attrs[a + 1], attrs[a + 2], attrs[a + 3], copyBegan));
        }

        /**
         * Binary search by the names' bytes, unsigned: the order of {@link Path#compareTo} (which
         * compares the paths' bytes so) for paths below the same directory.
         */
        private int indexOf(byte[] name) {
            int lo = 0;
            int hi = ends.length - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int from = mid == 0 ? 0 : ends[mid - 1];
                int c = java.util.Arrays.compareUnsigned(names, from, ends[mid], name, 0, name.length);
                if (c < 0) {
                    lo = mid + 1;
                } else if (c > 0) {
                    hi = mid - 1;
                } else {
                    return mid;
                }
            }
            return -1;
        }
    }

    /**
     * Lists the regular files below {@code root} with one {@code lstat} each that also gives what
     * {@link #look} gives, so that the scan and the copies of the same moment need no second
     * {@code stat} per file (at 5,000 tables a walk is 10,000 files). The wall clock is read once,
     * before the walk: it is every file's {@code copyBegan}, earlier than the file's own look, which
     * only makes {@link #unchanged}'s margin stricter. A symbolic link is looked at through
     * {@link #look} (its target's attributes). Without the "unix" attribute view (not Linux) the
     * listing has no attributes and callers look at each file themselves.
     *
     * @throws IOException when {@code root} or a directory cannot be read for another reason than
     *         having vanished ({@link java.nio.file.AccessDeniedException} names it)
     */
    static Listing list(Path root, int maxDepth) throws IOException {
        Instant began = Instant.now();
        long beganNanos = TimeUnit.SECONDS.toNanos(began.getEpochSecond()) + began.getNano();
        boolean unix = root.getFileSystem().supportedFileAttributeViews().contains("unix");
        if (!unix) {
            Walk w = new Walk(root);
            for (Path p : io.strata.util.Dirs.liveRegularFiles(root, maxDepth)) {
                w.add(p, -1, 0, 0, 0);
            }
            return Listing.of(root, w.names, new long[0], beganNanos, w.raw);
        }
        Walk w = new Walk(root);
        walk(root, root, maxDepth, w);
        return Listing.of(root, w.names, w.attrs, beganNanos, w.raw);
    }

    /**
     * A walk's files in the order found, as their names relative to the directory walked in UTF-8
     * (a Path each was ~200 bytes of heap more), and their attributes as {@link Listing} keeps them.
     */
    private static final class Walk {
        final Path root;
        final List<byte[]> names = new ArrayList<>();
        /** The files whose name does not survive its string form, by walk index (see {@link Listing#raw}). */
        final Map<Integer, Path> raw = new java.util.HashMap<>();
        long[] attrs = new long[4 * 1024];

        Walk(Path root) {
            this.root = root;
        }

        void add(Path p, long size, long ino, long dev, long ctime) {
            int a = 4 * names.size();
            if (a + 4 > attrs.length) {
                attrs = java.util.Arrays.copyOf(attrs, attrs.length * 2);
            }
            attrs[a] = size;
            attrs[a + 1] = ino;
            attrs[a + 2] = dev;
            attrs[a + 3] = ctime;
            String rel = io.strata.util.Dirs.relative(root, p);
            if (rel.indexOf('\uFFFD') >= 0) {
                raw.put(names.size(), p);
            }
            names.add(rel.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static final String ATTRIBUTES = "unix:mode,size,ino,dev,ctime";
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    private static void walk(Path root, Path dir, int depthLeft, Walk w) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path e : ds) {
                entries.add(e);
            }
        } catch (java.nio.file.DirectoryIteratorException e) {
            throw e.getCause(); // an error reading the directory, reported as one opening it is
        } catch (java.nio.file.NoSuchFileException e) {
            if (dir.equals(root)) {
                throw e;
            }
            return; // removed during the walk
        }
        for (Path e : entries) {
            Map<String, Object> a;
            try {
                a = Files.readAttributes(e, ATTRIBUTES, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            } catch (java.nio.file.NoSuchFileException gone) {
                continue;
            }
            int type = (Integer) a.get("mode") & S_IFMT;
            if (type == S_IFREG) {
                w.add(e, (Long) a.get("size"), (Long) a.get("ino"), (Long) a.get("dev"), ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
            } else if (type == S_IFDIR) {
                if (depthLeft > 1) {
                    walk(root, e, depthLeft - 1, w);
                }
            } else if (type == S_IFLNK && depthLeft > 1 && Files.isDirectory(e)) {
                walk(root, e, depthLeft - 1, w); // a linked database directory, entered as Dirs enters it
            } else if (type == S_IFLNK && Files.isRegularFile(e)) {
                Seen target;
                try {
                    target = look(e);
                } catch (java.nio.file.NoSuchFileException gone) {
                    continue;
                }
                if (target != null) {
                    w.add(e, target.size(), target.stat().inode(), target.stat().device(), target.stat().ctime());
                } else {
                    w.add(e, -1, 0, 0, 0);
                }
            }
        }
    }

    /**
     * The decision: whether a file seen now ({@code size}, {@code now}) is the one the parent's
     * entry {@code was} stored, unchanged since.
     */
    static boolean unchanged(FileEntry was, long size, FileStat now) {
        FileStat then = was.stat();
        return then != null && now != null
                && size == was.size()
                && now.inode() == then.inode() && now.device() == then.device() && now.ctime() == then.ctime()
                && then.ctime() < then.copyBegan() - MARGIN_NANOS;
    }

    /**
     * The reference entry for the file at {@code rel} when it is unchanged since the parent
     * stored it, naming the backup that holds the bytes (never another reference); else null.
     */
    FileEntry reuse(String rel, Seen seen) {
        FileEntry was = parentFiles.get(rel);
        if (was == null || seen == null || !unchanged(was, seen.size(), seen.stat())) {
            return null;
        }
        References.Held h = refs.resolve(parentId, was);
        return was.referenceTo(h.backup(), h.object());
    }
}
