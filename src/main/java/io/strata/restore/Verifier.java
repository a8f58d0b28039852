package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.PageChecker;
import io.strata.innodb.PageVerdict;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.BinlogArchive;
import io.strata.repo.Chain;
import io.strata.repo.ChunkedReader;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.History;
import io.strata.repo.Manifest;
import io.strata.repo.References;
import io.strata.repo.Repository;
import io.strata.repo.Tracking;
import io.strata.innodb.StoredRedo;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Checks what a repository stores without restoring anything (docs/repository-format.md,
 * "Verify"): every backup (its objects' frames, chunk CRCs, lengths and digests against the
 * manifest, every stored InnoDB page, every mini-transaction of the redo log) and its chain (a
 * backup is usable only when every object its restore reads is sound: one resting on a backup
 * whose manifest is damaged, or whose restore reads a damaged file of an ancestor through the
 * layers of its deltas ({@link Chain#layers}), is "not usable", naming it; an ancestor's copy of a
 * file the backup stores again itself is not read, nor is an ancestor's redo log, as a restore
 * applies only the restored backup's own log); the history records; the archived binlogs (every segment
 * against its summary, the events of every file framed and checksummed, files of a timeline
 * following each other unless a recorded gap says why not); and the change sets of
 * {@code strata track} (frame, grammar, range against name, sets and gaps following each other).
 * Reports every problem it finds, not only the first.
 *
 * <p>Verify takes no lock and may run beside prune, merge, the archiver and the tracker, which
 * delete objects. It lists what to check once; an object that is missing or unreadable when read
 * counts as damage only if what names it is still stored when looked at again (a backup's
 * manifest, a segment's summary, the change set itself): writers remove those first, so a
 * backup removed meanwhile is reported as "gone", not as damaged.
 */
public final class Verifier {
    private final Repository repo;
    private final Consumer<String> out;
    private final List<String> problems = new ArrayList<>();
    /** Backups verified so far: whether their own manifest and objects are sound. */
    private final Map<String, Boolean> sound = new HashMap<>();
    /**
     * Backups verified so far: whether what a restore of a backup resting on them reads is sound
     * (the manifest and the data objects; not the redo log, which only a restore of the backup
     * itself applies: RestoreRun.writeRedoLog and RedoFileOps read the restored backup's log only).
     */
    private final Map<String, Boolean> soundForDescendants = new HashMap<>();
    /**
     * The files found damaged so far, by the id of the manifest that lists them (for an id merged
     * into another backup, that backup's): a backup resting on it is not usable only when its
     * restore reads one of them ({@link Chain#layers}), not when it stores the file itself.
     */
    private final Map<String, Set<String>> damagedFiles = new HashMap<>();
    /** Resolves reference entries to the objects that hold their bytes. */
    private final References refs;
    /** Objects of non-InnoDB files read and found sound in this run, with "length digest": a reference to one is not read again. */
    private final Map<References.Held, String> soundObjects = new HashMap<>();
    private Runnable afterListing = () -> { };
    private long pages;
    /** Pages stored encrypted by the server: their checksum is checked, their decrypted contents cannot be. */
    private long encryptedPages;
    private long objects;
    private int gone;
    private int notUsable;
    private int changeSets;

    public Verifier(Repository repo, Consumer<String> out) {
        this.repo = repo;
        this.refs = new References(repo);
        this.out = out;
    }

    /** Every problem found, one message each; empty when everything checked is sound. */
    public List<String> problems() { return problems; }

    /**
     * Runs once verify has listed what it checks and before it reads any of it (tests use it to
     * make a concurrent prune happen exactly there).
     */
    public void afterListing(Runnable r) { this.afterListing = r; }

    /**
     * Verifies the given backup and the backups its restore needs; or, when id is null, every
     * completed backup, the history records, the binlog archives and the change sets.
     *
     * @throws StrataException backup-not-found when id names no backup; native-library when this
     *         host cannot decode the chunks; key errors; never for damage (see {@link #problems()})
     */
    public void run(String id) {
        Set<String> ids = new LinkedHashSet<>();
        if (id != null) {
            Chain chain;
            try {
                chain = Chain.resolve(repo, id);
            } catch (StrataException e) {
                if (e.code() == ErrorCode.BACKUP_NOT_FOUND && !repo.hasManifest(id)) {
                    throw e; // the id names no backup (exit 19): nothing was found damaged
                }
                problems.add(e.getMessage());
                out.accept("FAILED " + id + ": " + e.getMessage());
                return;
            }
            ids.addAll(chain.ids());
        } else {
            ids.addAll(repo.history().completedIds());
            for (String m : repo.history().misplacedRecords()) {
                problems.add(m);
                out.accept("FAILED " + m);
            }
            History.Findings h = repo.history().findings();
            for (String m : h.damaged()) {
                problems.add(m);
                out.accept("FAILED " + m);
            }
            for (String m : h.lost()) {
                out.accept("note   " + m);
            }
        }
        List<String> archives = id == null ? BinlogArchive.sourceDirs(repo) : List.of();
        List<String> tracked = id == null ? Tracking.identities(repo) : List.of();
        afterListing.run();
        for (String b : ids) {
            verifyBackup(b);
        }
        BinlogVerifier binlogs = new BinlogVerifier(repo, this::problem, out);
        for (String a : archives) {
            binlogs.verify(a);
        }
        for (String t : tracked) {
            verifyChangeSets(Tracking.atIdentity(repo, t));
        }
        long damaged = sound.values().stream().filter(x -> !x).count();
        long ok = sound.size() - damaged - gone - notUsable;
        StringBuilder summary = new StringBuilder(String.format(Locale.ROOT,
                "summary: %d backup(s) ok, %d damaged, %d not usable (resting on a damaged one), %d gone meanwhile", ok, damaged, notUsable, gone));
        if (id == null) {
            summary.append(String.format(Locale.ROOT, "; binlogs: %d archive(s), %d run(s), %d segment(s), %d recorded gap(s); change sets: %d verified",
                    archives.size(), binlogs.runs(), binlogs.segments(), binlogs.gaps(), changeSets));
        }
        out.accept(summary.append("; ").append(problems.size()).append(" problem(s)").toString());
    }

    private void verifyBackup(String id) {
        if (sound.containsKey(id)) {
            return;
        }
        int before = problems.size();
        long pagesBefore = pages;
        long encryptedBefore = encryptedPages;
        long objectsBefore = objects;
        List<String> lines = new ArrayList<>();
        Consumer<String> saved = lineSink;
        lineSink = lines::add;
        Manifest m = null;
        Chain chain = null;
        try {
            m = repo.manifest(id);
            chain = m.parent() != null ? Chain.resolve(repo, id) : null;
        } catch (StrataException e) {
            if (e.code() == ErrorCode.NATIVE_LIBRARY) {
                throw e;
            }
            problem(e.getMessage());
            m = null; // a chain that does not resolve says it all (it names the manifest or the link)
        }
        int dataProblems = 0;
        if (m != null) {
            Manifest mf = m;
            for (FileEntry f : m.files()) {
                int p0 = problems.size();
                // a damage found by the object's reader names the object (a pack member: the pack and a range): the line names the file too
                check(f.path(), mf.id(), () -> verifyFile(mf, f));
                if (problems.size() > p0) {
                    damagedFiles.computeIfAbsent(mf.id(), k -> new java.util.HashSet<>()).add(f.path());
                }
            }
            dataProblems = problems.size() - before;
            check(() -> verifyRedo(mf));
        }
        lineSink = saved;
        List<String> notes = takeUncheckedNotes(id);
        // the manifest read: id's own, or for an id merged into another backup that backup's (damage there is damage to id, not a removal)
        String readAs = m != null ? m.id() : id;
        boolean manifestGone = problems.size() > before && !repo.hasManifest(readAs);
        if (manifestGone && !repo.history().removing(readAs)) {
            // no prune or merge removes it: the manifest of a completed backup was lost
            problems.subList(before, problems.size()).clear();
            problems.add("backup " + id + " is completed by its history, but its manifest " + repo.describeBackupObject(id, "manifest") + " is missing");
            out.accept("FAILED " + id + ": " + problems.get(before));
            sound.put(id, false);
            soundForDescendants.put(id, false);
            return;
        }
        if (manifestGone) {
            // its manifest went first: removed by a prune or merge while verify read it, not damaged
            problems.subList(before, problems.size()).clear();
            out.accept("gone   " + id + ": removed while verify ran (a prune or merge); not checked");
            damagedFiles.remove(readAs); // what failed to read was being removed: no damage for a backup resting on it either
            gone++;
            sound.put(id, true);
            soundForDescendants.put(id, true);
            return;
        }
        if (problems.size() > before) {
            sound.put(id, false);
            // a readable manifest and chain: a backup resting on it is usable unless its restore reads a damaged file (damagedFiles)
            soundForDescendants.put(id, m != null);
            if (m == null) {
                out.accept("FAILED " + id + ": " + problems.get(before));
            } else {
                lines.forEach(out);
                out.accept("FAILED " + id + ": " + (problems.size() - before) + " problem(s)"
                        + (dataProblems == 0 ? ", all in its redo log, which only a restore of this backup applies (backups resting on it do not read it)" : ""));
            }
            return;
        }
        sound.put(id, true);
        soundForDescendants.put(id, true);
        String needed = null;
        if (chain != null) {
            for (String a : chain.ids()) {
                if (!a.equals(id)) {
                    verifyBackup(a);
                    if (needed == null && !soundForDescendants.get(a)) {
                        needed = "backup " + a;
                    }
                }
            }
            if (needed == null) {
                needed = damagedLayer(m, chain);
            }
        }
        if (needed != null) {
            String msg = "backup " + id + " is not usable: its restore needs " + needed + ", which is damaged";
            problems.add(msg);
            notUsable++;
            out.accept("FAILED " + id + " (" + m.type() + "): its own " + (objects - objectsBefore) + " objects are sound, but it is not usable: its restore needs "
                    + needed + ", which is damaged");
            return;
        }
        out.accept(String.format("ok     %s (%s): %d objects, %d InnoDB pages and the redo log [%d, %d) verified",
                id, m.type(), objects - objectsBefore, pages - pagesBefore, m.startLsn(), m.redoEndLsn()));
        if (encryptedPages > encryptedBefore) {
            out.accept("note   " + id + ": " + (encryptedPages - encryptedBefore) + " of those pages are encrypted by the server: their checksum over the"
                    + " encrypted page was checked, their decrypted contents were not (strata holds no keys; recovery needs "
                    + (m.keyManagement() == null ? "the server's key management" : "the recorded key management") + ")");
        }
        notes.forEach(out);
    }

    /**
     * The first damaged file of an ancestor that a restore of {@code m} reads, as "PATH of backup
     * ID", or null when it reads none: the layers of each of its deltas ({@link Chain#layers}, as
     * the restore composes them) down to the whole copy they rest on. A file {@code m} stores whole,
     * or refers to (its own verify read that object), needs no ancestor's copy. A chain whose
     * layers cannot be found names the problem, as the restore would fail there.
     */
    private String damagedLayer(Manifest m, Chain chain) {
        boolean any = false;
        for (Manifest a : chain.members()) {
            any |= !a.id().equals(m.id()) && damagedFiles.containsKey(a.id());
        }
        if (!any) {
            return null;
        }
        for (FileEntry f : m.files()) {
            if (!f.isDelta()) {
                continue;
            }
            List<Chain.Layer> layers;
            try {
                layers = chain.layers(f);
            } catch (StrataException e) {
                return f.path() + " of the backups it rests on (" + e.getMessage() + ")";
            }
            for (Chain.Layer l : layers) {
                String holder = l.backup().id();
                if (!holder.equals(m.id()) && damagedFiles.getOrDefault(holder, Set.of()).contains(l.entry().path())) {
                    return l.entry().path() + " of backup " + holder;
                }
            }
        }
        return null;
    }

    /**
     * Pages read but not checked, by file of the backup being verified: how many, and the first
     * one's reason (a format strata cannot check, see {@link PageVerdict.Kind#UNVERIFIABLE}).
     */
    private final Map<String, Unchecked> unchecked = new java.util.LinkedHashMap<>();

    private static final class Unchecked {
        long pages;
        final String reason;

        Unchecked(String reason) { this.reason = reason; }
    }

    /** One "note" line per file with unchecked pages of backup {@code id}; forgets them. */
    private List<String> takeUncheckedNotes(String id) {
        List<String> notes = new ArrayList<>();
        unchecked.forEach((path, c) -> notes.add("note   " + id + ": " + c.pages + " page(s) of " + path
                + " were copied but could not be checked (not damage): " + c.reason));
        unchecked.clear();
        return notes;
    }

    /** Change sets of one tracked server: each read to its end, and sets and gaps following each other. */
    private void verifyChangeSets(Tracking t) {
        String server;
        try {
            server = t.readServerKey();
        } catch (StrataException e) {
            problem(e.getMessage());
            server = t.prefix();
        }
        List<Tracking.SetRef> sets = t.sets();
        List<Tracking.Gap> gaps;
        try {
            gaps = t.gaps();
        } catch (StrataException e) {
            problem(e.getMessage());
            gaps = null;
        }
        int before = problems.size();
        int checked = 0;
        for (Tracking.SetRef s : sets) {
            try {
                t.check(s);
                checked++;
                changeSets++;
            } catch (StrataException e) {
                if (e.code() == ErrorCode.NATIVE_LIBRARY) {
                    throw e;
                }
                if (t.exists(s)) {
                    problem(e.getMessage());
                } // else: the tracker pruned it while we read
            }
        }
        if (gaps != null) {
            // sets and gaps follow each other (format rule 1): a hole is a change set that was lost
            List<long[]> ranges = new ArrayList<>();
            sets.forEach(s -> ranges.add(new long[] {s.from(), s.to()}));
            gaps.forEach(g -> ranges.add(new long[] {g.from(), g.to()}));
            ranges.sort(Comparator.comparingLong((long[] r) -> r[0]));
            long end = -1;
            for (long[] r : ranges) {
                if (end >= 0 && r[0] > end) {
                    problem("change sets of " + server + ": nothing covers LSN " + end + ".." + r[0] + " (no change set and no recorded gap: a change set is missing from "
                            + t.describeDir() + ")");
                }
                end = Math.max(end, r[1]);
            }
            for (Tracking.Gap g : gaps) {
                out.accept("gap    change tracking of " + server + " at LSN " + g.from() + ".." + g.to() + ": " + g.reason() + " (recorded " + g.detected() + "; not damage)");
            }
        }
        if (problems.size() == before) {
            out.accept("ok     change sets of " + server + ": " + checked + " set(s)"
                    + (sets.isEmpty() ? "" : " covering LSN " + sets.get(0).from() + ".." + sets.get(sets.size() - 1).to()) + " verified");
        } else {
            out.accept("FAILED change sets of " + server + ": " + (problems.size() - before) + " problem(s)");
        }
    }

    private interface Check {
        void run() throws IOException;
    }

    private void check(Check c) {
        check(null, null, c);
    }

    /**
     * As {@link #check(Check)} for the check of file {@code path} of backup {@code id}: each
     * problem line starts "PATH of backup ID: " unless it names the file first already.
     */
    private void check(String path, String id, Check c) {
        String what = path == null ? "" : path + " of backup " + id + ": ";
        try {
            c.run();
        } catch (StrataException e) {
            if (e.code() == ErrorCode.NATIVE_LIBRARY) {
                throw e; // this host cannot run the decompressor: that says nothing of the stored data
            }
            problem(path != null && e.getMessage().startsWith(path + " ") ? e.getMessage() : what + e.getMessage());
        } catch (IOException e) {
            problem(what + e);
        }
    }

    /** Where the lines of the backup being verified go: buffered until it is known whether it was removed meanwhile. */
    private Consumer<String> lineSink;

    private void problem(String msg) {
        problems.add(msg);
        (lineSink != null ? lineSink : out).accept("  " + msg);
    }

    private ChunkedReader open(Manifest m, String object, String content) throws IOException {
        objects++;
        return repo.openBackupObject(m.id(), object, content);
    }

    private void verifyFile(Manifest m, FileEntry f) throws IOException {
        boolean innodb = "innodb".equals(f.kind());
        String content = !innodb ? "file" : f.isDelta() ? DeltaFormat.CONTENT : "innodb-file";
        References.Held held = refs.resolve(m.id(), f);
        String verdict = f.size() + " " + f.crc32c();
        if (f.isReference() && verdict.equals(soundObjects.get(held))) {
            return; // read and found sound already in this run (its holder's own entry, or another reference)
        }
        objects++;
        try (ChunkedReader r = repo.openBackupObject(held.backup(), held.object(), content)) {
            long expectedLength = f.size();
            if (innodb) {
                TablespaceFlags flags = new TablespaceFlags(f.flags());
                int ps = flags.physicalPageSize();
                long first = m.firstPageOf(f, ps); // a later file of a system tablespace of several: its pages are numbered on
                if (first < 0) {
                    problem(f.path() + " of backup " + m.id() + ": the backup holds no single entry for each file of innodb_data_file_path "
                            + m.source().dataFilePath() + ", so its pages cannot be numbered");
                    return;
                }
                if (f.isDelta()) {
                    expectedLength = DeltaFormat.length(f.deltaPages(), ps);
                    DeltaFormat.Reader delta = new DeltaFormat.Reader(r, ps, "delta of " + f.path() + " in backup " + m.id());
                    while (delta.next()) {
                        verifyPage(m, f, flags, delta.page(), first + delta.pageNo());
                    }
                } else {
                    DataInputStream in = new DataInputStream(r);
                    byte[] page = new byte[ps];
                    for (long no = 0; no < f.pages(); no++) {
                        in.readFully(page);
                        verifyPage(m, f, flags, page, first + no);
                    }
                }
            }
            r.drainAndCheck();
            String digest = String.format("%08x", r.rawCrc());
            if (r.rawBytes() != expectedLength || !digest.equals(f.crc32c())) {
                problem(String.format(Locale.ROOT, "%s of backup %s: stored length %d digest %s, manifest says length %d digest %s (resource=%s)",
                        f.path(), m.id(), r.rawBytes(), digest, expectedLength, f.crc32c(), repo.describeBackupObject(held.backup(), held.object())));
            } else if (!innodb) {
                soundObjects.put(held, verdict);
            }
        } catch (EOFException e) {
            problem(f.path() + " of backup " + m.id() + ": stored copy ends before its last page");
        }
    }

    /** Checks one stored page; {@code no}: its page number in the tablespace (not in the file, for a later file of the system tablespace). */
    private void verifyPage(Manifest m, FileEntry f, TablespaceFlags flags, byte[] page, long no) {
        pages++;
        if (f.spaceId() != null && f.spaceId() == 0 && PageChecker.isDoublewrite(0, no, flags.physicalPageSize())) {
            return;
        }
        PageVerdict v = PageChecker.verify(page, 0, flags, no);
        if (v.kind() == PageVerdict.Kind.UNVERIFIABLE) {
            unchecked.computeIfAbsent(f.path(), k -> new Unchecked(v.reason())).pages++;
            return;
        }
        if (v.kind() == PageVerdict.Kind.VALID && PageChecker.keyVersion(page, 0, flags) != 0) {
            encryptedPages++;
        }
        if (!v.ok()) {
            problem("page " + no + " of " + f.path() + " in backup " + m.id() + ": " + v.reason());
        }
    }

    /** The stored log is contiguous from C with every sequence byte 1: frame every mtr again. */
    private void verifyRedo(Manifest m) throws IOException {
        long lsn;
        try (ChunkedReader r = open(m, m.redoObject(), "redo"); InputStream in = r) {
            // an encrypted log's records need the server's key: framing, sequence bytes and checksums are checked
            StoredRedo.Scan scan = StoredRedo.scan(in, m.startLsn(), m.redoEndLsn() - m.startLsn(),
                    m.redoLogCrypt() == null ? null : io.strata.innodb.LogCrypt.FRAME_ONLY, null);
            lsn = scan.endLsn();
            if (scan.failed()) {
                problem("redo log of backup " + m.id() + ": invalid mini-transaction at LSN " + lsn + (scan.reason() == null ? "" : " (" + scan.reason() + ")"));
                return;
            }
            r.drainAndCheck();
            String digest = String.format(Locale.ROOT, "%08x", r.rawCrc());
            if (m.redoCrc32c() != null && !m.redoCrc32c().equals(digest)) {
                // valid mini-transactions of another log (e.g. another backup's redo object of the same length)
                problem("redo log of backup " + m.id() + " does not match its manifest: digest " + digest + ", expected " + m.redoCrc32c()
                        + " (resource=" + repo.describeBackupObject(m.id(), m.redoObject()) + ")");
                return;
            }
        }
        if (lsn != m.redoEndLsn()) {
            problem("redo log of backup " + m.id() + " ends at LSN " + lsn + ", the manifest says " + m.redoEndLsn());
        }
    }
}
