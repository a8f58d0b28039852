package io.strata.util;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A long run's progress by named stage, like GreatSQL's performance_schema.clone_progress: for
 * each stage its state (pending, running, done), bytes done and estimated, speed and time left,
 * plus the messages said between updates. It only counts; a {@link View} shows it (the CLI's
 * terminal table, text lines or JSON). A backup ({@code BackupProgress}) and a restore
 * ({@code RestoreProgress}) each name their stages. Safe to update from several threads.
 */
public class StageProgress {

    /** Shows a run's progress; its methods are called from the run's threads and from the progress thread. */
    public interface View {
        /** How often {@link #update} is called while the run goes on, in ms. */
        long periodMillis();

        /** A message between the updates, said during stage {@code p.currentStage()}. */
        void message(StageProgress p, String text);

        /** Every {@link #periodMillis()} while the run goes on. */
        void update(StageProgress p);

        /** Once, at the end: {@code state} is "completed", "failed" or "cancelled"; {@code error} is null or what failed. */
        void end(StageProgress p, String state, String error);
    }

    /** One stage's counters; estimated is -1 while unknown. */
    private static final class Stage {
        final String name;
        volatile String state = "pending";
        final AtomicLong done = new AtomicLong();
        final AtomicLong estimated = new AtomicLong(-1);
        volatile long beginNanos;
        volatile long endNanos;

        Stage(String name) {
            this.name = name;
        }
    }

    private final View view;
    private final long started = System.nanoTime();
    private final Map<String, Stage> stages = new LinkedHashMap<>();
    private volatile String current = "init";
    private volatile String id;
    private Thread ticker;

    /** Counters for {@code names}, in that order, all pending, shown by {@code view}. */
    protected StageProgress(View view, List<String> names) {
        this.view = view;
        for (String s : names) {
            stages.put(s, new Stage(s));
        }
    }

    /** What the run works on (a backup's id), null until {@link #id(String)}. */
    public String id() {
        return id;
    }

    /** Names what the run works on, as shown in the JSON events' "id". */
    public void id(String value) {
        this.id = value;
    }

    /** The stage running now (or the last step said, such as "connect"). */
    public String currentStage() {
        return current;
    }

    /** Seconds since this object was made. */
    public double elapsedSeconds() {
        return (System.nanoTime() - started) / 1e9;
    }

    // ---- stages ----------------------------------------------------------------------------

    /**
     * Starts a stage (or marks a step that has no counters, a name not among the stages), and says
     * what it does as "[name] detail".
     */
    public void stage(String name, String detail) {
        current = name;
        Stage s = stages.get(name);
        if (s != null && !"running".equals(s.state)) {
            s.state = "running";
            s.beginNanos = System.nanoTime();
        }
        say("[" + name + "] " + detail);
    }

    // counting into a stage this run does not have (a restore code path shared by runs of other stage lists) does nothing

    /** Adds {@code bytes} to a stage's estimate (unknown counts as 0). */
    public void addEstimate(String stage, long bytes) {
        if (!stages.containsKey(stage)) {
            return;
        }
        AtomicLong e = stages.get(stage).estimated;
        e.updateAndGet(v -> Math.max(v, 0) + bytes);
    }

    /** Sets a stage's estimate, in bytes. */
    public void setEstimate(String stage, long bytes) {
        if (stages.containsKey(stage)) {
            stages.get(stage).estimated.set(bytes);
        }
    }

    /** Adds {@code bytes} to what a stage has done. */
    public void add(String stage, long bytes) {
        if (stages.containsKey(stage)) {
            stages.get(stage).done.addAndGet(bytes);
        }
    }

    /** Sets what a stage has done, in bytes. */
    public void set(String stage, long bytes) {
        if (stages.containsKey(stage)) {
            stages.get(stage).done.set(bytes);
        }
    }

    /** Marks a stage done (also one that never ran: it begins and ends now). */
    public void done(String stage) {
        Stage s = stages.get(stage);
        if (s != null && !"done".equals(s.state)) {
            if (s.beginNanos == 0) {
                s.beginNanos = System.nanoTime();
            }
            s.state = "done";
            s.endNanos = System.nanoTime();
        }
    }

    /** A message between the progress updates. */
    public void say(String line) {
        view.message(this, line);
    }

    // ---- periodic updates ------------------------------------------------------------------

    /** Called by the progress thread about every 0.5 s (or the view's period when shorter); nothing here. */
    protected void tick(long nanoTime) {
    }

    /** Called once by {@link #finish} after the view's end; nothing here. */
    protected void finished(String state, String error) {
    }

    /** Starts the thread that updates the view (and calls {@link #tick}). */
    public void start() {
        long every = view.periodMillis();
        ticker = new Thread(() -> {
            long lastShow = System.nanoTime();
            try {
                while (true) {
                    Thread.sleep(Math.min(every, 500));
                    long now = System.nanoTime();
                    if ((now - lastShow) / 1_000_000 >= every) {
                        view.update(this);
                        lastShow = now;
                    }
                    tick(now);
                }
            } catch (InterruptedException ignored) {
                // the run ended
            }
        }, "strata-progress");
        ticker.setDaemon(true);
        ticker.start();
    }

    /** Stops the updates and reports the outcome: "completed", "failed" or "cancelled", with the error or null. */
    public void finish(String state, String error) {
        if (ticker != null) {
            ticker.interrupt();
            try {
                ticker.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if ("completed".equals(state)) {
            for (Stage s : stages.values()) {
                if ("running".equals(s.state)) {
                    done(s.name);
                }
            }
        }
        view.end(this, state, error);
        finished(state, error);
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /**
     * The state of every stage, as printed by --progress=json (and stored for strata status by a
     * backup): id, pid, state, updated (ISO-8601), elapsedSeconds, stage, and stages: a list of
     * {stage, state (pending, running, done), bytesDone, bytesEstimated (null while unknown),
     * bytesPerSecond, seconds, secondsLeft (null unless running with a known estimate)}. A new
     * mutable map.
     */
    public Map<String, Object> snapshot(String state) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("pid", ProcessHandle.current().pid());
        m.put("state", state);
        m.put("updated", Instant.now().toString());
        m.put("elapsedSeconds", round1(elapsedSeconds()));
        m.put("stage", current);
        List<Map<String, Object>> list = new ArrayList<>();
        long now = System.nanoTime();
        for (Stage s : stages.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            long done = s.done.get();
            long est = s.estimated.get();
            double secs = s.beginNanos == 0 ? 0 : ((s.endNanos != 0 ? s.endNanos : now) - s.beginNanos) / 1e9;
            double speed = secs > 0.05 ? done / secs : 0;
            e.put("stage", s.name);
            e.put("state", s.state);
            e.put("bytesDone", done);
            e.put("bytesEstimated", est < 0 ? null : est);
            e.put("bytesPerSecond", Math.round(speed));
            e.put("seconds", round1(secs));
            e.put("secondsLeft", "running".equals(s.state) && est >= done && speed > 0 ? round1((est - done) / speed) : null);
            list.add(e);
        }
        m.put("stages", list);
        return m;
    }
}
