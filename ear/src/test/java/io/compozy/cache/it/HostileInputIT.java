package io.compozy.cache.it;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.it.support.Api;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;

/**
 * What an attacker or a buggy client sends, on a real Liberty in both modes: every answer is a 4xx with
 * an {@code application/problem+json} body, never a 500, and nothing lands outside its namespace.
 * The HTTP calls run as a client; the key-space check runs in the server with the injected client.
 */
@ExtendWith(ArquillianExtension.class)
class HostileInputIT {

    @Deployment
    static WebArchive secondApplication() {
        return SecondApplication.archive(HostileInputIT.class, Api.class);
    }

    @Inject
    RedissonClient redis;

    private static final HttpClient HTTP_1_1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final String unique = UUID.randomUUID().toString().substring(0, 8);

    /** Every endpoint that takes a JSON body, with a path valid for this run. */
    private List<Map.Entry<String, String>> bodyEndpoints() {
        return List.of(
                Map.entry("POST", "memory/hostile-" + unique + "/messages"),
                Map.entry("PUT", "memory/hostile-" + unique + "/messages"),
                Map.entry("POST", "memory/hostile-" + unique + "/trim"),
                Map.entry("PUT", "resources/hostile" + unique + "/agent/a1"),
                Map.entry("PUT", "task-configs/hostile-" + unique),
                Map.entry("POST", "locks/hostile-" + unique),
                Map.entry("POST", "events/workflows/hostile-" + unique),
                Map.entry("POST", "events/tasks/hostile-" + unique),
                Map.entry("PUT", "mcps/hostile-" + unique),
                Map.entry("POST", "webhooks/hostile-" + unique),
                Map.entry("POST", "workflows/hostile" + unique));
    }

    @Test
    @RunAsClient
    void malformedTruncatedAndEmptyBodiesAreProblems() {
        for (var endpoint : bodyEndpoints()) {
            for (String body : List.of("{\"messages\":[", "{", "[1,2", "nul", "{\"a\":1}}", "", " ")) {
                assertProblem(send(endpoint.getKey(), endpoint.getValue(), "application/json",
                        HttpRequest.BodyPublishers.ofString(body)), endpoint + " with " + body);
            }
        }
    }

    @Test
    @RunAsClient
    void wrongTypesAreProblemsWhereTheEndpointNeedsOtherTypesAndNeverServerErrors() {
        String wrongTypes = "{\"messages\":\"not-a-list\",\"tokens\":\"seven\",\"ttlMs\":\"x\",\"type\":7,"
                + "\"keep\":1.5,\"maxLen\":[],\"name\":{},\"workflowId\":5}";
        String outOfRange = "{\"messages\":[{}],\"tokens\":1e400,\"ttlMs\":99999999999999999999999,\"keep\":-1,"
                + "\"type\":\"t\"}";
        for (var endpoint : bodyEndpoints()) {
            // A resource is any JSON document, a task config any object: those may be accepted.
            for (String body : List.of("\"text\"", "42", "[]", "true", wrongTypes, outOfRange)) {
                HttpResponse<String> response = send(endpoint.getKey(), endpoint.getValue(), "application/json",
                        HttpRequest.BodyPublishers.ofString(body));
                String what = endpoint + " with " + body;
                assertThat(response.statusCode()).as(what + " -> " + abbreviate(response.body())).isLessThan(500);
                if (response.statusCode() >= 400) {
                    assertProblem(response, what);
                }
            }
        }
        for (String path : List.of("memory/hostile-" + unique + "/messages", "memory/hostile-" + unique + "/trim",
                "locks/hostile-" + unique, "events/workflows/hostile-" + unique, "events/tasks/hostile-" + unique)) {
            for (String body : List.of("\"text\"", "[]", wrongTypes)) {
                assertProblem(Api.post(path, body), path + " with " + body);
            }
        }
    }

