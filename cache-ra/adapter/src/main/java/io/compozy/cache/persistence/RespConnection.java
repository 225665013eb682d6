package io.compozy.cache.persistence;

import io.compozy.cache.config.Secret;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal RESP2 connection to the embedded redis-server, for the few server commands snapshots need
 * (BGSAVE, INFO). Its own socket keeps snapshot control apart from the applications' client, which the
 * adapter shuts down before the final snapshot's server does. Not thread-safe: one per snapshot.
 */
final class RespConnection implements AutoCloseable {

    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 60_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RespConnection(final Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = new BufferedOutputStream(socket.getOutputStream());
    }

    static RespConnection open(final String host, final int port, final Secret password) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            RespConnection connection = new RespConnection(socket);
            connection.call("AUTH", password.reveal());
            return connection;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends one command and returns its reply: String, Long, List or null. */
    Object call(final String... command) throws IOException {
        return pipeline(List.<String[]>of(command)).get(0);
    }

    /**
     * Sends the commands in one write and reads their replies: Redis runs commands that arrive together
     * one after the other in the same event-loop turn, with nothing of its own (such as reaping a
     * finished BGSAVE child) in between.
     */
    List<Object> pipeline(final List<String[]> commands) throws IOException {
        for (String[] command : commands) {
            write(command);
        }
        out.flush();
        List<Object> replies = new ArrayList<>(commands.size());
        RedisError firstError = null;
        for (int i = 0; i < commands.size(); i++) {
            try {
                replies.add(read());
            } catch (RedisError e) {
                replies.add(null);
                firstError = firstError == null ? e : firstError;
            }
        }
        if (firstError != null) {
            throw firstError;
        }
        return replies;
    }

    /** {@code INFO section} as a map of its {@code name:value} lines. */
    Map<String, String> info(final String section) throws IOException {
        return parseInfo((String) call("INFO", section));
    }

    static Map<String, String> parseInfo(final String text) {
        Map<String, String> fields = new HashMap<>();
        for (String line : text.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("#")) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return fields;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    private void write(final String[] command) throws IOException {
        out.write(('*' + Integer.toString(command.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String arg : command) {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            out.write(('$' + Integer.toString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.write('\r');
            out.write('\n');
        }
    }

    private Object read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("redis-server closed the connection");
        }
        String line = readLine();
        switch (type) {
            case '+':
                return line;
            case '-':
                throw new RedisError(line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length);
                if (bytes.length != length || in.read() != '\r' || in.read() != '\n') {
                    throw new EOFException("redis-server closed the connection mid-reply");
                }
                return new String(bytes, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    items.add(read());
                }
                return items;
            }
            default:
                throw new IOException("unexpected RESP reply type '" + (char) type + "'");
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        int b;
        while ((b = in.read()) != '\r') {
            if (b < 0) {
                throw new EOFException("redis-server closed the connection mid-reply");
            }
            line.write(b);
        }
        if (in.read() != '\n') {
            throw new IOException("malformed RESP line");
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    /** An error reply from Redis (its own words; never contains our password). */
    static final class RedisError extends IOException {
        private static final long serialVersionUID = 1L;

        RedisError(final String message) {
            super(message);
        }
    }
}
