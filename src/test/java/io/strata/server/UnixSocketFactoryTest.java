package io.strata.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JDK-channel unix socket behind Connector/J, against a peer on a real unix socket. */
class UnixSocketFactoryTest {
    @TempDir
    Path dir;
    Path path;
    ServerSocketChannel server;

    @BeforeEach
    void listen() throws IOException {
        path = dir.resolve("peer.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
    }

    @AfterEach
    void close() throws IOException {
        server.close();
    }

    private Socket connect() throws IOException {
        Socket s = new UnixSocketFactory.UnixSocket(path);
        s.connect(null, 1000);
        return s;
    }

    @Test
    void bytesTravelBothWaysUnchanged() throws Exception {
        byte[] payload = new byte[3 << 20]; // larger than the socket buffers: writes must wait for the reader
        new Random(7).nextBytes(payload);
        Thread echo = new Thread(() -> {
            try (SocketChannel peer = server.accept()) {
                ByteBuffer b = ByteBuffer.allocate(65536);
                while (peer.read(b) >= 0) {
                    b.flip();
                    while (b.hasRemaining()) {
                        peer.write(b);
                    }
                    b.clear();
                }
            } catch (IOException ignored) {
                // the test fails on the data
            }
        });
        echo.start();
        try (Socket s = connect()) {
            assertTrue(s.isConnected());
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] back = new byte[payload.length];
            Thread writer = new Thread(() -> {
                try {
                    out.write(payload);
                    s.shutdownOutput();
                } catch (IOException ignored) {
                    // the comparison below fails
                }
            });
            writer.start();
            int n = in.readNBytes(back, 0, back.length);
            writer.join();
            assertEquals(payload.length, n);
            assertArrayEquals(payload, back);
            assertEquals(-1, in.read(), "the peer closes after our shutdownOutput");
        }
        echo.join();
    }

    @Test
    void aReadTimeoutEndsAWaitForSilentPeer() throws Exception {
        try (Socket s = connect(); SocketChannel peer = server.accept()) {
            s.setSoTimeout(50);
            long t0 = System.nanoTime();
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(new byte[10]));
            assertTrue(System.nanoTime() - t0 >= 45_000_000L, "waited for the timeout");
            peer.write(ByteBuffer.wrap(new byte[] {42}));
            s.setSoTimeout(0);
            assertEquals(42, s.getInputStream().read(), "data sent after a timeout is still read");
        }
    }

    @Test
    void aMissingSocketNamesThePath() throws Exception {
        Socket s = new UnixSocketFactory.UnixSocket(dir.resolve("nothing.sock"));
        SocketException e = assertThrows(SocketException.class, () -> s.connect(null, 1000));
        assertTrue(e.getMessage().startsWith(dir.resolve("nothing.sock") + ": "), e.getMessage());
        assertThrows(SocketException.class, s::getInputStream);
    }

    @Test
    void closeEndsABlockedRead() throws Exception {
        try (Socket s = connect(); SocketChannel peer = server.accept()) {
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(100);
                    s.close();
                } catch (Exception ignored) {
                    // the read below would block forever and the test time out
                }
            });
            closer.start();
            IOException e = assertThrows(IOException.class, () -> s.getInputStream().read(new byte[4]));
            closer.join();
            assertTrue(s.isClosed(), Arrays.toString(e.getStackTrace()));
        }
    }
}
