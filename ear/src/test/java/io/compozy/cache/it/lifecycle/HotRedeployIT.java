package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.ProcessCounts;
import io.compozy.cache.it.support.TestServer;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hot redeploys on a running server with the shipped configuration (standalone, persistence on): the
 * EAR replaced ten times, as an operator or a deploy pipeline does, then the resource adapter itself
 * restarted ten times (it owns the embedded redis-server and the snapshot store). Counted before and
 * after: redis-server processes, JVM threads, open files, the snapshot store's lock and the application
 * generations still alive in the heap.
 */
@ExtendWith(ShippedServerPerTest.class)
class HotRedeployIT {

    private static final int ROUNDS = 10;
    /**
     * Threads a healthy JVM may gain over the rounds outside the two pools below: thread dumps of ten rounds
     * show none (a {@code process reaper} per child process and the JIT's compiler threads come and go), so a leak of a client, a store or
     * a pool per round exceeds this after ten rounds. The adapter's own threads are held exactly below.
     */
    private static final int THREAD_TOLERANCE = 5;
    /**
     * Threads the adapter starts (Redisson, JE's daemons, its own) and the {@code java.util.Timer} threads
     * ({@code Timer-N}: Liberty's eight, fixed at start, and one per open JE environment): their number must
     * not grow at all. A JE environment that fails to open leaks its Timer, which is why a new adapter
     * instance waits for the previous one's store without trying (SnapshotStore.open).
     */
    private static final List<String> ADAPTER_THREADS = List.of("redisson", "compozy", "Checkpointer", "INCompressor",
            "Cleaner-", "DataCorruptionV", "Evictor", "Timer-");
    /** Liberty's request pool: it grows and shrinks by itself with the load. */
    private static final String LIBERTY_EXECUTOR = "Default Executo";
    /**
     * Liberty's transaction manager schedules a timeout alarm for every container transaction on a pool of
     * default-named threads ({@code pool-N-thread-M}) that adds a thread per alarm up to its fixed size, ten
     * (com.ibm.tx.jta.util.alarm.AlarmManagerImpl). The application's only EJB runs without transactions, so
     * few are started; whatever starts them, the pool never exceeds its size.
     */
    private static final String TRANSACTION_ALARMS = "pool-";
    private static final int TRANSACTION_ALARM_THREADS = 10;
    /** Likewise for file descriptors: jar files Liberty opens lazily, sockets in TIME_WAIT handling. */
    private static final int FD_TOLERANCE = 10;
    /** One bean per application generation: more than one live after a redeploy means the old one leaked. */
    private static final String APP_BEAN = "io.compozy.cache.web.store.StoreExecutors";
    private static final String SUBSCRIPTION = "io.compozy.cache.web.store.DeliveryQueue";

    @BeforeEach
    void shippedConfigurationWatchingTheEar() throws IOException {
        // The test server's Arquillian dropin deploys through JMX only; the shipped default polls the files.
        Files.writeString(monitorDropin(), "<server>\n  <applicationMonitor updateTrigger=\"polled\""
                + " pollingRate=\"500ms\"/>\n</server>\n");
    }

    @AfterEach
    void removeMonitorDropin() throws IOException {
        Files.deleteIfExists(monitorDropin());
    }

