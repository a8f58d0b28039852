package io.strata.restore;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Json;
import io.strata.repo.Manifest;
import io.strata.util.FileModes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a restored data directory stands in its source's binlog: what a new replica of the source
 * built from it must start replicating from. Restore writes it as {@value #FILE_NAME} (JSON, one
 * object) into the root of every directory it produces whose backup recorded a binlog position
 * (docs/repository-format.md, "Replica-ready restores"):
 *
 * <pre>
 * field           meaning
 * format          "strata-replica"
 * version         1
 * backup          id of the backup restored
 * pointInTime     the --until* target as strata names it ("before GTID 0-1-42"), or null
 * binlogFile      the source's binlog file of the restored state, e.g. "mysql-bin.000003"
 * binlogPosition  byte offset in it: the first event the restored data does not hold
 * gtidBinlogPos   the source's gtid_binlog_pos at that point ("0-1-42,1-2-7"; "" when none)
 * sourceHost      the source's @@hostname, as the backup recorded it
 * sourcePort      the source's @@port, as the backup recorded it (0 when unknown)
 * </pre>
 * For a plain restore the position is the backup's (read under BACKUP STAGE BLOCK_COMMIT); for a
 * point-in-time restore it is the target's, the end of the replay. It never holds a secret.
 *
 * @param binlogPosition byte offset in {@code binlogFile}
 */
@JsonPropertyOrder({"format", "version", "backup", "pointInTime", "binlogFile", "binlogPosition", "gtidBinlogPos", "sourceHost", "sourcePort"})
public record ReplicaInfo(String format, int version, String backup, String pointInTime, String binlogFile, long binlogPosition,
                          String gtidBinlogPos, String sourceHost, int sourcePort) {
    /** The file's name in the root of a restored directory. */
    public static final String FILE_NAME = "strata-replica.json";
    static final String FORMAT = "strata-replica";
    static final int VERSION = 1;

    /**
     * The position of backup {@code m} itself, or null when it recorded none (its source ran
     * without log_bin) or holds only some tables (a partial backup: a replica of the source would
     * stop at the first event of a left-out table).
     */
    public static ReplicaInfo of(Manifest m) {
        if (m.binlogFile() == null || m.binlogPosition() == null || m.scope() != null) {
            return null;
        }
        return new ReplicaInfo(FORMAT, VERSION, m.id(), null, m.binlogFile(), m.binlogPosition(), nonNull(m.gtidBinlogPos()),
                m.source().hostname(), port(m));
    }

    /** The point a point-in-time restore from backup {@code m} reached: {@code file:position}, with GTID state {@code gtids}. */
    static ReplicaInfo pointInTime(Manifest m, PitrTarget t, String file, long position, String gtids) {
        return new ReplicaInfo(FORMAT, VERSION, m.id(), t.toString(), file, position, nonNull(gtids), m.source().hostname(), port(m));
    }

    /**
     * The backup's position, refusing one without: replica-info-missing (exit 62) naming the backup.
     *
     * @throws StrataException replica-info-missing when the backup recorded no binlog position
     */
    public static ReplicaInfo require(Manifest m) {
        ReplicaInfo r = of(m);
        if (r == null && m.scope() != null) {
            throw new StrataException(ErrorCode.REPLICA_INFO_MISSING, "backup " + m.id() + " is partial (" + m.scope().describe()
                    + "): a replica started from it would stop at the first replicated change of a table it left out",
                    "build replicas from a backup of the whole server");
        }
        if (r == null) {
            throw new StrataException(ErrorCode.REPLICA_INFO_MISSING, "backup " + m.id() + " records no binlog position: its source "
                    + m.source().hostname() + " ran without log_bin, so no replica can start from it",
                    "enable log_bin (and gtid_strict_mode) on the source and take a new backup");
        }
        return r;
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    /** The port part of the source's server key ({@code host:port:datadir}); 0 when it is not a number. */
    private static int port(Manifest m) {
        String[] p = m.source().serverKey().split(":", 3);
        try {
            return p.length >= 2 ? Integer.parseInt(p[1]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * The statements that make a new server, started on the restored directory, a replica of the
     * source: {@code SET GLOBAL gtid_slave_pos} to the GTID position and {@code CHANGE MASTER TO}
     * the source's host and port with {@code MASTER_USE_GTID=slave_pos}. The user and password are
     * placeholders to replace: strata never knows or prints a replication secret. Each line ends
     * with a newline; the first is a comment naming the binlog position (for a replica without GTID:
     * {@code MASTER_LOG_FILE} / {@code MASTER_LOG_POS}). A source port of 0 (networking off when the
     * backup ran) is printed as the placeholder {@code <port>}.
     */
    public List<String> replicaSql() {
        List<String> l = new ArrayList<>();
        l.add("-- a new replica of " + sourceHost + ":" + sourcePort + " from backup " + backup + (pointInTime == null ? "" : " at " + pointInTime)
                + " (binlog " + binlogFile + ":" + binlogPosition + ")");
        l.add("SET GLOBAL gtid_slave_pos = '" + gtidBinlogPos + "';");
        l.add("CHANGE MASTER TO MASTER_HOST = '" + sourceHost + "', MASTER_PORT = " + (sourcePort == 0 ? "<port>" : String.valueOf(sourcePort))
                + ", MASTER_USER = '<replication user>', MASTER_PASSWORD = '<password>', MASTER_USE_GTID = slave_pos;");
        return l;
    }

    /** Writes {@value #FILE_NAME} into {@code dir} (mode 0640, replacing one that is there), durably. */
    void write(Path dir) {
        try {
            FileModes.replaceDurably(dir.resolve(FILE_NAME), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this), FileModes.DATADIR_FILE);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.IO_ERROR, "cannot write " + dir.resolve(FILE_NAME) + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * Reads {@value #FILE_NAME} from a restored directory {@code dir}.
     *
     * @throws StrataException replica-info-missing when the file is absent (the backup recorded no
     *         binlog position, or strata did not restore the directory); corrupt-data when it is not
     *         this format
     */
    public static ReplicaInfo read(Path dir) {
        Path f = dir.resolve(FILE_NAME);
        if (!Files.exists(f)) {
            throw new StrataException(ErrorCode.REPLICA_INFO_MISSING, dir + " holds no " + FILE_NAME + ": its backup recorded no binlog position",
                    "enable log_bin on the source and take a new backup");
        }
        try {
            ReplicaInfo r = Json.MAPPER.readValue(Files.readAllBytes(f), ReplicaInfo.class);
            if (!FORMAT.equals(r.format()) || r.version() != VERSION) {
                throw new CorruptDataException(f + " is format " + r.format() + " version " + r.version() + ", expected " + FORMAT + " " + VERSION,
                        "the file was edited; restore again");
            }
            return r;
        } catch (IOException e) {
            throw new CorruptDataException("cannot read " + f + ": " + e.getMessage(), "the file was edited; restore again");
        }
    }
}
