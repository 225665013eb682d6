package io.compozy.cache.bench;

import io.compozy.cache.adapter.CacheBackend;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.web.store.lock.LockManager;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.resource.StoredResource;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.redisson.api.RBatch;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The side-by-side measurements of issue 7 that need no application server: the adapter's client path
 * against redis-benchmark on the same embedded server, the store workload on the embedded server
 * against the external Redis, snapshot and restore against SAVE and a plain redis-server, latency
 * during a snapshot, start-up and memory. Each figure is the median of several rounds; every line of
 * the table is printed as "row|name|product|reference|ratio|target|verdict" for bench/run to format.
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

    private void run(final String what) throws Exception {
        if (what.equals("all") || what.equals("startup")) {
            startup();
        }
        if (what.equals("all") || what.equals("client")) {
            clientPath();
        }
        if (what.equals("all") || what.equals("stores")) {
            storeWorkload();
        }
        if (what.equals("all") || what.equals("snapshot")) {
            snapshots();
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

    // 1. GET/SET through the client applications get (async, 50 in flight) vs redis-benchmark -c 50.
    private void clientPath() throws Exception {
        try (CacheBackend backend = CacheBackend.start(settings("client", false), PUMP)) {
            RedissonClient client = backend.sharedClient();
            EmbeddedRedisServer server = backend.embeddedServer().orElseThrow();
            // Untimed warm-up of every workload, in turns, for WARMUP: the JIT compiles the client's paths
            // and the pool opens its 50 connections. Without it the rows measured a cold JVM: SET, the
            // first row, ran at a tenth of its steady rate, and a pipelined workload only reached its steady rate
            // (about twice the cold one) after ~16 s of its own: 60 s in turns gives each ~15 s.
            long warmUntil = System.nanoTime() + WARMUP.toNanos();
            while (System.nanoTime() < warmUntil) {
                for (int batch : new int[] {1, 16}) {
                    asyncOps(client, false, batch);
                    asyncOps(client, true, batch);
                }
            }
            for (String op : List.of("SET", "GET")) {
                List<Double> ours = new ArrayList<>();
                List<Double> theirs = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    ours.add(asyncOps(client, op.equals("GET"), 1));
                    theirs.add(redisBenchmark(server, op, 1));
                }
                ratioRow("1", op + " ops/s, RedissonClient async x50 vs redis-benchmark -c 50", ours, theirs, 0.7);
            }
            for (String op : List.of("SET", "GET")) {
                List<Double> ours = new ArrayList<>();
                List<Double> theirs = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    ours.add(asyncOps(client, op.equals("GET"), 16));
                    theirs.add(redisBenchmark(server, op, 16));
                }
                ratioRow("1", op + " ops/s, RBatch of 16 x50 vs redis-benchmark -c 50 -P 16", ours, theirs, 0.7);
            }
        }
    }

    private static double asyncOps(final RedissonClient client, final boolean get, final int batch) throws Exception {
        Semaphore inFlight = new Semaphore(50);
        AtomicLong done = new AtomicLong();
        long start = System.nanoTime();
        long end = start + RUN.toNanos();
        long i = 0;
        while (System.nanoTime() < end) {
            inFlight.acquire();
            if (batch == 1) {
                var bucket = client.<String>getBucket("bench:key:" + (i++ % 10_000), StringCodec.INSTANCE);
                (get ? bucket.getAsync() : bucket.setAsync("xxx")).whenComplete((r, e) -> {
                    done.incrementAndGet();
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
                pipeline.executeAsync().whenComplete((r, e) -> {
                    done.addAndGet(batch);
                    inFlight.release();
                });
            }
        }
        inFlight.acquire(50);
        return done.get() / ((System.nanoTime() - start) / 1e9);
    }

    private static double redisBenchmark(final EmbeddedRedisServer server, final String op, final int pipeline)
            throws Exception {
        Process process = new ProcessBuilder("redis-benchmark", "-h", server.host(), "-p", Integer.toString(server.port()),
                "-a", server.password().reveal(), "-c", "50", "-n", pipeline == 1 ? "200000" : "1000000",
                "-r", "10000", "-P", Integer.toString(pipeline), "-t", op.toLowerCase(), "--csv")
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        for (String line : output.split("\n")) {
            if (line.startsWith("\"" + op + "\"")) {
                return Double.parseDouble(line.split(",")[1].replace("\"", ""));
            }
        }
        throw new IllegalStateException("redis-benchmark printed no " + op + " line");
    }

    // 2. The store workload in standalone mode (the embedded server) vs distributed mode (the external
    // Redis 7): both clients are the adapter's own, built by CacheBackend, so only the server differs.
    private void storeWorkload() throws Exception {
        Map<String, String> distributed = new HashMap<>();
        distributed.put("redis.mode", "distributed");
        distributed.put(CacheSettings.ADDR, System.getenv().getOrDefault("REDIS_URL", "redis://127.0.0.1:6379/15"));
        long heapBefore = usedHeapAfterGc();
        try (CacheBackend standalone = CacheBackend.start(settings("stores", false), PUMP);
             CacheBackend external = CacheBackend.start(CacheSettings.load(ConfigLookup.of(distributed)), PUMP)) {
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
                        + " (external Redis 7)", embedded, remote, 0.95);
                long heapIdle = usedHeapAfterGc();
                row("6", "JVM heap used by adapter + stores: idle / under store load, MB",
                        (heapIdle - heapBefore) / 1048576.0, heapUnderLoad[0] / 1048576.0, "report", true);
            } finally {
                external.client().getKeys().deleteByPattern("bench-*");
            }
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
        for (int round = 0; round < ROUNDS; round++) {
            long start = System.nanoTime();
            persistence.snapshot().orElseThrow();
            ours.add((System.nanoTime() - start) / 1e6);
            start = System.nanoTime();
            redisCli(server, "SAVE");
            save.add((System.nanoTime() - start) / 1e6);
        }
        ratioRow("3", "snapshot of " + KEYS + " keys (mixed types), ms: ours vs redis-cli SAVE", ours, save, -2.0);

        // 4. p99 GET latency under steady load, without and during a snapshot; and during Redis's own
        // BGSAVE alone, the floor of any fork-based snapshot: its child takes a core of the two.
        p99UnderLoad(backend.client(), () -> pause(2_000)); // untimed: the JIT compiles the load's path first
        List<Double> quiet = new ArrayList<>();
        List<Double> during = new ArrayList<>();
        List<Double> bgsave = new ArrayList<>();
        for (int round = 0; round < ROUNDS_DURING_SNAPSHOT; round++) {
            quiet.add(p99UnderLoad(backend.client(), () -> pause(2_000))); // about as long as a snapshot
            during.add(p99UnderLoad(backend.client(), () -> persistence.snapshot().orElseThrow()));
            bgsave.add(p99UnderLoad(backend.client(), () -> bgsaveAndWait(server)));
        }
        ratioRow("4", "p99 GET latency under load, ms: during a snapshot vs without", during, quiet, -2.0);
        ratioRow("4", "p99 GET latency under load, ms: during Redis's own BGSAVE alone vs without (floor, for reading)",
                bgsave, quiet, 0);

        // 6. The embedded server's RSS against a plain redis-server holding the same data.
        long embeddedRss = rssKb(server.pid());
        redisCli(server, "SAVE");
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
            long start = System.nanoTime();
            CacheBackend restored = CacheBackend.start(settings, PUMP);
            restore.add((System.nanoTime() - start) / 1e6);
            restored.close();
            int port = freePort();
            start = System.nanoTime();
            Process redis = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--dir", plainDir.toString(), "--dbfilename", "dump.rdb", "--save", "").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            awaitPong(port);
            plain.add((System.nanoTime() - start) / 1e6);
            plainRss = rssKb(redis.pid());
            redis.destroy();
            redis.waitFor();
        }
        ratioRow("3", "restore at start-up until PING, ms: adapter (JE + load + client) vs plain redis-server",
                restore, plain, -2.0);
        row("6", "redis-server RSS with the data, MB: embedded vs plain", embeddedRss / 1024.0, plainRss / 1024.0,
                "~1.0x", Math.abs((double) embeddedRss / plainRss - 1) < 0.15);
    }

    private static Object pause(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /** BGSAVE through redis-cli, then waits until Redis reports it done. */
    private static Object bgsaveAndWait(final EmbeddedRedisServer server) {
        try {
            redisCli(server, "BGSAVE");
            while (!redisCli(server, "INFO", "persistence").contains("rdb_bgsave_in_progress:0")) {
                Thread.sleep(20);
            }
            return null;
        } catch (Exception e) {
            throw new IllegalStateException("BGSAVE: " + e.getMessage(), e);
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
        Map<String, String> values = new HashMap<>();
        values.put("redis.mode", "standalone");
        values.put(CacheSettings.WORK_DIR, work.resolve("redis-" + name).toString());
        values.put("redis.standalone.persistence.enabled", Boolean.toString(persistence));
        values.put("redis.standalone.persistence.data_dir", work.resolve("data-" + name).toString());
        values.put("redis.standalone.persistence.snapshot_on_shutdown", "false");
        values.put("redis.standalone.persistence.retain", "2");
        return CacheSettings.load(ConfigLookup.of(values));
    }

    /** Runs one redis-cli command against the server and returns what it printed. */
    private static String redisCli(final EmbeddedRedisServer server, final String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("redis-cli", "-h", server.host(), "-p",
                Integer.toString(server.port()), "--no-auth-warning", "-a", server.password().reveal()));
        args.addAll(List.of(command));
        Process process = new ProcessBuilder(args).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (process.waitFor() != 0 || output.startsWith("ERR") || output.startsWith("(error)")) {
            throw new IllegalStateException("redis-cli " + command[0] + ": " + output);
        }
        return output;
    }

    /** Polls until the server answers PING (a connection that is refused means "not yet"). */
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
        if (target == 0) { // a reference figure for reading the others, no target of its own
            row(id, name, product, ref, "report", true, ratio);
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
