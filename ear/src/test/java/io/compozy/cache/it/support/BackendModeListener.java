package io.compozy.cache.it.support;

import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.testing.TestRedis;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Runs before Arquillian starts the server: in the distributed execution it writes a config dropin
 * that points the server at the external Redis (REDIS_URL, or the harness's own redis-server);
 * in the standalone execution it removes it, so the shipped configuration (standalone) applies.
 * A dropin rather than JVM arguments keeps the Redis password out of command lines and test output.
 * It also hands the server this run's administrator password ({@link AdminCredentials}).
 */
public final class BackendModeListener implements LauncherSessionListener {

    @Override
    public void launcherSessionOpened(final LauncherSession session) {
        if (System.getProperty("liberty.wlp.dir") != null) {
            AdminCredentials.writeDropin();
        }
        if (System.getProperty("liberty.wlp.dir") == null || !TestServer.mode().equals("distributed")) {
            removeDropin();
            return;
        }
        RedisAddress address = TestRedis.external();
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put("redis.mode", "distributed");
        variables.put("redis.addr", address.toString());
        address.password().ifPresent(p -> variables.put("redis.password", p.reveal()));
        writeDropin(variables);
    }

    @Override
    public void launcherSessionClosed(final LauncherSession session) {
        removeDropin();
        if (System.getProperty("liberty.wlp.dir") != null) {
            AdminCredentials.removeDropin();
        }
    }

    /** Writes server.xml variables (ordinal 500: they win over env vars and the shipped defaults). */
    public static void writeDropin(final Map<String, String> variables) {
        String body = variables.entrySet().stream()
                .map(e -> "  <variable name=\"" + xml(e.getKey()) + "\" value=\"" + xml(e.getValue()) + "\"/>")
                .collect(Collectors.joining("\n"));
        try {
            Files.createDirectories(TestServer.backendDropin().getParent());
            Files.writeString(TestServer.backendDropin(), "<server>\n" + body + "\n</server>\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void removeDropin() {
        try {
            Files.deleteIfExists(TestServer.backendDropin());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String xml(final String value) {
        return value.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
