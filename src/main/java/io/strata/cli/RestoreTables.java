package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.restore.PitrTarget;
import io.strata.restore.TableRestore;
import io.strata.restore.TableRestore.TableName;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code restore --table ... --import}: the options of {@link RestoreCommand} checked and handed to {@link TableRestore}, and its output. */
final class RestoreTables {
    private RestoreTables() {}

    static int run(RestoreCommand c, int targets, int threads, io.strata.restore.RestoreProgress progress) {
        if (c.tables.isEmpty() || !c.importTables) {
            throw new StrataException(ErrorCode.USAGE, c.tables.isEmpty() ? "--import needs --table DB.TABLE" : "--table needs --import: a table is restored by "
                    + "importing it into a running server (name it with --socket or --host)", null);
        }
        List<String> refused = new ArrayList<>();
        Map<String, Boolean> given = new LinkedHashMap<>();
        given.put("--target", c.target != null);
        given.put("--backup", c.backup != null);
        given.put("--no-recover", c.noRecover);
        given.put("--owner", c.owner != null);
        given.put("--remap", !c.remap.isEmpty());
        given.put("--mariadbd-defaults-file", c.mariadbdDefaultsFile != null);
        given.put("--innodb-*", c.innodbDataHomeDir != null || c.innodbLogGroupHomeDir != null || c.innodbUndoDirectory != null);
        given.put("--delta", c.delta);
        given.put("--print-replica-sql", c.printReplicaSql);
        given.put("--replay", c.replay != null);
        given.forEach((option, on) -> {
            if (on) {
                refused.add(option);
            }
        });
        if (!refused.isEmpty()) {
            throw new StrataException(ErrorCode.USAGE, "--table cannot be combined with " + String.join(", ", refused) + ": it restores into a running server and takes none of "
                    + "--target, --backup, --no-recover, --owner, --remap, --mariadbd-defaults-file, --innodb-*, --delta, --print-replica-sql and --replay",
                    "use --until* for a point in time (none: the newest backup), --as and --replace for the destination");
        }
        if (targets > 1) {
            throw new StrataException(ErrorCode.USAGE, "name one point in time: --until, --until-gtid, --until-position, --until-before or --until-before-gtid", null);
        }
        List<TableName> tables = new ArrayList<>();
        c.tables.forEach(t -> tables.add(TableName.parse(t, "--table")));
        List<TableName> as = new ArrayList<>();
        c.as.forEach(t -> as.add(TableName.parse(t, "--as")));
        PitrTarget t = targets == 0 ? null : c.pitrTarget();
        TableRestore.Result r = TableRestore.run(c.repo.open(c.key), new TableRestore.Options(tables, as, c.replace, t, c.server, c.scratchDir, threads,
                c.serverTools.tools(), c.conn.resolve(), c.debugImportPauseMs), progress);
        PrintStream out = c.json.text();
        String point = r.pointInTime() == null ? "backup " + r.backupId() : r.pointInTime() + " (from backup " + r.backupId() + ")";
        List<Map<String, Object>> list = new ArrayList<>();
        for (TableRestore.Imported i : r.tables()) {
            out.printf("restored %s as of %s into %s (%s%s, %d file(s), %,d bytes)%s; CHECKSUM TABLE %s%n", i.from(), point, i.to(), i.engine(),
                    i.partitioned() ? ", partitioned" : "", i.files(), i.bytes(), i.replaced() ? ", replacing the table that was there" : "", i.checksum());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("table", i.from().toString());
            m.put("importedAs", i.to().toString());
            m.put("engine", i.engine());
            m.put("partitioned", i.partitioned());
            m.put("files", i.files());
            m.put("bytes", i.bytes());
            m.put("checksum", i.checksum());
            m.put("replaced", i.replaced());
            list.add(m);
        }
        if (r.binlogPosition() == null) {
            out.println("binlog position of the restored point: none (the backup's server had its binary log off)");
        } else {
            out.printf("binlog position of the restored point: %s (gtid_binlog_pos %s)%n", r.binlogPosition(),
                    r.gtid() == null || r.gtid().isEmpty() ? "empty" : r.gtid());
        }
        if (c.json.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backup", r.backupId());
            m.put("pointInTime", r.pointInTime());
            m.put("binlogPosition", r.binlogPosition());
            m.put("gtidBinlogPos", r.gtid());
            m.put("tables", list);
            JsonMixin.print(JsonMixin.ok(m));
        }
        return 0;
    }
}
