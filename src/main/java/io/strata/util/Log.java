package io.strata.util;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one place strata's log lines (everything it prints on stderr) pass through. Installed as
 * {@code System.err} by the entry point, it
 * <ul>
 * <li>starts every line with the UTC time, ISO-8601 with its zone ("2026-12-01T09:40:12Z "),
 * when stderr is not a terminal (a terminal shows the lines as they are);</li>
 * <li>drops lines below the {@link Level} asked for: a line starting with ERROR or BUG is an
 * error, WARN or WARNING a warning, DEBUG or TRACE debug, anything else information (so are
 * progress lines, "    3.2s ..."), and any other line that starts with whitespace, "HINT:" or
 * "Caused by:" continues the previous line's message and level;</li>
 * <li>appends each kept line, always with the time, to a log file when one is given (created
 * 0600);</li>
 * <li>leaves a line that starts with "{" (an event of --progress json) whole on stderr and keeps
 * it at every level.</li>
 * </ul>
 * Bytes are collected up to a newline and written a line at a time; a line with an escape
 * character (a terminal drawing) goes only to the terminal, never to a file.
 */
public final class Log extends OutputStream {
    /** Log levels, most severe first. */
    public enum Level {
        ERROR, WARN, INFO, DEBUG;

        /** "error", "warn", "info" or "debug" (any case); null for anything else. */
        public static Level parse(String s) {
            for (Level l : values()) {
                if (l.name().equalsIgnoreCase(s)) {
                    return l;
                }
            }
            return null;
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** "    3.2s ": a progress message after the seconds since the command started. */
    private static final Pattern ELAPSED = Pattern.compile(" *\\d+\\.\\ds ");

    private final OutputStream target;
    private final boolean prefix;
    private final Level level;
    private final OutputStream file;
    private final Clock clock;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private Level current = Level.INFO;

    /**
     * @param target where lines go (the process's stderr)
     * @param prefix whether lines on {@code target} start with the time (false on a terminal)
     * @param level the least severe level kept
     * @param file the log file's stream, or null
     * @param clock the time of the prefix
     */
    public Log(OutputStream target, boolean prefix, Level level, OutputStream file, Clock clock) {
        this.target = target;
        this.prefix = prefix;
        this.level = level;
        this.file = file;
        this.clock = clock;
    }

    /**
     * A {@code PrintStream} over a new Log on the process's stderr {@code fd2} (prefixed when it
     * is not a terminal), appending to {@code logFile} (null: none).
     *
     * @throws IOException when the log file cannot be opened
     */
    public static PrintStream install(OutputStream fd2, Level level, Path logFile) throws IOException {
        return install(fd2, !isTerminal(2), level, logFile);
    }

    /**
     * As {@link #install(OutputStream, Level, Path)} on any stream {@code target}, its lines
     * starting with the time when {@code timed} (the agent's client says whether its stderr is a terminal).
     *
     * @throws IOException when the log file cannot be opened
     */
    public static PrintStream install(OutputStream target, boolean timed, Level level, Path logFile) throws IOException {
        OutputStream f = null;
        if (logFile != null) {
            if (!Files.exists(logFile, LinkOption.NOFOLLOW_LINKS)) {
                Files.createFile(logFile, FileModes.attribute(FileModes.PRIVATE_FILE));
            }
            f = Files.newOutputStream(logFile, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        }
        return new PrintStream(new Log(target, timed, level, f, Clock.systemUTC()), true, StandardCharsets.UTF_8);
    }

    /**
     * Whether file descriptor {@code fd} of this process is a terminal: on Linux, whether
     * /proc/self/fd/FD leads to a /dev/pts/N or /dev/ttyX device. (System.console() asks about
     * stdin and stdout, not the stream that is drawn on.)
     */
    public static boolean isTerminal(int fd) {
        try {
            String to = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return to.startsWith("/dev/pts/") || to.startsWith("/dev/tty") || to.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The level of a line, or null when it continues the previous one. */
    static Level levelOf(String s) {
        java.util.regex.Matcher elapsed = ELAPSED.matcher(s);
        if (elapsed.lookingAt()) { // a progress line: "  1.6s [stage] ...", or "  1.6s DEBUG [timing] ..."
            String rest = s.substring(elapsed.end());
            return rest.startsWith("DEBUG") || rest.startsWith("TRACE") ? Level.DEBUG : Level.INFO;
        }
        if (s.isEmpty() || Character.isWhitespace(s.charAt(0)) || s.startsWith("HINT:") || s.startsWith("Caused by:")) {
            return null;
        }
        if (s.startsWith("ERROR") || s.startsWith("BUG")) {
            return Level.ERROR;
        }
        if (s.startsWith("WARN")) {
            return Level.WARN;
        }
        if (s.startsWith("DEBUG") || s.startsWith("TRACE")) {
            return Level.DEBUG;
        }
        return Level.INFO;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        line.write(b);
        if (b == '\n') {
            emit();
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                line.write(b, start, i + 1 - start);
                emit();
                start = i + 1;
            }
        }
        line.write(b, start, off + len - start);
    }

    @Override
    public synchronized void flush() throws IOException {
        String pending = line.toString(StandardCharsets.UTF_8);
        if (pending.indexOf('\033') >= 0) {
            // a terminal drawing without a newline yet (the cursor moves): show it now
            target.write(line.toByteArray());
            line.reset();
        }
        target.flush();
        if (file != null) {
            file.flush();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (line.size() > 0) {
            line.write('\n');
            emit();
        }
        flush();
        if (file != null) {
            file.close();
        }
    }

    private void emit() throws IOException {
        byte[] bytes = line.toByteArray();
        line.reset();
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.indexOf('\033') >= 0) {
            target.write(bytes); // drawn on a terminal: neither a log line nor for the file
            target.flush();
            return;
        }
        byte[] time = (TIME.format(clock.instant().truncatedTo(ChronoUnit.SECONDS)) + " ").getBytes(StandardCharsets.US_ASCII);
        if (text.startsWith("{")) {
            // an event of --progress json: kept whole for the programs that read them, whatever the level
            out(bytes, time, false);
            return;
        }
        Level l = levelOf(text.strip().isEmpty() ? "" : text);
        if (l != null) {
            current = l;
        }
        if (current.compareTo(level) > 0) {
            return;
        }
        out(bytes, time, prefix);
    }

    private void out(byte[] bytes, byte[] time, boolean withTime) throws IOException {
        if (withTime) {
            target.write(time);
        }
        target.write(bytes);
        target.flush();
        if (file != null) {
            file.write(time);
            file.write(bytes);
            file.flush();
        }
    }
}