    @Test
    @RunAsClient
    void invalidUtf8AndWrongContentTypesAreProblems() {
        byte[] invalid = {'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, '"', '}'};
        for (var endpoint : bodyEndpoints()) {
            assertProblem(send(endpoint.getKey(), endpoint.getValue(), "application/json",
                    HttpRequest.BodyPublishers.ofByteArray(invalid)), endpoint + " with invalid UTF-8");
            assertProblem(send(endpoint.getKey(), endpoint.getValue(), "text/plain",
                    HttpRequest.BodyPublishers.ofString("{}")), endpoint + " as text/plain");
            assertProblem(send(endpoint.getKey(), endpoint.getValue(), null,
                    HttpRequest.BodyPublishers.ofString("{\"type\":\"x\"}")), endpoint + " without Content-Type");
        }
    }

    @Test
    @RunAsClient
    void tenMebibyteBodiesAreRefusedWithoutBeingStored() {
        String huge = "{\"messages\":[\"" + "x".repeat(10 * 1024 * 1024) + "\"],\"type\":\"t\"}";
        for (var endpoint : bodyEndpoints()) {
            HttpResponse<String> response = send(endpoint.getKey(), endpoint.getValue(), "application/json",
                    HttpRequest.BodyPublishers.ofString(huge));
            assertProblem(response, endpoint + " with 10 MiB");
            assertThat(response.statusCode()).as(endpoint.toString()).isEqualTo(413);
        }
        assertThat(Api.get("memory/hostile-" + unique + "/metadata").body()).contains("\"message_count\":0");
    }

    @Test
    @RunAsClient
    void hostileKeysAreRefusedOrStayInsideTheirNamespace() {
        List<String> keys = List.of("..", "../..", "a/../../b", "a/b", "a:b", "a*", "*", "?", "a?b", "[a-z]*", "a\\",
                "line\nbreak", "tab\tx", "nul\u0000x", "esc\u001b[31m", "del\u007f", "x".repeat(100_000), "é€😀");
        for (String key : keys) {
            String encoded = URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
            String resource = "resources/hostile" + unique + "/agent/" + encoded;
            String json = "application/json";
            // HTTP/1.1 as curl speaks it: Liberty refuses a 100 KB request line by closing an HTTP/2 upgrade.
            List<HttpResponse<String>> answers = List.of(
                    http11("POST", "memory/" + encoded + "/messages", "{\"messages\":[{\"k\":1}]}"),
                    http11("GET", "memory/" + encoded + "/metadata", null),
                    http11("PUT", resource, "{\"k\":1}"),
                    http11("GET", resource, null),
                    http11("PUT", "task-configs/" + encoded, "{\"k\":1}"),
                    http11("POST", "locks/" + encoded, "{\"ttlMs\":60000}"),
                    http11("POST", "events/workflows/" + encoded, "{\"type\":\"t\"}"),
                    http11("PUT", "mcps/" + encoded, "{\"name\":\"n\",\"transport\":\"stdio\",\"command\":\"c\"}"),
                    http11("GET", "resources/" + encoded + "/agent", null));
            for (HttpResponse<String> answer : answers) {
                String what = answer.request().method() + " " + abbreviate(answer.request().uri().toString());
                assertThat(answer.statusCode()).as(what + " -> " + abbreviate(answer.body())).isLessThan(500);
                if (answer.statusCode() >= 400 && !refusedByLibertyBeforeTheApplication(answer)) {
                    assertProblem(answer, what);
                }
            }
        }
        HttpResponse<String> tooLong = Api.put("resources/hostile" + unique + "/agent/" + "x".repeat(1000), "{}");
        assertProblem(tooLong, "a 1000-character id");
        assertThat(json(tooLong).getString("detail")).contains("'id'", "1000", "512");
        HttpResponse<String> reserved = Api.post("memory/hostile-" + unique + ":metadata/messages", "{\"messages\":[1]}");
        assertProblem(reserved, "a memory key that is another key's metadata");
        assertThat(json(reserved).getString("detail")).contains(":metadata");
    }

    /**
     * Liberty's HTTP channel refuses control characters in the URI (400, CWWWC0005I, a JSON body of its
     * own) and request lines past its limit (400, empty) before any application runs: 4xx, nothing stored.
     */
    private static boolean refusedByLibertyBeforeTheApplication(final HttpResponse<String> answer) {
        return answer.statusCode() == 400 && (answer.body().isEmpty() || answer.body().contains("CWWWC0005I"));
    }

    @Test
    @RunAsClient
    void missingAndMalformedHeadersAreProblems() {
        String base = "resources/hostile" + unique + "/agent/h1";
        assertProblem(Api.send(Api.request(base).header("Content-Type", "application/json").header("If-Match", "not-quoted")
                .PUT(HttpRequest.BodyPublishers.ofString("{}"))), "If-Match not quoted on a missing resource");
        assertProblem(Api.send(Api.request("events/workflows/hostile-" + unique).header("Last-Event-ID", "abc")
                .header("Accept", "text/event-stream").GET()), "Last-Event-ID not a number");
        assertProblem(Api.send(Api.request("memory/hostile-" + unique + "/messages?offset=-1&limit=x").GET()),
                "bad query parameters");
        assertProblem(Api.send(Api.request("resources/hostile" + unique + "/agent/h1?version=a:b").GET()),
                "version with ':'");
        assertProblem(Api.send(Api.request("admin/nothing-here").GET()), "no endpoint");
        assertProblem(Api.send(Api.request("memory/hostile-" + unique + "/metadata")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{}"))), "wrong method");
    }

    /**
     * Resources whose ids and projects carry glob characters: a listing shows exactly what was written
     * to that project and type, and SCAN over the whole server finds the written keys only under their
     * own prefix.
     */
    @Test
    void globCharactersNeverWidenAListingNorLeaveTheNamespace() {
        String project = "glob" + unique;
        for (String id : List.of("*", "?", "[a]", "a*b", "a]")) {
            String encoded = URLEncoder.encode(id, StandardCharsets.UTF_8);
            HttpResponse<String> put = Api.put("resources/" + project + "/agent/" + encoded, "{\"id\":1}");
            assertThat(put.statusCode()).as("id '%s': %s", id, put.body()).isEqualTo(200);
        }
        assertThat(Api.put("resources/" + project + "x/agent/other", "{}").statusCode()).isEqualTo(200);
        assertThat(Api.put("resources/" + project + "/agentx/other", "{}").statusCode()).isEqualTo(200);
        for (String pattern : List.of("*", "?", "[g]*", "glob*")) {
            JsonObject listing = json(Api.get("resources/" + URLEncoder.encode(pattern, StandardCharsets.UTF_8)
                    + "/agent"));
            assertThat(listing.toString()).as("listing of project '%s'", pattern).doesNotContain(project);
        }
        JsonObject own = json(Api.get("resources/" + project + "/agent"));
        assertThat(own.toString()).contains("\"*\"", "\"?\"", "\"[a]\"", "\"a*b\"").doesNotContain("other");

        List<String> written = redis.getKeys().getKeysStream(KeysScanOptions.defaults().pattern("*" + unique + "*"))
                .collect(Collectors.toList());
        // A resource's keys carry their base name as a hash tag: {res:<project>:<type>:<id>} and its :etag.
        assertThat(written).isNotEmpty().allSatisfy(key -> assertThat(key).startsWith("{res:glob" + unique));
    }

    private static HttpResponse<String> http11(final String method, final String path, final String json) {
        HttpRequest.Builder request = Api.request(path).method(method, json == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        try {
            try {
                return HTTP_1_1.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                if (!String.valueOf(e.getMessage()).contains("received no bytes")) {
                    throw e;
                }
                // Liberty closes a connection after refusing a hostile request line; the client may have
                // sent the next request on it already. That request never reached the server: send it again
                // (on a new connection).
                return HTTP_1_1.send(request.build(), HttpResponse.BodyHandlers.ofString());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * On loopback the API is open (api.access=open), so a page of another site must not reach it: not through a
     * name of its own that resolves to 127.0.0.1 (DNS rebinding: a foreign Host), not with a cross-site change,
     * and the admin calls not with a plain form post. curl and applications (no Origin) keep working.
     */
    @Test
    @RunAsClient
    void aForeignHostACrossSiteChangeAndAFormPostToTheAdminAreRefused() {
        String resource = "resources/hostile/agent/cross-site";
        HttpResponse<String> rebound = Api.send(Api.request(resource).header("Host", "attacker.example:"
                + io.compozy.cache.it.support.TestServer.httpPort()).GET());
        assertProblem(rebound, "a foreign Host");
        assertThat(rebound.statusCode()).isEqualTo(403);
        assertThat(json(rebound).getString("detail")).contains("api.allowed_hosts");

        HttpResponse<String> crossSite = Api.send(Api.request(resource).header("Content-Type", "application/json")
                .header("Origin", "https://attacker.example").PUT(HttpRequest.BodyPublishers.ofString("{}")));
        assertProblem(crossSite, "a change with a foreign Origin");
        assertThat(crossSite.statusCode()).isEqualTo(403);
        assertThat(Api.send(Api.request(resource).header("Sec-Fetch-Site", "cross-site")
                .DELETE()).statusCode()).as("a change a browser marks cross-site").isEqualTo(403);
        assertThat(Api.get(resource).statusCode()).as("nothing was written").isEqualTo(404);

        HttpResponse<String> adminCrossSite = Api.send(io.compozy.cache.it.support.AdminCredentials.authorize(
                Api.request("admin/snapshots")).header("Origin", "null").POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(adminCrossSite.statusCode()).as(adminCrossSite.body()).isEqualTo(403);
        HttpResponse<String> form = Api.send(io.compozy.cache.it.support.AdminCredentials.authorize(
                Api.request("admin/snapshots")).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("generation=1")));
        assertProblem(form, "a form post to the admin");
        assertThat(form.statusCode()).isEqualTo(415);

        assertThat(Api.send(Api.request(resource).header("Origin", "http://localhost:"
                + io.compozy.cache.it.support.TestServer.httpPort()).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"same\":\"origin\"}"))).statusCode())
                .as("a page of the server itself").isEqualTo(200);
        assertThat(Api.delete(resource).statusCode() / 100).isEqualTo(2);
    }

    /**
     * Every event stream holds a subscription on the shared client's pub/sub connections: one client opening
     * stream after stream is stopped at api.sse.max_streams_per_client (16) with 429, the server keeps serving,
     * and a closed stream's place is free again.
     */
    @Test
    @RunAsClient
    void anEventStreamPastThePerClientLimitIs429AndTheServerKeepsServing() throws Exception {
        // HTTP/1.1, as a browser's EventSource on plain http: each stream its own connection.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<HttpResponse<java.util.stream.Stream<String>>> open = new java.util.ArrayList<>();
        try {
            // Streams of earlier tests of this JVM (the same address) may still be held, and freed meanwhile:
            // open until the server refuses, which it must do by the 16th of this client's streams.
            HttpResponse<java.util.stream.Stream<String>> refused = null;
            for (int i = 0; i < 17 && refused == null; i++) {
                HttpResponse<java.util.stream.Stream<String>> stream = openStream(client);
                if (stream.statusCode() == 200) {
                    open.add(stream);
                } else {
                    refused = stream;
                }
            }
            assertThat(refused).as("refused by the 17th stream of one client").isNotNull();
            String body = refused.body().collect(Collectors.joining("\n"));
            assertThat(refused.statusCode()).as(body).isEqualTo(429);
            assertThat(body).contains("too-many-streams", "api.sse.max_streams_per_client");
            assertThat(Api.get("ping").statusCode()).as("the server keeps serving").isEqualTo(200);

            open.remove(0).body().close();
            // The server sees a stream is gone at its next write (a keep-alive within 15 s).
            HttpResponse<java.util.stream.Stream<String>> again = org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(45)).until(() -> openStream(client), r -> {
                        if (r.statusCode() != 200) {
                            r.body().close();
                            return false;
                        }
                        return true;
                    });
            open.add(again);
            assertThat(io.compozy.cache.it.support.MetricsText.scrape().value("compozy_api_event_streams"))
                    .as("the gauge counts the open streams").hasValueSatisfying(v -> assertThat(v)
                            .isGreaterThanOrEqualTo(open.size()));
        } finally {
            open.forEach(stream -> stream.body().close());
        }
    }

    private static HttpResponse<java.util.stream.Stream<String>> openStream(final HttpClient client) throws Exception {
        return client.send(Api.request("resources/hostile/agent/events").header("Accept", "text/event-stream").GET()
                .build(), HttpResponse.BodyHandlers.ofLines());
    }

    private static HttpResponse<String> send(final String method, final String path, final String contentType,
                                             final HttpRequest.BodyPublisher body) {
        HttpRequest.Builder request = Api.request(path).method(method, body);
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return Api.send(request);
    }

    private static void assertProblem(final HttpResponse<String> response, final String what) {
        String shown = what.length() > 200 ? what.substring(0, 200) + "..." : what;
        assertThat(response.statusCode()).as(shown + " -> " + abbreviate(response.body())).isBetween(400, 499);
        assertThat(response.headers().firstValue("Content-Type").orElse("none")).as(shown + " -> " + response.statusCode()
                + " " + abbreviate(response.body())).startsWith("application/problem+json");
        JsonObject problem = json(response);
        assertThat(problem.getInt("status")).as(shown).isEqualTo(response.statusCode());
        assertThat(problem.getString("detail")).as(shown).isNotBlank().doesNotContain("Exception", "\tat ");
    }

    private static String abbreviate(final String text) {
        return text.length() > 300 ? text.substring(0, 300) + "...(" + text.length() + " chars)" : text;
    }
}
