package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.TablespaceFlags;
import io.strata.redo.LiveLog;
import io.strata.redo.PageCollector;
import io.strata.repo.ChangedPages;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import io.strata.repo.Tracking;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static io.strata.backup.ChangeMethod.FULL_SCAN;
import static io.strata.backup.ChangeMethod.OPTIMISTIC;
import static io.strata.backup.ChangeMethod.REDO;
import static io.strata.backup.ChangeMethod.TRACKED;

/**
 * Finds the pages an incremental or differential must store: those whose FIL_PAGE_LSN is above
 * the threshold T (the parent's start checkpoint, design rule 3). Every method answers per
 * tablespace with a {@link Selection}: scan every page, read only these pages, or store whole.
 * What is stored (the delta object) is the same for every method.
 *
 * <ul>
 * <li><b>full-scan</b> reads every page. Always valid.</li>
 * <li><b>redo</b> reads the server's circular redo log from T to this backup's own start
 *     checkpoint C and takes the page ids from the record headers. Pages changed at or after C
 *     need not be named: the backup copies the redo log from C and recovery applies it to
 *     whatever page image the chain supplies, as long as that image holds every change before C.
 *     A page the log does not name between T and C had no change there, so the parent chain's
 *     image, which holds every change before T, holds every change before C. Valid while the log
 *     still holds T (checked before and after every read).</li>
 * <li><b>tracked</b> is the same set taken from the change sets {@code strata track} stored, plus
 *     the live log from where they end up to C. Valid when the sets cover [T, C) without a gap.</li>
 * <li><b>optimistic</b> scans only the files whose modification or status-change time is after
 *     the parent began (less a slack), as MySQL Enterprise Backup's optimistic incremental does.
 *     It relies on the clock and on nobody replacing files with older times, which strata cannot
 *     prove, so {@code auto} never picks it. It also needs a parent whose images are the files'
 *     contents when it began: a full backup, or one made by full-scan or optimistic (a redo or
 *     tracked parent may hold older images of pages the server wrote ahead of its checkpoint).</li>
 * </ul>
 * {@code auto} estimates the bytes that tracked and redo read and tries the cheaper first, then
 * the other, then falls back to full-scan; when more than half of the pages of the files that
 * would be stored as deltas changed, one sequential scan is cheaper than that many single reads.
 */
final class ChangeDetection {
    private ChangeDetection() {}

    /** File times come from the kernel's coarse clock; a change is never dated this much too early. */
    static final Duration TIME_SLACK = Duration.ofSeconds(2);

    /** What to read of one tablespace. */
    record Selection(Kind kind, int[] pages) {
        enum Kind { SCAN, PAGES, WHOLE }

        static final Selection SCAN = new Selection(Kind.SCAN, null);
        static final Selection WHOLE = new Selection(Kind.WHOLE, null);
    }

    /**
     * What planning needs.
     *
     * @param requested   the --method value
     * @param threshold   T: pages with a larger FIL_PAGE_LSN are stored
     * @param startLsn    C: this backup's start checkpoint (its redo copy begins there)
     * @param parent      the parent backup, or null for an external --start-lsn base
     * @param parentFiles the parent's InnoDB files by space id
     */
    record Inputs(ChangeMethod requested, long threshold, long startLsn, Manifest parent, Map<Long, FileEntry> parentFiles,
                  Path logFile, ServerSession session, Repository repo, String serverKey, String lineage, Collection<Tablespace> files) {}

    /** The chosen method and what it found. */
    static final class Plan {
        final ChangeMethod method;
        final String reason;
        private final ChangedPages pages;
        private final Instant changedAfter;
        final long redoBytes;
        final int changeSets;
        /** The parent's start LSN: events that make a file WHOLE count only after it. */
        private long threshold;

        private Plan(ChangeMethod method, String reason, ChangedPages pages, Instant changedAfter, long redoBytes, int changeSets) {
            this.method = method;
            this.reason = reason;
            this.pages = pages;
            this.changedAfter = changedAfter;
            this.redoBytes = redoBytes;
            this.changeSets = changeSets;
        }

        static Plan fullScan(String reason) {
            return new Plan(FULL_SCAN, reason, null, null, 0, 0);
        }

        /** Distinct pages named by the redo log or the change sets; null for the scanning methods. */
        Long pagesNamed() {
            return pages == null ? null : pages.pageCount();
        }

        Selection select(Tablespace ts) {
            if (pages != null) {
                return pages.isWhole(ts.spaceId(), threshold) ? Selection.WHOLE : new Selection(Selection.Kind.PAGES, pages.pages(ts.spaceId()));
            }
            if (changedAfter != null) {
                // decided when the file is copied, so that a file renamed during the backup is judged too
                return changedSince(ts.file(), changedAfter) ? Selection.SCAN : new Selection(Selection.Kind.PAGES, new int[0]);
            }
            return Selection.SCAN;
        }
    }

