package io.compozy.cache.it.support;

import java.nio.file.Path;

/** Where the server under test lives, as the ear module's build passes it to failsafe. */
public final class TestServer {

    private TestServer() {
    }

    public static Path wlpDir() {
        return Path.of(System.getProperty("liberty.wlp.dir", "target/liberty/wlp"));
    }

    public static String name() {
        return System.getProperty("liberty.server.name", "compozy");
    }

    public static Path serverDir() {
        return wlpDir().resolve("usr/servers").resolve(name());
    }

    public static int httpPort() {
        return Integer.parseInt(System.getProperty("it.http.port", "9080"));
    }

    public static String baseUrl() {
        return "http://localhost:" + httpPort();
    }

    /** The backend this failsafe execution runs against: standalone or distributed. */
    public static String mode() {
        return System.getProperty("it.mode", "standalone");
    }

    /** The Redis deployment of a distributed execution: {@code single}, {@code cluster} or {@code sentinel}. */
    public static String topology() {
        return System.getProperty("it.topology", "single");
    }

    /** The config dropin through which the harness points the server at a backend. */
    public static Path backendDropin() {
        return serverDir().resolve("configDropins/overrides/it-backend.xml");
    }
}
