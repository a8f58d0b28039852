package io.strata.cli;

import io.strata.repo.History;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Json;
import io.strata.repo.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "list", description = "The history of backup attempts, completed and failed, oldest first.")
final class ListCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Mixin
    JsonMixin jsonOut = new JsonMixin();

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Option(names = "--windows", description = "Only the restorable windows of each server (point-in-time recovery); with --json, a JSON array of servers.")
    boolean windows;

    @Override
    public Integer call() throws Exception {
        Repository r = repo.open(key);
        if (windows) {
            Windows.print(r, jsonOut.json, true);
            return 0;
        }
        List<HistoryRecord> history = r.history().attempts();
        // every manifest read once, kept without its files: each backup's chain goes through the older ones again
        // (at 50,000 tables a manifest is a few hundred ms to read and tens of MB whole)
        Map<String, io.strata.repo.Manifest> heads = new java.util.HashMap<>();
        java.util.function.Function<String, io.strata.repo.Manifest> read = id -> {
            io.strata.repo.Manifest m = heads.get(id);
            if (m == null) {
                m = r.manifestHead(id);
                heads.put(id, m);
            }
            return m;
        };
        Map<String, HistoryRecord> byId = new LinkedHashMap<>();
        for (HistoryRecord h : history) {
            byId.put(h.id(), h);
        }
        if (jsonOut.json) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (HistoryRecord h : history) {
                History.Merge merged = r.history().merge(h.id());
                Map<String, Object> j = toJson(h, needs(r, h, byId, read), merged == null ? null : merged.into(), merged != null && merged.folded());
                io.strata.repo.Manifest m = completedManifest(h, read);
                j.put("lineage", m == null ? null : m.lineageId());
                j.put("scope", m == null ? null : m.scope());
                out.add(j);
            }
            System.out.println(Json.MAPPER.writeValueAsString(out));
            return 0;
        }
        System.out.printf("%-22s %-12s %-9s %-22s %-23s %-23s %14s %14s %-22s %12s  %s%n",
                "ID", "TYPE", "STATE", "PARENT", "BEGIN", "END", "START LSN", "END LSN", "BINLOG", "STORED", "NOTE");
        for (HistoryRecord h : history) {
            List<String> needs = needs(r, h, byId, read);
            // a folded id's error says it restores nothing; only a same-state merge restores through its successor
            History.Merge merged = r.history().merge(h.id());
            String note = h.error() != null ? h.error() : merged != null && !merged.folded()
                    ? "merged into " + merged.into() + " (restoring this id restores the same state)"
                    : (needs.size() > 1 ? "restore reads " + String.join(" <- ", needs) : "");
            io.strata.repo.Manifest m = completedManifest(h, read);
            String lineage = m == null ? null : m.lineageId();
            if (lineage != null) {
                note = "lineage " + io.strata.repo.Lineage.shortId(lineage) + (note.isEmpty() ? "" : "; " + note);
            }
            if (m != null && m.scope() != null) {
                note = "partial: " + m.scope().describe() + (note.isEmpty() ? "" : "; " + note);
            }
            System.out.printf("%-22s %-12s %-9s %-22s %-23s %-23s %14s %14s %-22s %12s  %s%n",
                    h.id(), h.type(), h.state(), h.parent() == null ? "-" : h.parent(), shortTime(h.beginTime()), shortTime(h.endTime()),
                    h.startLsn() == null ? "-" : h.startLsn(), h.endLsn() == null ? "-" : h.endLsn(),
                    h.binlogFile() == null ? "-" : h.binlogFile() + ":" + h.binlogPosition(),
                    h.storedBytes() == null ? "-" : human(h.storedBytes()), note);
        }
        Windows.print(r, false, false);
        return 0;
    }

    /**
     * The backups a restore of {@code h} reads, full backup first; empty unless it completed.
     * From the manifests when they resolve (merged ids resolve to their successor), else from
     * the parent links of the history, so that list works on a damaged repository too.
     */
    static List<String> needs(Repository r, HistoryRecord h, Map<String, HistoryRecord> byId, java.util.function.Function<String, io.strata.repo.Manifest> read) {
        List<String> chain = new ArrayList<>();
        if (!HistoryRecord.COMPLETED.equals(h.state())) {
            return chain;
        }
        try {
            return io.strata.repo.Chain.ids(r, h.id(), read);
        } catch (io.strata.error.StrataException e) {
            // fall back to the history's parent links
        }
        for (HistoryRecord x = h; x != null && chain.size() <= byId.size(); x = x.parent() == null ? null : byId.get(x.parent())) {
            chain.add(0, x.id());
        }
        return chain;
    }

    /** The manifest of a completed backup (null: not completed, or its manifest unreadable). */
    static io.strata.repo.Manifest completedManifest(HistoryRecord h, java.util.function.Function<String, io.strata.repo.Manifest> read) {
        if (!HistoryRecord.COMPLETED.equals(h.state())) {
            return null;
        }
        try {
            return read.apply(h.id());
        } catch (io.strata.error.StrataException e) {
            return null; // list works on a damaged repository too; verify names the damage
        }
    }

    /** One attempt as {@code list --json} prints it; {@code folded}: a merge removed its own state ({@code mergedInto} holds the later state). */
    static Map<String, Object> toJson(HistoryRecord h, List<String> needs, String mergedInto, boolean folded) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", h.id());
        m.put("type", h.type());
        m.put("state", h.state());
        m.put("parent", h.parent());
        m.put("needs", needs);
        m.put("beginTime", h.beginTime());
        m.put("endTime", h.endTime());
        m.put("source", h.source());
        m.put("startLsn", h.startLsn());
        m.put("endLsn", h.endLsn());
        m.put("binlogFile", h.binlogFile());
        m.put("binlogPosition", h.binlogPosition());
        m.put("gtidBinlogPos", h.gtidBinlogPos());
        m.put("gtidCurrentPos", h.gtidCurrentPos());
        m.put("rawBytes", h.rawBytes());
        m.put("storedBytes", h.storedBytes());
        m.put("error", h.error());
        m.put("mergedInto", mergedInto);
        m.put("folded", folded);
        return m;
    }

    private static final java.time.format.DateTimeFormatter SHORT_TIME = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", java.util.Locale.ROOT)
            .withZone(java.time.ZoneOffset.UTC);

    /** A stored ISO-8601 instant as list prints it, to the second and with its zone: {@code 2024-05-01 10:00:03 UTC} (what --until reads). */
    static String shortTime(String iso) {
        if (iso == null) {
            return "-";
        }
        try {
            return SHORT_TIME.format(java.time.Instant.parse(iso));
        } catch (java.time.DateTimeException e) {
            return iso; // not written by strata: shown as stored
        }
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format("%.1f %s", v, u[i]);
    }
}
