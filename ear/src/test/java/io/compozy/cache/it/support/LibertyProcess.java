package io.compozy.cache.it.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts, stops and kills the installed server with {@code bin/server}, for the tests that are about
 * the server's life itself (SIGKILL, bad configuration, switching mode with an environment variable).
 */
public final class LibertyProcess {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** Liberty keeps an application's role bindings from its previous start unless started with --clean. */
    private static boolean cleanNextStart;

    private LibertyProcess() {
    }

    /** The next start clears Liberty's caches: after a start with other role bindings (api.access). */
    public static void cleanNextStart() {
        cleanNextStart = true;
    }

    /** Starts the server with extra environment variables and waits until it reports itself started. */
    public static void start(final Map<String, String> environment) {
        start(TestServer.name(), environment);
    }

    /** Graceful stop; the server is already stopped when this returns. */
    public static void stop() {
        stop(TestServer.name());
    }

    /**
     * Starts another server of the same installation (a copy of the test server, for the two-server
     * tests) and waits until it reports itself started.
     */
    public static void start(final String server, final Map<String, String> environment) {
        List<String> command = new java.util.ArrayList<>(List.of(TestServer.wlpDir().resolve("bin/server").toString(),
                "start", server));
        if (cleanNextStart) {
            command.add("--clean");
            cleanNextStart = false;
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        run(builder, "start");
        Path log = TestServer.wlpDir().resolve("usr/servers").resolve(server).resolve("logs/messages.log");
        await().atMost(Duration.ofSeconds(120)).until(() -> read(log).contains("CWWKF0011I"));
    }

    public static void stop(final String server) {
        run(new ProcessBuilder(TestServer.wlpDir().resolve("bin/server").toString(), "stop", server)
                .redirectErrorStream(true), "stop");
    }

    /** Stops the server if its JVM runs (a test that killed it leaves nothing to stop). */
    public static void stopIfRunning() {
        if (jvmPid().flatMap(ProcessHandle::of).isPresent()) {
            stop();
        }
    }

    /** One check of {@code /health/ready}, by name: {@code {"name","status","data"}}. */
    public static jakarta.json.JsonObject readinessCheck(final String name) {
        return Api.json(get("/health/ready").body()).getJsonArray("checks").stream()
                .map(jakarta.json.JsonValue::asJsonObject).filter(c -> c.getString("name").equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no readiness check named " + name));
    }

    /** SIGKILL of the server's JVM, by the PID Liberty recorded; returns once the JVM is gone. */
    public static void kill() {
        long pid = jvmPid().orElseThrow(() -> new IllegalStateException("the server is not running"));
        ProcessHandle jvm = ProcessHandle.of(pid).orElseThrow();
        run(new ProcessBuilder("kill", "-KILL", Long.toString(pid)), "kill");
        jvm.onExit().orTimeout(30, TimeUnit.SECONDS).join();
    }

    public static Optional<Long> jvmPid() {
        Path pidFile = TestServer.wlpDir().resolve("usr/servers/.pid").resolve(TestServer.name() + ".pid");
        try {
            return Files.exists(pidFile) ? Optional.of(Long.parseLong(Files.readString(pidFile).trim()))
                    : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This run's messages.log (Liberty starts a new one at each start). */
    public static String messages() {
        return read(TestServer.serverDir().resolve("logs/messages.log"));
    }

    private static String read(final Path log) {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GET a path of the running server; returns status and body. */
    public static HttpResponse<String> get(final String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(TestServer.baseUrl() + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until GET path answers with a status other than 404 (the application is deployed). */
    public static HttpResponse<String> awaitDeployed(final String path) {
        return await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> get(path), response -> response.statusCode() != 404);
    }

    private static void run(final ProcessBuilder builder, final String what) {
        try {
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(180, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("server " + what + " did not finish: " + output);
            }
            if (process.exitValue() != 0 && !List.of("stop").contains(what)) {
                throw new IllegalStateException("server " + what + " failed (" + process.exitValue() + "): " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
