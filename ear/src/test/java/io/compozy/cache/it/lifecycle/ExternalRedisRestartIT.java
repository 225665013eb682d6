package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.ProcessCounts;
import io.compozy.cache.testing.TestRedis;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Distributed mode, and the external Redis dies (SIGKILL by PID) and comes back on the same address, as
 * when an operator restarts it or its host reboots. The Redis is the harness's own redis-server on a free
 * loopback port with a password, never the machine's shared one.
 */
@ExtendWith(ShippedServerPerTest.class)
class ExternalRedisRestartIT {

    /** A request while Redis is down must fail well within the HTTP clients' usual timeouts. */
    private static final Duration FAIL_FAST = Duration.ofSeconds(7);
    private static final int BURST = 50;
    private static final Duration BURST_BOUND = Duration.ofSeconds(20);
    /**
     * Threads the burst may add to the JVM: at most one Liberty request thread per request (Liberty grows
     * its pool while requests wait) plus a few of its own (timers, the pool controller). Redisson's threads
     * are fixed; a pile-up (threads per retry, per reconnect) would exceed this.
     */
    private static final int BURST_THREAD_ALLOWANCE = BURST + 15;

    private EmbeddedRedisServer redis;

    @AfterEach
    void stopEverything() {
        if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isPresent()) {
            LibertyProcess.stop();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void whileRedisIsDownRequestsFailFastAndAfterItsRestartEverythingRecoversWithoutARedeploy() throws Exception {
        redis = TestRedis.startEmbedded();
        LibertyProcess.start(Map.of("REDIS_MODE", "distributed",
                "REDIS_ADDR", "redis://" + redis.host() + ":" + redis.port() + "/0",
                "REDIS_PASSWORD", redis.password().reveal()));
        JsonObject status = awaitStatus(s -> s.getString("ping").equals("ok"));
        assertThat(status.getString("mode")).isEqualTo("distributed");
        assertThat(status.getJsonObject("backend").getInt("port")).isEqualTo(redis.port());
        long jvm = LibertyProcess.jvmPid().orElseThrow();
        int deploys = appStarts();

        // A live subscription (task events are pure pub/sub), receiving.
        String task = "ext-restart-task";
        List<JsonObject> events = new CopyOnWriteArrayList<>();
        Stream<String> stream = Api.stream(Api.request("events/tasks/" + task).GET());
        Api.followInBackground(stream.iterator(), events);
        awaitDelivered(task, "before", events);
        assertThat(Api.put("resources/ext-restart/doc/one", "{\"v\":1}").statusCode()).isEqualTo(200);
        int threadsBefore = ProcessCounts.threads(jvm);

        long redisPid = redis.pid();
        new ProcessBuilder("kill", "-KILL", Long.toString(redisPid)).start().waitFor();
        redis.onExit().get(10, TimeUnit.SECONDS);

        // Every kind of operation answers 503 problem+json, fast.
        List<Supplier<HttpResponse<String>>> operations = List.of(
                () -> Api.get("resources/ext-restart/doc/one"),
                () -> Api.put("resources/ext-restart/doc/two", "{\"v\":2}"),
                () -> Api.post("memory/ext-restart/messages", "{\"messages\":[{\"t\":1}],\"tokens\":1}"),
                () -> Api.post("locks/ext-restart", "{\"ttlMs\":1000}"),
                () -> Api.post("events/tasks/" + task, "{\"type\":\"lost\"}"),
                () -> Api.post("events/workflows/ext-restart-wf", "{\"type\":\"lost\"}"));
        long slowest = 0;
        for (Supplier<HttpResponse<String>> operation : operations) {
            long begin = System.nanoTime();
            HttpResponse<String> response = operation.get();
            long millis = (System.nanoTime() - begin) / 1_000_000;
            slowest = Math.max(slowest, millis);
            assertThat(response.statusCode()).as(response.uri() + ": " + response.body()).isEqualTo(503);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/problem+json"));
            assertThat(json(response).getString("type")).isEqualTo("urn:compozy:cache:problem:backend-unavailable");
            assertThat(millis).as(response.uri() + " answered after " + millis + " ms").isLessThan(FAIL_FAST.toMillis());
        }
        HttpResponse<String> ready = LibertyProcess.get("/health/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("\"ping\":\"failed\"");
        assertThat(LibertyProcess.get("/health/live").statusCode()).as("a dead Redis is no reason to restart Liberty")
                .isEqualTo(200);

        // A burst of concurrent requests: all answered fast, and the JVM does not pile up threads.
        Burst burst = burst(jvm);
        assertThat(burst.statuses).as("every request of the burst").containsOnly(503);
        // Liberty grows its request pool while the burst waits, so the last answers come after a few rounds
        // of ~1 s failures; still well under the 30 s a client would wait for a hung server.
        assertThat(burst.millis).as("the whole burst").isLessThan(BURST_BOUND.toMillis());
        assertThat(burst.peakThreads - threadsBefore).as("threads added during the burst (before: " + threadsBefore
                + ", peak: " + burst.peakThreads + ")").isLessThanOrEqualTo(BURST_THREAD_ALLOWANCE);
        // A second burst stays within the same bound: nothing accumulates from one outage burst to the next
        // (Liberty's pool size varies a little with timing, so not a fixed peak).
        Burst second = burst(jvm);
        assertThat(second.statuses).as("every request of the second burst").containsOnly(503);
        assertThat(second.peakThreads - threadsBefore).as("threads added by the second burst (peak: "
                + second.peakThreads + ")").isLessThanOrEqualTo(BURST_THREAD_ALLOWANCE);

        // Redis comes back on the same address (empty: this one keeps nothing on disk).
        long down = System.nanoTime();
        redis = TestRedis.restartEmbedded(redis);
        await("readiness UP again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> LibertyProcess.get("/health/ready").statusCode() == 200);
        long readyMillis = (System.nanoTime() - down) / 1_000_000;
        await("writes work again").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> Api.put("resources/ext-restart/doc/three", "{\"v\":3}").statusCode() == 200);
        assertThat(Api.get("resources/ext-restart/doc/three").body()).isEqualTo("{\"v\":3}");
        // The subscription opened before the outage delivers events published after it.
        awaitDelivered(task, "after", events);
        long streamMillis = (System.nanoTime() - down) / 1_000_000;
        assertThat(appStarts()).as("nothing was redeployed").isEqualTo(deploys);
        int threadsAfter = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ProcessCounts.threads(jvm), n -> n <= threadsBefore + BURST_THREAD_ALLOWANCE);
        System.out.printf("external Redis killed: each request answered 503 within %d ms, burst of %d in %d ms;"
                + " threads before %d, peak %d (second burst %d), after %d; after the restart readiness UP in %d ms,"
                + " the open stream delivering in %d ms%n", slowest, BURST, burst.millis, threadsBefore,
                burst.peakThreads, second.peakThreads, threadsAfter, readyMillis, streamMillis);
        stream.close();
    }

