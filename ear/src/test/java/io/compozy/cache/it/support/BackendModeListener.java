package io.compozy.cache.it.support;

import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.testing.TestRedis;
import io.compozy.cache.testing.TestTopologies;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Runs before Arquillian starts the server: in a distributed execution it writes a config dropin
 * that points the server at the external Redis (REDIS_URL, or the harness's own redis-server), or at the
 * harness's Redis Cluster or Sentinel group ({@code it.topology});
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
        Map<String, String> variables = distributedVariables(TestServer.topology());
        variables.put(OPERATOR_PASSWORD, createOperatorUser(TestServer.topology()));
        writeDropin(variables);
    }

    /** The factory of it-factories.xml that logs in as a user the operator created (FactoryWallsIT). */
    public static final String OPERATOR_USER = "compozy-it-operator";
    public static final String OPERATOR_PREFIX = "it-operator:";
    private static final String OPERATOR_PASSWORD = "it.operator.password";

    /**
     * What docs/security.md tells the operator to run for a factory, on every data node of the topology (Redis
     * keeps ACL users per node): a password of this run, the prefix's keys and channels, no administration.
     */
    private static String createOperatorUser(final String topology) {
        String password = java.util.UUID.randomUUID().toString();
        java.util.List<Object> command = new java.util.ArrayList<>(java.util.List.of("ACL", "SETUSER", OPERATOR_USER,
                "reset", "on", ">" + password));
        for (String pattern : java.util.List.of(OPERATOR_PREFIX + "*", "{" + OPERATOR_PREFIX + "*",
                "*:{" + OPERATOR_PREFIX + "*")) {
            command.add("~" + pattern);
            command.add("&" + pattern);
        }
        command.addAll(java.util.List.of("+@all", "-@admin", "-@dangerous", "-function", "+function|list",
                "-script|flush", "-script|kill"));
        TestTopologies.onEveryDataNode(topology, command.toArray());
        return password;
    }

    /**
     * The keys an operator sets for {@code topology}: one Redis (REDIS_URL or the harness's own), or the
     * harness's Cluster or Sentinel group (started here, in the test JVM, which outlives the server).
     */
    static Map<String, String> distributedVariables(final String topology) {
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put("redis.mode", "distributed");
        switch (topology) {
            case "cluster" -> {
                TestTopologies.Cluster cluster = TestTopologies.cluster();
                variables.put("redis.cluster.nodes", cluster.nodeList());
                cluster.password().ifPresent(p -> variables.put("redis.password", p));
            }
            case "sentinel" -> {
                TestTopologies.Sentinel sentinel = TestTopologies.sentinel();
                variables.put("redis.sentinel.nodes", sentinel.sentinelList());
                variables.put("redis.sentinel.master", sentinel.masterName());
                sentinel.password().ifPresent(p -> variables.put("redis.password", p));
                sentinel.sentinelPassword().ifPresent(p -> variables.put("redis.sentinel.password", p));
            }
            default -> {
                RedisAddress address = TestRedis.external();
                variables.put("redis.addr", address.toString());
                address.password().ifPresent(p -> variables.put("redis.password", p.reveal()));
            }
        }
        return variables;
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
