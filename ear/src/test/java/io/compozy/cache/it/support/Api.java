package io.compozy.cache.it.support;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/** HTTP calls to the EAR's REST API from the test JVM, as a curl user makes them. */
public final class Api {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Api() {
    }

    public static HttpRequest.Builder request(final String path) {
        return HttpRequest.newBuilder(URI.create(TestServer.baseUrl() + "/api/" + path)).timeout(Duration.ofSeconds(30));
    }

    public static HttpResponse<String> get(final String path) {
        return send(request(path).GET());
    }

    public static HttpResponse<String> delete(final String path) {
        return send(request(path).DELETE());
    }

    public static HttpResponse<String> post(final String path, final String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public static HttpResponse<String> put(final String path, final String json) {
        return send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** POST as the administrator (the admin endpoints need a login in the admin role). */
    public static HttpResponse<String> adminPost(final String path, final String json) {
        return send(AdminCredentials.authorize(request(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** GET as the administrator. */
    public static HttpResponse<String> adminGet(final String path) {
        return send(AdminCredentials.authorize(request(path)).GET());
    }

    /** A generation as an RDB file, as the administrator downloads it (docs/api.md). */
    public static HttpResponse<byte[]> downloadRdb(final long generation) {
        try {
            return HTTP.send(transfer("admin/snapshots/" + generation + "/rdb").GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An RDB file sent as the administrator uploads it (Content-Type: application/octet-stream). */
    public static HttpResponse<String> uploadRdb(final byte[] rdb) {
        return send(transfer("admin/snapshots").header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(rdb)));
    }

    /** An administrator's request that moves a whole generation: more time than a plain call. */
    public static HttpRequest.Builder transfer(final String path) {
        return AdminCredentials.authorize(request(path)).timeout(Duration.ofSeconds(120));
    }

    /**
     * {@code response} when it has {@code status}; otherwise an AssertionError naming the request, the
     * status and the body. For set-up steps, whose failure would otherwise surface later as a wrong reason.
     */
    public static HttpResponse<String> expect(final int status, final HttpResponse<String> response) {
        if (response.statusCode() != status) {
            throw new AssertionError(response.request().method() + " " + response.uri() + " answered "
                    + response.statusCode() + ", expected " + status + ": " + response.body());
        }
        return response;
    }

    public static HttpResponse<String> send(final HttpRequest.Builder request) {
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Opens a Server-Sent Events stream; the caller closes the returned lines. */
    public static Stream<String> stream(final HttpRequest.Builder request) {
        try {
            return HTTP.send(request.header("Accept", "text/event-stream").timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofLines()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The next {@code data:} line of an SSE stream, parsed. */
    public static JsonObject nextData(final Iterator<String> lines) {
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.startsWith("data:")) {
                return json(line.substring(5).trim());
            }
        }
        throw new IllegalStateException("the event stream ended");
    }

    /** Reads an SSE stream's data into {@code into} on a daemon thread, until the stream ends. */
    public static Thread followInBackground(final Iterator<String> lines, final List<JsonObject> into) {
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    into.add(nextData(lines));
                }
            } catch (RuntimeException streamClosed) {
                // the test is over
            }
        }, "sse-reader");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    public static JsonObject json(final String body) {
        return Json.createReader(new StringReader(body)).readObject();
    }

    public static JsonObject json(final HttpResponse<String> response) {
        return json(response.body());
    }
}