    @Test
    void tenEarRedeploysAndTenAdapterRestartsLeakNothing() throws Exception {
        LibertyProcess.start(Map.of());
        long jvm = LibertyProcess.jvmPid().orElseThrow();
        awaitWorking("warm-up");
        // One round first: the first redeploy loads classes and starts pools that then stay (not a leak).
        redeployEar(null);
        Counts before = Counts.of(jvm);
        assertThat(before.redisChildren).as("one embedded redis-server").isEqualTo(1);
        assertThat(before.jeLocks).as("the snapshot store's je.lck, held once").isEqualTo(1);

        for (int round = 1; round <= ROUNDS; round++) {
            redeployEar("ear-" + round);
        }
        Counts afterEar = settled(jvm, before);
        assertNoLeak(before, afterEar, "after " + ROUNDS + " EAR redeploys");
        assertThat(afterEar.redisPids).as("the EAR redeploys do not touch the adapter's redis-server")
                .isEqualTo(before.redisPids);

        for (int round = 1; round <= ROUNDS; round++) {
            restartAdapter("ra-" + round);
        }
        Counts afterAdapter = settled(jvm, before);
        assertNoLeak(before, afterAdapter, "after " + ROUNDS + " adapter restarts");
        System.out.printf("hot redeploy: %s; after %d EAR redeploys %s; after %d adapter restarts %s%n",
                before, ROUNDS, afterEar, ROUNDS, afterAdapter);
    }

