package io.strata.restore;

import io.strata.util.Cancellation;
import io.strata.util.Dirs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * What a restore found at its target, so that a restore that does not finish leaves the target as
 * it found it: a directory that existed (empty, {@link RestoreRun#checkTarget}) is emptied again; a
 * path that did not exist is removed, with every parent directory the restore created for it.
 *
 * <p>A failing restore undoes its work itself ({@link #undo}). A restore killed with SIGKILL runs no
 * code, so the guard also starts a watcher: a small {@code sh} process that holds the read end of a
 * pipe from strata. When strata ends without writing {@code done} to it (killed), the watcher
 * waits until no process runs with {@code --datadir=TARGET} (the recovery server dies with strata,
 * see {@code MariadbProcess}; at most 30 s), and then, only if the target still holds the
 * {@link RestoreRun#UNFINISHED_MARKER} that names this run's token, removes what the restore
 * wrote, the server's run directory ({@link #runDirectory}) and a work directory ({@link #workDirectory}). The watcher ignores SIGINT, SIGTERM and SIGHUP (a Ctrl-C of the terminal reaches it
 * too) and ends as soon as it has done that, within a second of strata when no server ran. Where
 * it cannot start (no {@code /bin/sh}), or when the machine stops, the marker stays and the next
 * restore into the target names it (exit 18).
 */
final class TargetGuard implements AutoCloseable {
    /**
     * $1 target, $2 marker name, $3 this run's token, $4 the outermost directory the restore created
     * ("" when the target existed). The grep pattern comes from a here-document on fd 3, so that
     * grep's own command line does not match it.
     */
    static final String WATCHER = """
            trap '' INT TERM HUP
            run=; work=
            while read -r cmd arg; do
              case $cmd in done) exit 0;; run) run=$arg;; work) work=$arg;; esac
            done
            t=$1; m=$1/$2; i=0
            while [ $i -lt 600 ] && grep -qszxF -f /dev/fd/3 /proc/[0-9]*/cmdline 3<<EOF
            --datadir=$t
            EOF
            do sleep 0.05; i=$((i+1)); done
            [ $i -lt 600 ] || exit 1
            [ -z "$run" ] || rm -rf -- "$run"
            [ -z "$work" ] || rm -rf -- "$work"
            if [ -f "$m" ]; then
              grep -qF -e "$3" "$m" || exit 0
              find "$t" -mindepth 1 ! -name "$2" -delete 2>/dev/null
              if [ -n "$4" ]; then rm -rf -- "$4"; else rm -f -- "$m"; fi
            elif [ -n "$4" ] && [ -d "$t" ] && [ -z "$(ls -A "$t")" ]; then
              find "$4" -depth -type d -empty -delete
            fi
            """;

    private final Path target;
    /** The outermost directory of {@code target}'s path that did not exist (perhaps the target itself); null when the target existed. */
    private final Path created;
    private final String token = UUID.randomUUID().toString();
    private Process watcher;
    private OutputStream toWatcher;
    /** Directories outside the target that the restore writes into (DATA DIRECTORY files), as found before it wrote. */
    private final java.util.List<TargetGuard> outside = new java.util.ArrayList<>();

    private TargetGuard(Path target, Path created) {
        this.target = target;
        this.created = created;
    }

    /** Notes what is at {@code target} (absolute, normalized) before the restore creates or writes anything. */
    static TargetGuard before(Path target) {
        Path created = null;
        for (Path p = target; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            created = p;
        }
        return new TargetGuard(target, created);
    }

    /** Identifies this run in the marker, so the watcher never empties a target another restore is writing. */
    String token() {
        return token;
    }

    /** The outermost directory the restore will create, or null when the target existed. */
    Path created() {
        return created;
    }

    /** Starts the watcher (see the class comment); without {@code /bin/sh} the guard goes on without one. */
    TargetGuard watch() {
        try {
            watcher = watcherCommand(target, token, created).start();
            toWatcher = watcher.getOutputStream();
        } catch (IOException e) {
            watcher = null; // the marker still names the leftover of a killed restore
        }
        return this;
    }

    /**
     * Names the server's run directory (its socket, pid file and log, outside the target): the
     * watcher removes it too when strata is killed. A restore that fails keeps it for its log.
     */
    void runDirectory(Path run) {
        tell("run", run);
    }

    /**
     * Names a work directory of the restore outside the target (a point-in-time restore's binlog
     * copies and relay logs beside it): the watcher removes it too when strata is killed.
     */
    void workDirectory(Path work) {
        tell("work", work);
    }

    private void tell(String what, Path dir) {
        if (watcher == null) {
            return;
        }
        try {
            toWatcher.write((what + " " + dir.toAbsolutePath() + "\n").getBytes(StandardCharsets.UTF_8));
            toWatcher.flush();
        } catch (IOException e) {
            // the watcher is gone: a kill leaves the directory, as it did before there was one
        }
    }

    /** The watcher of {@code target} for the run {@code token}; {@code created} as {@link #created()}. Its stdin is the pipe from strata. */
    static ProcessBuilder watcherCommand(Path target, String token, Path created) {
        // it may live as long as a point-in-time replay: no passphrase or key in its environment
        return io.strata.util.ChildProcesses.withoutSecrets(new ProcessBuilder("/bin/sh", "-c", WATCHER, "strata-restore-watcher", target.toString(),
                RestoreRun.UNFINISHED_MARKER, token, created == null ? "" : created.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD));
    }

    /**
     * Notes {@code dir} (absolute, normalized), a directory outside the target the restore will write
     * into, before anything is written: {@link #undo} puts it back as found too. The watcher does not
     * know it: after a kill -9 its files stay, and the next restore refuses them (target-not-empty).
     * A directory that is not empty now is never noted, so never emptied.
     */
    void alsoOutside(Path dir) {
        try (java.util.stream.Stream<Path> s = Files.isDirectory(dir) ? Files.list(dir) : java.util.stream.Stream.empty()) {
            if (s.findAny().isPresent()) {
                return; // never emptied: it held files before the restore (which refuses such a directory anyway)
            }
        } catch (IOException e) {
            return;
        }
        outside.add(before(dir));
    }

    /** Puts the target back as it was found: removes what the restore created, or empties the directory that was there. */
    void undo() {
        Cancellation.clearInterrupt(); // the undo of a cancelled restore must wait for its processes and delete its files
        if (created != null) {
            Dirs.deleteQuietly(created, false);
        } else {
            Dirs.deleteQuietly(target, true);
        }
        for (TargetGuard g : outside) {
            g.undo();
        }
    }

    /** Tells the watcher that strata ended the restore itself (finished or undone) and waits for it to end. */
    @Override
    public void close() {
        if (watcher == null) {
            return;
        }
        try {
            toWatcher.write("done\n".getBytes(StandardCharsets.UTF_8));
            toWatcher.close();
            if (!watcher.waitFor(5, TimeUnit.SECONDS)) {
                watcher.destroyForcibly();
            }
        } catch (IOException e) {
            watcher.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            watcher.destroyForcibly();
        }
    }
}
