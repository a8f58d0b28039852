package io.strata.server;

import org.mariadb.jdbc.Configuration;
import org.mariadb.jdbc.util.ConfigurableSocketFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Connects Connector/J to a unix socket with the JDK's own unix-domain channels (Java 16+).
 *
 * <p>Connector/J's built-in {@code localSocket} support needs JNA, which on every run unpacks a
 * native library into ~/.cache and runs {@code ldconfig -p}: about a tenth of a second, most of
 * the fixed cost of a short run such as an incremental that finds nothing changed. The URL names
 * this class as {@code socketFactory} and passes the socket path as the {@code strataSocket}
 * option; the host in the URL is then ignored.
 *
 * <p>The socket is a {@link java.net.Socket} facade over a non-blocking {@link SocketChannel}:
 * reads and writes wait on a selector, so {@link #setSoTimeout read timeouts} work as for a TCP
 * socket (Connector/J uses one while closing). TCP options are accepted and have no effect.
 */
public final class UnixSocketFactory extends ConfigurableSocketFactory {
    /** The URL option that carries the socket path. */
    public static final String PATH_OPTION = "strataSocket";

    private Path path;

    public UnixSocketFactory() {
    }

    @Override
    public void setConfiguration(Configuration conf, String host) {
        String p = conf.nonMappedOptions() == null ? null : conf.nonMappedOptions().getProperty(PATH_OPTION);
        path = p == null ? null : Path.of(p);
    }

    @Override
    public Socket createSocket() throws IOException {
        if (path == null) {
            throw new SocketException("no unix socket path given (option " + PATH_OPTION + ")");
        }
        return new UnixSocket(path);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return connected();
    }

    private Socket connected() throws IOException {
        Socket s = createSocket();
        s.connect(null, 0);
        return s;
    }

    /** A connected-on-demand unix socket that behaves like a stream socket for Connector/J. */
    static final class UnixSocket extends Socket {
        private final Path path;
        private final Object lock = new Object();
        private final Object readLock = new Object();
        private final Object writeLock = new Object();
        private SocketChannel channel;
        private Selector readSelector;
        private Selector writeSelector;
        private volatile int timeoutMs;
        private volatile boolean closed;
        private boolean inputShut;
        private boolean outputShut;
        private InputStream in;
        private OutputStream out;

        UnixSocket(Path path) throws SocketException {
            super((java.net.SocketImpl) null);
            this.path = path;
        }

        /** Connects to the path given at construction; the address passed in is ignored. */
        @Override
        public void connect(SocketAddress ignored, int timeout) throws IOException {
            synchronized (lock) {
                if (closed) {
                    throw new SocketException("Socket is closed");
                }
                if (channel != null) {
                    throw new SocketException("already connected");
                }
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    // a unix socket connects at once or fails (no such file, refused, permission)
                    ch.connect(UnixDomainSocketAddress.of(path));
                    ch.configureBlocking(false);
                    readSelector = Selector.open();
                    writeSelector = Selector.open();
                    ch.register(readSelector, SelectionKey.OP_READ);
                    ch.register(writeSelector, SelectionKey.OP_WRITE);
                } catch (IOException e) {
                    ch.close();
                    closeSelectors();
                    throw new SocketException(path + ": " + reason(e));
                }
                channel = ch;
                in = new In();
                out = new Out();
            }
        }

        private static String reason(IOException e) {
            String m = e.getMessage();
            return m == null ? e.getClass().getSimpleName() : m;
        }

        @Override
        public void connect(SocketAddress endpoint) throws IOException {
            connect(endpoint, 0);
        }

        @Override
        public boolean isConnected() {
            synchronized (lock) {
                return channel != null;
            }
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public boolean isBound() {
            return isConnected();
        }

        @Override
        public boolean isInputShutdown() {
            synchronized (lock) {
                return inputShut;
            }
        }

        @Override
        public boolean isOutputShutdown() {
            synchronized (lock) {
                return outputShut;
            }
        }

        @Override
        public InputStream getInputStream() throws IOException {
            synchronized (lock) {
                check();
                return in;
            }
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            synchronized (lock) {
                check();
                return out;
            }
        }

        private void check() throws SocketException {
            if (closed) {
                throw new SocketException("Socket is closed");
            }
            if (channel == null) {
                throw new SocketException("Socket is not connected");
            }
        }

        @Override
        public void shutdownInput() throws IOException {
            synchronized (lock) {
                check();
                channel.shutdownInput();
                inputShut = true;
            }
        }

        @Override
        public void shutdownOutput() throws IOException {
            synchronized (lock) {
                check();
                channel.shutdownOutput();
                outputShut = true;
            }
        }

        @Override
        public void close() throws IOException {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    if (channel != null) {
                        channel.close();
                    }
                } finally {
                    closeSelectors();
                }
            }
        }

        private void closeSelectors() throws IOException {
            try {
                if (readSelector != null) {
                    readSelector.close();
                }
            } finally {
                if (writeSelector != null) {
                    writeSelector.close();
                }
            }
        }

        @Override
        public void setSoTimeout(int timeout) throws SocketException {
            if (timeout < 0) {
                throw new IllegalArgumentException("timeout < 0");
            }
            timeoutMs = timeout;
        }

        @Override
        public int getSoTimeout() {
            return timeoutMs;
        }

        // TCP options mean nothing on a unix socket: accepted, without effect
        @Override
        public void setTcpNoDelay(boolean on) {
        }

        @Override
        public boolean getTcpNoDelay() {
            return true;
        }

        @Override
        public void setKeepAlive(boolean on) {
        }

        @Override
        public boolean getKeepAlive() {
            return false;
        }

        @Override
        public void setSoLinger(boolean on, int linger) {
        }

        @Override
        public int getSoLinger() {
            return -1;
        }

        @Override
        public void setReceiveBufferSize(int size) {
        }

        @Override
        public void setSendBufferSize(int size) {
        }

        @Override
        public InetAddress getInetAddress() {
            return null;
        }

        @Override
        public InetAddress getLocalAddress() {
            return null;
        }

        @Override
        public SocketAddress getRemoteSocketAddress() {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public String toString() {
            return "UnixSocket[" + path + "]";
        }

        private final class In extends InputStream {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                ByteBuffer bb = ByteBuffer.wrap(b, off, len);
                int timeout = timeoutMs;
                long deadline = timeout == 0 ? 0 : System.nanoTime() + timeout * 1_000_000L;
                synchronized (readLock) {
                    while (true) {
                        int n = channel.read(bb);
                        if (n != 0) {
                            return n;
                        }
                        long wait = 0;
                        if (timeout != 0) {
                            wait = (deadline - System.nanoTime()) / 1_000_000L;
                            if (wait <= 0) {
                                throw new SocketTimeoutException("Read timed out");
                            }
                        }
                        try {
                            readSelector.select(wait);
                            readSelector.selectedKeys().clear();
                        } catch (java.nio.channels.ClosedSelectorException e) {
                            throw new SocketException("Socket closed");
                        }
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                    }
                }
            }

            @Override
            public int available() throws IOException {
                return 0;
            }

            @Override
            public void close() throws IOException {
                UnixSocket.this.close();
            }
        }

        private final class Out extends OutputStream {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer bb = ByteBuffer.wrap(b, off, len);
                synchronized (writeLock) {
                    while (bb.hasRemaining()) {
                        if (channel.write(bb) == 0) {
                            try {
                                writeSelector.select();
                                writeSelector.selectedKeys().clear();
                            } catch (java.nio.channels.ClosedSelectorException e) {
                                throw new SocketException("Socket closed");
                            }
                            if (closed) {
                                throw new SocketException("Socket closed");
                            }
                        }
                    }
                }
            }

            @Override
            public void close() throws IOException {
                UnixSocket.this.close();
            }
        }
    }
}