    /**
     * Replaces the EAR (a newer modification time is what Liberty's monitor sees) with an event stream
     * open, waits for Liberty's "updated" line, then checks the API works and finds the data written before.
     */
    private static void redeployEar(final String round) throws IOException {
        List<JsonObject> events = new CopyOnWriteArrayList<>();
        Stream<String> stream = Api.stream(Api.request("events/tasks/redeploy").GET());
        Thread reader = Api.followInBackground(stream.iterator(), events);
        int updates = count("CWWKZ0003I");
        Path ear = TestServer.serverDir().resolve("apps/compozy-cache.ear");
        Files.setLastModifiedTime(ear, FileTime.from(Instant.now()));
        await("the EAR updated").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> count("CWWKZ0003I") > updates);
        // The stopping application ended the stream (the client reconnects), rather than leave it hanging.
        await("the open stream ended").atMost(Duration.ofSeconds(10)).until(() -> !reader.isAlive());
        awaitWorking(round == null ? "first" : round);
        stream.close();
    }

    /**
     * Replaces the RAR, which restarts the adapter: it takes its final snapshot, stops its redis-server and
     * closes the snapshot store, then starts again from that snapshot.
     */
    private static void restartAdapter(final String round) throws IOException {
        int starts = count("Compozy cache started");
        int updates = count("CWWKZ0003I");
        int timers = count("Snapshot timer started");
        Path rar = TestServer.wlpDir().resolve("usr/shared/resources/compozy-cache-ra.rar");
        Files.setLastModifiedTime(rar, FileTime.from(Instant.now()));
        // Liberty restarts the application that uses the adapter too, sometimes before the adapter is up.
        await("the adapter and the application restarted").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> count("Compozy cache started") > starts && count("CWWKZ0003I") > updates);
        assertThat(LibertyProcess.messages()).as("the new adapter instance waited for the old one's store")
                .doesNotContain("is in use by another server");
        // Even when the application came up before the adapter, its periodic snapshots start once it is up.
        await("the snapshot timer restarted").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> count("Snapshot timer started") > timers);
        awaitWorking(round);
    }

    /** Writes a key of this round and reads back the warm-up's: the application works on restored state. */
    private static void awaitWorking(final String round) {
        await("the API answers after " + round).atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .pollInterval(Duration.ofMillis(200))
                .until(() -> Api.put("resources/redeploy/doc/" + round, "{\"round\":\"" + round + "\"}").statusCode(),
                        status -> status == 200);
        assertThat(Api.get("resources/redeploy/doc/warm-up").body()).isEqualTo("{\"round\":\"warm-up\"}");
        JsonObject status = json(Api.get("admin/status"));
        assertThat(status.getString("ping")).isEqualTo("ok");
    }

    /**
     * The counts once the threads and files of the stopped generation are gone (a stopped client's
     * Netty threads and JE's daemon threads end a moment after close returns), or after 30 s: a leak
     * never gets there.
     */
    private static Counts settled(final long jvm, final Counts before) {
        try {
            return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> Counts.of(jvm), now -> now.threads <= before.threads + THREAD_TOLERANCE
                            && now.fds <= before.fds + FD_TOLERANCE && now.subscriptions == 0);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return Counts.of(jvm); // assertNoLeak says what is left
        }
    }

    private static void assertNoLeak(final Counts before, final Counts after, final String when) {
        assertThat(after.redisChildren).as("redis-server children " + when).isEqualTo(1);
        assertThat(after.redisUnderServer).as("redis-server processes of this server " + when).isEqualTo(1);
        assertThat(after.jeLocks).as("je.lck handles " + when).isEqualTo(1);
        assertThat(after.threads).as("threads outside Liberty's executor and transaction alarms " + when + " (before: " + before.threads
                + "; by name before " + before.threadNames + ", after " + after.threadNames + ")")
                .isLessThanOrEqualTo(before.threads + THREAD_TOLERANCE);
        assertThat(adapterThreads(after)).as("the adapter's threads " + when + " (by name after " + after.threadNames + ")")
                .isLessThanOrEqualTo(adapterThreads(before));
        assertThat(threadsStartingWith(after, TRANSACTION_ALARMS)).as("the transaction manager's alarm threads " + when)
                .isLessThanOrEqualTo(TRANSACTION_ALARM_THREADS);
        assertThat(after.fds).as("open files " + when + " (before: " + before.fds + ")")
                .isLessThanOrEqualTo(before.fds + FD_TOLERANCE);
        assertThat(after.appGenerations).as("live application generations " + when).isEqualTo(1);
        assertThat(after.subscriptions).as("subscriptions of closed event streams " + when).isZero();
    }

    private static long adapterThreads(final Counts counts) {
        return counts.threadNames.entrySet().stream().filter(e -> ADAPTER_THREADS.stream().anyMatch(e.getKey()::startsWith))
                .mapToLong(Map.Entry::getValue).sum();
    }

    private static long threadsStartingWith(final Counts counts, final String prefix) {
        return counts.threadNames.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToLong(Map.Entry::getValue).sum();
    }

    private static int count(final String messageId) {
        return (int) LibertyProcess.messages().lines().filter(line -> line.contains(messageId)).count();
    }

    private static Path monitorDropin() {
        return TestServer.serverDir().resolve("configDropins/overrides/it-monitor.xml");
    }

    /** What the server's JVM holds at one moment. */
    private record Counts(int threads, Map<String, Long> threadNames, int fds, long jeLocks, int redisChildren, int redisUnderServer,
                          List<Long> redisPids, long appGenerations, long subscriptions) {

        static Counts of(final long jvm) {
            List<Long> pids = new ArrayList<>(ProcessCounts.redisDescendants(jvm).stream().map(ProcessHandle::pid).toList());
            Map<String, Long> names = ProcessCounts.threadNames(jvm);
            int threads = (int) names.entrySet().stream().filter(e -> !e.getKey().startsWith(LIBERTY_EXECUTOR)
                    && !e.getKey().startsWith(TRANSACTION_ALARMS)).mapToLong(Map.Entry::getValue).sum();
            return new Counts(threads, names, ProcessCounts.fileDescriptors(jvm),
                    ProcessCounts.openFilesNamed(jvm, "je.lck"), pids.size(),
                    ProcessCounts.redisServersUnder(TestServer.serverDir()).size(), pids,
                    ProcessCounts.liveInstances(jvm, APP_BEAN), ProcessCounts.liveInstances(jvm, SUBSCRIPTION));
        }

        @Override
        public String toString() {
            return "threads " + threads + " (+" + threadNames.getOrDefault(LIBERTY_EXECUTOR, 0L)
                    + " of Liberty's executor, +" + threadsStartingWith(this, TRANSACTION_ALARMS)
                    + " transaction alarms), fds " + fds + ", je.lck " + jeLocks + ", redis-server children "
                    + redisChildren + " (under the server dir " + redisUnderServer + "), app generations "
                    + appGenerations + ", subscriptions " + subscriptions;
        }
    }
}
