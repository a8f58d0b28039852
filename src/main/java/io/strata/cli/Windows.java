package io.strata.cli;

import io.strata.repo.Json;
import io.strata.repo.Repository;
import io.strata.restore.PitrWindows;
import io.strata.restore.WindowReport;

import java.util.ArrayList;
import java.util.List;

/** The restorable windows of each server, as "strata list" shows them. */
final class Windows {
    private Windows() {}

    /**
     * With {@code json}, errors propagate; the text after the history reports them and goes on, as list must work on a damaged repository.
     * With {@code checkReplays} the archived binlogs after each backup point are read for temporary tables that make a replay fail
     * ({@link PitrWindows#checkReplays()}: about 20 s per GiB read); plain {@code list} skips that read and says so.
     */
    static void print(Repository r, boolean json, boolean checkReplays) throws Exception {
        List<PitrWindows> all = new ArrayList<>();
        try {
            for (String server : PitrWindows.servers(r)) {
                PitrWindows w = PitrWindows.of(r, server);
                all.add(checkReplays ? w.checkReplays() : w);
            }
        } catch (io.strata.error.StrataException e) {
            if (json) {
                throw e;
            }
            System.out.println();
            System.out.println("restorable windows unavailable: " + e.getMessage());
            return;
        }
        if (json) {
            List<Object> out = new ArrayList<>();
            all.forEach(w -> out.add(WindowReport.toJson(w)));
            System.out.println(Json.MAPPER.writeValueAsString(out));
            return;
        }
        for (PitrWindows w : all) {
            System.out.println();
            System.out.println("server " + w.serverKey() + (w.archive() == null ? " (no binlog archive)" : " (binlog archive " + w.archive().prefix() + ")"));
            List<PitrWindows.Window> ws = w.windows();
            if (ws.isEmpty()) {
                System.out.println("  point-in-time window: " + WindowReport.describeWindows(w));
            }
            for (PitrWindows.Window x : ws) {
                System.out.println("  restorable " + WindowReport.describe(x));
                List<String> ids = new ArrayList<>();
                x.backups().forEach(b -> ids.add(b.id()));
                System.out.println("    backups in this window: " + String.join(", ", ids));
                if (x.cut() != null) {
                    System.out.println("    replay fails after " + x.to() + ": " + x.cut().description());
                }
            }
            // the archived runs in order, each after what separates it from the one before
            for (PitrWindows.Span s : w.spans()) {
                for (PitrWindows.Break b : w.breaks()) {
                    if (b.after() == s) {
                        System.out.println("  " + b.kind().name() + ": " + b.description());
                    }
                }
                System.out.println("  archived binlogs (timeline " + s.start().timeline() + "): " + s.start() + " to " + s.end() + ", transactions "
                        + (s.firstTime() == null ? "none" : "from " + WindowReport.iso(s.firstTime())) + ", complete until " + WindowReport.iso(s.endTime()));
            }
            if (!w.outside().isEmpty()) {
                List<String> ids = new ArrayList<>();
                w.outside().forEach(b -> ids.add(b.id()));
                System.out.println("  backups outside the archive (restorable to their own point only): " + String.join(", ", ids));
            }
            for (String s : w.skipped()) {
                System.out.println("  not restorable: " + s);
            }
            if (!checkReplays && !ws.isEmpty()) {
                System.out.println("  replays not checked for temporary tables that span a backup point: \"strata list --windows\" checks them");
            }
            for (String s : w.unchecked()) {
                System.out.println("  replays not checked for temporary tables: " + s);
            }
        }
    }
}
