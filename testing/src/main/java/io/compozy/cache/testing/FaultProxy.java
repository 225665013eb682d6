package io.compozy.cache.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of a real server (a redis-server), for tests that make network faults
 * on purpose instead of waiting for them:
 * <ul>
 *   <li>{@link #holdReplies()}: the server's bytes stop reaching the clients (the server still gets and runs
 *       every request) until {@link #releaseReplies()}: a reply timeout on demand;</li>
 *   <li>{@link #cutRepliesAfter(long)}: every connection is closed once it has forwarded that many more bytes
 *       of the server's: a reply or a stream cut short;</li>
 *   <li>{@link #closeConnections()}: every open connection is closed now, mid-stream.</li>
 * </ul>
 * Plain blocking sockets: one accepting thread, and two pumping threads per connection (one each way), all
 * daemons; {@link #close()} closes every socket and waits for every one of those threads to end.
 */
public final class FaultProxy implements AutoCloseable {

    private static final String HOST = "127.0.0.1";
    private static final int CHUNK = 16 * 1024;
    private static final long NO_CUT = Long.MAX_VALUE;
    private static final long JOIN_MS = 10_000;

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final Thread acceptor;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final List<Thread> pumps = new ArrayList<>();
    private final Object gate = new Object();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicLong requestBytes = new AtomicLong();
    private final AtomicLong replyBytes = new AtomicLong();
    private boolean held;
    private volatile long cutAfter = NO_CUT;
    private volatile boolean closed;

    private FaultProxy(final InetSocketAddress target, final ServerSocket listener) {
        this.target = target;
        this.listener = listener;
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-" + listener.getLocalPort() + "-accept");
        acceptor.setDaemon(true);
    }

    /** Starts a proxy on a free loopback port that forwards every connection to {@code 127.0.0.1:targetPort}. */
    public static FaultProxy to(final int targetPort) {
        try {
            ServerSocket listener = new ServerSocket(0, 50, InetAddress.getByName(HOST));
            FaultProxy proxy = new FaultProxy(new InetSocketAddress(HOST, targetPort), listener);
            proxy.acceptor.start();
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on a loopback port for a fault proxy", e);
        }
    }

    /** The loopback port clients connect to. */
    public int port() {
        return listener.getLocalPort();
    }

    /**
     * From now on no byte of the servers' reaches a client (open connections and new ones) until
     * {@link #releaseReplies()}; requests still pass, so the server runs them and its replies wait here.
     */
    public void holdReplies() {
        synchronized (gate) {
            held = true;
        }
    }

    /** Lets the held replies, and every later one, through. */
    public void releaseReplies() {
        synchronized (gate) {
            held = false;
            gate.notifyAll();
        }
    }

    /**
     * Closes each connection (open ones and later ones) once it has forwarded {@code bytes} more bytes of the
     * server's: the client gets exactly those bytes, then the end of the stream (0: at once). The server sees
     * its connection closed as well.
     */
    public void cutRepliesAfter(final long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a byte count cannot be negative: " + bytes);
        }
        cutAfter = bytes;
        List.copyOf(links).forEach(link -> link.cutAt(bytes));
    }

    /** Stops cutting connections (those already cut stay closed). */
    public void stopCutting() {
        cutAfter = NO_CUT;
        links.forEach(link -> link.cutAt(NO_CUT));
    }

    /** Closes every open connection now, both sides, whatever is in flight; new connections are accepted. */
    public void closeConnections() {
        List.copyOf(links).forEach(Link::close);
    }

    /** Connections open through the proxy right now. */
    public int openConnections() {
        return links.size();
    }

    /** Connections accepted since the start. */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** Bytes forwarded from clients to the server since the start. */
    public long requestBytes() {
        return requestBytes.get();
    }

    /** Bytes forwarded from the server to clients since the start. */
    public long replyBytes() {
        return replyBytes.get();
    }

    /** Closes the listening socket and every connection, and waits until every thread of the proxy has ended. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        releaseReplies(); // wakes pumps waiting at the gate; they see the sockets closed
        closeConnections();
        join(acceptor);
        List<Thread> all;
        synchronized (pumps) {
            all = List.copyOf(pumps);
        }
        all.forEach(FaultProxy::join);
    }

    private static void join(final Thread thread) {
        try {
            thread.join(JOIN_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException("fault proxy thread " + thread.getName() + " did not stop");
        }
    }

    @Override
    public String toString() {
        return "fault proxy 127.0.0.1:" + port() + " -> " + target.getHostString() + ":" + target.getPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // the listener was closed
            }
            try {
                Socket server = new Socket();
                server.connect(target, 5_000);
                start(new Link(client, server, cutAfter, accepted.incrementAndGet()));
            } catch (IOException e) {
                closeQuietly(client); // the server is away: the client sees its connection closed
            }
        }
    }

    private void start(final Link link) throws IOException {
        links.add(link);
        if (closed || link.exhausted()) {
            link.close();
            return;
        }
        InputStream fromClient = link.client.getInputStream();
        OutputStream toServer = link.server.getOutputStream();
        InputStream fromServer = link.server.getInputStream();
        OutputStream toClient = link.client.getOutputStream();
        Thread up = new Thread(() -> pump(link, fromClient, toServer, false),
                "fault-proxy-" + port() + "-" + link.number + "-requests");
        Thread down = new Thread(() -> pump(link, fromServer, toClient, true),
                "fault-proxy-" + port() + "-" + link.number + "-replies");
        up.setDaemon(true);
        down.setDaemon(true);
        synchronized (pumps) {
            pumps.removeIf(thread -> !thread.isAlive());
            pumps.add(up);
            pumps.add(down);
        }
        up.start();
        down.start();
    }

    private void pump(final Link link, final InputStream in, final OutputStream out, final boolean replies) {
        byte[] buffer = new byte[CHUNK];
        try {
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                if (replies) {
                    awaitReleased();
                    long allowed = link.take(n);
                    out.write(buffer, 0, (int) allowed);
                    replyBytes.addAndGet(allowed);
                    if (allowed < n || link.exhausted()) {
                        break; // cut here
                    }
                } else {
                    out.write(buffer, 0, n);
                    requestBytes.addAndGet(n);
                }
            }
        } catch (IOException e) {
            // a side closed (or was closed by a fault): end the link
        } finally {
            link.close();
        }
    }

    private void awaitReleased() throws IOException {
        synchronized (gate) {
            while (held && !closed) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while replies were held", e);
                }
            }
        }
    }

    private static void closeQuietly(final Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    /** One client connection and its connection to the server. */
    private final class Link {

        final Socket client;
        final Socket server;
        final int number;
        private long remaining;

        Link(final Socket client, final Socket server, final long cutAfter, final int number) {
            this.client = client;
            this.server = server;
            this.remaining = cutAfter;
            this.number = number;
        }

        void cutAt(final long bytes) {
            synchronized (this) {
                remaining = bytes;
            }
            if (bytes == 0) {
                close();
            }
        }

        /** How many of {@code n} reply bytes may still pass before the cut. */
        synchronized long take(final int n) {
            if (remaining == NO_CUT) {
                return n;
            }
            long allowed = Math.min(n, remaining);
            remaining -= allowed;
            return allowed;
        }

        synchronized boolean exhausted() {
            return remaining == 0;
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            closeQuietly(server);
        }
    }
}
