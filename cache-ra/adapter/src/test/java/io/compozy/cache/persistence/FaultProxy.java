package io.compozy.cache.persistence;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP proxy on loopback in front of a real redis-server, to make a fault on purpose: cut the first connection
 * that has carried N bytes to the client, hold every reply back until released, or hold each connection's
 * requests beyond N bytes. Held bytes are buffered, and a pump keeps reading while it holds, so the death of
 * either side still closes the other.
 */
final class FaultProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final List<Pump> replyPumps = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cutDone = new AtomicBoolean();
    private final CountDownLatch cut = new CountDownLatch(1);
    private final CountDownLatch holding = new CountDownLatch(1);
    private volatile long cutAfterReplyBytes = Long.MAX_VALUE;
    private volatile long requestBytesPassed = Long.MAX_VALUE;
    private volatile boolean holdReplies;

    private FaultProxy(final int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "fault-proxy-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static FaultProxy to(final int targetPort) throws IOException {
        return new FaultProxy(targetPort);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Closes the first connection whose replies pass {@code bytes}, in the middle of whatever it carries. */
    FaultProxy cutFirstConnectionAfterReplyBytes(final long bytes) {
        cutAfterReplyBytes = bytes;
        return this;
    }

    /** Every connection forwards its first {@code bytes} of requests, then holds the rest (until closed). */
    FaultProxy holdRequestsBeyond(final long bytes) {
        requestBytesPassed = bytes;
        return this;
    }

    /** Replies are held from now on, on every connection, until {@link #releaseReplies()}. */
    void holdReplies() {
        holdReplies = true;
    }

    void releaseReplies() {
        holdReplies = false;
        for (Pump pump : replyPumps) {
            pump.flushHeld();
        }
    }

    boolean wasCut() {
        return cut.getCount() == 0;
    }

    /** Whether some connection holds requests back now. */
    boolean holdsRequests() {
        return holding.getCount() == 0;
    }

    /** Whether every connection it carried is closed on both sides. */
    boolean idle() {
        return sockets.isEmpty();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(server);
                AtomicBoolean cutHere = new AtomicBoolean();
                Pump requests = new Pump(client, server, false, cutHere);
                Pump replies = new Pump(server, client, true, cutHere);
                replyPumps.add(replies);
                start(requests, "requests");
                start(replies, "replies");
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void start(final Pump pump, final String what) {
        Thread thread = new Thread(pump, "fault-proxy-" + what);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
    }

    private void closeQuietly(final Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
        sockets.remove(socket);
    }

    /** One direction of one connection. */
    private final class Pump implements Runnable {

        private final Socket from;
        private final Socket to;
        private final boolean replies;
        private final AtomicBoolean cutHere;
        private final ByteArrayOutputStream held = new ByteArrayOutputStream();
        private long carried;

        Pump(final Socket from, final Socket to, final boolean replies, final AtomicBoolean cutHere) {
            this.from = from;
            this.to = to;
            this.replies = replies;
            this.cutHere = cutHere;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    forward(buffer, n);
                }
            } catch (IOException e) {
                // one side went away: close both below
            } finally {
                closeQuietly(from);
                if (!(replies && cutHere.get())) {
                    closeQuietly(to); // after a cut the client's side is closed by its own request pump
                }
            }
        }

        private synchronized void forward(final byte[] buffer, final int n) throws IOException {
            if (cutHere.get()) {
                return; // after a cut the client's requests are read and dropped, so that its socket is not reset
            }
            if (replies && carried + n > cutAfterReplyBytes && cutDone.compareAndSet(false, true)) {
                cut(buffer, (int) Math.max(0, cutAfterReplyBytes - carried));
            }
            int pass = n;
            if (!replies && carried + n > requestBytesPassed) {
                pass = (int) Math.max(0, requestBytesPassed - carried);
                held.write(buffer, pass, n - pass);
                holding.countDown();
            }
            carried += n;
            if (replies && holdReplies) {
                held.write(buffer, 0, n);
                return;
            }
            flushHeld();
            try {
                to.getOutputStream().write(buffer, 0, pass);
                to.getOutputStream().flush();
            } catch (IOException e) {
                if (!cutHere.get()) {
                    throw e;
                } // else the cut closed the server's side under this write; the client's side stays open
            }
        }

        /** As a source that closes its connection: what it sent so far, then an orderly end of stream. */
        private void cut(final byte[] buffer, final int length) throws IOException {
            cutHere.set(true);
            to.getOutputStream().write(buffer, 0, length);
            to.shutdownOutput();
            closeQuietly(from);
            cut.countDown();
            throw new IOException("cut on purpose");
        }

        /** Sends what replies were held; requests held beyond their limit stay held. */
        synchronized void flushHeld() {
            if (!replies || held.size() == 0) {
                return;
            }
            try {
                held.writeTo(to.getOutputStream());
                to.getOutputStream().flush();
            } catch (IOException e) {
                closeQuietly(from);
                closeQuietly(to);
            }
            held.reset();
        }
    }
}
