package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.expect;
import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.AdminCredentials;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.BackendModeListener;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.MetricsText;
import io.compozy.cache.it.support.Tmpfs;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.assertj.core.api.AbstractStringAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots meet a failing world on the installed server: the data directory on a small tmpfs of its own
 * fills up (under a snapshot, a restore and an upload), and the JVM is SIGKILLed while a generation is being
 * written. One server start serves the disk tests and the kill; the restart after the kill is the second.
 * docs/reliability.md describes them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotFaultsIT {

    private static final int BLOB_CHARS = 5 << 20;
    private static final String FAILED_TOTAL = "compozy_standalone_snapshots_failed_total";

    @TempDir
    static Path root;
    private static Tmpfs disk;
    private static Path dataDir;
    private static Map<String, String> env;

    @BeforeAll
    static void serverOnASmallDisk() throws IOException {
        BackendModeListener.removeDropin();
        // 96 MiB: the store keeps 64 MiB free, so about 30 MiB of snapshots fit.
        disk = Tmpfs.mount(root.resolve("disk"), "96m");
        dataDir = disk.path().resolve("snapshots");
        // Snapshots alone (the AOF off): AppendOnlyFileIT fills a disk under the append-only file.
        env = Map.of("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", dataDir.toString(), "REDIS_STANDALONE_PERSISTENCE_AOF", "off",
                "API_MAX_BODY_BYTES", Integer.toString(BLOB_CHARS + 1024));
    }

    @AfterAll
    static void stopAndUnmount() {
        if (disk == null) {
            return; // skipped: not root (Tmpfs says why)
        }
        try {
            if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isPresent()) {
                LibertyProcess.stop();
            }
        } finally {
            disk.close();
        }
    }

    @Test
    @Order(1)
    void aFullDiskFailsTheSnapshotVisiblyKeepsEverythingAndSnapshotsResumeOnceThereIsSpace() {
        startIfStopped();
        expect(200, Api.put("resources/faults/disk/kept", "{\"v\":1}"));
        JsonObject first = takeSnapshot();
        List<String> blobs = writeBlobs("disk", 8); // 40 MB: more than the 30 MiB the disk has room for
        double failedBefore = MetricsText.scrape().count(FAILED_TOTAL);

        // Another process fills the disk: JE's write meets ENOSPC (or, if JE looked in between, its floor).
        Path filler = disk.fillLeaving(1 << 20);
        HttpResponse<String> noSpace = Api.adminPost("admin/snapshots", "");
        assertThat(noSpace.statusCode()).as(noSpace.body()).isEqualTo(500);
        assertThat(json(noSpace).getString("detail")).contains("Cannot write the snapshot to " + realDataDir())
                .containsAnyOf("No space left on device", "not enough free disk");
        delete(filler);
        // The disk has room again but less than the data needs above the store's free-space floor.
        HttpResponse<String> belowFloor = Api.adminPost("admin/snapshots", "");
        assertThat(belowFloor.statusCode()).as(belowFloor.body()).isEqualTo(500);
        assertThat(json(belowFloor).getString("detail")).contains(realDataDir().toString(), "not enough free disk");

        String messages = LibertyProcess.messages();
        List<String> lines = messages.lines().toList();
        List<Integer> failures = IntStream.range(0, lines.size())
                .filter(i -> lines.get(i).contains("Snapshot failed: Cannot write the snapshot to " + realDataDir()))
                .boxed().toList();
        assertThat(failures).as(messages).hasSize(2);
        failures.stream().filter(i -> i + 1 < lines.size())
                .forEach(i -> assertThat(lines.get(i + 1)).as("one line, no stack trace").startsWith("["));
        assertThat(messages).doesNotContain(AdminCredentials.password());

        // The adapter's numbers reach the metrics within compozy.metrics.refresh_interval (5 s).
        await().atMost(Duration.ofSeconds(30)).until(() -> MetricsText.scrape().count(FAILED_TOTAL) - failedBefore,
                failed -> failed == 2);
        JsonObject health = persistenceHealth();
        assertThat(health.getString("status")).as("degraded, not down, before the threshold").isEqualTo("UP");
        assertThat(health.getJsonObject("data").getString("state")).isEqualTo("degraded");
        assertThat(health.getJsonObject("data").getString("last_error")).contains("not enough free disk");
        assertThat(health.getJsonObject("data").getInt("last_snapshot_generation"))
                .isEqualTo(first.getInt("generation"));

        // Nothing in memory was touched, and the stored generation is still there, unchanged.
        assertThat(Api.get("resources/faults/disk/kept").body()).isEqualTo("{\"v\":1}");
        assertBlobs("disk", blobs);
        assertThat(stored()).containsExactly(id(first));

        disk.resize("512m");
        JsonObject after = takeSnapshot();
        assertThat(after.getInt("generation")).isGreaterThan(first.getInt("generation"));
        assertThat(stored()).containsExactly(id(after), id(first));
        JsonObject healthy = persistenceHealth().getJsonObject("data");
        assertThat(healthy.getString("state")).isEqualTo("ok");
        assertThat(healthy.containsKey("last_error")).isFalse();
        assertThat(json(Api.get("admin/status")).getJsonObject("persistence").containsKey("lastFailure")).isFalse();
    }

    /**
     * A restore and an upload that meet a full data_dir disk: 500 snapshot-failed naming data_dir, and
     * liveDataChanged saying whether the data applications see changed (docs/api.md). The restore's server
     * starts on the generation and only the snapshot of the restored data fails: changed. The upload fits on
     * the disk but the store's copy of it does not: unchanged.
     */
    @Test
    @Order(2)
    void aRestoreOrAnUploadThatMeetsAFullDiskIsSnapshotFailedSayingWhetherTheLiveDataChanged() {
        disk.resize("512m");
        startIfStopped();
        expect(200, Api.put("resources/faults/restore/kept", "{\"v\":1}"));
        writeBlobs("restore", 2); // its snapshot needs more than the 1 MiB left below
        long generation = takeSnapshot().getInt("generation");
        expect(200, Api.put("resources/faults/restore/kept", "{\"v\":2}"));

        Path filler = disk.fillLeaving(1 << 20);
        try {
            HttpResponse<String> restore = Api.send(Api.transfer("admin/snapshots/" + generation + "/restore")
                    .POST(HttpRequest.BodyPublishers.noBody()));
            assertSnapshotFailed(restore, true).contains("Generation " + generation + " is live now");
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> Api.get("resources/faults/restore/kept").body(), "{\"v\":1}"::equals);
        } finally {
            delete(filler);
        }
        List<String> before = stored();

        byte[] rdb = Api.downloadRdb(generation).body();
        filler = disk.fillLeaving(rdb.length + (4 << 20)); // room for the received file, not for its stored copy
        try {
            assertSnapshotFailed(Api.uploadRdb(rdb), false).contains("was not stored", "The live data did not change");
            assertThat(Api.get("resources/faults/restore/kept").body()).isEqualTo("{\"v\":1}");
            assertThat(stored()).isEqualTo(before);
        } finally {
            delete(filler);
        }
    }

    /** The 500 snapshot-failed problem of this server's full disk; its detail, for more checks. */
    private static AbstractStringAssert<?> assertSnapshotFailed(
            final HttpResponse<String> response, final boolean liveDataChanged) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonObject problem = json(response);
        assertThat(problem.getString("type")).isEqualTo("urn:compozy:cache:problem:snapshot-failed");
        assertThat(problem.getBoolean("liveDataChanged")).as(response.body()).isEqualTo(liveDataChanged);
        return assertThat(problem.getString("detail")).contains("redis.standalone.persistence.data_dir",
                realDataDir().toString()).containsAnyOf("No space left on device", "not enough free disk");
    }

    @Test
    @Order(3)
    void aKillWhileAGenerationIsWrittenRestoresThePreviousOneAndLeavesNothingBehind() throws Exception {
        disk.resize("512m");
        startIfStopped();
        long redisPid = json(Api.get("admin/status")).getJsonObject("backend").getJsonNumber("pid").longValue();
        expect(200, Api.put("resources/faults/kill/before", "{\"v\":1}"));
        int committed = takeSnapshot().getInt("generation");
        writeBlobs("kill", 12); // 60 MB more: writing the next generation takes most of a second
        expect(200, Api.put("resources/faults/kill/after", "{\"v\":2}"));

        long stored = storeBytes();
        CompletableFuture<HttpResponse<String>> snapshot =
                CompletableFuture.supplyAsync(() -> Api.adminPost("admin/snapshots", ""));
        // The generation's chunks reach JE's log files: it is being written, and not committed yet. 20 MB is
        // past the first transaction of 16 chunks, so some of its chunks are on disk when the JVM dies.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                .until(() -> storeBytes() > stored + (20 << 20) || snapshot.isDone());
        assertThat(snapshot).as("the snapshot was still running").isNotDone();
        LibertyProcess.kill();
        ProcessHandle redis = ProcessHandle.of(redisPid).orElse(null);
        await().atMost(Duration.ofSeconds(5)).until(() -> redis == null || !redis.isAlive());

        // Restart as is: no lock file to remove, nothing to clean by hand.
        LibertyProcess.start(env);
        JsonObject status = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> json(Api.get("admin/status")), s -> s.getJsonObject("persistence")
                        .containsKey("restoredGeneration"));
        assertThat(status.getJsonObject("backend").getJsonNumber("pid").longValue()).isNotEqualTo(redisPid);
        assertThat(status.getJsonObject("persistence").getJsonObject("restoredGeneration").getInt("generation"))
                .isEqualTo(committed);
        assertThat(LibertyProcess.messages()).contains("Removed the chunks of snapshot generation " + (committed + 1)
                + " in " + realDataDir() + ": it was never committed").doesNotContain("in use by another server");
        assertThat(generations()).extracting(g -> g.getInt("generation")).first().isEqualTo(committed);
        assertThat(generations()).extracting(g -> g.getInt("generation")).doesNotContain(committed + 1);
        assertThat(Api.get("resources/faults/kill/before").body()).isEqualTo("{\"v\":1}");
        assertThat(Api.get("resources/faults/kill/after").statusCode())
                .as("written after the newest committed generation: lost, as docs/persistence.md says").isEqualTo(404);
        assertThat(Api.get("resources/faults/kill/b0").statusCode()).isEqualTo(404);

        assertThat(takeSnapshot().getInt("generation")).isGreaterThan(committed + 1);
    }

    private static void startIfStopped() {
        if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isEmpty()) {
            LibertyProcess.start(env);
        }
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> Api.get("admin/status").statusCode() == 200);
    }

    private static JsonObject takeSnapshot() {
        HttpResponse<String> response = Api.adminPost("admin/snapshots", "");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response);
    }

    /** The stored generations as "number sha256", newest first (the listing rounds takenAt to ms). */
    private static List<String> stored() {
        return generations().stream().map(SnapshotFaultsIT::id).toList();
    }

    private static String id(final JsonObject generation) {
        return generation.getInt("generation") + " " + generation.getString("sha256");
    }

    private static List<JsonObject> generations() {
        return json(Api.adminGet("admin/snapshots")).getJsonArray("generations").stream()
                .map(JsonValue::asJsonObject).toList();
    }

    /** Random (incompressible) values of 5 MB each; returns their bodies. */
    private static List<String> writeBlobs(final String type, final int count) {
        SecureRandom random = new SecureRandom();
        List<String> bodies = IntStream.range(0, count).mapToObj(i -> {
            byte[] bytes = new byte[BLOB_CHARS / 4 * 3 - 16];
            random.nextBytes(bytes);
            return "{\"data\":\"" + Base64.getEncoder().encodeToString(bytes) + "\"}";
        }).toList();
        IntStream.range(0, count).forEach(i -> expect(200, Api.put("resources/faults/" + type + "/b" + i, bodies.get(i))));
        return bodies;
    }

    private static void assertBlobs(final String type, final List<String> bodies) {
        for (int i = 0; i < bodies.size(); i++) {
            assertThat(Api.get("resources/faults/" + type + "/b" + i).body()).isEqualTo(bodies.get(i));
        }
    }

    private static JsonObject persistenceHealth() {
        return json(LibertyProcess.get("/health/ready").body()).getJsonArray("checks").stream()
                .map(JsonValue::asJsonObject).filter(c -> c.getString("name").equals("compozy-cache-persistence"))
                .findFirst().orElseThrow();
    }

    /** The bytes in JE's log files. */
    private static long storeBytes() throws IOException {
        try (Stream<Path> files = Files.list(dataDir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jdb")).mapToLong(f -> f.toFile().length())
                    .sum();
        }
    }

    private static Path realDataDir() {
        try {
            return dataDir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(final Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
