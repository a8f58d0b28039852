package io.strata.cli;

import io.strata.error.StrataException;
import io.strata.util.WorkerPriority;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;

/**
 * {@code backup --priority}: how much of the machine's CPU and disk the bulk copying of a backup
 * may take from the server it backs up.
 * <ul>
 * <li>{@code normal} (the default): strata runs as it was started;</li>
 * <li>{@code low}: the copy threads run at CPU niceness 10 and the lowest
 *     best-effort I/O priority (class 2, level 7), so that the server's threads win whenever both
 *     want a core or the disk;</li>
 * <li>{@code idle}: niceness 19 and the same I/O priority. Not the I/O "idle" class: a backup in
 *     that class gets no disk time at all while the server keeps the disk busy.</li>
 * </ul>
 * Exactly these threads are lowered: the page readers ({@code strata-read}, backup's PageCopier)
 * and the file copiers ({@code strata-copy}, backup's FileCopier), each born lowered: one thread
 * ({@code strata-spawner}) lowers itself once and starts them all (see {@link WorkerPriority}). The main thread, which holds the server's BACKUP STAGE locks, the
 * redo copier ({@code strata-redo}), which must keep up with the server's log, the shared
 * compression/encryption and upload pools (they also carry the redo copy), and the JVM's own GC and
 * JIT threads keep the priority strata was started with; the server is never touched. A niceness
 * or I/O priority already lower than the asked one (strata started under {@code nice -n 15} or
 * {@code ionice -c3}) is kept: nothing is ever raised.
 */
enum Priority {
    NORMAL(0),
    LOW(10),
    IDLE(19);

    /** CPU niceness, 0 (as started) to 19 (the lowest). */
    final int nice;

    Priority(int nice) {
        this.nice = nice;
    }

    /** The name as given on the command line. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses normal, low or idle (any case); anything else is a usage error naming the choices. */
    static final class Converter implements ITypeConverter<Priority> {
        @Override
        public Priority convert(String value) {
            for (Priority p : values()) {
                if (p.label().equalsIgnoreCase(value.trim())) {
                    return p;
                }
            }
            throw new TypeConversionException("'" + value + "' is not a priority (normal, low or idle)");
        }
    }

    /**
     * Sets the niceness backup's copy threads lower themselves to ({@link WorkerPriority#set}; none
     * for {@link #NORMAL}). Called before the backup starts, only when strata owns its JVM.
     *
     * @throws StrataException PRIORITY_UNAVAILABLE when renice or ionice is missing (checked here,
     *                         so that a backup does not start to fail at its first copy thread)
     */
    void apply() {
        if (this == NORMAL) {
            WorkerPriority.set(-1);
            return;
        }
        WorkerPriority.tool("renice");
        WorkerPriority.tool("ionice");
        WorkerPriority.set(nice);
    }
}
