package io.strata.cli;

import io.strata.repo.FileEntry;
import io.strata.repo.HistoryRecord;
import io.strata.repo.Json;
import io.strata.repo.Lineage;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "show", description = "One backup in detail: its manifest, or why it failed.")
final class ShowCommand implements Callable<Integer> {
    @Mixin
    RepoOptions repo;

    @Parameters(index = "0", description = "Backup id.")
    String id;

    @Mixin
    JsonMixin jsonOut = new JsonMixin();

    @picocli.CommandLine.Mixin
    KeyMixin key;

    @Override
    public Integer call() throws Exception {
        Repository r = repo.open(key);
        HistoryRecord h = r.history().find(id).orElse(null);
        // a folded id falls through to the manifest lookup, which fails with backup-not-found saying why
        if (h != null && !HistoryRecord.COMPLETED.equals(h.state()) && !HistoryRecord.FOLDED.equals(h.state())) {
            if (jsonOut.json) {
                System.out.println(Json.MAPPER.writeValueAsString(ListCommand.toJson(h, List.of(), null, false)));
            } else {
                System.out.printf("id:      %s%ntype:    %s%nstate:   %s%nbegin:   %s%nend:     %s%nsource:  %s%nerror:   %s%n",
                        h.id(), h.type(), h.state(), h.beginTime(), h.endTime(), h.source(), h.error());
            }
            return 0;
        }
        Manifest m = r.manifest(id);
        if (jsonOut.json) {
            // streamed: a manifest of 50,000 tables is tens of MB of JSON, which as one String outgrew the heap
            Json.MAPPER.writer().without(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET).writeValue(System.out, m);
            System.out.println();
            return 0;
        }
        System.out.printf("id:              %s%n", m.id());
        System.out.printf("type:            %s%n", m.type());
        System.out.printf("state:           completed%n");
        System.out.printf("parent:          %s%n", m.parent() == null ? "-" : m.parent());
        System.out.printf("begin / end:     %s / %s%n", m.beginTime(), m.endTime());
        System.out.printf("source:          %s (MariaDB %s, server_id %d)%n", m.source().serverKey(), m.source().version(), m.source().serverId());
        System.out.printf("lineage:         %s%n", Lineage.shortId(m.lineage()) + (m.lineage() == null ? " (the data directory was never restored by strata)"
                : ": the data directory was " + Lineage.describe(m.lineage())));
        System.out.printf("scope:           %s%n", m.scope() == null ? "the whole server" : "partial: " + m.scope().describe()
                + " (the mysql schema, system and undo tablespaces and the redo log always)");
        System.out.printf("start LSN (C):   %d (checkpoint end_lsn %d)%n", m.startLsn(), m.startEndLsn());
        System.out.printf("end LSN (E):     %d; redo copied to %d (%,d bytes, log capacity %,d)%n", m.endLsn(), m.redoEndLsn(),
                m.redoEndLsn() - m.startLsn(), m.redoCapacity());
        if (m.threshold() != null) {
            System.out.printf("changed pages:   FIL_PAGE_LSN > %d, found by %s%n", m.threshold(), m.method());
        }
        if (m.detection() != null) {
            System.out.printf("detection cost:  %,d of %,d pages read, %d files read in full, %,d bytes of redo log, %d change sets%n",
                    m.detection().pagesRead(), m.detection().pagesInFiles(), m.detection().filesScanned(), m.detection().redoBytesRead(),
                    m.detection().changeSetsRead());
        }
        if (m.note() != null) {
            System.out.printf("note:            %s%n", m.note());
        }
        System.out.printf("binlog:          %s:%s%n", m.binlogFile(), m.binlogPosition());
        System.out.printf("gtid_binlog_pos: %s%ngtid_current_pos: %s%n", m.gtidBinlogPos(), m.gtidCurrentPos());
        System.out.printf("size:            %s raw, %s stored%n", ListCommand.human(m.rawBytes()), ListCommand.human(m.storedBytes()));
        System.out.printf("stored as:       %s%s%n", m.compression() == null ? "none" : m.compression(),
                m.encryption() == null ? ", not encrypted" : ", encrypted (" + m.encryption() + ")");
        System.out.printf("files:           %d%n", m.files().size());
        for (FileEntry f : m.files()) {
            System.out.printf("  %-50s %-6s %10s %12s  %s%n", f.path(), f.kind(), f.spaceId() == null ? "" : "space " + f.spaceId(), ListCommand.human(f.size()),
                    f.isDelta() ? f.deltaPages() + " of " + f.pages() + " pages" : f.isReference() ? "unchanged: stored by " + f.ref() : "");
        }
        return 0;
    }
}
