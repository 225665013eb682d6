package io.compozy.cache.it.topology;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.SecondApplication;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.MetricsText;
import io.compozy.cache.it.support.TestServer;
import io.compozy.cache.testing.TestTopologies;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * docs/reliability.md, "Failover (Sentinel and Cluster)": a master is SIGKILLed while 20 clients write through
 * the REST API. Requests fail only with 503 {@code backend-unavailable} problem+json, never 500, until the
 * replica has taken over; then every writer succeeds again without a restart of the server. A lock whose write
 * had reached the replica before the crash still has one owner afterwards; acknowledged writes older than the
 * replication window survive. Runs last in the cluster and sentinel executions (it leaves one master dead).
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class FailoverIT {

    private static final Logger LOG = Logger.getLogger(FailoverIT.class.getName());
    private static final int WRITERS = 20;
    /** Redis replicates asynchronously: writes acknowledged within this long before the crash may be lost. */
    private static final Duration REPLICATION_WINDOW = Duration.ofSeconds(1);
    /** Cluster node timeout (3 s) or Sentinel down-after (2 s), plus the election and the client's rescan. */
    private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(60);

    private final String unique = UUID.randomUUID().toString().substring(0, 8);

    @Deployment(testable = false)
    static WebArchive secondApplication() {
        return SecondApplication.archive();
    }

    /** One REST write: when it was answered, and how. */
    private record Write(int writer, long answeredAtNanos, int status, String contentType, String body) {
        boolean ok() {
            return status == 200;
        }
    }

    @Test
    void aKilledMasterCosts503sOnlyAndWritesRecoverWithoutARestart() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("cluster".equals(TestServer.topology())
                        ? TestTopologies.cluster().owned() : TestTopologies.sentinel().owned(),
                "REDIS_CLUSTER_NODES / REDIS_SENTINEL_NODES name servers this build did not start: it does not kill"
                        + " their master. Unset them to run the failover test on the ones the harness starts.");
        String lockResource = "failover-" + unique;
        List<String> keys = IntStream.range(0, WRITERS).mapToObj(i -> "failover-" + unique + "-" + i).toList();
        // Status lists every node with its role, all reachable; readiness names the topology.
        JsonObject status = json(Api.get("admin/status")).getJsonObject("topology");
        assertThat(status.getString("kind")).isEqualTo(TestServer.topology());
        assertThat(status.getJsonArray("nodes")).allSatisfy(n -> assertThat(n.asJsonObject().getBoolean("reachable")).isTrue());
        assertThat(status.getJsonArray("nodes")).extracting(n -> n.asJsonObject().getString("role"))
                .containsExactlyInAnyOrderElementsOf("cluster".equals(TestServer.topology())
                        ? List.of("master", "master", "master", "replica", "replica", "replica")
                        : List.of("master", "replica", "sentinel", "sentinel", "sentinel"));
        assertThat(LibertyProcess.get("/health/ready").body()).contains("\"topology\":\"" + TestServer.topology() + "\"");

        // A lock taken before the crash, on the master about to die, and replicated.
        HttpResponse<String> lock = Api.post("locks/" + lockResource, "{\"ttlMs\":120000}");
        assertThat(lock.statusCode()).isEqualTo(201);
        String token = json(lock).getString("token");

        ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong unanswered = new java.util.concurrent.atomic.AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        long[] killTime = new long[1];
        for (int i = 0; i < WRITERS; i++) {
            int writer = i;
            pool.execute(() -> {
                while (running.get()) {
                    try {
                        HttpResponse<String> answer = append(keys.get(writer), 1);
                        writes.add(new Write(writer, System.nanoTime(), answer.statusCode(),
                                answer.headers().firstValue("Content-Type").orElse(""), answer.body()));
                    } catch (RuntimeException noAnswer) {
                        // The client gave up (30 s) on a loaded machine: no answer is not an answer to check.
                        unanswered.incrementAndGet();
                    }
                }
            });
        }
        try {
            await("every writer has written").atMost(Duration.ofSeconds(120))
                    .until(() -> writes.stream().filter(Write::ok).map(Write::writer).distinct().count() == WRITERS);
            awaitReplicated();

            killTime[0] = System.nanoTime();
            long killedAt = killTime[0];
            int killed = kill(lockResource);
            LOG.info("killed the master on port " + killed + " with " + WRITERS + " writers running");

            await("a failure during the election, then 3 s of writes with no failure").atMost(RECOVERY_LIMIT)
                    .pollInterval(Duration.ofMillis(200)).until(() -> recovered(writes, killTime[0]));
            long lastFailure = writes.stream().filter(w -> !w.ok()).mapToLong(Write::answeredAtNanos).max().orElseThrow();
            long firstSuccessAfter = writes.stream().filter(w -> w.ok() && w.answeredAtNanos() > lastFailure)
                    .mapToLong(Write::answeredAtNanos).min().orElseThrow();
            long failures = writes.stream().filter(w -> !w.ok()).count();
            LOG.info(TestServer.topology() + " failover: writes recovered " + (firstSuccessAfter - killedAt) / 1_000_000
                    + " ms after the kill; " + failures + " requests failed (all 503), "
                    + writes.stream().filter(Write::ok).count() + " succeeded");
        } finally {
            running.set(false);
            pool.shutdown();
            pool.awaitTermination(60, TimeUnit.SECONDS);
        }
        LOG.info(unanswered.get() + " requests got no answer within the client's 30 s");

        // Only 503 backend-unavailable problem+json, never a 500.
        assertThat(writes).filteredOn(w -> !w.ok()).isNotEmpty().allSatisfy(w -> {
            assertThat(w.status()).as(w.body()).isEqualTo(503);
            assertThat(w.contentType()).startsWith("application/problem+json");
            assertThat(json(w.body()).getString("type")).isEqualTo("urn:compozy:cache:problem:backend-unavailable");
        });
        // Every writer writes again, on the same server (no restart).
        for (int i = 0; i < WRITERS; i++) {
            int writer = i;
            assertThat(append(keys.get(writer), 2).statusCode()).as("writer " + writer + " after recovery").isEqualTo(200);
        }
        // Writes acknowledged before the replication window had reached the replica: none of them is lost.
        for (int i = 0; i < WRITERS; i++) {
            int writer = i;
            long safe = writes.stream().filter(w -> w.writer() == writer && w.ok()
                    && w.answeredAtNanos() < killTime[0] - REPLICATION_WINDOW.toNanos()).count();
            assertThat(json(Api.get("memory/" + keys.get(writer) + "/metadata")).getInt("message_count"))
                    .as("messages of writer " + writer).isGreaterThanOrEqualTo((int) safe);
        }
        // The replicated lock has one owner: a second client is refused, the first still releases it.
        assertThat(Api.post("locks/" + lockResource, "{\"ttlMs\":1000}").statusCode()).isEqualTo(409);
        assertThat(Api.delete("locks/" + lockResource + "?token=" + token).statusCode()).isEqualTo(204);
        // The failover is counted and the status shows the new master.
        await("the failover is counted").atMost(Duration.ofSeconds(30)).until(() ->
                json(Api.get("admin/status")).getJsonObject("topology").getInt("failovers") >= 1);
        // The metric follows at the next refresh (compozy.metrics.refresh_interval, 5 s).
        await("the failover metric").atMost(Duration.ofSeconds(30)).until(() ->
                MetricsText.scrape().value("compozy_cache_failovers_total").orElse(0.0) >= 1.0);
        // Logged once, with both masters, and no password anywhere an operator looks.
        String logs = logs();
        assertThat(logs).containsPattern("Redis " + TestServer.topology() + " failover: master 127\\.0\\.0\\.1:\\d+"
                + " replaced by 127\\.0\\.0\\.1:\\d+");
        String everything = logs + Api.get("admin/status").body() + LibertyProcess.get("/health").body()
                + MetricsText.scrape();
        for (String secret : passwords()) {
            assertThat(everything).as("a password in logs, status, health or metrics").doesNotContain(secret);
        }
    }

    private static List<String> passwords() {
        List<String> secrets = new ArrayList<>();
        if ("cluster".equals(TestServer.topology())) {
            TestTopologies.cluster().password().ifPresent(secrets::add);
        } else {
            TestTopologies.sentinel().password().ifPresent(secrets::add);
            TestTopologies.sentinel().sentinelPassword().ifPresent(secrets::add);
        }
        return secrets;
    }

    private static String logs() throws java.io.IOException {
        StringBuilder all = new StringBuilder();
        try (var files = java.nio.file.Files.walk(TestServer.serverDir().resolve("logs"))) {
            for (var file : files.filter(java.nio.file.Files::isRegularFile).toList()) {
                all.append(java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return all.toString();
    }

    /**
     * One append over HTTP/1.1: the JDK client's default h2c upgrade of a POST hangs now and then on Liberty
     * under concurrency (an NPE in its upgrade handler), which would pass for a server that does not answer.
     */
    private static HttpResponse<String> append(final String key, final int n) {
        return Api.send(Api.request("memory/" + key + "/messages").version(java.net.http.HttpClient.Version.HTTP_1_1)
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"n\":" + n + "}],\"tokens\":1}")));
    }

    /** At least one failure after the kill, and the last 3 s hold at least 20 successes and no failure. */
    private static boolean recovered(final ConcurrentLinkedQueue<Write> writes, final long killedAt) {
        long now = System.nanoTime();
        List<Write> after = new ArrayList<>();
        writes.forEach(w -> {
            if (w.answeredAtNanos() > killedAt) {
                after.add(w);
            }
        });
        boolean failed = after.stream().anyMatch(w -> !w.ok());
        long window = now - Duration.ofSeconds(3).toNanos();
        List<Write> recent = after.stream().filter(w -> w.answeredAtNanos() > window).toList();
        return failed && recent.stream().allMatch(Write::ok) && recent.size() >= WRITERS
                && after.stream().filter(w -> !w.ok()).allMatch(w -> w.answeredAtNanos() < window);
    }

    private static void awaitReplicated() {
        if ("cluster".equals(TestServer.topology())) {
            TestTopologies.cluster().awaitReplicated();
        } else {
            TestTopologies.sentinel().awaitReplicated();
        }
    }

    /** Kills the master that holds the lock (Cluster: the master of the lock key's slot). */
    private static int kill(final String lockResource) {
        if ("cluster".equals(TestServer.topology())) {
            return TestTopologies.cluster().killMasterOfKey("lock:" + lockResource);
        }
        return TestTopologies.sentinel().killMaster();
    }
}
