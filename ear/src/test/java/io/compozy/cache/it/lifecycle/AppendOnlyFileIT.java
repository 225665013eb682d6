package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.BackendModeListener;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.MetricsText;
import io.compozy.cache.it.support.ProcessCounts;
import io.compozy.cache.it.support.Tmpfs;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The append-only file on the installed server (docs/persistence.md, docs/reliability.md): writers keep
 * writing through the REST API while the Liberty JVM and its redis-server are SIGKILLed together, and
 * after a restart every acknowledged write is checked; then the disk under the AOF fills up; then a
 * damaged AOF. The data directory is a small tmpfs of its own, which survives the kills (only the
 * processes die) and can be filled. The tests run in order on one data directory, each restart serving
 * the next test, to keep the Liberty starts few.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AppendOnlyFileIT {

    private static final int WRITERS = 3;
    /** Each writer's pace: one acknowledged write every 10 ms at most (a steady 300 writes/s in all). */
    private static final long WRITE_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final Duration WRITING = Duration.ofSeconds(3);
    private static final String AOF = "REDIS_STANDALONE_PERSISTENCE_AOF";

    @TempDir
    static Path root;
    private static Tmpfs disk;
    private static Path dataDir;

    /** An acknowledged append: writer, sequence number and when the 2xx arrived (epoch ms). */
    private record Ack(int writer, int seq, long ackedAtMillis) {
    }

    @BeforeAll
    static void serverOnASmallDisk() {
        BackendModeListener.removeDropin();
        disk = Tmpfs.mount(root.resolve("disk"), "128m");
        dataDir = disk.path().resolve("data");
    }

    @AfterAll
    static void stopAndUnmount() {
        try {
            LibertyProcess.stopIfRunning();
        } finally {
            if (disk != null) { // null when the mount was refused (not root): the tests were skipped, saying why
                disk.close();
            }
        }
    }

    @Test
    @Order(1)
    void withEverysecAKillLosesNoWriteAcknowledgedMoreThanASecondBeforeIt() throws Exception {
        start("everysec");
        assertThat(aof().getString("fsync")).isEqualTo("everysec");
        assertThat(aof().getBoolean("enabled")).isTrue();
        // Redis acknowledges a write it has only buffered while a slow fsync runs, for up to 2 s (everysec).
        Window window = writeKillRestartAndCheck("everysec", 2_000);
        assertThat(window.lostMoreThan(2_000)).as("acknowledged more than 2 s before the kill, and lost").isEmpty();
        assertThat(LibertyProcess.messages()).contains("Started from the append-only file");
        assertThat(aof().getString("loadedFrom")).startsWith("the append-only file");
        JsonObject ready = persistenceHealth().getJsonObject("data");
        assertThat(ready.getString("aof")).isEqualTo("everysec");
        assertThat(ready.getString("aof_state")).isEqualTo("ok");
        MetricsText metrics = await().atMost(Duration.ofSeconds(30)).until(MetricsText::scrape,
                m -> m.value("compozy_standalone_aof_enabled").orElse(0.0) == 1.0);
        assertThat(metrics.value("compozy_standalone_aof_size_bytes")).hasValueSatisfying(
                size -> assertThat(size).isPositive());
        assertThat(metrics.value("compozy_standalone_aof_last_write_ok")).hasValue(1.0);
        assertThat(metrics.value("compozy_standalone_aof_delayed_fsync_total")).isPresent();
    }

    @Test
    @Order(2)
    void aFullDiskRefusesWritesWith503KeepsReadsAndEveryAcknowledgedWriteAndWritesResume() throws Exception {
        startIfStopped("everysec");
        assertThat(Api.put("resources/aof/disk/kept", "{\"v\":1}").statusCode()).isIn(200, 201);
        List<Integer> acknowledgedWhileFull = new ArrayList<>();
        Path filler = disk.fillLeaving(4096);
        try {
            assertWritesRefusedAndReadsServed(acknowledgedWhileFull);
        } finally {
            Files.deleteIfExists(filler); // the next tests need the room whatever happened here
        }
        // Redis retries the append by itself (every second) and takes writes again: no restart, no operator.
        await().atMost(Duration.ofSeconds(30)).until(
                () -> Api.put("resources/aof/disk/after", "{\"v\":2}").statusCode() / 100 == 2);
        assertThat(persistenceHealth().getJsonObject("data").getString("aof_last_write_status")).isEqualTo("ok");

        killBoth();
        LibertyProcess.start(env("everysec"));
        awaitReady();
        for (int n : acknowledgedWhileFull) {
            assertThat(Api.get("resources/aof/disk/d" + n).statusCode()).as("acknowledged d%d", n).isEqualTo(200);
        }
        assertThat(Api.get("resources/aof/disk/kept").body()).isEqualTo("{\"v\":1}");
        assertThat(Api.get("resources/aof/disk/after").body()).isEqualTo("{\"v\":2}");
    }

    /** On a full disk: writes answer 503 naming the cause (those acknowledged first are recorded), reads work. */
    private static void assertWritesRefusedAndReadsServed(final List<Integer> acknowledged) {
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        // Redis answers the write that meets ENOSPC (it keeps it in memory to append later), then refuses.
        HttpResponse<String> refused = await().atMost(Duration.ofSeconds(60)).until(() -> {
            int n = attempts.incrementAndGet();
            HttpResponse<String> put = Api.put("resources/aof/disk/d" + n, "{\"pad\":\"" + "x".repeat(8192) + "\"}");
            if (put.statusCode() / 100 == 2) {
                acknowledged.add(n);
            }
            return put;
        }, put -> put.statusCode() == 503);
        assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(json(refused).getString("type")).isEqualTo("urn:compozy:cache:problem:backend-cannot-persist");
        assertThat(json(refused).getString("detail")).contains("No space left on device");
        assertThat(Api.get("resources/aof/disk/kept").body()).as("reads keep working").isEqualTo("{\"v\":1}");

        JsonObject health = persistenceHealth();
        assertThat(health.getString("status")).isEqualTo("UP");
        assertThat(health.getJsonObject("data").getString("state")).isEqualTo("degraded");
        assertThat(health.getJsonObject("data").getString("aof_last_write_status")).isEqualTo("err");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> MetricsText.scrape().value("compozy_standalone_aof_last_write_ok").orElse(-1.0) == 0.0);
    }

    @Test
    @Order(3)
    void withAlwaysAKillLosesNoAcknowledgedWriteAtAll() throws Exception {
        LibertyProcess.stopIfRunning();
        start("always");
        assertThat(aof().getString("fsync")).isEqualTo("always");
        // A generation for the next test to fall back to.
        assertThat(Api.adminPost("admin/snapshots", "").statusCode()).isEqualTo(201);
        Window window = writeKillRestartAndCheck("always", 0);
        assertThat(window.lost).as("every acknowledged write, up to the kill").isEmpty();
    }

    @Test
    @Order(4)
    void aDamagedFileStartsFromWhatRedisCanKeepOrFromTheNewestGenerationNotFromNothing() throws Exception {
        // A crash mid-write: the last record is cut short. Redis keeps everything before it (aof-load-truncated).
        startIfStopped("everysec");
        assertThat(Api.put("resources/aof/cut/kept", "{\"v\":1}").statusCode()).isIn(200, 201);
        assertThat(Api.put("resources/aof/cut/last", "{\"v\":1}").statusCode()).isIn(200, 201);
        killBoth();
        Path cut = newestIncrFile();
        try (var channel = Files.newByteChannel(cut, StandardOpenOption.WRITE)) {
            channel.truncate(Files.size(cut) - 3);
        }
        LibertyProcess.start(env("everysec"));
        awaitReady();
        assertThat(aof().getString("loadedFrom")).startsWith("the append-only file");
        assertThat(aof().getJsonNumber("truncatedBytesOnLoad").longValue()).isPositive();
        assertThat(Api.get("resources/aof/cut/kept").statusCode()).as("written before the cut record").isEqualTo(200);
        assertThat(LibertyProcess.messages()).contains("bytes of a partial command were dropped (aof-load-truncated)");

        // Garbage after the last record: Redis refuses the file, so the newest generation is restored.
        int generation = json(Api.adminPost("admin/snapshots", "")).getInt("generation");
        assertThat(Api.put("resources/aof/damage/newer", "{\"v\":1}").statusCode()).isIn(200, 201);
        killBoth();
        Path aofDir = dataDir.resolve("redis/appendonlydir");
        Files.writeString(newestIncrFile(), "garbage\r\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

        LibertyProcess.start(env("everysec"));
        JsonObject status = awaitReady();
        assertThat(status.getJsonObject("persistence").getJsonObject("restoredGeneration").getInt("generation"))
                .isEqualTo(generation);
        assertThat(aof().getString("loadedFrom")).startsWith("snapshot generation " + generation).contains("damaged");
        assertThat(aof().getBoolean("enabled")).as("the AOF rebuilt from the generation").isTrue();
        assertThat(Api.get("resources/aof/damage/newer").statusCode())
                .as("newer than the generation: in the damaged file, which was kept aside").isEqualTo(404);
        assertThat(LibertyProcess.messages()).contains("cannot be loaded; moved to " + dataDir.toRealPath()
                .resolve("redis/appendonlydir.damaged-"));
        try (Stream<Path> siblings = Files.list(aofDir.getParent())) {
            assertThat(siblings.map(p -> p.getFileName().toString()))
                    .anySatisfy(name -> assertThat(name).startsWith("appendonlydir.damaged-"));
        }
    }

    /** What one kill lost: the acknowledged writes missing after the restart, each with its margin. */
    private record Window(List<Ack> acknowledged, List<Ack> lost, long killedAtMillis) {
        List<Ack> lostMoreThan(final long millis) {
            return lost.stream().filter(a -> killedAtMillis - a.ackedAtMillis() > millis).toList();
        }
    }

    /**
     * Writers append to conversations at a steady pace; after {@link #WRITING} both processes are SIGKILLed
     * in one kill(1); the restarted server must hold the acknowledged messages. Prints the measured window.
     */
    private static Window writeKillRestartAndCheck(final String fsync, final long allowedMillis) throws Exception {
        String run = fsync + "-" + System.nanoTime();
        ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
        List<Future<?>> work = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            work.add(writers.submit(() -> write(run, writer, running, acks)));
        }
        long killedAt;
        try {
            await().pollDelay(WRITING).atMost(WRITING.plusSeconds(60)).until(() -> acks.size() > 50);
            killedAt = killBoth();
        } finally {
            running.set(false); // whatever happened, no writer outlives this test
            for (Future<?> done : work) {
                done.get(60, TimeUnit.SECONDS);
            }
            writers.shutdown();
        }

        LibertyProcess.start(env(fsync));
        awaitReady();
        List<Ack> acknowledged = new ArrayList<>(acks);
        List<Ack> lost = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            Set<Integer> kept = new HashSet<>();
            JsonObject messages = json(Api.get("memory/aof-" + run + "-w" + w + "/messages"));
            messages.getJsonArray("messages").stream().map(JsonValue::asJsonObject).forEach(m -> kept.add(m.getInt("i")));
            int writer = w;
            acknowledged.stream().filter(a -> a.writer() == writer && !kept.contains(a.seq())).forEach(lost::add);
        }
        long newestKept = acknowledged.stream().filter(a -> !lost.contains(a)).mapToLong(Ack::ackedAtMillis).max()
                .orElse(0);
        System.out.printf("aof=%s kill: %d writes acknowledged in %d s by %d writers, %d lost; newest kept acknowledged"
                + " %d ms before the kill; oldest lost acknowledged %s (allowed: older than %d ms before the kill"
                + " must be kept)%n", fsync, acknowledged.size(), WRITING.toSeconds(), WRITERS, lost.size(),
                killedAt - newestKept, lost.stream().mapToLong(Ack::ackedAtMillis).min()
                        .stream().mapToObj(t -> (killedAt - t) + " ms before the kill").findFirst().orElse("(none)"),
                allowedMillis);
        assertThat(acknowledged).as("the writers did run").hasSizeGreaterThan(50);
        return new Window(acknowledged, lost, killedAt);
    }

    /** One writer: appends message i, then i+1, ..., one every 10 ms at most, until stopped or refused. */
    private static void write(final String run, final int writer, final AtomicBoolean running,
                              final ConcurrentLinkedQueue<Ack> acks) {
        long next = System.nanoTime();
        for (int i = 0; running.get(); i++) {
            try {
                HttpResponse<String> append = Api.post("memory/aof-" + run + "-w" + writer + "/messages",
                        "{\"messages\":[{\"i\":" + i + "}],\"tokens\":1}");
                if (append.statusCode() / 100 != 2) {
                    return;
                }
                acks.add(new Ack(writer, i, System.currentTimeMillis()));
            } catch (RuntimeException e) {
                return; // the server is gone
            }
            next += WRITE_EVERY_NANOS;
            LockSupport.parkNanos(next - System.nanoTime()); // pacing the load, not waiting for a state
        }
    }

    /**
     * SIGKILL of the Liberty JVM and its redis-server in one kill(1): neither can flush or stop the other.
     * The PIDs come from /proc, not from the busy server.
     *
     * @return the time (epoch ms) just before kill(1) was started, once the PIDs were found: the kill lands
     *     after it, so "acknowledged more than N ms before the kill" measured from it is never looser
     */
    private static long killBoth() throws Exception {
        long jvm = LibertyProcess.jvmPid().orElseThrow();
        List<ProcessHandle> servers = ProcessCounts.redisDescendants(jvm);
        assertThat(servers).as("the JVM's embedded redis-server").hasSize(1);
        long redis = servers.get(0).pid();
        long killedAt = System.currentTimeMillis();
        Process kill = new ProcessBuilder("kill", "-KILL", Long.toString(jvm), Long.toString(redis)).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
        for (long pid : new long[] {jvm, redis}) {
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
        }
        return killedAt;
    }

    private static void start(final String fsync) {
        LibertyProcess.start(env(fsync));
        awaitReady();
    }

    private static void startIfStopped(final String fsync) {
        if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isEmpty()) {
            start(fsync);
        }
    }

    private static Map<String, String> env(final String fsync) {
        Map<String, String> env = new HashMap<>();
        env.put("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.toString());
        env.put(AOF, fsync);
        return env;
    }

    private static JsonObject awaitReady() {
        return await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> json(Api.get("admin/status")), s -> s.getString("ping").equals("ok"));
    }

    private static Path newestIncrFile() throws IOException {
        try (Stream<Path> files = Files.list(dataDir.resolve("redis/appendonlydir"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".incr.aof"))
                    .max(Comparator.comparing(f -> f.getFileName().toString())).orElseThrow();
        }
    }

    private static JsonObject aof() {
        return json(Api.get("admin/status")).getJsonObject("persistence").getJsonObject("appendOnly");
    }

    private static JsonObject persistenceHealth() {
        return LibertyProcess.readinessCheck("compozy-cache-persistence");
    }
}
