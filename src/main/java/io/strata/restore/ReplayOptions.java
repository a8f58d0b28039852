package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.List;

/**
 * How a point-in-time restore replays the archived binlogs ({@link PitrRun}): the path, the tables
 * to apply alone, and the applier's parallel workers.
 *
 * @param mode    {@link Mode#AUTO} (default): the server's replication applier where it was tested,
 *                else the pipe; {@link Mode#APPLIER} or {@link Mode#PIPE} force one
 * @param tables  "db.table" names whose changes alone are applied (empty: all); a filter needs the
 *                applier ({@code replicate_wild_do_table} for each, {@link PitrApplier})
 * @param threads the applier's parallel workers (slave_parallel_threads), 1 to 256
 */
public record ReplayOptions(Mode mode, List<String> tables, int threads) {
    /** auto, every table, {@link #workersFor} this machine's cores. */
    public static final ReplayOptions DEFAULT = new ReplayOptions(Mode.AUTO, List.of(), workersFor(Runtime.getRuntime().availableProcessors()));

    /**
     * The applier's default parallel workers for a machine with {@code cores} processors: two per
     * core (a worker waiting for its turn to commit leaves its core to another), at least 4, at
     * most 16.
     */
    public static int workersFor(int cores) {
        return Math.max(4, Math.min(16, 2 * cores));
    }

    /** The replay path. */
    public enum Mode {
        /** {@code mariadb-binlog | mariadb}: one session, every statement re-parsed. */
        PIPE,
        /** The temporary server's replication SQL thread with parallel workers ({@link PitrApplier}). */
        APPLIER,
        /** The applier on servers below 11.4 or with a table filter, else the pipe. */
        AUTO;

        /**
         * Parses "pipe", "applier" or "auto" (any case).
         *
         * @throws StrataException usage otherwise
         */
        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(s)) {
                    return m;
                }
            }
            throw new StrataException(ErrorCode.USAGE, "--replay " + s + " is not pipe, applier or auto", null);
        }
    }

    /** @throws StrataException usage for a table not written db.table, or threads outside 1 to 256 */
    public ReplayOptions {
        tables = List.copyOf(tables);
        for (String t : tables) {
            int dot = t.indexOf('.');
            if (dot <= 0 || dot == t.length() - 1) {
                throw new StrataException(ErrorCode.USAGE, "table " + t + " is not written db.table", null);
            }
        }
        if (threads < 1 || threads > 256) {
            throw new StrataException(ErrorCode.USAGE, "replay workers " + threads + " outside 1 to 256", null);
        }
    }

    /** The same, applying only the changes of {@code only} ("db.table" names; for --table). */
    public ReplayOptions tables(List<String> only) {
        return new ReplayOptions(mode, only, threads);
    }
}
