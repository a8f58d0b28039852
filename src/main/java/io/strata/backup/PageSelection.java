package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Detection;
import io.strata.repo.FileEntry;
import io.strata.repo.Repository;
import io.strata.server.ServerSession;

import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a backup stores of each InnoDB tablespace: the whole file, or as a delta the pages whose
 * FIL_PAGE_LSN is above the threshold (the parent's start checkpoint, design rule 3), read by
 * scanning the file or, when a change-detection method named them, one by one. A full backup
 * stores every file whole. An incremental stores a file whole when its identity or size is in
 * doubt (design rules 4 and 8: a space the parent does not hold, a file that shrank or changed
 * flags, a space DDL touched while it was copied).
 */
final class PageSelection {
    /**
     * The decision for one tablespace.
     *
     * @param threshold  pages with a larger FIL_PAGE_LSN are stored; -1 for the whole file
     * @param pages      the only pages to read (a method named them), or null to read every page
     * @param checkBelow --debug-check-method: also read every page and report those changed below this LSN
     *                   that {@code pages} missed; 0 for no check
     */
    record Choice(long threshold, int[] pages, long checkBelow) {
        boolean delta() {
            return threshold >= 0;
        }
    }

    private final BaseSelector.Base base;
    private final Map<Long, FileEntry> parentFiles;
    private final DdlTracker ddl;
    /** How the changed pages are found; null for a full backup. */
    private final ChangeDetection.Plan plan;
    private final long checkBelow;

    private PageSelection(BaseSelector.Base base, Map<Long, FileEntry> parentFiles, DdlTracker ddl, ChangeDetection.Plan plan, long checkBelow) {
        this.base = base;
        this.parentFiles = parentFiles;
        this.ddl = ddl;
        this.plan = plan;
        this.checkBelow = checkBelow;
    }

    /**
     * Chooses how this backup finds its changed pages (see {@link ChangeDetection}) and says which
     * method and why.
     *
     * @param c           this backup's start checkpoint C
     * @param logFile     the server's ib_logfile0
     * @param tablespaces the InnoDB files as scanned before the copy
     */
    static PageSelection plan(BackupOptions opts, BaseSelector.Base base, long c, Path logFile, ServerSession session, Repository repo,
                              String serverKey, String lineage, DdlTracker ddl, Collection<Tablespace> tablespaces, Consumer<String> say) {
        Map<Long, FileEntry> parentFiles = new HashMap<>();
        if (base.parent() != null) {
            for (FileEntry f : base.parent().files()) {
                if (f.spaceId() != null) {
                    parentFiles.put(f.spaceId(), f);
                }
            }
        }
        if (base.threshold() == null) {
            if (opts.method() != ChangeMethod.AUTO) {
                say.accept("NOTE: --method " + opts.method() + " is not used: this is a full backup");
            }
            return new PageSelection(base, parentFiles, ddl, null, 0);
        }
        ChangeDetection.Plan plan = ChangeDetection.plan(new ChangeDetection.Inputs(opts.method(), base.threshold(), c, base.parent(), parentFiles,
                logFile, session, repo, serverKey, lineage, tablespaces), say);
        say.accept("[changes] method " + plan.method + ": " + plan.reason);
        return new PageSelection(base, parentFiles, ddl, plan, opts.checkMethod() ? c : 0);
    }

    /** For the page-copy stage's message: "" for a full backup, else what the deltas hold. */
    String describe() {
        return base.threshold() == null ? "" : ", " + base.type() + " on " + (base.parent() == null ? "LSN " + base.threshold()
                : base.parent().id()) + ": pages newer than LSN " + base.threshold();
    }

    /** What to store of {@code ts}, whose file is {@code size} bytes now. */
    Choice choose(Tablespace ts, long size) {
        long threshold = thresholdFor(ts, size);
        // the methods name pages by the tablespace's numbers: a later file of a system tablespace of several is scanned by page LSN
        ChangeDetection.Selection sel = threshold < 0 || plan == null || ts.firstPage() > 0 ? ChangeDetection.Selection.SCAN : plan.select(ts);
        if (sel.kind() == ChangeDetection.Selection.Kind.WHOLE) {
            threshold = -1;
        }
        return new Choice(threshold, sel.pages(), sel.pages() != null ? checkBelow : 0);
    }

    /**
     * Whether {@code ts} needs no object of its own (docs/repository-format.md, "Changes" NN): the
     * method named no page of it since the parent began ({@code choice} reads no page, with no
     * debug check), it is not the system tablespace (whose doublewrite area is always stored), and
     * its file holds as many whole pages as the parent's entry of the same space id recorded. Its
     * delta would then be empty: the backup's entry names the backup's one shared empty delta.
     * A file whose size changed, or that the method names, or that DDL touched (a WHOLE choice) is
     * copied as before.
     *
     * @param size the file's size in bytes now
     */
    boolean unchanged(Tablespace ts, long size, Choice choice) {
        if (plan == null || base.parent() == null || !choice.delta() || choice.pages() == null || choice.pages().length != 0
                || choice.checkBelow() != 0 || ts.spaceId() <= 0) {
            return false;
        }
        FileEntry before = parentFiles.get(ts.spaceId());
        int ps = new io.strata.innodb.TablespaceFlags(ts.flags()).physicalPageSize();
        return before != null && before.size() == size / ps * ps && ts.path().equals(before.path());
    }

    private long thresholdFor(Tablespace ts, long size) {
        if (base.threshold() == null) {
            return -1;
        }
        if (base.parent() == null) {
            return base.threshold(); // external --start-lsn base: everything as deltas, unchecked
        }
        FileEntry before = ts.spaceId() == 0 ? parentSystemFile(ts.path()) : parentFiles.get(ts.spaceId());
        if (before == null || ts.spaceId() < 0 || size < before.size() || before.flags() == null || before.flags() != ts.flags()
                || ddl.changedSinceCheckpoint(ts.spaceId())) {
            return -1;
        }
        return base.threshold();
    }

    /** The parent's entry of the system tablespace file at {@code path} (one of several files shares space id 0). */
    private FileEntry parentSystemFile(String path) {
        for (FileEntry f : base.parent().files()) {
            if (f.spaceId() != null && f.spaceId() == 0 && f.path().equals(path)) {
                return f;
            }
        }
        return null;
    }

    /** The manifest's {@code method}: null for a full backup. */
    String method() {
        return plan == null ? null : plan.method.userName();
    }

    /** The manifest's {@code note}: what to know of the base, and why the method was chosen; null when nothing. */
    String note() {
        String a = base.note();
        String b = plan == null ? null : plan.reason;
        return a == null ? b : b == null ? a : a + "; " + b;
    }

    /** The manifest's {@code detection}: what finding the changed pages cost; null for a full backup. */
    Detection detection(Collection<FileEntry> files, long pagesRead, int filesScanned) {
        if (plan == null) {
            return null;
        }
        long inFiles = files.stream().filter(f -> "innodb".equals(f.kind())).mapToLong(FileEntry::pages).sum();
        return new Detection(pagesRead, inFiles, plan.pagesNamed(), plan.redoBytes, plan.changeSets, filesScanned);
    }

    /**
     * The debug check of --debug-check-method: a page the method missed fails the backup.
     *
     * @param misses one line per missed page, as the page copier reports them
     * @param c      this backup's start checkpoint, for the message
     */
    void checkMisses(List<String> misses, long c) {
        if (!misses.isEmpty()) {
            throw new StrataException(ErrorCode.BUG, "the " + plan.method + " method missed " + misses.size() + " page(s) changed between LSN "
                    + base.threshold() + " and " + c + ": " + String.join(", ", misses.subList(0, Math.min(20, misses.size()))),
                    "please report this; use --method full-scan meanwhile");
        }
    }
}
