package io.strata.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A loopback HTTP proxy in front of an S3 server that injects faults: for each request, a rule
 * decides whether it is forwarded, answered with HTTP 500 or 503 (as S3 does under load), dropped
 * (the connection closed before any answer) or forwarded with its response cut off part-way.
 * One request per connection (it asks the server for "Connection: close"), so each request is
 * seen and judged on its own.
 */
public final class FaultyProxy implements AutoCloseable {
    /**
     * What happens to a request: forwarded ({@code NONE}), answered with an error, dropped, cut
     * off part-way, or {@code STALL}: held unanswered and never forwarded until the client goes
     * away (a process killed while it waits for the store) or two minutes passed, then dropped.
     */
    /**
     * What the proxy does with a request: forwards it ({@code NONE}); answers 500 or 503; closes
     * the connection unanswered ({@code DROP}); cuts the response after 200,000 bytes; holds the
     * request unanswered ({@code STALL}); or forwards it and answers a ranged GET's 206 as 200
     * without its Content-Range header, as a server that ignores ranges would ({@code IGNORE_RANGE}).
     */
    public enum Fault { NONE, HTTP_500, HTTP_503, DROP, CUT_RESPONSE, STALL, IGNORE_RANGE }

    /** A request as the rule sees it: its number (from 1), method and path with query. */
    /** One request as the proxy saw it; {@code head} is its request line and headers. */
    public record Request(int seq, String method, String path, String head) {
        /** A header's value, or null. */
        public String header(String name) { return FaultyProxy.header(head, name); }
    }

    private final ServerSocket server;
    private final int backendPort;
    private final Thread acceptor;
    private final AtomicInteger seq = new AtomicInteger();
    private final AtomicInteger faults = new AtomicInteger();
    private final AtomicInteger stalled = new AtomicInteger();
    private volatile Function<Request, Fault> rule = r -> Fault.NONE;
    private volatile boolean closed;

    private FaultyProxy(ServerSocket server, int backendPort) {
        this.server = server;
        this.backendPort = backendPort;
        this.acceptor = new Thread(this::acceptLoop, "faulty-proxy");
        this.acceptor.setDaemon(true);
    }

    public static FaultyProxy start(int backendPort) {
        try {
            FaultyProxy p = new FaultyProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), backendPort);
            p.acceptor.start();
            return p;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String endpoint() { return "http://127.0.0.1:" + server.getLocalPort(); }

    public void rule(Function<Request, Fault> r) { this.rule = r; }

    public int requests() { return seq.get(); }

    public int faults() { return faults.get(); }

    /** Requests held by {@link Fault#STALL} so far. */
    public int stalled() { return stalled.get(); }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> handle(s), "faulty-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    e.printStackTrace();
                }
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            InputStream in = new BufferedInputStream(client.getInputStream());
            String head = readHead(in);
            if (head == null) {
                return;
            }
            String[] first = head.substring(0, head.indexOf("\r\n")).split(" ");
            Request req = new Request(seq.incrementAndGet(), first[0], first[1], head);
            Fault f = rule.apply(req);
            if (f != Fault.NONE) {
                faults.incrementAndGet();
            }
            switch (f) {
                case DROP -> { /* close without an answer */ }
                case STALL -> stall(client, in);
                case HTTP_500, HTTP_503 -> answerError(client, in, head, f == Fault.HTTP_500 ? 500 : 503);
                default -> forward(client, in, head, f == Fault.CUT_RESPONSE, f == Fault.IGNORE_RANGE);
            }
        } catch (IOException ignored) {
            // the client or server went away
        }
    }

    /** Holds the request, reading and discarding what the client sends, until it closes the connection (or 2 minutes). */
    private void stall(Socket client, InputStream in) throws IOException {
        stalled.incrementAndGet();
        client.setSoTimeout(120_000);
        byte[] b = new byte[65536];
        try {
            while (in.read(b) >= 0) {
                // the body is never forwarded
            }
        } catch (java.net.SocketTimeoutException e) {
            // given up: dropped like DROP
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : (c == '\r' ? 1 : 0);
            if (b.size() > 65536) {
                throw new IOException("request head too long");
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    private static void answerError(Socket client, InputStream in, String head, int status) throws IOException {
        String expect = header(head, "Expect");
        String len = header(head, "Content-Length");
        if ((expect == null || !expect.toLowerCase(Locale.ROOT).contains("100-continue")) && len != null) {
            in.skipNBytes(Long.parseLong(len)); // read the body so that the client sees the answer, not a reset
        }
        String code = status == 503 ? "SlowDown" : "InternalError";
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>injected fault</Message></Error>";
        String resp = "HTTP/1.1 " + status + (status == 503 ? " Service Unavailable" : " Internal Server Error") + "\r\n"
                + "Content-Type: application/xml\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
        OutputStream out = client.getOutputStream();
        out.write(resp.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private void forward(Socket client, InputStream in, String head, boolean cut, boolean noRange) throws IOException {
        try (Socket backend = new Socket(InetAddress.getLoopbackAddress(), backendPort)) {
            // one request per connection: the client's "Connection: keep-alive" (added by its HTTP
            // stack, not signed) becomes "close"
            StringBuilder b = new StringBuilder();
            for (String line : head.substring(0, head.length() - 4).split("\r\n")) {
                if (!line.regionMatches(true, 0, "Connection:", 0, 11)) {
                    b.append(line).append("\r\n");
                }
            }
            String h = b.append("Connection: close\r\n\r\n").toString();
            OutputStream toBackend = backend.getOutputStream();
            toBackend.write(h.getBytes(StandardCharsets.ISO_8859_1));
            toBackend.flush();
            Thread up = new Thread(() -> {
                try {
                    in.transferTo(toBackend);
                } catch (IOException ignored) {
                    // connection closed
                }
            }, "faulty-proxy-up");
            up.setDaemon(true);
            up.start();
            InputStream fromBackend = new BufferedInputStream(backend.getInputStream());
            OutputStream toClient = client.getOutputStream();
            if (noRange) {
                String answer = readHead(fromBackend);
                if (answer == null) {
                    return;
                }
                StringBuilder r = new StringBuilder();
                for (String line : answer.substring(0, answer.length() - 4).split("\r\n")) {
                    if (line.startsWith("HTTP/1.1 206")) {
                        line = "HTTP/1.1 200 OK";
                    }
                    if (!line.regionMatches(true, 0, "Content-Range:", 0, 14)) {
                        r.append(line).append("\r\n");
                    }
                }
                toClient.write(r.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            }
            byte[] buf = new byte[65536];
            long sent = 0;
            long limit = cut ? 200_000 : Long.MAX_VALUE;
            int n;
            while ((n = fromBackend.read(buf)) > 0) {
                int m = (int) Math.min(n, limit - sent);
                toClient.write(buf, 0, m);
                sent += m;
                if (sent >= limit) {
                    break; // the response is cut here
                }
            }
            toClient.flush();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
