package io.compozy.cache.bench;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.adapter.FactoryAccess;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.testing.TestTopologies;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.persistence.GenerationExport;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.resource.StoredResource;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.redisson.Redisson;
import org.redisson.api.RBatch;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/**
 * The side-by-side measurements that need no application server: the adapter's client path against
 * plain Redisson, Lettuce and redis-benchmark on the same embedded server, the store workload in
 * standalone mode against distributed mode on a redis-server with the same settings, snapshot and
 * restore against SAVE and a plain redis-server, latency during a snapshot, start-up and memory.
 *
 * <p>Fairness rules: every side of a comparison runs in the same rounds in alternating order (ABBA), so
 * neither always runs first on a warming JVM or a busy machine; throughput counts successful operations
 * only and reports the failed ones; each figure is the median of the rounds. Every line is printed as
 * "row|id|name|product|reference|ratio|target|verdict" for bench/run to format; a row without a target
 * has the verdict "-".
 */
public final class Bench {

    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final Duration RUN = Duration.ofSeconds(Integer.getInteger("bench.seconds", 5));
    private static final int KEYS = Integer.getInteger("bench.keys", 1_000_000);
    private static final Duration WARMUP = Duration.ofSeconds(Integer.getInteger("bench.warmup", 60));
    /** Row 4 swings with every other process on 2 cores: more rounds than the other rows. */
    private static final int ROUNDS_DURING_SNAPSHOT = Math.max(ROUNDS, 5);
    private static final Executor PUMP = task -> {
        Thread thread = new Thread(task, "bench-redis-output");
        thread.setDaemon(true);
        thread.start();
    };

    private final Path work;

    private Bench(final Path work) {
        this.work = work;
    }

    public static void main(final String[] args) throws Exception {
        java.util.logging.LogManager.getLogManager().reset(); // the table is the output
        Path work = Files.createTempDirectory("compozy-bench-");
        int status = 0;
        try {
            new Bench(work).run(args.length > 0 ? args[0] : "all");
        } catch (Throwable failure) {
            failure.printStackTrace();
            status = 1;
        }
        System.out.flush();
        System.exit(status); // no benchmark thread may keep the run open
    }

    /** @param what {@code all}, or a comma-separated list of startup, client, stores, snapshot; or aof, or cluster */
    private void run(final String what) throws Exception {
        List<String> rows = List.of(what.split(","));
        if (rows.contains("all") || rows.contains("startup")) {
            startup();
        }
        if (rows.contains("all") || rows.contains("client")) {
            clientPath();
        }
        if (rows.contains("all") || rows.contains("stores")) {
            storeWorkload();
        }
        if (rows.contains("all") || rows.contains("snapshot")) {
            snapshots();
        }
        if (what.equals("all") || what.equals("aof")) {
            appendOnlyFile();
        }
        if (what.equals("all") || what.equals("cluster")) {
            clusterWorkload();
        }
    }

