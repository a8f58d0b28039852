package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.FspHeader;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.InnodbLayout;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds every InnoDB data file of the server: the system tablespace files, the undo
 * tablespaces and each .ibd below the data directory. Space id and flags come from page 0;
 * a page 0 that is still all zero (a file created but not yet flushed) takes them from
 * INFORMATION_SCHEMA.INNODB_SYS_TABLESPACES. The system and undo tablespaces may live in their own
 * directories ({@code innodb_data_home_dir}, {@code innodb_undo_directory}), inside the data directory
 * or outside it: such files are named relative to their directory, with the option as their
 * {@link Tablespace#home()}. Tables strata cannot copy safely are refused here,
 * by name, before anything is copied.
 */
final class TablespaceScanner {
    private static final Pattern UNDO = Pattern.compile("undo\\d{3}");

    private final ServerFacts facts;
    private final ServerSession session;

    TablespaceScanner(ServerFacts facts, ServerSession session) {
        this.facts = facts;
        this.session = session;
    }

    private record Known(long space, int flags, String name) {}

    /** The parent's InnoDB files, for page 0 facts of files unchanged since ({@link #knownFrom}). */
    private ParentInnodbFiles parent = ParentInnodbFiles.NONE;
    private final java.util.concurrent.atomic.AtomicInteger fromParent = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Lets the scans take the space id and flags of a tablespace from the parent's entry of the
     * same path instead of page 0 when its file is unchanged since (docs/repository-format.md,
     * "Changes" NN). {@link ParentInnodbFiles#NONE}: page 0 is always read.
     */
    void knownFrom(ParentInnodbFiles parent) {
        this.parent = parent;
    }

    /**
     * The regular files down to the database directories (depth 2) that the last {@link #scan}
     * listed, in the order of the walk: the candidates of the non-InnoDB file copy of the same
     * moment ({@link FileCopier#preCopyPlainFiles}, and under BLOCK_DDL the locked copy), which
     * then need no walk of their own (at 5,000 tables each walk is 10,000 lstat calls). Empty
     * before the first scan.
     */
    PlainFileReuse.Listing listed() {
        return listed;
    }

    private PlainFileReuse.Listing listed = PlainFileReuse.Listing.EMPTY;
    /** The walk of the scan running, once it has listed the data directory; null before. */
    private volatile PlainFileReuse.Listing walked;

    /**
     * What the last {@link #scan} saw of the file {@code file} (absolute, normalized: a
     * {@link Tablespace#file()}) when it found it unchanged since the parent, else null: its size and stat, read after
     * the backup's checkpoint, so as good for its entry as a look at the copy
     * ({@link FileCopier#copyTablespace}) when the change-detection method names none of its pages.
     */
    PlainFileReuse.Seen seenUnchanged(Tablespace ts) {
        Unchanged u = seen;
        PlainFileReuse.Seen s = u.looked().get(ts.path());
        if (s != null || ts.home() != null || ts.location() != null) {
            return s;
        }
        int i = u.walk().indexOfName(ts.path()); // a file of the data directory: its name in the walk is its path
        return i >= 0 && u.inWalk().get(i) ? u.walk().seenAt(i) : null;
    }

    /**
     * The files a scan found unchanged since the parent: those the walk saw as one bit each at their
     * index in it (its look is the walk's), the others with their own look keyed by the tablespace's
     * path, the very string of the parent's entry. At 100,000 tables a map entry, a {@link PlainFileReuse.Seen}
     * and a {@link io.strata.repo.FileStat} for each were some 11 MB of heap.
     */
    private record Unchanged(PlainFileReuse.Listing walk, java.util.BitSet inWalk, Map<String, PlainFileReuse.Seen> looked) {}

    private volatile Unchanged seen = new Unchanged(PlainFileReuse.Listing.EMPTY, new java.util.BitSet(), Map.of());
    private java.util.BitSet inWalkNow;
    private Map<String, PlainFileReuse.Seen> lookedNow;

    /** Page 0 reads the scans saved so far by {@link #knownFrom}. */
    int page0FromParent() {
        return fromParent.get();
    }

    /**
     * The parent's entry for the file {@code f} at {@code rel} when the file is unchanged since the
     * parent saw it (same size, inode, device and ctime, that ctime older than the parent's look by
     * the margin: {@link PlainFileReuse#unchanged}) and, when the dictionary lists its file (it
     * lists only the tablespaces the server has opened), it gives the same space id; else null,
     * and page 0 is read.
     *
     * @throws NoSuchFileException when the file vanished
     */
    private io.strata.repo.FileEntry unchangedSinceParent(Path f, String rel, String home, String location, Known k) throws IOException {
        if (parent.isEmpty() || location != null) {
            return null;
        }
        // the walk's lstat of this moment when it listed the file, else a look of its own
        PlainFileReuse.Listing walk = walked;
        int at = walk == null || home != null ? -1 : walk.indexOf(f);
        PlainFileReuse.Seen seen = walk == null ? null : walk.seenAt(at);
        if (seen == null) {
            at = -1;
            seen = PlainFileReuse.look(f);
        }
        io.strata.repo.FileEntry was = seen == null ? null : parent.unchanged(home, rel, seen.size(), seen.stat());
        if (was == null || (k != null && was.spaceId() != k.space())) {
            return null;
        }
        if (at >= 0 && walk == walked) {
            synchronized (inWalkNow) {
                inWalkNow.set(at);
            }
        } else {
            lookedNow.put(was.path(), seen); // equal to rel: the key of the tablespace add() makes
        }
        return was;
    }

    /** Datadir-relative path → tablespace, in a stable order. */
    Map<String, Tablespace> scan() {
        inWalkNow = new java.util.BitSet();
        lookedNow = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, Tablespace> out = scanFiles();
        PlainFileReuse.Listing walk = walked;
        seen = new Unchanged(walk == null ? PlainFileReuse.Listing.EMPTY : walk, inWalkNow, lookedNow);
        return out;
    }

    private Map<String, Tablespace> scanFiles() {
        walked = null;
        Map<String, Known> byFile = new HashMap<>();
        for (Map<String, String> r : session.queryRows("SELECT SPACE, NAME, FLAG, FILENAME FROM information_schema.INNODB_SYS_TABLESPACES")) {
            String fn = r.get("filename");
            if (fn == null) {
                continue;
            }
            Path p = Path.of(fn);
            Path abs = (p.isAbsolute() ? p : facts.datadir().resolve(p)).normalize();
            byFile.put(abs.toString(), new Known(Long.parseLong(r.get("space")),
                    TablespaceFlags.fromDictionary(Long.parseLong(r.get("flag"))).raw(), r.get("name")));
        }
        Map<String, Tablespace> out = new LinkedHashMap<>();
        Tablespace system = null;
        long systemPages = 0;
        for (Path f : facts.systemFiles()) {
            String home = homeOf(facts.dataHomeDir(), InnodbLayout.DATA_HOME);
            if (system == null) {
                add(out, f, byFile, "innodb_system", home);
                system = out.values().stream().filter(t -> t.file().equals(f.toAbsolutePath().normalize())).findFirst().orElseThrow(() ->
                        new StrataException(ErrorCode.DATADIR_UNREADABLE, "the first file of the system tablespace, " + f + ", is missing",
                                "check innodb_data_home_dir and innodb_data_file_path (" + facts.dataFilePath() + ")"));
            } else {
                // a later file of the system tablespace: no FSP header of its own; its pages are numbered on from the earlier files'
                Path homeDir = home == null ? facts.datadir() : facts.dataHomeDir();
                String rel = homeDir.relativize(f.toAbsolutePath().normalize()).toString().replace('\\', '/');
                if (rel.startsWith("..")) {
                    throw outsideDataHome(f, homeDir);
                }
                out.put(rel, new Tablespace(rel, f.toAbsolutePath().normalize(), 0, system.flags(), "innodb_system", home, null, systemPages));
            }
            try {
                systemPages += Files.size(f) / new TablespaceFlags(system.flags()).physicalPageSize();
            } catch (IOException e) {
                throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the size of " + f + ": " + e.getMessage(), null, e);
            }
        }
        try {
            if (Files.isDirectory(facts.undoDir())) {
                try (Stream<Path> s = Files.list(facts.undoDir())) {
                    for (Path f : s.filter(p -> UNDO.matcher(p.getFileName().toString()).matches()).sorted().toList()) {
                        add(out, f, byFile, "innodb_" + f.getFileName(), homeOf(facts.undoDir(), InnodbLayout.UNDO_HOME));
                    }
                }
            }
            java.util.Set<Path> seen = new java.util.HashSet<>();
            out.values().forEach(t -> seen.add(t.file()));
            // a table dropped or renamed while the directory is read is left out: the BLOCK_DDL rescan settles it
            PlainFileReuse.Listing listing = PlainFileReuse.list(facts.datadir(), 2);
            listed = listing;
            walked = listing;
            for (int i = 0; i < listing.size(); i++) { // each file's Path made only for the ones looked at
                if (listing.name(i).endsWith(".ibd")) {
                    Path f = listing.file(i);
                    if (!seen.contains(f.toAbsolutePath().normalize())) { // a seen one is a system file named *.ibd in a sub-folder data home
                        add(out, f, byFile, null);
                    }
                }
            }
            for (int i = 0; i < listing.size(); i++) {
                if (listing.name(i).endsWith(".isl")) {
                    addRemote(out, listing.file(i), byFile);
                }
            }
        } catch (AccessDeniedException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + e.getFile() + ": permission denied",
                    "run strata as a user that can read the data directory (root or mysql)", e);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot list the data directory " + facts.datadir() + ": " + e.getMessage(), null, e);
        }
        return out;
    }

    /** {@code rel} without a final ".ibd" (the table a tablespace file the dictionary does not list is named after). */
    static String withoutIbd(String rel) {
        return rel.endsWith(".ibd") ? rel.substring(0, rel.length() - ".ibd".length()) : rel;
    }

    private static String tableOf(Path rel) {
        String s = rel.toString().replace('\\', '/');
        int dot = s.lastIndexOf('.');
        String base = dot > 0 ? s.substring(0, dot) : s;
        int slash = base.indexOf('/');
        return slash < 0 ? base : "`" + base.substring(0, slash) + "`.`" + base.substring(slash + 1) + "`";
    }

    /**
     * The manifest's {@code home} of the files of the directory {@code dir} of option {@code option}:
     * null when it is the data directory itself (paths stay datadir-relative, as before layouts were recorded).
     */
    private String homeOf(Path dir, String option) {
        return dir.toAbsolutePath().normalize().equals(facts.datadir()) ? null : option;
    }

    /**
     * A DATA DIRECTORY tablespace: {@code isl} (db/t.isl, db/t#P#p0.isl) holds the absolute path of
     * its .ibd. It is stored under the logical path db/t.ibd with that path as its location
     * (docs/repository-format.md, "DATA DIRECTORY tablespaces"); the .isl itself is copied with the
     * other table files. A link that vanished meanwhile (DROP, or ALTER without DATA DIRECTORY) is
     * skipped: the BLOCK_DDL rescan settles it.
     */
    private void addRemote(Map<String, Tablespace> out, Path isl, Map<String, Known> byFile) throws IOException {
        String rel = facts.datadir().relativize(isl).toString().replace('\\', '/');
        String text;
        try {
            text = Files.readString(isl, java.nio.charset.StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return;
        }
        Path file = Path.of(text);
        if (text.isEmpty() || !file.isAbsolute() || !text.endsWith(".ibd")) {
            throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, "link file " + isl + " of table " + tableOf(Path.of(rel))
                    + " does not name an absolute .ibd path (it holds \"" + text + "\")",
                    "check the table with CHECK TABLE; the server cannot open it either");
        }
        add(out, file.normalize(), rel.substring(0, rel.length() - ".isl".length()) + ".ibd", null, file.normalize().toString(), byFile, null);
    }

    private void add(Map<String, Tablespace> out, Path f, Map<String, Known> byFile, String fallbackName) {
        add(out, f, byFile, fallbackName, null);
    }

    /**
     * @param home null: {@code f} is named by its datadir-relative path; else the option whose directory holds it
     *             ({@link InnodbLayout}), and it is named relative to that directory, wherever it is
     */
    private void add(Map<String, Tablespace> out, Path f, Map<String, Known> byFile, String fallbackName, String home) {
        Path homeDir = home == null ? facts.datadir() : InnodbLayout.DATA_HOME.equals(home) ? facts.dataHomeDir() : facts.undoDir();
        String rel = io.strata.util.Dirs.relative(homeDir, f.toAbsolutePath().normalize());
        if (rel.startsWith("..") && "innodb_system".equals(fallbackName)) {
            throw outsideDataHome(f, homeDir);
        }
        if (rel.startsWith("..")) {
            throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, "InnoDB file " + f + " lies outside the data directory " + facts.datadir(),
                    "strata backs up data, undo and system tablespaces inside the data directory only");
        }
        add(out, f, rel, home, null, byFile, fallbackName);
    }

    /** A system tablespace file outside innodb_data_home_dir: refused (restore recreates that directory and writes the files of innodb_data_file_path into it). */
    private StrataException outsideDataHome(Path f, Path homeDir) {
        return new StrataException(ErrorCode.UNSUPPORTED_TABLE, "system tablespace file " + f + " lies outside innodb_data_home_dir " + homeDir
                + " (innodb_data_file_path " + facts.dataFilePath() + " names it by a path of its own)",
                "set innodb_data_home_dir to the directory of the system tablespace files and name them without a directory in innodb_data_file_path");
    }

    /**
     * The flag bits the dictionary keeps in memory only and page 0 never stores (fsp0types.h,
     * FSP_FLAGS_MEM_DATA_DIR = bit 27, FSP_FLAGS_MEM_COMPRESSION_LEVEL = bits 28..31; MariaDB
     * 10.11): INNODB_SYS_TABLESPACES.FLAG reports them.
     */
    static final int DICTIONARY_MEMORY_BITS = ~0 << 27;

    /**
     * @param home     the manifest's home of {@code rel} (see {@link #add(Map, Path, Map, String, String)}), else null
     * @param location the absolute path of a DATA DIRECTORY tablespace, else null
     */
    private void add(Map<String, Tablespace> out, Path f, String rel, String home, String location, Map<String, Known> byFile, String fallbackName) {
        Path abs = f.toAbsolutePath().normalize();
        Known k = byFile.get(abs.toString());
        io.strata.repo.FileEntry was;
        try {
            was = unchangedSinceParent(f, rel, home, location, k);
        } catch (NoSuchFileException e) {
            return; // dropped while we looked; the BLOCK_DDL rescan settles it
        } catch (IOException e) {
            was = null; // read page 0, which says what is wrong
        }
        if (was != null) {
            String name = k != null ? k.name() : (fallbackName != null ? fallbackName : withoutIbd(rel));
            // the parent's path string, equal to rel: the new entry shares it (one string less per unchanged file)
            Tablespace ts = new Tablespace(was.path(), abs, was.spaceId(), was.flags(), name, home, location);
            refuseUnsupported(ts, null);
            fromParent.incrementAndGet();
            out.put(ts.path(), ts);
            return;
        }
        byte[] page0 = new byte[Math.max(facts.pageSize(), 16384)];
        int n;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            n = ch.read(ByteBuffer.wrap(page0), 0);
        } catch (NoSuchFileException e) {
            return; // dropped while we looked; the BLOCK_DDL rescan settles it
        } catch (AccessDeniedException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + f + ": permission denied",
                    "run strata as a user that can read the data directory (root or mysql)", e);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read " + f + ": " + e.getMessage(), null, e);
        }
        long space;
        int flags;
        boolean zero = n < 64 || isZero(page0, 64);
        if (!zero) {
            FspHeader h = FspHeader.read(page0, 0);
            space = Integer.toUnsignedLong(h.spaceId());
            flags = h.flags().raw();
        } else if (k != null) {
            space = k.space();
            flags = location == null ? k.flags() : k.flags() & ~DICTIONARY_MEMORY_BITS;
        } else if (fallbackName != null && fallbackName.equals("innodb_system")) {
            space = 0;
            flags = 0;
        } else {
            // created so recently that neither page 0 nor the dictionary knows it yet: copy it
            // with the server's default page format; the log rebuilds page 0
            space = -1;
            flags = 0x10 | pageSsize(facts.pageSize());
        }
        String name = k != null ? k.name() : (fallbackName != null ? fallbackName : withoutIbd(rel));
        Tablespace ts = new Tablespace(rel, f.toAbsolutePath().normalize(), space, flags, name, home, location);
        refuseUnsupported(ts, zero ? null : page0);
        out.put(rel, ts);
    }

    private static int pageSsize(int pageSize) {
        return Integer.numberOfTrailingZeros(pageSize) - 9;
    }

    static boolean isZero(byte[] b, int len) {
        for (int i = 0; i < len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static void refuseUnsupported(Tablespace ts, byte[] page0) {
        TablespaceFlags f = new TablespaceFlags(ts.flags());
        if (!TablespaceFlags.isValid(ts.flags())) {
            throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, String.format("tablespace %s (%s) has flags 0x%x that strata does not understand",
                    ts.path(), ts.tableName(), ts.flags()), "check the server version; strata supports MariaDB 10.11 tablespaces");
        }
    }

    /**
     * Engines whose tables keep no rows on this server (information_schema.TABLES.ENGINE): SPIDER,
     * CONNECT, FEDERATED (FederatedX reports itself as FEDERATED too) and S3 (the data, and a copy of
     * the .frm, are in the bucket). Their tables are backed up by the files {@link DatadirFiles}
     * copies for any table, the .frm and, when partitioned, the .par; nothing else is copied for them.
     */
    static final Set<String> REMOTE_ROW_ENGINES = Set.of("SPIDER", "CONNECT", "FEDERATED", "FEDERATEDX", "S3");

    /**
     * Checks the engine of every base table (information_schema.TABLES) before anything is copied.
     * Each MEMORY table adds a warning, and the tables of {@link #REMOTE_ROW_ENGINES} add one
     * warning naming them all (the backup then ends with exit 3); MyRocks (ROCKSDB) tables are
     * refused, as is any engine strata does not know.
     *
     * @param warnings the backup's warnings, added to
     * @return {@code warnings}
     * @throws StrataException UNSUPPORTED_TABLE naming the MyRocks tables, or else the tables of unknown engines
     */
    List<String> checkEngines(List<String> warnings) {
        return checkEngines(warnings, null, true);
    }

    /**
     * As {@link #checkEngines(List)}, judging only the tables of a partial backup's {@code scope}
     * (null: every table): a table the backup leaves out is neither warned about nor refused. Filters
     * that keep no table outside the mysql schema are refused (SCOPE_EMPTY) when {@code refuseEmpty}
     * (a full backup), else warned about (a backup with a parent, whose full backup found tables in
     * that scope: they were dropped since); each --databases entry that keeps no table is warned about.
     */
    /**
     * Every base table, system-versioned table and sequence outside information_schema and
     * performance_schema, as rows of TABLE_SCHEMA, TABLE_NAME, ENGINE and TABLE_TYPE (lower-case
     * keys), ordered by schema and name.
     *
     * <p>ENGINE and TABLE_TYPE make the server open every table's .frm (0.84 s at 50,000 tables), so
     * they are asked only of the databases that hold a table InnoDB's dictionary does not name: the
     * names alone (no .frm opened) are compared with INNODB_SYS_TABLES ("db/table", "db/table#P#part");
     * a database all of whose tables are in the dictionary is InnoDB throughout, and its tables are
     * reported as InnoDB base tables. A name the dictionary spells otherwise (characters it encodes as
     * @NNNN) only makes its database asked in full.
     */
    List<Map<String, String>> tablesWithEngines() {
        java.util.Set<String> innodb = new java.util.HashSet<>();
        for (Map<String, String> r : session.queryRows("SELECT NAME FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE '%/%'")) {
            String n = r.get("name");
            int part = n.indexOf('#');
            innodb.add(part < 0 ? n : n.substring(0, part));
        }
        Map<String, java.util.SortedSet<String>> names = new java.util.TreeMap<>();
        java.util.Set<String> asked = new java.util.TreeSet<>();
        for (Map<String, String> r : session.queryRows("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA NOT IN ('information_schema','performance_schema')")) {
            String db = r.get("table_schema");
            names.computeIfAbsent(db, k -> new java.util.TreeSet<>()).add(r.get("table_name"));
            if (!innodb.contains(db + "/" + r.get("table_name"))) {
                asked.add(db);
            }
        }
        List<Map<String, String>> out = new ArrayList<>();
        for (Map.Entry<String, java.util.SortedSet<String>> db : names.entrySet()) {
            if (asked.contains(db.getKey())) {
                out.addAll(session.queryRows("SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_TYPE FROM information_schema.TABLES"
                        + " WHERE TABLE_SCHEMA = " + ServerSession.literal(db.getKey())
                        + " AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE') ORDER BY TABLE_NAME"));
                continue;
            }
            for (String t : db.getValue()) {
                out.add(Map.of("table_schema", db.getKey(), "table_name", t, "engine", "InnoDB", "table_type", "BASE TABLE"));
            }
        }
        return out;
    }

    List<String> checkEngines(List<String> warnings, io.strata.repo.Scope scope, boolean refuseEmpty) {
        List<String> bad = new ArrayList<>();
        List<String> rocks = new ArrayList<>();
        List<String> remote = new ArrayList<>();
        boolean connect = false;
        int kept = 0;
        java.util.Set<String> named = new java.util.HashSet<>();
        for (Map<String, String> r : tablesWithEngines()) {
            String engine = r.get("engine");
            if (engine == null || (scope != null && !scope.includes(r.get("table_schema"), r.get("table_name")))) {
                continue;
            }
            if (scope != null && !io.strata.repo.Scope.ALWAYS.equals(r.get("table_schema"))) {
                kept++;
                for (String d : scope.databases()) {
                    if (d.equals(r.get("table_schema")) || d.equals(r.get("table_schema") + "." + r.get("table_name"))) {
                        named.add(d);
                    }
                }
            }
            String t = "`" + r.get("table_schema") + "`.`" + r.get("table_name") + "`";
            String upper = engine.toUpperCase(Locale.ROOT);
            switch (upper) {
                case "INNODB", "MYISAM", "ARIA", "CSV", "ARCHIVE", "MRG_MYISAM", "SEQUENCE", "BLACKHOLE" -> { }
                case "MEMORY" -> warnings.add("table " + t + " uses the MEMORY engine: its rows are not stored on disk and are empty after a restore");
                case "ROCKSDB" -> rocks.add(t);
                default -> {
                    if (REMOTE_ROW_ENGINES.contains(upper)) {
                        remote.add(t + " (" + upper + ")");
                        connect |= upper.equals("CONNECT");
                    } else {
                        bad.add(t + " (ENGINE=" + engine + ")");
                    }
                }
            }
        }
        if (scope != null && kept == 0 && refuseEmpty) {
            throw new StrataException(ErrorCode.SCOPE_EMPTY, "the filters " + scope.describe() + " keep no table of this server outside the mysql schema;"
                    + " nothing was backed up", "check the names (SHOW DATABASES, SHOW TABLES FROM db): --databases takes db or db.table names,"
                    + " --tables regular expressions on db.table");
        } else if (scope != null && kept == 0) {
            warnings.add("the filters " + scope.describe() + " keep no table of this server outside the mysql schema any more (dropped since the parent backup)");
        } else if (scope != null) {
            List<String> unmatched = scope.databases().stream()
                    .filter(d -> !named.contains(d) && !io.strata.repo.Scope.ALWAYS.equals(d) && !d.startsWith(io.strata.repo.Scope.ALWAYS + ".")).toList();
            if (!unmatched.isEmpty()) {
                warnings.add("--databases " + String.join(" ", unmatched) + (unmatched.size() == 1 ? " keeps" : " keep") + " no table of this server"
                        + " (a misspelt name, a database with no tables yet, or all of its tables excluded): nothing of " + (unmatched.size() == 1 ? "it" : "them")
                        + " is in this backup");
            }
        }
        if (!rocks.isEmpty()) {
            boolean one = rocks.size() == 1;
            throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, "strata cannot back up the MyRocks (ENGINE=ROCKSDB) table" + (one ? " " : "s ")
                    + String.join(", ", rocks) + ": " + (one ? "its" : "their") + " rows are in the RocksDB store (rocksdb_datadir, #rocksdb by default), which strata does not copy",
                    "convert " + (one ? "it" : "them") + " to InnoDB (ALTER TABLE " + (one ? rocks.get(0) : "...") + " ENGINE=InnoDB), or back this server up with mariadb-backup,"
                    + " which copies MyRocks through a RocksDB checkpoint");
        }
        if (!bad.isEmpty()) {
            throw new StrataException(ErrorCode.UNSUPPORTED_TABLE, "strata cannot back up table " + String.join(", ", bad),
                    "strata backs up InnoDB, MyISAM, Aria, CSV, Archive, MERGE, BLACKHOLE and SEQUENCE tables, and the definitions of SPIDER, CONNECT, FEDERATED and S3 tables;"
                    + " convert the table (ALTER TABLE ... ENGINE=InnoDB) or drop it");
        }
        if (!remote.isEmpty()) {
            boolean one = remote.size() == 1;
            warnings.add((one ? "table " : "tables ") + String.join(", ", remote) + (one ? " keeps its" : " keep their") + " rows outside this server:"
                    + " only their definitions (.frm, .par) are backed up; a restored server needs the same engine plugins and reaches the same remote data"
                    + (connect ? "; files a CONNECT table reads (FILE_NAME=, or TABLE.TYPE in its database directory) are not copied" : ""));
        }
        return warnings;
    }
}
