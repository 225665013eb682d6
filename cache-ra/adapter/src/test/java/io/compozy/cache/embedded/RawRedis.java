package io.compozy.cache.embedded;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One RESP connection on a socket, no client library in between: a test sees exactly what Redis answers to
 * bytes it chose (a crashed server is an EOF, not a retry), and errors come back as text to assert on.
 */
final class RawRedis implements AutoCloseable {

    private final Socket socket = new Socket();
    private final InputStream in;
    private final OutputStream out;

    RawRedis(final int port, final String password) throws IOException {
        socket.connect(new InetSocketAddress(EmbeddedRedisServer.HOST, port), 2000);
        socket.setSoTimeout(10_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        Object auth = call("AUTH", password);
        if (!"OK".equals(auth)) {
            throw new IOException("AUTH answered " + auth);
        }
    }

    /** Sends one command; returns a simple string, an error as "-ERR ...", a bulk string as byte[], a long, or null. */
    Object call(final Object... args) throws IOException {
        ByteArrayOutputStream command = new ByteArrayOutputStream();
        command.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (Object arg : args) {
            byte[] bytes = arg instanceof byte[] raw ? raw : String.valueOf(arg).getBytes(StandardCharsets.UTF_8);
            command.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            command.writeBytes(bytes);
            command.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(command.toByteArray());
        out.flush();
        return reply();
    }

    /** {@link #call} for a reply that is text: a bulk string decoded as UTF-8. */
    String text(final Object... args) throws IOException {
        Object reply = call(args);
        return reply instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(reply);
    }

    /** {@link #call} for a reply that is an array of bulk strings, decoded as UTF-8. */
    List<String> texts(final Object... args) throws IOException {
        Object reply = call(args);
        if (!(reply instanceof List<?> items)) {
            throw new IOException("expected an array, got " + reply);
        }
        return items.stream().map(item -> item instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8)
                : String.valueOf(item)).toList();
    }

    private Object reply() throws IOException {
        int type = in.read();
        String line = line();
        return switch (type) {
            case '+' -> line;
            case '-' -> "-" + line;
            case ':' -> Long.parseLong(line);
            case '$' -> {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    yield null;
                }
                byte[] bulk = in.readNBytes(length + 2);
                yield Arrays.copyOf(bulk, length);
            }
            case '*' -> {
                int count = Integer.parseInt(line);
                Object[] items = new Object[Math.max(count, 0)];
                for (int i = 0; i < items.length; i++) {
                    items[i] = reply();
                }
                yield Arrays.asList(items);
            }
            case -1 -> throw new IOException("the connection was closed: the server is gone");
            default -> throw new IOException("unexpected reply type " + (char) type);
        };
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\r'; ) {
            if (b < 0) {
                throw new IOException("the connection was closed: the server is gone");
            }
            line.write(b);
        }
        in.read(); // '\n'
        return line.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
