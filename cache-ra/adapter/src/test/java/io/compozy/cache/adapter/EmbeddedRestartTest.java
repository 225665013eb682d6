package io.compozy.cache.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.PersistenceSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.api.RBucket;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The real embedded redis-server killed with SIGKILL under a running backend: it comes back on the same
 * address with the newest snapshot, and the client (with the objects and subscriptions taken from it
 * before) keeps working.
 */
class EmbeddedRestartTest {

    private static final Executor PUMP = task -> {
        Thread thread = new Thread(task, "test-redis-output");
        thread.setDaemon(true);
        thread.start();
    };

    @TempDir
    Path root;

    private CacheBackend backend;

    @AfterEach
    void close() {
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void aKilledServerComesBackOnItsAddressWithTheNewestSnapshotAndItsSubscriptions() {
        backend = CacheBackend.start(settings(true), PUMP);
        RedissonClient client = backend.sharedClient();
        RBucket<String> kept = client.getBucket("restart:kept", StringCodec.INSTANCE);
        kept.set("before the snapshot");
        List<String> received = new CopyOnWriteArrayList<>();
        RTopic topic = client.getTopic("restart:events", StringCodec.INSTANCE);
        topic.addListener(String.class, (channel, message) -> received.add(message));
        assertThat(backend.persistence().orElseThrow().snapshot()).isPresent();
        client.getBucket("restart:lost", StringCodec.INSTANCE).set("after the snapshot");
        var before = backend.info();

        ProcessHandle.of(before.processId()).orElseThrow().destroyForcibly();

        var after = await().atMost(Duration.ofSeconds(20)).until(backend::info, info -> info.embeddedRestarts() == 1);
        assertThat(after.processId()).isNotEqualTo(before.processId());
        assertThat(after.port()).isEqualTo(before.port());
        assertThat(ProcessHandle.of(after.processId())).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
        // The same objects, taken before the kill, read the restored data once the client has reconnected.
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(kept::get, "before the snapshot"::equals);
        assertThat(client.getBucket("restart:lost", StringCodec.INSTANCE).isExists())
                .as("a write after the newest snapshot is lost, as documented").isFalse();
        // The listener registered before the kill hears messages published after it, once resubscribed.
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
            topic.publish("after the restart");
            return received.contains("after the restart");
        });
        assertThat(backend.ping()).isTrue();
    }

    @Test
    void withoutPersistenceItComesBackEmptyOnItsAddressAndKeepsRestarting() {
        backend = CacheBackend.start(settings(false), PUMP);
        RBucket<String> bucket = backend.sharedClient().getBucket("restart:gone", StringCodec.INSTANCE);
        int port = backend.info().port();
        for (int restart = 1; restart <= 2; restart++) {
            bucket.set("written");
            ProcessHandle.of(backend.info().processId()).orElseThrow().destroyForcibly();
            int expected = restart;
            await().atMost(Duration.ofSeconds(20)).until(() -> backend.info().embeddedRestarts() == expected);
            assertThat(backend.info().port()).isEqualTo(port);
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> !bucket.isExists());
        }
    }

    @Test
    void closingStopsTheServerWithoutRestartingIt() {
        backend = CacheBackend.start(settings(true), PUMP);
        ProcessHandle redis = ProcessHandle.of(backend.info().processId()).orElseThrow();
        backend.close();
        backend = null;
        assertThat(redis.isAlive()).isFalse();
        assertThat(ProcessHandle.allProcesses().filter(p -> p.parent().map(ProcessHandle::isAlive).orElse(false))
                .filter(p -> p.info().commandLine().orElse("").contains(root.toString()))).isEmpty();
    }

    @Test
    void aStartThatFailsInAnyWayReleasesTheSnapshotStoreAndStopsTheServer() {
        // A LinkageError is what a server exposing its own Netty gives Redisson: not an exception the
        // start expects, and it must still leave nothing open (the next start would wait 60 s for je.lck).
        List<Long> started = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> CacheBackend.startEmbedded(settings(true), io.compozy.cache.config.ImportSettings.none(), PUMP,
                (uri, user, password, db) -> {
            started.add(1L);
            throw new LinkageError("loader constraint violation (simulated)");
        })).isInstanceOf(LinkageError.class);
        assertThat(started).hasSize(1);
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                .contains(root.toString()) && p.info().command().orElse("").contains("redis-server"))).isEmpty();

        // Before the fix the store stayed registered as open in this JVM: "in use by another server".
        backend = CacheBackend.start(settings(true), PUMP);
        assertThat(backend.ping()).isTrue();
    }

    private CacheSettings settings(final boolean persistence) {
        Map<String, String> values = new HashMap<>(Map.of(
                "redis.mode", "standalone",
                CacheSettings.WORK_DIR, root.resolve("work").toString(),
                PersistenceSettings.ENABLED, Boolean.toString(persistence),
                PersistenceSettings.DATA_DIR, root.resolve("data").toString()));
        return CacheSettings.load(ConfigLookup.of(values));
    }
}