    // 12. The store workload of row 2 on a 3-master Redis Cluster (one replica each) vs on one redis-server
    // with a Cluster node's settings, both started by the test harness from the same binary, both through
    // the adapter's own client (distributed mode), in turns. What sharding costs or gains on one machine.
    private void clusterWorkload() throws Exception {
        TestTopologies.Cluster cluster = TestTopologies.cluster();
        Map<String, String> clustered = new HashMap<>(Map.of("redis.mode", "distributed",
                "redis.cluster.nodes", cluster.nodeList()));
        cluster.password().ifPresent(p -> clustered.put(CacheSettings.PASSWORD, p));
        Map<String, String> single = Map.of("redis.mode", "distributed",
                CacheSettings.ADDR, TestTopologies.startSingleLikeAClusterNode());
        try (CacheBackend onCluster = CacheBackend.start(CacheSettings.load(ConfigLookup.of(clustered)), PUMP);
             CacheBackend onSingle = CacheBackend.start(CacheSettings.load(ConfigLookup.of(single)), PUMP)) {
            storeOps(onCluster.client(), "cwarm", null);
            storeOps(onSingle.client(), "swarm", null);
            List<Double> sharded = new ArrayList<>();
            List<Double> one = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                if (round % 2 == 0) { // in turns, so that neither side always runs first
                    sharded.add(storeOps(onCluster.client(), "c" + round, null));
                    one.add(storeOps(onSingle.client(), "s" + round, null));
                } else {
                    one.add(storeOps(onSingle.client(), "s" + round, null));
                    sharded.add(storeOps(onCluster.client(), "c" + round, null));
                }
            }
            ratioRow("12", "store workload ops/s (as row 2): a 3-master Cluster with replicas vs one redis-server"
                    + " with the same settings, both distributed mode", sharded, one, 0);
        }
    }

    // 5. Adapter start to first PING, standalone, no data.
    private void startup() {
        List<Double> millis = new ArrayList<>();
        for (int round = 0; round < ROUNDS + 2; round++) {
            long start = System.nanoTime();
            try (CacheBackend backend = CacheBackend.start(settings("startup-" + round, false), PUMP)) {
                millis.add((System.nanoTime() - start) / 1e6);
            }
        }
        millis.remove(0); // the first round extracts the binary and warms the JVM
        row("5", "adapter start to first PING (standalone, no data), ms", Stats.median(millis), 1000, "<= 1.0x of 1000 ms",
                Stats.median(millis) <= 1000);
    }

    /**
     * One side of a throughput comparison: successful operations per second, the failed ones, and the 99th
     * percentile of the successful calls' latency (send to reply, in ms; a batch is one call).
     */
    private record Rate(double perSecond, long errors, double p99Millis) {
        Rate(final double perSecond, final long errors) {
            this(perSecond, errors, Double.NaN);
        }
    }

    /** Latencies of one round's successful calls; past its capacity further calls are not sampled. */
    private static final class Latencies {
        private final long[] nanos = new long[4_000_000];
        private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

        void add(final long sentAt) {
            int slot = count.getAndIncrement();
            if (slot < nanos.length) {
                nanos[slot] = System.nanoTime() - sentAt;
            }
        }

        double p99Millis() {
            int n = Math.min(count.get(), nanos.length);
            return n == 0 ? Double.NaN : Stats.percentile(nanos, n, 99);
        }
    }

    /** A client under test: runs the workload (GET or SET, in batches of 1 or 16) for one round. */
    @FunctionalInterface
    private interface Workload {
        Rate run(boolean get, int batch) throws Exception;
    }

    // 1. GET/SET through the client applications get (async, 50 in flight) against the references a Java
    // team would pick instead, on the same embedded server in the same rounds: Redisson with its own defaults
    // (Redisson.create with only the address: what the adapter's settings are worth), Lettuce (one multiplexed
    // connection, its default), and redis-benchmark -c 50 (the physical limit on these cores); beside the
    // throughput, the p99 latency of the same calls. A factory with a prefix and an ACL user (docs/security.md)
    // runs as one more side.
    private void clientPath() throws Exception {
        try (CacheBackend backend = CacheBackend.start(settings("client", false), PUMP)) {
            EmbeddedRedisServer server = backend.embeddedServer().orElseThrow();
            RedissonClient adapter = backend.sharedClient();
            // What an application gets from a connection factory of its own: a key prefix (Redisson's name
            // mapper) and an ACL user limited to it (Redis checks the key patterns on every command).
            RedissonClient prefixed = backend.factoryClient(FactoryAccess.of("bench-app:", null, null, false, null));
            // What a team gets from Redisson.create(config) with only the address (and the password).
            Config defaults = new Config();
            defaults.useSingleServer().setAddress("redis://" + server.host() + ":" + server.port())
                    .setPassword(server.password().reveal());
            RedissonClient plain = Redisson.create(defaults);
            RedisClient lettuceClient = RedisClient.create(RedisURI.builder().withHost(server.host())
                    .withPort(server.port()).withPassword(server.password().reveal().toCharArray()).build());
            StatefulRedisConnection<String, String> lettuce = lettuceClient.connect();
            List<RedissonClient> pools = new ArrayList<>();
            try {
                Map<String, Workload> sides = new LinkedHashMap<>();
                sides.put("adapter", (get, batch) -> asyncOps(adapter, get, batch));
                sides.put("Redisson defaults", (get, batch) -> asyncOps(plain, get, batch));
                sides.put("prefixed factory", (get, batch) -> asyncOps(prefixed, get, batch));
                sides.put("Lettuce", (get, batch) -> lettuceOps(lettuce, get, batch));
                sides.put("redis-benchmark", (get, batch) -> redisBenchmark(server, get ? "GET" : "SET", batch));
                // BENCH_POOL_SIZES=1,4,8: the adapter's settings with another connection pool size each, as more
                // sides of the same rounds (what choosing the pool size is measured with; docs/performance.md).
                for (String size : Optional.ofNullable(System.getenv("BENCH_POOL_SIZES")).orElse("").split(",")) {
                    if (!size.isBlank()) {
                        Config pooled = new Config(backend.client().getConfig());
                        int n = Integer.parseInt(size.trim());
                        pooled.useSingleServer().setConnectionPoolSize(n).setConnectionMinimumIdleSize(Math.min(n, 4));
                        RedissonClient client = Redisson.create(pooled);
                        pools.add(client);
                        sides.put("pool " + n, (get, batch) -> asyncOps(client, get, batch));
                    }
                }
                // Untimed warm-up of every side and workload, in turns: the JIT compiles each client's paths
                // and the pools open their connections (a cold JVM ran SET at a tenth of its steady rate).
                long warmUntil = System.nanoTime() + WARMUP.toNanos();
                while (System.nanoTime() < warmUntil) {
                    for (int batch : new int[] {1, 16}) {
                        for (Map.Entry<String, Workload> side : sides.entrySet()) {
                            if (!side.getKey().equals("redis-benchmark")) {
                                side.getValue().run(false, batch);
                                side.getValue().run(true, batch);
                            }
                        }
                    }
                }
                for (int batch : new int[] {1, 16}) {
                    for (String op : List.of("SET", "GET")) {
                        Map<String, List<Double>> p99s = new LinkedHashMap<>();
                        Map<String, List<Double>> rates = inTurns(sides, op.equals("GET"), batch, p99s);
                        String what = op + " ops/s" + (batch == 1 ? ", async x50" : ", batches of 16 x50");
                        ratioRow("1", what + ": adapter vs Redisson with its own defaults (address only)",
                                rates.get("adapter"), rates.get("Redisson defaults"), 0);
                        ratioRow("1", what + ": a factory with a prefix and an ACL user vs the shared client",
                                rates.get("prefixed factory"), rates.get("adapter"), 0.97);
                        ratioRow("1", what + ": adapter vs Lettuce (one connection)", rates.get("adapter"),
                                rates.get("Lettuce"), 0);
                        for (String side : sides.keySet()) {
                            if (side.startsWith("pool ")) {
                                ratioRow("1", what + ": the adapter's settings with " + side + " vs Lettuce",
                                        rates.get(side), rates.get("Lettuce"), 0);
                            }
                        }
                        ratioRow("1", what + ": adapter vs redis-benchmark -c 50" + (batch == 1 ? "" : " -P 16"),
                                rates.get("adapter"), rates.get("redis-benchmark"), 0);
                        String latency = op + " p99 ms" + (batch == 1 ? ", async x50" : ", batches of 16 x50");
                        ratioRow("1", latency + ": adapter vs Lettuce (lower is better)", p99s.get("adapter"),
                                p99s.get("Lettuce"), 0);
                        ratioRow("1", latency + ": a factory with a prefix vs the shared client (lower is better)",
                                p99s.get("prefixed factory"), p99s.get("adapter"), 0);
                    }
                }
            } finally {
                lettuce.close();
                lettuceClient.shutdown();
                plain.shutdown();
                pools.forEach(RedissonClient::shutdown);
            }
        }
    }

    /**
     * ROUNDS rounds of every side, in ABBA order (forwards in even rounds, backwards in odd ones); the
     * successful operations per second of each round by side. Failed operations are reported, not counted.
     */
    private static Map<String, List<Double>> inTurns(final Map<String, Workload> sides, final boolean get,
            final int batch, final Map<String, List<Double>> p99s) throws Exception {
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, Long> errors = new LinkedHashMap<>();
        List<String> order = new ArrayList<>(sides.keySet());
        for (int round = 0; round < ROUNDS; round++) {
            for (String side : order) {
                Rate rate = sides.get(side).run(get, batch);
                rates.computeIfAbsent(side, k -> new ArrayList<>()).add(rate.perSecond());
                if (!Double.isNaN(rate.p99Millis())) {
                    p99s.computeIfAbsent(side, k -> new ArrayList<>()).add(rate.p99Millis());
                }
                errors.merge(side, rate.errors(), Long::sum);
            }
            java.util.Collections.reverse(order);
        }
        if (errors.values().stream().anyMatch(n -> n > 0)) {
            System.out.println("note|row 1 " + (get ? "GET" : "SET") + " batch " + batch
                    + ": failed operations (not counted): " + errors);
        }
        return rates;
    }

    private static Rate asyncOps(final RedissonClient client, final boolean get, final int batch) throws Exception {
        Semaphore inFlight = new Semaphore(50);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        Latencies latencies = new Latencies();
        long start = System.nanoTime();
        long end = start + RUN.toNanos();
        long i = 0;
        while (System.nanoTime() < end) {
            inFlight.acquire();
            if (batch == 1) {
                var bucket = client.<String>getBucket("bench:key:" + (i++ % 10_000), StringCodec.INSTANCE);
                long sentAt = System.nanoTime();
                (get ? bucket.getAsync() : bucket.setAsync("xxx")).whenComplete((r, e) -> {
                    if (e == null) {
                        latencies.add(sentAt);
                    }
                    (e == null ? done : failed).incrementAndGet();
                    inFlight.release();
                });
            } else {
                RBatch pipeline = client.createBatch();
                for (int n = 0; n < batch; n++) {
                    var bucket = pipeline.<String>getBucket("bench:key:" + (i++ % 10_000), StringCodec.INSTANCE);
                    if (get) {
                        bucket.getAsync();
                    } else {
                        bucket.setAsync("xxx");
                    }
                }
                long sentAt = System.nanoTime();
                pipeline.executeAsync().whenComplete((r, e) -> {
                    if (e == null) {
                        latencies.add(sentAt);
                    }
                    (e == null ? done : failed).addAndGet(batch);
                    inFlight.release();
                });
            }
        }
        inFlight.acquire(50);
        return new Rate(done.get() / ((System.nanoTime() - start) / 1e9), failed.get(), latencies.p99Millis());
    }

    /** The same workload on Lettuce's one connection: commands sent at once, or 16 flushed together. */
    private static Rate lettuceOps(final StatefulRedisConnection<String, String> connection, final boolean get,
            final int batch) throws Exception {
        RedisAsyncCommands<String, String> redis = connection.async();
        Semaphore inFlight = new Semaphore(50);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        Latencies latencies = new Latencies();
        connection.setAutoFlushCommands(batch == 1);
        try {
            long start = System.nanoTime();
            long end = start + RUN.toNanos();
            long i = 0;
            while (System.nanoTime() < end) {
                inFlight.acquire();
                long sentAt = System.nanoTime();
                List<CompletableFuture<String>> replies = new ArrayList<>(batch);
                for (int n = 0; n < batch; n++) {
                    String key = "bench:key:" + (i++ % 10_000);
                    RedisFuture<String> reply = get ? redis.get(key) : redis.set(key, "xxx");
                    replies.add(reply.toCompletableFuture());
                }
                if (batch > 1) {
                    connection.flushCommands();
                }
                CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).whenComplete((r, e) -> {
                    if (e == null) {
                        latencies.add(sentAt);
                    }
                    (e == null ? done : failed).addAndGet(batch);
                    inFlight.release();
                });
            }
            inFlight.acquire(50);
            return new Rate(done.get() / ((System.nanoTime() - start) / 1e9), failed.get(), latencies.p99Millis());
        } finally {
            connection.setAutoFlushCommands(true);
        }
    }

    private static Rate redisBenchmark(final EmbeddedRedisServer server, final String op, final int pipeline)
            throws Exception {
        Process process = new ProcessBuilder("redis-benchmark", "-h", server.host(), "-p", Integer.toString(server.port()),
                "-a", server.password().reveal(), "-c", "50", "-n", pipeline == 1 ? "200000" : "1000000",
                "-r", "10000", "-P", Integer.toString(pipeline), "-t", op.toLowerCase(), "--csv")
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        for (String line : output.split("\n")) {
            if (line.startsWith("\"" + op + "\"")) {
                return new Rate(Double.parseDouble(line.split(",")[1].replace("\"", "")), 0);
            }
        }
        throw new IllegalStateException("redis-benchmark printed no " + op + " line");
    }

    // 2. The store workload in standalone mode (the embedded server) vs distributed mode against a
    // redis-server this harness starts with the embedded server's settings (the same binary and
    // configuration, launched the same way): both clients are the adapter's own, built by CacheBackend, so
    // only the mode differs, not the server or its settings.
    private void storeWorkload() throws Exception {
        long heapBefore = usedHeapAfterGc();
        try (EmbeddedRedisServer referenceServer = EmbeddedRedisServer.start(settings("reference", false).standalone(), PUMP)) {
            Map<String, String> distributed = new HashMap<>();
            distributed.put("redis.mode", "distributed");
            distributed.put(CacheSettings.ADDR, "redis://" + referenceServer.host() + ":" + referenceServer.port() + "/0");
            distributed.put(CacheSettings.PASSWORD, referenceServer.password().reveal());
            storeWorkload(CacheSettings.load(ConfigLookup.of(distributed)), heapBefore);
        }
    }

    private void storeWorkload(final CacheSettings distributed, final long heapBefore) throws Exception {
        try (CacheBackend standalone = CacheBackend.start(settings("stores", false), PUMP);
             CacheBackend external = CacheBackend.start(distributed, PUMP)) {
            long[] heapUnderLoad = new long[1];
            // Untimed: the JIT compiles the stores' paths before either side is timed.
            storeOps(standalone.client(), "warm", null);
            storeOps(external.client(), "warm", null);
            List<Double> embedded = new ArrayList<>();
            List<Double> remote = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                if (round % 2 == 0) { // in turns, so that neither side always runs first
                    embedded.add(storeOps(standalone.client(), "e" + round, heapUnderLoad));
                    remote.add(storeOps(external.client(), "x" + round, null));
                } else {
                    remote.add(storeOps(external.client(), "x" + round, null));
                    embedded.add(storeOps(standalone.client(), "e" + round, heapUnderLoad));
                }
            }
            try {
                ratioRow("2", "store workload ops/s (Lua append, CAS, lock), standalone (embedded) vs distributed"
                        + " (a redis-server with the embedded server's settings)", embedded, remote, 0.95);
                // Two different quantities: reported side by side, no ratio.
                long heapIdle = usedHeapAfterGc();
                System.out.printf("row|6|JVM heap used by adapter + stores, MB: idle (product) / peak under store load"
                        + " (reference column)|%.1f|%.1f|-|report|-%n", (heapIdle - heapBefore) / 1048576.0,
                        heapUnderLoad[0] / 1048576.0);
            } finally {
                external.client().getKeys().deleteByPattern("bench-*");
            }
        }
    }

    // 9 and 10. The store workload on the embedded server with the append-only file (aof=everysec, the
    // shipped setting; aof=always) against aof=off (snapshots only), three servers with persistence on, in
    // turns. The data directories are on the bench's temp directory: its disk's fsync is what is measured.
    private void appendOnlyFile() throws Exception {
        try (CacheBackend off = CacheBackend.start(settings("aof-off", true, "off"), PUMP);
             CacheBackend everysec = CacheBackend.start(settings("aof-everysec", true, "everysec"), PUMP);
             CacheBackend always = CacheBackend.start(settings("aof-always", true, "always"), PUMP)) {
            List<CacheBackend> servers = List.of(off, everysec, always);
            for (CacheBackend server : servers) {
                storeOps(server.client(), "warm", null); // untimed: the JIT compiles the stores' paths first
            }
            List<List<Double>> rates = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (int round = 0; round < ROUNDS; round++) {
                for (int turn = 0; turn < servers.size(); turn++) { // rotate who goes first
                    int which = (round + turn) % servers.size();
                    rates.get(which).add(storeOps(servers.get(which).client(), "a" + round, null));
                }
            }
            ratioRow("9", "store workload ops/s, aof=everysec vs aof=off (embedded, persistence on)", rates.get(1),
                    rates.get(0), 0.9);
            ratioRow("10", "store workload ops/s, aof=always vs aof=off (embedded, fsync per write)", rates.get(2),
                    rates.get(0), 0);
        }
    }

    private static double storeOps(final RedissonClient client, final String round, final long[] heapPeak)
            throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        LockManager locks = new LockManager(client, scheduler);
        MemoryStore memory = new MemoryStore(client, "bench-memory:" + round + ":");
        ResourceStore resources = new ResourceStore(client, scheduler, "bench-res-" + round, Duration.ofMinutes(5));
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ops = new AtomicLong();
        List<JsonValue> message = List.of(Json.createObjectBuilder().add("role", "user").add("text", "hello there").build());
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int worker = t;
            workers.add(pool.submit(() -> {
                ResourceKey key = ResourceKey.of("bench", "cfg", "r" + worker);
                StoredResource current = resources.put(key, Json.createObjectBuilder().add("n", 0).build());
                long n = 0;
                while (running.get()) {
                    memory.append("conv-" + worker, message, 2, 100);
                    current = resources.putIfMatch(key, Json.createObjectBuilder().add("n", ++n).build(), current.etag());
                    locks.tryLease("bench-lock-" + round + "-" + worker, Duration.ofSeconds(10))
                            .ifPresent(token -> locks.release("bench-lock-" + round + "-" + worker, token));
                    ops.addAndGet(4); // append, CAS, acquire, release
                }
                return null;
            }));
        }
        long start = System.nanoTime();
        long end = start + RUN.toNanos();
        while (System.nanoTime() < end) {
            if (heapPeak != null) {
                heapPeak[0] = Math.max(heapPeak[0], ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            }
            Thread.sleep(100); // sampling interval of the heap gauge, not a readiness wait
        }
        running.set(false);
        for (Future<?> worker : workers) {
            worker.get();
        }
        double rate = ops.get() / ((System.nanoTime() - start) / 1e9);
        pool.shutdown();
        locks.close();
        scheduler.shutdown();
        return rate;
    }

    // 3, 4 and 6: snapshot and restore of KEYS keys, latency during a snapshot, server memory.
    private void snapshots() throws Exception {
        CacheSettings settings = settings("snapshot", true);
        CacheBackend backend = CacheBackend.start(settings, PUMP);
        EmbeddedRedisServer server = backend.embeddedServer().orElseThrow();
        fill(backend.client(), KEYS);
        var persistence = backend.persistence().orElseThrow();

        List<Double> ours = new ArrayList<>();
        List<Double> save = new ArrayList<>();
        RedisNode node = backend.client().getRedisNodes(RedisNodes.SINGLE).getInstance();
        for (int round = 0; round < ROUNDS; round++) {
            for (int turn = 0; turn < 2; turn++) {
                long start = System.nanoTime();
                if ((round + turn) % 2 == 0) { // ABBA: ours first in even rounds, SAVE first in odd ones
                    persistence.snapshot().orElseThrow();
                    ours.add((System.nanoTime() - start) / 1e6);
                } else {
                    node.save();
                    save.add((System.nanoTime() - start) / 1e6);
                }
            }
        }
        ratioRow("3", "snapshot of " + KEYS + " keys (mixed types), ms: ours vs SAVE", ours, save, -2.0);

        // 4. p99 GET latency under steady load, without and during a snapshot; and during Redis's own
        // BGSAVE alone, the floor of any fork-based snapshot: its child takes a core of the two.
        p99UnderLoad(backend.client(), () -> pause(2_000)); // untimed: the JIT compiles the load's path first
        List<Double> quiet = new ArrayList<>();
        List<Double> during = new ArrayList<>();
        List<Double> bgsave = new ArrayList<>();
        for (int round = 0; round < ROUNDS_DURING_SNAPSHOT; round++) {
            List<Runnable> turns = new ArrayList<>(List.of(
                    () -> quiet.add(p99(backend.client(), () -> pause(2_000))), // about as long as a snapshot
                    () -> during.add(p99(backend.client(), () -> persistence.snapshot().orElseThrow())),
                    () -> bgsave.add(p99(backend.client(), () -> bgsaveAndWait(node)))));
            if (round % 2 == 1) {
                java.util.Collections.reverse(turns); // ABC CBA: no side always first
            }
            turns.forEach(Runnable::run);
        }
        ratioRow("4", "p99 GET latency under load, ms: during a snapshot vs without", during, quiet, -2.0);
        ratioRow("4", "p99 GET latency under load, ms: during Redis's own BGSAVE alone vs without (floor, for reading)",
                bgsave, quiet, 0);

        // 6. The embedded server's RSS against a plain redis-server holding the same data.
        long embeddedRss = rssKb(server.pid());
        node.save();
        Path rdb = server.runDirectory().resolve(EmbeddedRedisServer.RDB_FILE);
        Path plainDir = Files.createDirectories(work.resolve("plain"));
        Files.copy(rdb, plainDir.resolve("dump.rdb"));
        Path binary;
        try (var files = Files.list(settings.standalone().workDir())) {
            binary = files.filter(f -> f.getFileName().toString().startsWith("redis-server-")).findFirst().orElseThrow();
        }
        backend.close();

        // 3b. Restore at start-up vs a plain redis-server loading the same data, until PING answers.
        List<Double> restore = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        long plainRss = 0;
        for (int round = 0; round < ROUNDS; round++) {
            for (int turn = 0; turn < 2; turn++) {
                if ((round + turn) % 2 == 0) { // ABBA
                    long start = System.nanoTime();
                    CacheBackend restored = CacheBackend.start(settings, PUMP);
                    restore.add((System.nanoTime() - start) / 1e6);
                    restored.close();
                    continue;
                }
                int port = freePort();
                long start = System.nanoTime();
                Process redis = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind",
                        "127.0.0.1", "--dir", plainDir.toString(), "--dbfilename", "dump.rdb", "--save", "")
                        .redirectErrorStream(true).start();
                // Waited for as the adapter waits for its server: its "ready" line, then one PING.
                awaitReadyLine(redis);
                awaitPong(port);
                plain.add((System.nanoTime() - start) / 1e6);
                plainRss = rssKb(redis.pid());
                redis.destroy();
                redis.waitFor();
            }
        }
        ratioRow("3", "restore at start-up until PING, ms: adapter (JE + load + client) vs plain redis-server",
                restore, plain, -2.0);
        row("6", "redis-server RSS with the data, MB: embedded vs plain", embeddedRss / 1024.0, plainRss / 1024.0,
                "1.0x +- 15%", Math.abs((double) embeddedRss / plainRss - 1) < 0.15);
        transfers(settings, ours, plain);
    }

    // 11. Moving the same data between modes (docs/migration.md), next to the snapshot (row 3) and to a plain
    // redis-server loading the same RDB: export of a generation as an RDB file, import of the store into an
    // empty external Redis (RESTORE ... ABSTTL per key), import of that Redis into a new standalone server
    // (replication stream, then the first snapshot).
    private void transfers(final CacheSettings standalone, final List<Double> snapshot, final List<Double> plainLoad)
            throws Exception {
        Path dataDir = standalone.standalone().persistence().dataDir().orElseThrow();
        List<Double> export = new ArrayList<>();
        List<Double> intoExternal = new ArrayList<>();
        List<Double> intoEmbedded = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Path rdb = work.resolve("export-" + round + ".rdb");
            long start = System.nanoTime();
            try (GenerationExport generations = GenerationExport.openOffline(dataDir, Optional.empty())) {
                generations.writeRdb(OptionalLong.empty(), rdb);
            }
            export.add((System.nanoTime() - start) / 1e6);
            Files.delete(rdb);

            try (EmbeddedRedisServer external = EmbeddedRedisServer.start(settings("external-" + round, false)
                    .standalone(), PUMP)) {
                Map<String, String> distributed = new HashMap<>(Map.of("redis.mode", "distributed",
                        CacheSettings.ADDR, "redis://127.0.0.1:" + external.port() + "/0",
                        CacheSettings.PASSWORD, external.password().reveal(),
                        ImportSettings.DISTRIBUTED_DATA_DIR, dataDir.toString()));
                start = System.nanoTime();
                startWith(distributed).close();
                intoExternal.add((System.nanoTime() - start) / 1e6);

                Map<String, String> back = new HashMap<>(Map.of("redis.mode", "standalone",
                        CacheSettings.WORK_DIR, work.resolve("redis-back-" + round).toString(),
                        "redis.standalone.persistence.enabled", "true",
                        "redis.standalone.persistence.data_dir", work.resolve("data-back-" + round).toString(),
                        "redis.standalone.persistence.snapshot_on_shutdown", "false",
                        ImportSettings.STANDALONE_FROM, "redis://127.0.0.1:" + external.port(),
                        ImportSettings.STANDALONE_PASSWORD, external.password().reveal()));
                start = System.nanoTime();
                startWith(back).close();
                intoEmbedded.add((System.nanoTime() - start) / 1e6);
            }
        }
        ratioRow("11", "export a generation as an RDB file, ms: ours vs the snapshot (row 3)", export, snapshot, 0);
        ratioRow("11", "import the store into an empty external Redis at start, ms: ours vs plain redis-server loading"
                + " the RDB", intoExternal, plainLoad, 0);
        ratioRow("11", "import a Redis into a new standalone server at start (replication + first snapshot), ms: ours vs"
                + " plain redis-server loading the RDB", intoEmbedded, plainLoad, 0);
    }

    private static CacheBackend startWith(final Map<String, String> values) {
        ConfigLookup config = ConfigLookup.of(values);
        CacheSettings settings = CacheSettings.load(config);
        return CacheBackend.start(settings, ImportSettings.load(config, settings.mode(),
                settings.standalone().persistence()), PUMP);
    }

    private static Object pause(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /**
     * BGSAVE, then waits until Redis reports it done, polling INFO from the JVM with the product's backoff
     * (SnapshotManager: 5 ms doubling up to 100 ms), so the floor costs what the product's wait costs.
     */
    private static Object bgsaveAndWait(final RedisNode node) {
        node.bgSave();
        long pause = 5;
        while (!"0".equals(node.info(RedisNode.InfoSection.PERSISTENCE).get("rdb_bgsave_in_progress"))) {
            pause(pause);
            pause = Math.min(100, pause * 2);
        }
        return null;
    }

    private static double p99(final RedissonClient client, final Supplier<?> during) {
        try {
            return p99UnderLoad(client, during);
        } catch (Exception e) {
            throw new IllegalStateException("p99 under load: " + e.getMessage(), e);
        }
    }

    private static double p99UnderLoad(final RedissonClient client, final Supplier<?> during) throws Exception {
        int threads = 8;
        long[][] samples = new long[threads][2_000_000];
        int[] counts = new int[threads];
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int worker = t;
            workers.add(pool.submit(() -> {
                var bucket = client.<String>getBucket("bench:key:" + worker, StringCodec.INSTANCE);
                while (running.get() && counts[worker] < samples[worker].length) {
                    long start = System.nanoTime();
                    bucket.get();
                    samples[worker][counts[worker]++] = System.nanoTime() - start;
                }
                return null;
            }));
        }
        during.get();
        running.set(false);
        for (Future<?> worker : workers) {
            worker.get();
        }
        pool.shutdown();
        int total = 0;
        for (int count : counts) {
            total += count;
        }
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(samples[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        return Stats.percentile(all, total, 99);
    }

    /** Fills the server with strings (60 %), hashes, lists, sets and sorted sets, 10 % each. */
    private static void fill(final RedissonClient client, final int keys) {
        String script = String.join("\n",
                "local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])",
                "for i = from, to do",
                "  local kind = i % 10",
                "  if kind < 6 then redis.call('SET', 'bench:s:' .. i, 'value-' .. i)",
                "  elseif kind == 6 then redis.call('HSET', 'bench:h:' .. i, 'a', i, 'b', 'x')",
                "  elseif kind == 7 then redis.call('RPUSH', 'bench:l:' .. i, 'a', 'b', 'c')",
                "  elseif kind == 8 then redis.call('SADD', 'bench:set:' .. i, 'a', 'b', 'c')",
                "  else redis.call('ZADD', 'bench:z:' .. i, 1, 'a', 2, 'b') end",
                "  if i % 50 == 0 then redis.call('PEXPIRE', 'bench:s:' .. (i - 50 + (i % 6)), 3600000) end",
                "end",
                "return to");
        RScript lua = client.getScript(StringCodec.INSTANCE);
        for (int from = 0; from < keys; from += 50_000) {
            lua.eval(RScript.Mode.READ_WRITE, script, RScript.ReturnType.INTEGER, List.of(), Integer.toString(from),
                    Integer.toString(Math.min(keys, from + 50_000) - 1));
        }
    }

    private CacheSettings settings(final String name, final boolean persistence) {
        return settings(name, persistence, "off");
    }

    private CacheSettings settings(final String name, final boolean persistence, final String aof) {
        Map<String, String> values = new HashMap<>();
        values.put("redis.standalone.persistence.aof", aof);
        values.put("redis.mode", "standalone");
        values.put(CacheSettings.WORK_DIR, work.resolve("redis-" + name).toString());
        values.put("redis.standalone.persistence.enabled", Boolean.toString(persistence));
        values.put("redis.standalone.persistence.data_dir", work.resolve("data-" + name).toString());
        values.put("redis.standalone.persistence.snapshot_on_shutdown", "false");
        values.put("redis.standalone.persistence.retain", "2");
        return CacheSettings.load(ConfigLookup.of(values));
    }

    /**
     * Reads the server's output until Redis says it accepts connections (EmbeddedRedisServer waits for the
     * same line), then keeps draining it on a daemon thread so that the server never blocks on its pipe.
     */
    private static void awaitReadyLine(final Process redis) throws IOException {
        BufferedReader output = new BufferedReader(new InputStreamReader(redis.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = output.readLine()) != null && !line.contains("Ready to accept connections")) {
            // not yet
        }
        if (line == null) {
            throw new IllegalStateException("the reference redis-server exited before it was ready");
        }
        PUMP.execute(() -> {
            try {
                while (output.readLine() != null) {
                    // drained
                }
            } catch (IOException ended) {
                // the server stopped
            }
        });
    }

    /** Sends PING until the server answers (a connection that is refused means "not yet"). */
    private static void awaitPong(final int port) throws Exception {
        byte[] ping = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
        while (true) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.getOutputStream().write(ping);
                byte[] reply = new byte[7];
                int read = socket.getInputStream().read(reply);
                if (read > 0 && new String(reply, 0, read, StandardCharsets.US_ASCII).startsWith("+PONG")) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.onSpinWait();
            }
        }
    }

    private static long rssKb(final long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static int freePort() throws IOException {
        try (var socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** A positive target means "ours/reference at least target"; negative "at most |target|"; 0 none. */
    private static void ratioRow(final String id, final String name, final List<Double> ours, final List<Double> reference,
                                 final double target) {
        double product = Stats.median(ours);
        double ref = Stats.median(reference);
        double ratio = product / ref;
        if (target == 0) { // a reference figure for reading the others, no target of its own: no verdict
            System.out.printf("row|%s|%s|%.1f|%.1f|%.2f|report|-%n", id, name, product, ref, ratio);
            return;
        }
        boolean met = target > 0 ? ratio >= target : ratio <= -target;
        row(id, name, product, ref, (target > 0 ? ">= " : "<= ") + Math.abs(target) + "x", met, ratio);
    }

    private static void row(final String id, final String name, final double product, final double reference,
                            final String target, final boolean met) {
        row(id, name, product, reference, target, met, product / reference);
    }

    private static void row(final String id, final String name, final double product, final double reference,
                            final String target, final boolean met, final double ratio) {
        System.out.printf("row|%s|%s|%.1f|%.1f|%.2f|%s|%s%n", id, name, product, reference, ratio, target,
                met ? "met" : "MISSED");
    }
}
