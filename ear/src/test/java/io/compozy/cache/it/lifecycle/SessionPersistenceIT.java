package io.compozy.cache.it.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.sessions.CounterServlet;
import io.compozy.cache.it.sessions.SerialFilterServlet;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.TestServer;
import io.compozy.cache.testing.TestRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP sessions in the cache with the shipped configuration: a plain WAR (Servlet API only, dropped into
 * {@code dropins/}) keeps its session across a graceful restart and, after a snapshot, across a crash
 * (standalone); and two servers on the same Redis serve one session alternately (distributed). The
 * session keeps an object of the WAR's own class, read back with the WAR's class loader.
 */
@ExtendWith(ShippedServerPerTest.class)
class SessionPersistenceIT {

    private static final String SECOND = TestServer.name() + "-second";
    /** What a server writes for itself: never copied into the second server. */
    private static final List<String> STATE = List.of("logs", "workarea", "tranlog", "compozy-cache", "compozy-cache-data");

    @TempDir
    Path dataDir;

    private final HttpClient browser = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL)).build();

    /** The documented JVM-wide deserialization filter for sessions, as an operator copies it. */
    private static final Path DOCUMENTED_JVM_OPTIONS = Path.of("..", "docs", "examples", "jvm.options");

    @BeforeEach
    void dropTheWarIn() throws IOException {
        ShrinkWrap.create(WebArchive.class, "counter.war")
                .addClasses(CounterServlet.class, CounterServlet.Visits.class, SerialFilterServlet.class)
                .as(ZipExporter.class).exportTo(war(TestServer.serverDir()).toFile(), true);
        Files.writeString(jvmOptions(TestServer.serverDir()), serialFilterLine() + "\n");
    }

    /** The {@code -Djdk.serialFilter} line of docs/examples/jvm.options (its mode line would fix the mode). */
    private static String serialFilterLine() throws IOException {
        return Files.readAllLines(DOCUMENTED_JVM_OPTIONS).stream().filter(line -> line.startsWith("-Djdk.serialFilter="))
                .findFirst().orElseThrow(() -> new AssertionError(DOCUMENTED_JVM_OPTIONS + " has no -Djdk.serialFilter"));
    }

    /** The sessions below are read back under the documented filter, not without one. */
    private void assertTheDocumentedSerialFilterIsInForce(final int port) throws IOException {
        HttpResponse<String> filter = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/counter/serial-filter"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()),
                r -> r.statusCode() == 200);
        assertThat(filter.body()).isEqualTo(serialFilterLine().substring("-Djdk.serialFilter=".length()));
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (Files.exists(TestServer.wlpDir().resolve("usr/servers/.pid/" + SECOND + ".pid"))) {
            LibertyProcess.stop(SECOND);
        }
        delete(secondServerDir());
        Files.deleteIfExists(war(TestServer.serverDir()));
        Files.deleteIfExists(jvmOptions(TestServer.serverDir()));
    }

    private static Path jvmOptions(final Path serverDir) {
        return serverDir.resolve("jvm.options");
    }

    @Test
    void standaloneASessionSurvivesARestartAndACrashAfterASnapshot() throws IOException {
        Map<String, String> env = Map.of("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.resolve("snapshots").toString());
        LibertyProcess.start(env);
        int port = TestServer.httpPort();
        assertTheDocumentedSerialFilterIsInForce(port);
        assertThat(count(port)).isEqualTo("count=1 ports=[" + port + "]");
        assertThat(count(port)).startsWith("count=2 ");
        assertThat(count(port)).startsWith("count=3 ");

        LibertyProcess.stop();
        LibertyProcess.start(env);
        assertThat(count(port)).as("the session, with the WAR's own class in it, after a graceful restart")
                .isEqualTo("count=4 ports=[" + port + ", " + port + ", " + port + ", " + port + "]");

        LibertyProcess.awaitDeployed("/api/admin/status"); // the WAR may be served before the EAR is up
        assertThat(Api.adminPost("admin/snapshots", "").statusCode()).isEqualTo(201);
        assertThat(count(port)).as("written after the last snapshot").startsWith("count=5 ");
        LibertyProcess.kill();
        LibertyProcess.start(env);
        // The shipped aof=everysec logs every write: a process kill loses none, so the write after the
        // snapshot is still there (count 5, and this request makes it 6).
        assertThat(count(port)).as("after a crash: the append-only file kept the write made after the snapshot")
                .startsWith("count=6 ");

        String sessionId = sessionCookie().getValue();
        assertThat(sessionId).isNotBlank();
        assertThat(LibertyProcess.messages()).as("session ids are never logged").doesNotContain(sessionId);
        assertThat(LibertyProcess.messages()).contains("provider library shared (sessionCache-1.0 can use it)");
    }

    @Test
    void distributedTwoServersOnOneRedisServeOneSession() throws IOException {
        Map<String, String> env = new HashMap<>(Map.of("MODE", "distributed", "REDIS_ADDR", TestRedis.externalUrl()));
        copyTheServer();
        int first = TestServer.httpPort();
        int second = first + 1;
        LibertyProcess.start(env);
        env.put("HTTP_PORT", Integer.toString(second));
        LibertyProcess.start(SECOND, env);
        assertTheDocumentedSerialFilterIsInForce(first);
        assertTheDocumentedSerialFilterIsInForce(second);

        assertThat(count(first)).startsWith("count=1 ");
        assertThat(count(second)).startsWith("count=2 ");
        assertThat(count(first)).startsWith("count=3 ");
        assertThat(count(second)).as("one session, alternating between the servers")
                .isEqualTo("count=4 ports=[" + first + ", " + second + ", " + first + ", " + second + "]");
        String sessionId = sessionCookie().getValue();
        assertThat(LibertyProcess.messages()).doesNotContain(sessionId);
    }

    /** One request of "the user" to a server; the cookie jar carries the session between servers. */
    private String count(final int port) {
        HttpResponse<String> response = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/counter/count"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()),
                r -> r.statusCode() != 404);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body();
    }

    private HttpCookie sessionCookie() {
        return ((CookieManager) browser.cookieHandler().orElseThrow()).getCookieStore().getCookies().stream()
                .filter(cookie -> cookie.getName().equals("JSESSIONID")).findFirst().orElseThrow();
    }

    private static Path war(final Path serverDir) {
        return serverDir.resolve("dropins/counter.war");
    }

    private static Path secondServerDir() {
        return TestServer.wlpDir().resolve("usr/servers").resolve(SECOND);
    }

    /** A second server: the test server's configuration, applications and dropins, none of its state. */
    private static void copyTheServer() throws IOException {
        Path from = TestServer.serverDir();
        Path to = secondServerDir();
        delete(to);
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path relative = from.relativize(file);
                String top = relative.getNameCount() == 0 ? "" : relative.getName(0).toString();
                if (STATE.contains(top) || relative.startsWith(Path.of("apps", "expanded"))) {
                    continue;
                }
                if (Files.isDirectory(file)) {
                    Files.createDirectories(to.resolve(relative));
                } else {
                    Files.copy(file, to.resolve(relative));
                }
            }
        }
    }

    private static void delete(final Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.delete(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