    static Plan plan(Inputs in, Consumer<String> say) {
        Plan p = choose(in, say);
        p.threshold = in.threshold();
        return p;
    }

    private static Plan choose(Inputs in, Consumer<String> say) {
        ChangeMethod req = in.requested();
        switch (req) {
            case FULL_SCAN:
                return Plan.fullScan("requested with --method full-scan");
            case OPTIMISTIC:
                return optimistic(in);
            case REDO:
            case TRACKED:
                try (LiveLog log = LiveLog.open(in.logFile(), in.session())) {
                    return req == REDO ? redo(in, log) : tracked(in, log);
                } catch (LiveLog.Unavailable e) {
                    throw unavailable(req, e.getMessage());
                } catch (IOException e) {
                    throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "reading the redo log " + in.logFile() + " failed: " + e.getMessage(), null, e);
                }
            case AUTO:
            default:
                return auto(in, say);
        }
    }

    private static StrataException unavailable(ChangeMethod method, String why) {
        return new StrataException(ErrorCode.METHOD_UNAVAILABLE, "--method " + method + " cannot be used for this backup: " + why,
                "use --method auto (it falls back to a method that can be used) or --method full-scan"
                        + (method == REDO || method == TRACKED ? "; keep \"strata track\" running to make incrementals cheap after the log wraps" : ""));
    }

    private static Plan auto(Inputs in, Consumer<String> say) {
        List<String> why = new ArrayList<>();
        try (LiveLog log = LiveLog.open(in.logFile(), in.session())) {
            long current = in.session().lsnStatus().current();
            long t = in.threshold();
            long c = in.startLsn();
            String redoWhy = c < t ? "the parent's start LSN " + t + " is above this backup's checkpoint " + c : log.whyNotHeld(t, current);
            Tracking.Coverage cov;
            try {
                cov = new Tracking(in.repo(), in.serverKey()).coverage(t, c, in.lineage());
            } catch (StrataException e) {
                cov = new Tracking.Coverage(List.of(), t, e.getMessage()); // e.g. a damaged gap record
            }
            String trackedWhy = cov.problem();
            long trackedCost = Long.MAX_VALUE;
            if (trackedWhy == null) {
                trackedCost = cov.sets().stream().mapToLong(Tracking.SetRef::bytes).sum() + Math.max(0, c - cov.coveredTo());
            }
            long redoCost = redoWhy == null ? c - t : Long.MAX_VALUE;
            List<ChangeMethod> order = trackedCost < redoCost ? List.of(TRACKED, REDO) : List.of(REDO, TRACKED);
            for (ChangeMethod m : order) {
                String pre = m == REDO ? redoWhy : trackedWhy;
                if (pre != null) {
                    why.add(m + ": " + pre);
                    continue;
                }
                try {
                    Plan p = m == REDO ? redo(in, log) : tracked(in, log);
                    long[] share = changedShare(in, p.pages);
                    if (share[0] * 2 > share[1]) {
                        return Plan.fullScan("auto: the " + m + " method named " + share[0] + " of the " + share[1]
                                + " pages of the files kept as deltas (more than half): one sequential scan is cheaper");
                    }
                    String other = why.isEmpty() ? "" : "; " + String.join("; ", why);
                    return new Plan(m, "auto: " + p.reason + other, p.pages, null, p.redoBytes, p.changeSets);
                } catch (LiveLog.Unavailable e) {
                    why.add(m + ": " + e.getMessage());
                    say.accept("NOTE: the " + m + " method cannot be used: " + e.getMessage());
                }
            }
        } catch (IOException e) {
            why.add("the redo log " + in.logFile() + " could not be read: " + e.getMessage());
        }
        return Plan.fullScan("auto: no cheaper method could be used (" + String.join("; ", why) + ")");
    }

    /** {changed pages, all pages} of the files that would be stored as deltas. */
    private static long[] changedShare(Inputs in, ChangedPages pages) {
        long changed = 0, total = 0;
        for (Tablespace ts : in.files()) {
            FileEntry before = in.parentFiles().get(ts.spaceId());
            if ((in.parent() != null && before == null) || pages.isWhole(ts.spaceId(), in.threshold())) {
                continue;
            }
            long n;
            try {
                n = Files.size(ts.file()) / new TablespaceFlags(ts.flags()).physicalPageSize();
            } catch (IOException e) {
                continue;
            }
            total += n;
            changed += Math.min(n, pages.pageCount(ts.spaceId()));
        }
        return new long[] {changed, total};
    }

    private static Plan redo(Inputs in, LiveLog log) throws LiveLog.Unavailable, IOException {
        long t = in.threshold();
        long c = in.startLsn();
        if (c < t) {
            throw new LiveLog.Unavailable("the parent's start LSN " + t + " is above this backup's checkpoint " + c);
        }
        String why = log.whyNotHeld(t, in.session().lsnStatus().current());
        if (why != null) {
            throw new LiveLog.Unavailable("it needs the redo log from the parent's start LSN " + t + ", but " + why);
        }
        ChangedPages pages = new ChangedPages();
        PageCollector pc = new PageCollector(pages);
        long end = log.scan(t, c, () -> in.session().lsnStatus().current(), pc);
        if (end != c) {
            throw new LiveLog.Unavailable("reading the redo log from LSN " + t + " stopped at LSN " + end + ", not at the checkpoint LSN " + c);
        }
        String note = c == t
                // the same checkpoint: whatever was written since (nothing, or changes not yet checkpointed) is
                // in the redo log this backup copies from that LSN, and no page on disk is newer than it
                ? "the server made no checkpoint since the parent began (both at LSN " + t + "): any change since is in the redo log this backup copies from there"
                : "the server's redo log still holds LSN " + t + ".." + c + " (" + (c - t) + " bytes, " + pc.mtrCount()
                        + " mini-transactions, " + pages.pageCount() + " pages named)";
        return new Plan(REDO, note, pages, null, c - t, 0);
    }

    private static Plan tracked(Inputs in, LiveLog log) throws LiveLog.Unavailable, IOException {
        long t = in.threshold();
        long c = in.startLsn();
        Tracking tracking = new Tracking(in.repo(), in.serverKey());
        Tracking.Coverage cov;
        try {
            cov = tracking.coverage(t, c, in.lineage());
        } catch (StrataException e) {
            throw new LiveLog.Unavailable(e.getMessage());
        }
        if (cov.problem() != null) {
            throw new LiveLog.Unavailable(cov.problem());
        }
        ChangedPages pages = new ChangedPages();
        long mtrs;
        try {
            mtrs = tracking.load(cov.sets(), pages);
        } catch (StrataException e) {
            throw new LiveLog.Unavailable(e.getMessage());
        }
        long rest = 0;
        String tail = "";
        if (cov.coveredTo() < c) {
            String why = log.whyNotHeld(cov.coveredTo(), in.session().lsnStatus().current());
            if (why != null) {
                throw new LiveLog.Unavailable("the change sets end at LSN " + cov.coveredTo() + " and the rest up to LSN " + c + " is no longer in the log: " + why);
            }
            PageCollector pc = new PageCollector(pages);
            long end = log.scan(cov.coveredTo(), c, () -> in.session().lsnStatus().current(), pc);
            if (end != c) {
                throw new LiveLog.Unavailable("reading the redo log from LSN " + cov.coveredTo() + " stopped at LSN " + end + ", not at the checkpoint LSN " + c);
            }
            rest = c - cov.coveredTo();
            mtrs += pc.mtrCount();
            tail = " and the redo log from LSN " + cov.coveredTo() + " (" + rest + " bytes)";
        }
        return new Plan(TRACKED, cov.sets().size() + " change sets cover LSN " + t + ".." + Math.min(c, cov.coveredTo()) + tail
                + " (" + mtrs + " mini-transactions, " + pages.pageCount() + " pages named)", pages, null, rest, cov.sets().size());
    }

    private static Plan optimistic(Inputs in) {
        Manifest p = in.parent();
        if (p == null) {
            throw unavailable(OPTIMISTIC, "it compares file times with the parent's begin time, and a --start-lsn base has none");
        }
        if (p.method() != null && !EnumSet.of(FULL_SCAN, OPTIMISTIC).contains(ChangeMethod.ofStored(p.method()))) {
            throw unavailable(OPTIMISTIC, "the parent " + p.id() + " found its pages with the " + p.method()
                    + " method, so its copies of pages the server wrote ahead of its checkpoint may be older than the files; optimistic needs a"
                    + " parent that read the files (a full backup, or --method full-scan or optimistic)");
        }
        Instant begin = Instant.parse(p.beginTime());
        Instant end = Instant.parse(p.endTime());
        Instant now = Instant.now();
        if (now.isBefore(end)) {
            throw unavailable(OPTIMISTIC, "the clock (" + now + ") is behind the end of the parent " + p.id() + " (" + end
                    + "): it was set back, so file times cannot be trusted");
        }
        Instant after = begin.minus(TIME_SLACK);
        return new Plan(OPTIMISTIC, "scans the files changed after " + after + " (the parent " + p.id() + " began at " + begin
                + ", less " + TIME_SLACK.toSeconds() + " s)", null, after, 0, 0);
    }

    /**
     * Whether a file's contents may have changed after {@code after}: its modification time, or its
     * status-change time (which a copy that preserves the modification time, a rename or a restore
     * still moves), is later.
     */
    static boolean changedSince(Path file, Instant after) {
        try {
            FileTime m = Files.getLastModifiedTime(file);
            Object c = Files.getAttribute(file, "unix:ctime");
            FileTime ctime = c instanceof FileTime ft ? ft : m;
            return m.toInstant().isAfter(after) || ctime.toInstant().isAfter(after);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return true; // cannot tell: scan it
        }
    }
}
