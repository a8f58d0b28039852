package io.strata.restore;

import io.strata.util.StageProgress;

import java.util.List;
import java.util.function.Consumer;

/**
 * A restore's progress by stage ({@link StageProgress}), shown like a backup's (terminal table,
 * text lines, JSON events on stderr). The stages, in order:
 * <pre>
 * stage        bytes counted                                    used by
 * files        restored file bytes written / the result's size  every restore (a delta restore: bytes examined)
 * recovery     none (a step: crash recovery by mariadbd)        a restore that recovers
 * binlog-copy  archived binlog bytes copied / to copy           a point-in-time restore
 * replay       none (a step: the binlog replay)                 a point-in-time restore, a table restore
 * import       none (a step: importing tables)                  a table restore
 * </pre>
 * A table restore ({@link #forTables}) has the stages files, recovery, binlog-copy, replay,
 * export (a step: FLUSH TABLES ... FOR EXPORT and the copy of the tables' files) and import; a
 * delta restore ({@link #forDelta}) compare (bytes of the result examined / its size, the
 * files removed before), write (bytes written, no estimate: only the differing pages are) and
 * recovery. Counting into a stage the list does not have does nothing.
 * A stage that does not apply stays pending. It is also the restore's log: a {@code Consumer<String>}
 * whose lines are the messages, so that the restore code, which takes a log, finds its progress
 * with {@link #of} and counts into it while callers that pass a plain log get messages only.
 */
public final class RestoreProgress extends StageProgress implements Consumer<String> {
    public static final String FILES = "files";
    public static final String RECOVERY = "recovery";
    public static final String BINLOG_COPY = "binlog-copy";
    public static final String REPLAY = "replay";
    public static final String IMPORT = "import";
    public static final String EXPORT = "export";
    public static final String COMPARE = "compare";
    public static final String WRITE = "write";
    private static final List<String> STAGES = List.of(FILES, RECOVERY, BINLOG_COPY, REPLAY, IMPORT);

    /** Counters for the restore stages, all pending, shown by {@code view}. */
    public RestoreProgress(StageProgress.View view) {
        super(view, STAGES);
    }

    private RestoreProgress(StageProgress.View view, List<String> stages) {
        super(view, stages);
    }

    /** Counters for the stages of a table restore (restore --table): files, recovery, binlog-copy, replay, export, import. */
    public static RestoreProgress forTables(StageProgress.View view) {
        return new RestoreProgress(view, List.of(FILES, RECOVERY, BINLOG_COPY, REPLAY, EXPORT, IMPORT));
    }

    /** Counters for the stages of a delta restore (restore --delta): compare, write, recovery. */
    public static RestoreProgress forDelta(StageProgress.View view) {
        return new RestoreProgress(view, List.of(COMPARE, WRITE, RECOVERY));
    }

    /**
     * The progress behind a restore's {@code log}: the log itself when it is a RestoreProgress,
     * else one that passes every message to {@code log} and counts for nobody.
     */
    public static RestoreProgress of(Consumer<String> log) {
        if (log instanceof RestoreProgress p) {
            return p;
        }
        return new RestoreProgress(new StageProgress.View() {
            @Override
            public long periodMillis() {
                return 60_000;
            }

            @Override
            public void message(StageProgress p, String text) {
                log.accept(text);
            }

            @Override
            public void update(StageProgress p) {
            }

            @Override
            public void end(StageProgress p, String state, String error) {
            }
        });
    }

    /** A message: {@link #say}. */
    @Override
    public void accept(String line) {
        say(line);
    }
}
