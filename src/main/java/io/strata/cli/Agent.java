package io.strata.cli;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.util.FileModes;
import io.strata.util.Signals;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * strata's agent: a JVM that stays up and runs {@code strata backup} for the launcher, so that a
 * frequent incremental pays neither the JVM's start nor the loading and compiling of strata's
 * classes (at 5,000 tables a nothing-changed incremental takes 1.7 s in a new JVM and about
 * 0.65 s in a warm one). The launcher (src/dist/bin/strata) sends a backup to the agent when
 * STRATA_AGENT names its socket; what the agent will not run ({@link Main#agentRefusal}), or a
 * busy or absent agent, the launcher runs itself as before.
 *
 * <p>The socket is a Unix domain socket, mode 0600, in a directory of the agent's user that no
 * one else may write; the agent serves only clients of its own user (SO_PEERCRED). One command
 * runs at a time (System.out and System.err are the command's while it runs); a client that
 * finds the agent busy runs its command itself.
 *
 * <p>The protocol (strata's own, version 1) is a sequence of frames: one byte of type, a 4-byte
 * big-endian length, that many bytes of payload (at most {@value #MAX_FRAME} bytes; at most
 * {@value #MAX_REQUEST} bytes for a whole request).
 * <ul>
 * <li>client to agent: {@code V} "1" (the protocol version, first); {@code T} "1" when the client's
 * stderr is a terminal (the log's lines then carry no time), else "0"; {@code P} the client's
 * process id (the agent runs nothing for a client in another mount namespace: {@link #sameFiles}); {@code E} one
 * "NAME=VALUE" per environment variable (the command reads STRATA_*, MYSQL_PWD, PATH from
 * these, never from the agent's own environment); {@code A} one per argument, in order;
 * {@code G} (empty) ends the request. While the command runs: {@code K} a signal's name
 * ("SIGINT", "SIGTERM") the client received, which cancels the command as that signal would; a
 * second one ends the agent's process at once, as it would end the command's own process.
 * A client whose connection closes before {@code X} also cancels it.</li>
 * <li>agent to client: {@code F} a reason (UTF-8): nothing was run, the client runs the command
 * itself; or {@code S} (empty): the command starts here, then {@code O} bytes of stdout and
 * {@code R} bytes of stderr, in the order written, then {@code X} the exit code (4 bytes,
 * big-endian), last. A connection that ends before {@code S} ran nothing (the client runs the
 * command itself); one that ends after {@code S} and before {@code X} lost its agent.</li>
 * </ul>
 */
public final class Agent implements AutoCloseable {
    /** The largest frame payload accepted, bytes. */
    static final int MAX_FRAME = 1 << 20;
    /** The largest request (all frames before G), bytes. */
    static final int MAX_REQUEST = 4 << 20;

    private final ServerSocketChannel server;
    private final Path socket;
    private final Path systemFile;
    private final PrintStream log;
    private final String user = System.getProperty("user.name");
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile String stoppedBy;

    private Agent(ServerSocketChannel server, Path socket, Path systemFile, PrintStream log) {
        this.server = server;
        this.socket = socket;
        this.systemFile = systemFile;
        this.log = log;
    }

    /**
     * Listens on {@code socket}: makes its directory (0700) when missing, removes a stale socket
     * (one no agent answers on), binds and makes the socket 0600.
     *
     * @param systemFile the configuration file read when neither --config nor STRATA_CONFIG names one
     * @param log where the agent says what it runs (its own stderr)
     * @throws StrataException AGENT_UNAVAILABLE when another agent answers on {@code socket}, its
     *         directory may be written by others or cannot be made, or the bind fails
     */
    static Agent listen(Path socket, Path systemFile, PrintStream log) {
        Path dir = socket.toAbsolutePath().getParent();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, FileModes.attribute(FileModes.PRIVATE_DIR));
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
            String owner = Files.getOwner(dir).getName();
            if (!owner.equals(System.getProperty("user.name"))) {
                throw new StrataException(ErrorCode.AGENT_UNAVAILABLE, "the agent's socket directory " + dir + " belongs to " + owner + ", not to "
                        + System.getProperty("user.name") + ", who runs the agent",
                        "give --listen a path in a directory of strata's user (e.g. /run/strata, made by the service unit)");
            }
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new StrataException(ErrorCode.AGENT_UNAVAILABLE, "the agent's socket directory " + dir + " may be written by other users",
                        "give --listen a path in a directory only strata's user may write (e.g. /run/strata, made by the service unit)");
            }
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if ((mode & 0170000) != 0140000) {
                    throw new StrataException(ErrorCode.AGENT_UNAVAILABLE, socket + " exists and is not a socket",
                            "give --listen the path of a socket to create (e.g. /run/strata/agent.sock); nothing there was changed");
                }
                try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    throw new StrataException(ErrorCode.AGENT_UNAVAILABLE, "another strata agent listens on " + socket,
                            "stop that one first, or give this one another --listen path");
                } catch (IOException stale) {
                    Files.delete(socket); // no one listens: left by an agent that was killed
                }
            }
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ch.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, FileModes.PRIVATE_FILE);
            return new Agent(ch, socket, systemFile, log);
        } catch (IOException e) {
            throw new StrataException(ErrorCode.AGENT_UNAVAILABLE, "cannot listen on " + socket + ": " + e.getMessage(),
                    "give --listen a path in a directory strata's user may write");
        }
    }

    /** Accepts clients until {@link #close}; each on a thread of its own, their commands one at a time. */
    void serve() {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.println("WARN [agent] accept on " + socket + " failed: " + e.getMessage());
                continue;
            }
            Thread t = new Thread(() -> handle(client), "strata-agent-client");
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * The exit code of {@code strata agent} once {@link #serve} returned: 130 or 143 when SIGINT or
     * SIGTERM reached it during a command (the command was cancelled, the agent stopped after it), else 0.
     */
    int exitCode() {
        return stoppedBy == null ? 0 : stoppedBy.equals("SIGINT") ? 130 : 143;
    }

    /** Stops listening and removes the socket; a command running goes on to its end. */
    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // best effort on the way out
        }
    }

    private void handle(SocketChannel client) {
        try (client) {
            String peer = client.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName();
            if (!peer.equals(user)) {
                refuse(client, "the agent serves its own user (" + user + ") only, not " + peer);
                return;
            }
            Request req = Request.read(client);
            String elsewhere = sameFiles(req.pid);
            if (elsewhere != null) {
                refuse(client, elsewhere);
                return;
            }
            if (!busy.compareAndSet(false, true)) {
                refuse(client, "the agent is running another command");
                return;
            }
            try {
                // checked while no command runs: reading the configuration file may warn on System.err
                String refusal = Main.agentRefusal(req.env::get, systemFile, req.args.toArray(String[]::new));
                if (refusal != null) {
                    refuse(client, refusal);
                    return;
                }
                FrameOut.write(client, (byte) 'S', new byte[0]);
                run(client, req);
            } finally {
                busy.set(false);
            }
            System.gc(); // gives the heap the command grew back to the system before the next one
            String signal = Signals.received();
            if (signal != null) { // SIGINT or SIGTERM meant for the agent reached its command's handlers: stop now
                log.println("[agent] received " + signal + " during a command: stopping");
                stoppedBy = signal;
                close();
            }
        } catch (IOException | RuntimeException e) {
            log.println("WARN [agent] a client's request failed: " + e.getMessage());
        }
    }

    private void run(SocketChannel client, Request req) throws IOException {
        long started = System.nanoTime();
        AtomicBoolean done = new AtomicBoolean();
        Thread watcher = new Thread(() -> watch(client, done), "strata-agent-watch");
        watcher.setDaemon(true);
        watcher.start();
        FrameOut out = new FrameOut(client, (byte) 'O');
        FrameOut err = new FrameOut(client, (byte) 'R');
        int code;
        try {
            code = Main.executeForAgent(req.env::get, systemFile, out, err, req.terminal, req.args.toArray(String[]::new));
        } finally {
            done.set(true);
        }
        // logged before the client learns the exit code: what the client does next finds the line there
        log.printf(Locale.ROOT, "[agent] %s: exit %d in %.3f s%n", String.join(" ", req.args.subList(0, Math.min(1, req.args.size()))), code,
                (System.nanoTime() - started) / 1e9);
        try {
            FrameOut.write(client, (byte) 'X', ByteBuffer.allocate(4).putInt(code).array());
        } catch (IOException gone) {
            // the client left; its command was cancelled
        }
    }

    /**
     * Reads the client's frames while its command runs: a signal's name, or the end of the
     * connection, cancels the command (asked again every 100 ms until it is running, as a cancel
     * can come before the command installs its handlers).
     */
    private void watch(SocketChannel client, AtomicBoolean done) {
        String why;
        boolean more;
        try {
            Frame f = Frame.read(client);
            more = f != null;
            why = f == null ? "the agent's client disconnecting" : new String(f.payload, StandardCharsets.UTF_8) + " (sent to the agent's client)";
        } catch (IOException e) {
            more = false;
            why = "the agent's client disconnecting";
        }
        String reason = why;
        Thread asker = new Thread(() -> {
            while (!done.get() && !Signals.cancelCurrent(reason)) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "strata-agent-cancel");
        asker.setDaemon(true);
        asker.start();
        if (!more) {
            return;
        }
        try {
            // a second signal ends the run at once, as in a process of its own: here that is the
            // agent's process (the backup's shutdown hook records the attempt as failed; systemd
            // restarts the agent)
            Frame second = Frame.read(client);
            if (second != null && !done.get()) {
                log.println("[agent] a second signal from the client of a running backup: the agent exits now, as that backup's own process would");
                Runtime.getRuntime().exit(130);
            }
        } catch (IOException e) {
            // the client left; the first cancel stands
        }
    }

    /**
     * Null when the client process {@code pid} is in the agent's mount namespace (the same link
     * /proc/PID/ns/mnt), so that every absolute path names the same file for both; else why not:
     * a client in a unit with PrivateTmp=, a container or an unshare(1) shell. The client sends its
     * own pid; it is of the agent's user (checked before).
     */
    static String sameFiles(long pid) {
        if (pid <= 0) {
            return "the client sent no process id";
        }
        try {
            Path mine = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt"));
            Path theirs = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/mnt"));
            return mine.equals(theirs) ? null
                    : "the client is in another mount namespace (PrivateTmp=, a container, unshare), where a path may name another file";
        } catch (IOException e) {
            return "cannot compare the client's mount namespace with the agent's: " + e.getMessage();
        }
    }

    private void refuse(SocketChannel client, String reason) throws IOException {
        log.println("[agent] left to the client: " + reason);
        FrameOut.write(client, (byte) 'F', reason.getBytes(StandardCharsets.UTF_8));
    }

    /** A request: environment, arguments, whether the client's stderr is a terminal. */
    private record Request(Map<String, String> env, List<String> args, boolean terminal, long pid) {
        static Request read(SocketChannel ch) throws IOException {
            Map<String, String> env = new HashMap<>();
            List<String> args = new ArrayList<>();
            boolean terminal = false;
            long pid = 0;
            long total = 0;
            Frame f = Frame.read(ch);
            if (f == null || f.type != 'V' || !new String(f.payload, StandardCharsets.UTF_8).equals("1")) {
                throw new IOException("not a strata agent client of protocol version 1");
            }
            while (true) {
                f = Frame.read(ch);
                if (f == null) {
                    throw new IOException("the client left before its request ended");
                }
                total += 5 + f.payload.length;
                if (total > MAX_REQUEST) {
                    throw new IOException("a request over " + MAX_REQUEST + " bytes");
                }
                String s = new String(f.payload, StandardCharsets.UTF_8);
                switch (f.type) {
                    case 'T' -> terminal = s.equals("1");
                    case 'P' -> {
                        try {
                            pid = Long.parseLong(s);
                        } catch (NumberFormatException e) {
                            throw new IOException("a process id that is not a number");
                        }
                    }
                    case 'E' -> {
                        int eq = s.indexOf('=');
                        if (eq > 0) {
                            env.put(s.substring(0, eq), s.substring(eq + 1));
                        }
                    }
                    case 'A' -> args.add(s);
                    case 'G' -> {
                        return new Request(env, args, terminal, pid);
                    }
                    default -> throw new IOException("an unknown frame type " + (int) f.type);
                }
            }
        }
    }

    /** One frame as read: its type and payload. */
    record Frame(byte type, byte[] payload) {
        /** The next frame, or null at the end of the stream before one began. */
        static Frame read(SocketChannel ch) throws IOException {
            ByteBuffer head = ByteBuffer.allocate(5);
            if (!fill(ch, head, true)) {
                return null;
            }
            head.flip();
            byte type = head.get();
            int len = head.getInt();
            if (len < 0 || len > MAX_FRAME) {
                throw new IOException("a frame of " + len + " bytes");
            }
            ByteBuffer body = ByteBuffer.allocate(len);
            fill(ch, body, false);
            return new Frame(type, body.array());
        }

        private static boolean fill(SocketChannel ch, ByteBuffer b, boolean eofAtStartOk) throws IOException {
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    if (eofAtStartOk && b.position() == 0) {
                        return false;
                    }
                    throw new IOException("the connection ended inside a frame");
                }
            }
            return true;
        }
    }

    /** An OutputStream that sends what is written as frames of one type. */
    static final class FrameOut extends OutputStream {
        private final SocketChannel ch;
        private final byte type;
        private volatile boolean broken;

        FrameOut(SocketChannel ch, byte type) {
            this.ch = ch;
            this.type = type;
        }

        static void write(SocketChannel ch, byte type, byte[] payload) throws IOException {
            synchronized (ch) {
                ByteBuffer b = ByteBuffer.allocate(5 + payload.length);
                b.put(type).putInt(payload.length).put(payload).flip();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (broken || len == 0) {
                return; // a client that left no longer reads; the command goes on to record its end
            }
            try {
                for (int i = 0; i < len; i += MAX_FRAME) {
                    write(ch, type, java.util.Arrays.copyOfRange(b, off + i, off + Math.min(len, i + MAX_FRAME)));
                }
            } catch (IOException e) {
                broken = true;
            }
        }
    }
}
