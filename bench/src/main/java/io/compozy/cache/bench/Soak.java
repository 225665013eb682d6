package io.compozy.cache.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Soak driver of issue 8 (bench/soak starts the server and runs this). JDK only, so bench/soak compiles it
 * with javac and never resolves the product's artifacts from ~/.m2.
 * <p>
 * For {@code soak.minutes} it keeps {@code soak.workflows} workflow executions in flight (start, follow the
 * execution's SSE stream to its end, read its state) and {@code soak.storeClients} clients of steady store
 * traffic (memory append/read, resource GET + compare-and-set PUT, locks, webhooks). A 4xx the driver expects
 * (a CAS 412, a held lock's 409, a duplicate webhook's 409) is counted apart, never as an error.
 * Prints a markdown row per minute, then heap after GC and RSS (Liberty JVM and redis-server) at start, after
 * the warm-up and at the end, with the verdict. Exit code 1 when there was any error or growth beyond the
 * threshold.
 */
public final class Soak {

    private static final String[] WORKFLOWS = {"greet", "interview", "triage"};
    private static final Pattern EXECUTION_ID = Pattern.compile("\"executionId\":\"([^\"]+)\"");
    private static final Pattern TOKEN = Pattern.compile("\"token\":\"([^\"]+)\"");
    private static final Pattern STATUS = Pattern.compile("\"status\":\"([a-z]+)\"");
    private static final Pattern NUMBER_FIELD = Pattern.compile("\"(pid|snapshotsTaken|snapshotsFailed|keys)\":(\\d+)");

    private final URI base;
    private final int minutes;
    private final int warmupMinutes;
    private final int inFlight;
    private final int storeClients;
    private final long libertyPid;
    private final double threshold;
    private final String adminAuth;
    private final Path workflowsJson;
    private final HttpClient http;
    private volatile boolean running = true;
    /** Set while a sample is taken: clients finish what they are doing and wait, so the heap holds no requests. */
    private volatile boolean paused;
    private final AtomicInteger busy = new AtomicInteger();

    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> expected = new ConcurrentHashMap<>();
    private final LongAdder workflowsDone = new LongAdder();
    private final LongAdder storeOps = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder workflowMillis = new LongAdder();
    private final LongAccumulator workflowMaxMillis = new LongAccumulator(Math::max, 0);
    private final AtomicLong sequence = new AtomicLong();

    private Soak() {
        base = URI.create(System.getProperty("soak.url", "http://127.0.0.1:9080/api/"));
        minutes = Integer.getInteger("soak.minutes", 10);
        warmupMinutes = Integer.getInteger("soak.warmupMinutes", Math.max(1, Math.min(2, minutes / 2)));
        inFlight = Integer.getInteger("soak.workflows", 50);
        storeClients = Integer.getInteger("soak.storeClients", 4);
        libertyPid = Long.getLong("soak.libertyPid", -1);
        threshold = Double.parseDouble(System.getProperty("soak.threshold", "0.20"));
        workflowsJson = Path.of(System.getProperty("soak.workflowsJson", "docs/examples/workflows/demo.json"));
        String password = System.getenv("ADMIN_PASSWORD");
        adminAuth = password == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newFixedThreadPool(8, daemon("http")))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    public static void main(final String[] args) throws Exception {
        System.exit(new Soak().run());
    }

    private int run() throws Exception {
        HttpResponse<String> project = send(post("workflows/demo", Files.readString(workflowsJson)));
        if (project.statusCode() != 200 && project.statusCode() != 201) {
            throw new IllegalStateException("loading the sample project: " + project.statusCode() + " " + project.body());
        }
        Sample start = sample("start (idle, sample project loaded)");

        ExecutorService load = Executors.newFixedThreadPool(inFlight + storeClients, daemon("soak"));
        for (int i = 0; i < inFlight; i++) {
            final int slot = i;
            load.submit(() -> loop(() -> workflow(slot)));
        }
        for (int i = 0; i < storeClients; i++) {
            final int client = i;
            load.submit(() -> loop(() -> storeRound(client)));
        }

        System.out.printf("Soak: %d min, %d workflows in flight, %d store clients, %s%n%n", minutes, inFlight,
                storeClients, base);
        System.out.println("| minute | workflows done | workflows/s | avg / max workflow ms | store requests"
                + " | HTTP requests | errors | expected 4xx | snapshots taken / failed | heap used MB"
                + " | Liberty RSS MB | redis RSS MB |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        Sample warm = null;
        long[] previous = new long[4];
        for (int minute = 1; minute <= minutes; minute++) {
            TimeUnit.MINUTES.sleep(1);
            long[] now = {workflowsDone.sum(), storeOps.sum(), requests.sum(), workflowMillis.sum()};
            long done = now[0] - previous[0];
            long max = workflowMaxMillis.getThenReset();
            Status status = status();
            System.out.printf("| %d | %d | %.1f | %d / %d | %d | %d | %d | %d | %d / %d | %d | %d | %d |%n", minute,
                    done, done / 60.0, done == 0 ? 0 : (now[3] - previous[3]) / done, max, now[1] - previous[1],
                    now[2] - previous[2], total(errors), total(expected), status.snapshotsTaken,
                    status.snapshotsFailed, heapUsedMb(), rssMb(libertyPid), rssMb(status.redisPid));
            previous = now;
            if (minute == warmupMinutes) {
                warm = sample("after the warm-up (minute " + minute + ")");
            }
        }
        Sample end = sample("end (minute " + minutes + ")");
        running = false;
        load.shutdown();
        if (!load.awaitTermination(60, TimeUnit.SECONDS)) {
            error("driver: a client did not stop within 60 s");
        }
        return report(start, warm, end);
    }

    // ---- workflows ----

    private void workflow(final int slot) throws IOException, InterruptedException {
        String workflow = WORKFLOWS[(int) (sequence.incrementAndGet() % WORKFLOWS.length)];
        long started = System.nanoTime();
        HttpResponse<String> start;
        if (workflow.equals("triage")) {
            start = send(post("workflows/demo/triage/webhook", "{\"issue\":{\"title\":\"Soak issue " + slot + "\"}}")
                    .header("X-Idempotency-Key", UUID.randomUUID().toString()));
        } else {
            start = send(post("workflows/demo/" + workflow + "/executions", "{\"input\":\"soak input " + slot + "\"}"));
        }
        if (start.statusCode() != 202) {
            error("workflow start " + workflow + ": " + start.statusCode());
            return;
        }
        String id = group(EXECUTION_ID, start.body()).orElseThrow();
        // The stream replays every event so far, then live ones, and ends after the last.
        HttpResponse<Stream<String>> stream = http.send(request("executions/" + id + "/stream")
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofLines());
        requests.increment();
        if (stream.statusCode() != 200) {
            stream.body().close();
            error("workflow stream: " + stream.statusCode());
            return;
        }
        String last;
        try (Stream<String> lines = stream.body()) {
            last = lines.filter(line -> line.startsWith("event:")).reduce((a, b) -> b).orElse("none");
        }
        if (!last.equals("event: workflow.succeeded")) {
            error("workflow stream: last event " + last);
            return;
        }
        HttpResponse<String> state = send(request("executions/" + id).GET());
        if (state.statusCode() != 200 || !"succeeded".equals(group(STATUS, state.body()).orElse(""))) {
            error("workflow state: " + state.statusCode() + " " + group(STATUS, state.body()).orElse("no status"));
            return;
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        workflowMillis.add(millis);
        workflowMaxMillis.accumulate(millis);
        workflowsDone.increment();
    }

    // ---- store traffic ----

    private void storeRound(final int client) throws IOException, InterruptedException {
        long n = sequence.incrementAndGet();
        String conversation = "memory/soak-" + (n % 100) + "/messages";
        expect("memory append", store(post(conversation,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"soak message " + n + "\"}],\"tokens\":3,\"maxLen\":50}")),
                200);
        expect("memory read", store(request(conversation + "?offset=0&limit=10").GET()), 200);

        String resource = "resources/soak/doc/d" + (n % 20);
        HttpResponse<String> read = store(request(resource).GET());
        HttpRequest.Builder put = put(resource, "{\"client\":" + client + ",\"n\":" + n + "}");
        if (read.statusCode() == 200) {
            put.header("If-Match", read.headers().firstValue("ETag").orElseThrow());
        } else if (read.statusCode() == 404) {
            expected("resource GET 404 (not created yet)");
            put.header("If-None-Match", "*");
        } else {
            error("resource GET: " + read.statusCode());
            return;
        }
        HttpResponse<String> cas = store(put);
        if (cas.statusCode() == 412) {
            expected("resource CAS 412 (changed meanwhile)");
        } else {
            expect("resource CAS PUT", cas, 200);
        }

        String lock = "locks/soak-lock-" + (n % 10);
        HttpResponse<String> taken = store(post(lock, "{\"ttlMs\":10000}"));
        if (taken.statusCode() == 409) {
            expected("lock 409 (held by another client)");
        } else if (expect("lock acquire", taken, 201)) {
            String token = group(TOKEN, taken.body()).orElseThrow();
            expect("lock release", store(request(lock + "?token=" + token).DELETE()), 204);
        }

        String key = "soak-" + UUID.randomUUID();
        expect("webhook", store(post("webhooks/soak", "{\"n\":" + n + "}").header("X-Idempotency-Key", key)), 202);
        if (n % 10 == 0) {
            HttpResponse<String> again = store(post("webhooks/soak", "{\"n\":" + n + "}").header("X-Idempotency-Key", key));
            if (again.statusCode() == 409) {
                expected("webhook 409 (duplicate delivery)");
            } else {
                error("webhook duplicate: " + again.statusCode() + " instead of 409");
            }
        }
    }

    // ---- measurements ----

    private record Status(long redisPid, long snapshotsTaken, long snapshotsFailed, long lastSnapshotKeys) { }

    private record Sample(String label, long heapAfterGcMb, long libertyRssMb, long redisRssMb, long keys) { }

    private Status status() {
        try {
            HttpResponse<String> response = send(request("admin/status").GET());
            Map<String, Long> fields = new TreeMap<>();
            Matcher m = NUMBER_FIELD.matcher(response.body());
            while (m.find()) {
                fields.putIfAbsent(m.group(1), Long.parseLong(m.group(2)));
            }
            return new Status(fields.getOrDefault("pid", -1L), fields.getOrDefault("snapshotsTaken", -1L),
                    fields.getOrDefault("snapshotsFailed", -1L), fields.getOrDefault("keys", -1L));
        } catch (IOException | InterruptedException e) {
            error("status: " + e.getClass().getSimpleName());
            return new Status(-1, -1, -1, -1);
        }
    }

    /** Heap after GC and RSS with the load paused (every client between two requests), then the load resumes. */
    private Sample sample(final String label) throws IOException, InterruptedException {
        paused = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (busy.get() > 0 && System.nanoTime() < deadline) {
            pause(50);
        }
        try {
            return measure(label);
        } finally {
            paused = false;
        }
    }

    private static void pause(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Sample measure(final String label) throws IOException, InterruptedException {
        jcmd("GC.run");
        String heap = jcmd("GC.heap_info");
        Matcher used = Pattern.compile("used (\\d+)K").matcher(heap);
        long heapMb = used.find() ? Long.parseLong(used.group(1)) / 1024 : -1;
        Status status = status();
        return new Sample(label, heapMb, rssMb(libertyPid), rssMb(status.redisPid), status.lastSnapshotKeys);
    }

    private String jcmd(final String command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("jcmd", Long.toString(libertyPid), command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        return out;
    }

    private long heapUsedMb() {
        try {
            HttpResponse<String> metrics = send(request("../metrics?scope=base").GET());
            Matcher m = Pattern.compile("(?m)^(?:base_)?memory_usedHeap_bytes\\S* ([0-9.E+]+)").matcher(metrics.body());
            return m.find() ? (long) (Double.parseDouble(m.group(1)) / 1048576) : -1;
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private static long rssMb(final long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException e) {
            // the process is gone: reported as -1
        }
        return -1;
    }

    private int report(final Sample start, final Sample warm, final Sample end)
            throws IOException, InterruptedException {
        System.out.printf("%nTotals: %d workflows, %d store requests, %d HTTP requests; errors %d; expected 4xx %d%n",
                workflowsDone.sum(), storeOps.sum(), requests.sum(), total(errors), total(expected));
        System.out.println("Errors by kind: " + (errors.isEmpty() ? "none" : sorted(errors)));
        System.out.println("Expected 4xx by kind: " + (expected.isEmpty() ? "none" : sorted(expected)));
        Status status = status();
        HttpResponse<String> generations = send(request("admin/snapshots").GET().header("Authorization", adminAuth));
        System.out.printf("Snapshots: %d taken, %d failed; GET /api/admin/snapshots (admin login): %d, %d generations kept%n",
                status.snapshotsTaken, status.snapshotsFailed, generations.statusCode(),
                generations.body().split("\"generation\"", -1).length - 1);
        System.out.println();
        System.out.println("| when | heap used after GC MB | Liberty RSS MB | redis RSS MB | keys in the last snapshot |");
        System.out.println("|---|---|---|---|---|");
        for (Sample s : List.of(start, warm, end)) {
            System.out.printf("| %s | %d | %d | %d | %d |%n", s.label, s.heapAfterGcMb, s.libertyRssMb, s.redisRssMb, s.keys);
        }
        List<String> grown = new ArrayList<>();
        check(grown, "heap after GC", warm.heapAfterGcMb, end.heapAfterGcMb);
        check(grown, "Liberty RSS", warm.libertyRssMb, end.libertyRssMb);
        // redis-server holds what the product keeps by design (each execution's event log lives 24 h), so its
        // RSS is judged per key kept: a leak shows as more memory per key.
        double perKeyWarm = warm.redisRssMb * 1024.0 / Math.max(1, warm.keys);
        double perKeyEnd = end.redisRssMb * 1024.0 / Math.max(1, end.keys);
        System.out.printf("%nredis RSS per key kept: %.2f KB after the warm-up, %.2f KB at the end%n", perKeyWarm, perKeyEnd);
        if (perKeyEnd > perKeyWarm * (1 + threshold)) {
            grown.add(String.format("redis RSS per key %.2f -> %.2f KB", perKeyWarm, perKeyEnd));
        }
        boolean flat = grown.isEmpty();
        System.out.printf("Verdict (end vs after the warm-up, each with the load paused; flat = within +%.0f%%): %s%n",
                threshold * 100, flat ? "flat" : "GREW: " + String.join(", ", grown));
        System.out.println("Errors: " + (total(errors) == 0 ? "0 (target 0: met)" : total(errors) + " (target 0: MISSED)"));
        return flat && total(errors) == 0 ? 0 : 1;
    }

    private void check(final List<String> grown, final String what, final long before, final long after) {
        if (after > before * (1 + threshold)) {
            grown.add(String.format("%s %d -> %d MB", what, before, after));
        }
    }

    // ---- HTTP and counting ----

    private interface Step {
        void run() throws Exception;
    }

    private void loop(final Step step) {
        while (running) {
            if (paused) {
                pause(100);
                continue;
            }
            busy.incrementAndGet();
            try {
                step.run();
            } catch (Exception e) {
                if (running) {
                    error("exception " + e.getClass().getSimpleName());
                }
            } finally {
                busy.decrementAndGet();
            }
        }
    }

    private HttpRequest.Builder request(final String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30));
    }

    private HttpRequest.Builder post(final String path, final String json) {
        return request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    }

    private HttpRequest.Builder put(final String path, final String json) {
        return request(path).header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(json));
    }

    private HttpResponse<String> send(final HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        requests.increment();
        return response;
    }

    private HttpResponse<String> store(final HttpRequest.Builder request) throws IOException, InterruptedException {
        storeOps.increment();
        return send(request);
    }

    private boolean expect(final String what, final HttpResponse<String> response, final int status) {
        if (response.statusCode() == status) {
            return true;
        }
        error(what + ": " + response.statusCode());
        return false;
    }

    private void error(final String kind) {
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    private void expected(final String kind) {
        expected.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    private static long total(final Map<String, LongAdder> counts) {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    private static Map<String, Long> sorted(final Map<String, LongAdder> counts) {
        Map<String, Long> sorted = new TreeMap<>();
        counts.forEach((k, v) -> sorted.put(k, v.sum()));
        return sorted;
    }

    private static Optional<String> group(final Pattern pattern, final String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    private static java.util.concurrent.ThreadFactory daemon(final String name) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
