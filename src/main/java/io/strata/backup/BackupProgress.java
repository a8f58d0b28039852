package io.strata.backup;

import io.strata.util.StageProgress;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A backup's progress by stage ({@link StageProgress}): page copy, file copy, redo copy and sync.
 * A {@link View} shows it (the CLI's terminal table, lines or JSON), and a sink (the repository's
 * progress object, read by {@code strata status}) receives a {@link #snapshot} every
 * {@link #SINK_MILLIS} ms and at the end. Safe to update from the copy threads.
 */
public final class BackupProgress extends StageProgress {
    public static final String PAGE_COPY = "page-copy";
    public static final String FILE_COPY = "file-copy";
    public static final String REDO_COPY = "redo-copy";
    public static final String SYNC = "sync";
    static final long SINK_MILLIS = 2000;

    /** Shows a backup's progress (a {@link StageProgress.View}). */
    public interface View extends StageProgress.View {
    }

    private volatile Consumer<Map<String, Object>> sink;
    private long lastSink;

    /** Counters for the four stages, all pending, shown by {@code view}. */
    public BackupProgress(StageProgress.View view) {
        super(view, List.of(PAGE_COPY, FILE_COPY, REDO_COPY, SYNC));
    }

    /** Receives a snapshot every few seconds and at the end (the repository's progress object). */
    public void attach(String backupId, Consumer<Map<String, Object>> sink) {
        id(backupId);
        this.sink = sink;
    }

    /** The backup's id, null until {@link #attach}. */
    public String backupId() {
        return id();
    }

    @Override
    protected void tick(long nanoTime) {
        if ((nanoTime - lastSink) / 1_000_000 >= SINK_MILLIS) {
            toSink("running", null);
            lastSink = nanoTime;
        }
    }

    @Override
    protected void finished(String state, String error) {
        toSink(state, error);
    }

    private void toSink(String state, String error) {
        Consumer<Map<String, Object>> s = sink;
        if (s == null) {
            return;
        }
        Map<String, Object> m = snapshot(state);
        m.put("error", error);
        try {
            s.accept(m);
        } catch (RuntimeException ignored) {
            // progress is advisory: a full disk must fail the backup through its data, not here
        }
    }
}
