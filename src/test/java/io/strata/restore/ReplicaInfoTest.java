package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Manifest;
import io.strata.repo.SourceInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The replica file's fields, its statements, and the refusal of a backup without a binlog position (exit 62). */
class ReplicaInfoTest {
    private static final SourceInfo SRC = new SourceInfo("db1:3307:/var/lib/mysql", "db1", 1, "10.11.19-MariaDB", "/var/lib/mysql", 16384, 100 << 20, 0,
            "ibdata1:12M:autoextend", "full_crc32");

    private static Manifest manifest(String file, Long pos, String gtid) {
        return Manifest.builder().formatVersion(1).id("20261201T083012Z-3f2a").type("full").tool("strata").beginTime("x").endTime("x").source(SRC)
                .startLsn(1).startEndLsn(1).endLsn(2).redoEndLsn(2).redoCapacity(1 << 20).redoObject("redo")
                .binlogFile(file).binlogPosition(pos).gtidBinlogPos(gtid).gtidCurrentPos(gtid).build();
    }

    @Test
    void aBackupsPositionAndItsStatements(@TempDir Path dir) {
        ReplicaInfo r = ReplicaInfo.of(manifest("binlog.000042", 1234L, "0-1-4710,1-2-7"));
        assertEquals(3307, r.sourcePort());
        assertEquals(List.of("-- a new replica of db1:3307 from backup 20261201T083012Z-3f2a (binlog binlog.000042:1234)",
                "SET GLOBAL gtid_slave_pos = '0-1-4710,1-2-7';",
                "CHANGE MASTER TO MASTER_HOST = 'db1', MASTER_PORT = 3307, MASTER_USER = '<replication user>', MASTER_PASSWORD = '<password>', MASTER_USE_GTID = slave_pos;"),
                r.replicaSql());
        r.write(dir);
        assertEquals(r, ReplicaInfo.read(dir), "what is written reads back the same");
        ReplicaInfo p = ReplicaInfo.pointInTime(manifest("binlog.000042", 1234L, "0-1-4710"), PitrTarget.beforeGtid("0-1-4711"), "binlog.000043", 99, "0-1-4710");
        assertEquals("-- a new replica of db1:3307 from backup 20261201T083012Z-3f2a at before GTID 0-1-4711 (binlog binlog.000043:99)", p.replicaSql().get(0));
        ReplicaInfo noPort = new ReplicaInfo("strata-replica", 1, "b", null, "binlog.000001", 4, "", "db1", 0);
        assertEquals("CHANGE MASTER TO MASTER_HOST = 'db1', MASTER_PORT = <port>, MASTER_USER = '<replication user>', MASTER_PASSWORD = '<password>', "
                + "MASTER_USE_GTID = slave_pos;", noPort.replicaSql().get(2), "networking was off on the source: no port to name");
    }

    @Test
    void aBackupWithoutABinlogPositionIsRefused(@TempDir Path dir) {
        Manifest m = manifest(null, null, "");
        assertNull(ReplicaInfo.of(m));
        StrataException e = assertThrows(StrataException.class, () -> ReplicaInfo.require(m));
        assertEquals(ErrorCode.REPLICA_INFO_MISSING, e.code());
        assertEquals(62, e.code().exitCode());
        assertEquals("backup 20261201T083012Z-3f2a records no binlog position: its source db1 ran without log_bin, so no replica can start from it", e.getMessage());
        e = assertThrows(StrataException.class, () -> ReplicaInfo.read(dir));
        assertEquals(ErrorCode.REPLICA_INFO_MISSING, e.code());
    }
}
