package io.strata.repo;

import java.util.BitSet;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Pages changed in a range of the redo log, by InnoDB space id: the in-memory form of a change set
 * (see {@link ChangeSetFormat}) and of what the redo and tracked methods of an incremental collect.
 * Besides page numbers a space can carry flags: {@link #WHOLE} when the range holds an event after
 * which an older copy of the file says nothing (deleted, re-initialised in place or truncated), with
 * the end LSN of the last such mini-transaction, and {@link #RENAMED} for
 * information. An incremental whose parent began at LSN T needs only the events after T: a copy
 * taken after T already reflects the earlier ones.
 *
 * <p>Page numbers are kept in one bit set per space, so memory follows the highest changed page
 * number of each space (16 KiB of bits per 128 Ki pages = 2 GiB of 16 KiB pages), not the number
 * of records read. Page numbers of 2^31 and above (tablespaces above 32 TiB) do not fit a bit set;
 * such a space is marked {@link #WHOLE} instead, which is always safe.
 */
public final class ChangedPages {
    /** The file must be stored whole by the next incremental. */
    public static final int WHOLE = 1;
    /** The file was renamed in the range (pages still follow the space id). */
    public static final int RENAMED = 2;
    /** Rough per-space bookkeeping cost in bytes, for {@link #memoryBytes()}. */
    private static final int PER_SPACE = 96;

    private final TreeMap<Long, BitSet> pages = new TreeMap<>();
    private final TreeMap<Long, Integer> flags = new TreeMap<>();
    private final TreeMap<Long, Long> wholeLsn = new TreeMap<>();
    private long memory;

    /** Records that page {@code pageNo} (unsigned 32-bit) of space {@code spaceId} changed. */
    public void add(long spaceId, int pageNo) {
        if (pageNo < 0 || pageNo == Integer.MAX_VALUE) {
            markWhole(spaceId, Long.MAX_VALUE);
            return;
        }
        BitSet b = pages.get(spaceId);
        if (b == null) {
            b = new BitSet();
            pages.put(spaceId, b);
            memory += PER_SPACE;
        }
        long before = b.size();
        b.set(pageNo);
        memory += (b.size() - before) / 8;
    }

    /**
     * Records that the space was deleted, re-initialised or truncated by a mini-transaction ending
     * at {@code lsn} (kept: the largest).
     */
    public void markWhole(long spaceId, long lsn) {
        mark(spaceId, WHOLE);
        wholeLsn.merge(spaceId, lsn, Math::max);
    }

    /** The end LSN of the last event that makes the space {@link #WHOLE}, or 0. */
    public long wholeLsn(long spaceId) {
        return wholeLsn.getOrDefault(spaceId, 0L);
    }

    /** Adds flag bits to a space ({@link #WHOLE} only through {@link #markWhole}). */
    public void mark(long spaceId, int flag) {
        Integer old = flags.get(spaceId);
        if (old == null) {
            memory += PER_SPACE;
        }
        flags.put(spaceId, (old == null ? 0 : old) | flag);
    }

    public int flags(long spaceId) {
        return flags.getOrDefault(spaceId, 0);
    }

    /** Whether an event after LSN {@code after} makes the space {@link #WHOLE}. */
    public boolean isWhole(long spaceId, long after) {
        return wholeLsn(spaceId) > after;
    }

    /** Every space with pages or flags, ascending. */
    public NavigableSet<Long> spaces() {
        TreeSet<Long> s = new TreeSet<>(pages.keySet());
        s.addAll(flags.keySet());
        return Collections.unmodifiableNavigableSet(s);
    }

    /** The changed pages of a space, ascending (empty when none). */
    public int[] pages(long spaceId) {
        BitSet b = pages.get(spaceId);
        return b == null ? new int[0] : b.stream().toArray();
    }

    /** The bit set of a space, or null; callers must not modify it. */
    public BitSet bits(long spaceId) {
        return pages.get(spaceId);
    }

    public int pageCount(long spaceId) {
        BitSet b = pages.get(spaceId);
        return b == null ? 0 : b.cardinality();
    }

    public long pageCount() {
        long n = 0;
        for (BitSet b : pages.values()) {
            n += b.cardinality();
        }
        return n;
    }

    /** Adds everything of {@code other}. */
    public void addAll(ChangedPages other) {
        for (Map.Entry<Long, BitSet> e : other.pages.entrySet()) {
            BitSet b = pages.get(e.getKey());
            if (b == null) {
                b = new BitSet();
                pages.put(e.getKey(), b);
                memory += PER_SPACE;
            }
            long before = b.size();
            b.or(e.getValue());
            memory += (b.size() - before) / 8;
        }
        for (Map.Entry<Long, Integer> e : other.flags.entrySet()) {
            mark(e.getKey(), e.getValue());
        }
        for (Map.Entry<Long, Long> e : other.wholeLsn.entrySet()) {
            wholeLsn.merge(e.getKey(), e.getValue(), Math::max);
        }
    }

    /** Approximate heap bytes held, for the tracker's memory bound. */
    public long memoryBytes() {
        return memory;
    }

    public boolean isEmpty() {
        return pages.isEmpty() && flags.isEmpty();
    }

    public void clear() {
        pages.clear();
        flags.clear();
        wholeLsn.clear();
        memory = 0;
    }
}
