package io.strata.binlog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What a run of events holds: event and transaction counts, GTID timestamps, GTID ranges per domain. */
public final class BinlogStats {
    private long events;
    private long groups;
    private Long firstTime;
    private Long lastTime;
    private Long maxTime;
    private final Map<Long, Range> domains = new TreeMap<>();

    /** GTIDs of one replication domain: the lowest and highest sequence numbers, the first and last GTID. */
    public record Range(long domain, long minSeq, long maxSeq, Gtid first, Gtid last) {}

    public void add(BinlogEvent e) {
        events++;
        Gtid g = e.gtid();
        if (g == null) {
            return;
        }
        groups++;
        if (firstTime == null) {
            firstTime = e.timestamp();
        }
        lastTime = e.timestamp();
        maxTime = maxTime == null ? e.timestamp() : Math.max(maxTime, e.timestamp());
        Range r = domains.get(g.domain());
        domains.put(g.domain(), r == null ? new Range(g.domain(), g.seq(), g.seq(), g, g)
                : new Range(g.domain(), Math.min(r.minSeq(), g.seq()), Math.max(r.maxSeq(), g.seq()), r.first(), g));
    }

    public long events() { return events; }

    public long groups() { return groups; }

    /** Timestamp of the first GTID event, or null when there was none. */
    public Long firstTime() { return firstTime; }

    public Long lastTime() { return lastTime; }

    public Long maxTime() { return maxTime; }

    public List<Range> domains() { return new ArrayList<>(domains.values()); }
}
