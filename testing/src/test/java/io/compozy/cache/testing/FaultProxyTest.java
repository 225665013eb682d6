package io.compozy.cache.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fault proxy in front of a real redis-server, spoken to over plain sockets in RESP. */
class FaultProxyTest {

    private static PlainRedis redis;
    private final String key = "fault-proxy-" + UUID.randomUUID();

    @BeforeAll
    static void startRedis() {
        redis = PlainRedis.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Test
    void forwardsRequestsAndRepliesBothWays() throws IOException {
        try (FaultProxy proxy = FaultProxy.to(redis.port()); Socket client = connect(proxy)) {
            send(client, "SET", key, "v1");
            assertThat(readLine(client)).isEqualTo("+OK");
            send(client, "GET", key);
            assertThat(readLine(client)).isEqualTo("$2");
            assertThat(readLine(client)).isEqualTo("v1");
            assertThat(proxy.openConnections()).isEqualTo(1);
            // bytes are counted once written, which may be just after the client read the reply
            RedisProcess.await("the requests are counted", () -> proxy.requestBytes() > 0);
            RedisProcess.await("the replies are counted", () -> proxy.replyBytes() == "+OK\r\n$2\r\nv1\r\n".length());
        }
    }

    @Test
    void heldRepliesReachNoClientWhileTheServerRunsTheRequestsAndAllArriveOnRelease() throws IOException {
        try (FaultProxy proxy = FaultProxy.to(redis.port()); Socket client = connect(proxy)) {
            send(client, "PING");
            assertThat(readLine(client)).isEqualTo("+PONG");
            proxy.holdReplies();
            send(client, "INCR", key);
            send(client, "INCR", key);
            RedisProcess.await("the server ran both held requests", () -> "2".equals(redis.call("GET", key)));
            assertThat(client.getInputStream().available()).as("no reply passed the hold").isZero();
            try (Socket late = connect(proxy)) {
                send(late, "INCR", key);
                RedisProcess.await("the server ran the new connection's request", () -> "3".equals(redis.call("GET", key)));
                assertThat(late.getInputStream().available()).as("a connection opened during the hold is held too")
                        .isZero();
                proxy.releaseReplies();
                assertThat(readLine(late)).isEqualTo(":3");
            }
            assertThat(readLine(client)).isEqualTo(":1");
            assertThat(readLine(client)).isEqualTo(":2");
        }
    }

    @Test
    void aCutConnectionDeliversExactlyTheBytesAllowedThenEnds() throws IOException {
        redis.call("SET", key, "x".repeat(100_000));
        try (FaultProxy proxy = FaultProxy.to(redis.port())) {
            proxy.cutRepliesAfter(1_000);
            try (Socket client = connect(proxy)) {
                send(client, "GET", key);
                byte[] received = client.getInputStream().readAllBytes(); // until the proxy closes the connection
                assertThat(received).hasSize(1_000);
                assertThat(new String(received, StandardCharsets.US_ASCII)).startsWith("$100000\r\nxxx");
            }
            proxy.stopCutting();
            try (Socket client = connect(proxy)) {
                send(client, "STRLEN", key);
                assertThat(readLine(client)).as("connections after stopCutting are whole").isEqualTo(":100000");
            }
        }
    }

    @Test
    void closingConnectionsEndsThemMidStreamAndNewOnesWork() throws IOException {
        try (FaultProxy proxy = FaultProxy.to(redis.port()); Socket client = connect(proxy)) {
            proxy.holdReplies();
            send(client, "PING");
            RedisProcess.await("the request passed", () -> proxy.requestBytes() > 0);
            proxy.closeConnections();
            assertThat(client.getInputStream().read()).as("the client sees the end of the stream").isEqualTo(-1);
            assertThat(proxy.openConnections()).isZero();
            proxy.releaseReplies();
            try (Socket again = connect(proxy)) {
                send(again, "PING");
                assertThat(readLine(again)).isEqualTo("+PONG");
            }
            assertThat(proxy.acceptedConnections()).isEqualTo(2);
        }
    }

    @Test
    void closeStopsEveryThreadItStartedAndTheListener() throws IOException {
        FaultProxy proxy = FaultProxy.to(redis.port());
        int port = proxy.port();
        Socket client = connect(proxy);
        proxy.holdReplies(); // a pump waiting at the gate must stop too
        send(client, "PING");
        RedisProcess.await("the request passed", () -> proxy.requestBytes() > 0);
        proxy.close();
        client.close();
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("fault-proxy-" + port + "-"));
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
    }

    private static Socket connect(final FaultProxy proxy) throws IOException {
        Socket socket = new Socket("127.0.0.1", proxy.port());
        socket.setSoTimeout(30_000); // only a bound for a broken test; every read here expects data
        return socket;
    }

    private static void send(final Socket socket, final String... command) throws IOException {
        StringBuilder resp = new StringBuilder("*").append(command.length).append("\r\n");
        for (String part : command) {
            resp.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(part).append("\r\n");
        }
        OutputStream out = socket.getOutputStream();
        out.write(resp.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readLine(final Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection ended after '" + line + "'");
            }
            if (previous == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            line.write(b);
            previous = b;
        }
    }
}
