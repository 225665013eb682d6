package io.compozy.cache.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A request exactly as {@code curl -u admin:... -X POST http://host/api/...} sends it: the request line, Host,
 * Authorization, User-Agent, Accept, and nothing else (no Content-Type, no Content-Length, no body).
 * {@code java.net.http} cannot send that: it always adds a Content-Length to a POST.
 */
public final class CurlRequest {

    /** What came back: the status, the headers (names in lower case) and the body as text. */
    public record Answer(int status, Map<String, String> headers, String body) {
    }

    private CurlRequest() {
    }

    /** {@code curl -u admin:<password> -X <method> <base>/api/<path>}. */
    public static Answer asAdmin(final String method, final String path) {
        String request = method + " /api/" + path + " HTTP/1.1\r\n"
                + "Host: localhost:" + TestServer.httpPort() + "\r\n"
                + "Authorization: Basic " + AdminCredentials.basicToken() + "\r\n"
                + "User-Agent: curl/7.88.1\r\n"
                + "Accept: */*\r\n"
                + "\r\n";
        try (Socket socket = new Socket("localhost", TestServer.httpPort())) {
            socket.setSoTimeout(120_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return read(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Answer read(final InputStream in) throws IOException {
        String statusLine = line(in);
        Map<String, String> headers = new TreeMap<>();
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
        }
        byte[] body;
        if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream chunks = new ByteArrayOutputStream();
            for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16); size > 0;
                    size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                chunks.write(in.readNBytes(size));
                line(in); // the CRLF after each chunk
            }
            body = chunks.toByteArray();
        } else {
            body = in.readAllBytes();
        }
        return new Answer(Integer.parseInt(statusLine.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    /** One CRLF-terminated line, without the CRLF. */
    private static String line(final InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the connection closed in the middle of the answer's head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