    /** Fires {@link #BURST} concurrent GETs and samples the JVM's threads while they run. */
    private static Burst burst(final long jvm) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(BURST);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger peak = new AtomicInteger(ProcessCounts.threads(jvm));
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                peak.accumulateAndGet(ProcessCounts.threads(jvm), Math::max);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "thread-sampler");
        sampler.start();
        long begin = System.nanoTime();
        try {
            List<Future<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < BURST; i++) {
                String path = "resources/ext-restart/doc/burst-" + i;
                calls.add(clients.submit(() -> Api.get(path)));
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<HttpResponse<String>> call : calls) {
                statuses.add(call.get(60, TimeUnit.SECONDS).statusCode());
            }
            return new Burst(statuses, (System.nanoTime() - begin) / 1_000_000, peak.get());
        } finally {
            running.set(false);
            sampler.join();
            clients.shutdownNow();
        }
    }

    private record Burst(List<Integer> statuses, long millis, int peakThreads) {
    }

    /** Publishes {@code type} on the task until the open stream has it (publishing before a resubscription is lost). */
    private static void awaitDelivered(final String task, final String type, final List<JsonObject> events) {
        await("the open stream receives '" + type + "'").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500)).until(() -> {
                    Api.post("events/tasks/" + task, "{\"type\":\"" + type + "\"}");
                    return events.stream().anyMatch(e -> e.getString("type").equals(type));
                });
    }

    private static JsonObject awaitStatus(final java.util.function.Predicate<JsonObject> condition) {
        return await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> json(Api.get("admin/status")), condition);
    }

    /** Applications started or updated so far in this run's messages.log. */
    private static int appStarts() {
        return (int) LibertyProcess.messages().lines()
                .filter(line -> line.contains("CWWKZ0001I") || line.contains("CWWKZ0003I")).count();
    }
}
