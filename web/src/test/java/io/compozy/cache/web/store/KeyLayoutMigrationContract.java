package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.CanonicalJson;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

/**
 * docs/migration.md, "Hash-tagged keys": data written with the key names of the version before hash tags (as
 * that version's stores wrote it: the same commands, the same names) is readable through the stores after one
 * migration pass, keeps its TTL, and a second pass changes nothing.
 */
public abstract class KeyLayoutMigrationContract extends StoreContract {

    private MemoryStore memory;
    private ResourceStore resources;
    private ExecutionEventStream events;
    private KeyLayoutMigration migration;
    private String execId;

    @BeforeEach
    void createStores() {
        memory = new MemoryStore(redis, ns + ":memory:");
        resources = new ResourceStore(redis, scheduler, ns + "-res", Duration.ofMillis(300));
        events = new ExecutionEventStream(redis, delivery, 100);
        migration = new KeyLayoutMigration(redis, ns + ":memory:", ns + "-res");
        execId = "exec-" + ns;
    }

    @AfterEach
    void removeEventKeys() {
        // The event stream's names carry the execution id (which contains ns) but no prefix of the test's own.
        TestBackend.deleteKeysContaining(redis, execId);
    }

    @Test
    void oldLayoutDataIsReadableThroughTheStoresAfterOnePass() {
        // As the old MemoryStore wrote a conversation: RPUSH to "<prefix><key>", HINCRBY "<prefix><key>:metadata".
        String oldList = ns + ":memory:chat";
        redis.getList(oldList, StringCodec.INSTANCE).addAll(List.of("{\"role\":\"user\",\"content\":\"hi\"}",
                "{\"role\":\"assistant\",\"content\":\"hello\"}"));
        redis.getMap(oldList + ":metadata", StringCodec.INSTANCE).putAll(Map.of("message_count", "2", "token_count", "9"));
        redis.getList(oldList, StringCodec.INSTANCE).expire(Duration.ofHours(1));
        redis.getMap(oldList + ":metadata", StringCodec.INSTANCE).expire(Duration.ofHours(1));
        // As the old ResourceStore wrote a resource: "<prefix>:<project>:<type>:<id>[:ver:<v>]" and its ":etag".
        String json = CanonicalJson.write(Json.createObjectBuilder().add("model", "m1").build());
        for (String suffix : List.of("agent-1", "agent-1:ver:v2")) {
            String oldValue = ns + "-res:proj:agent:" + suffix;
            redis.getBucket(oldValue, StringCodec.INSTANCE).set(json);
            redis.getBucket(oldValue + ":etag", StringCodec.INSTANCE).set(CanonicalJson.etagOf(json));
        }
        // As the old ExecutionEventStream wrote two events: INCR "stream:events:seq:<id>", LPUSH "...:log:<id>".
        redis.getAtomicLong("stream:events:seq:" + execId).set(2);
        for (int id = 1; id <= 2; id++) {
            redis.getDeque("stream:events:log:" + execId, StringCodec.INSTANCE).addFirst(
                    new ExecutionEvent(id, "task.finished", JsonValue.NULL, Instant.now()).toJson().toString());
        }

        assertThat(migration.migrateAll()).isGreaterThanOrEqualTo(8);

        assertThat(memory.readAll("chat")).hasSize(2);
        assertThat(memory.metadata("chat")).containsEntry("message_count", 2L).containsEntry("token_count", 9L);
        assertThat(redis.getList(memory.fullKey("chat")).remainTimeToLive()).isPositive();
        assertThat(redis.getMap(memory.metadataKey("chat")).remainTimeToLive()).isPositive();
        assertThat(memory.append("chat", List.of(Json.createValue("third")), 1, 0)).isEqualTo(3);
        assertThat(memory.tokenCount("chat")).isEqualTo(10);

        assertThat(resources.get(ResourceKey.of("proj", "agent", "agent-1")).etag()).isEqualTo(CanonicalJson.etagOf(json));
        assertThat(resources.list("proj", "agent")).hasSize(2);

        assertThat(events.replayAfter(execId, 0)).extracting(ExecutionEvent::id).containsExactly(1L, 2L);
        assertThat(events.append(execId, "task.started", JsonValue.NULL).id()).isEqualTo(3);

        assertThat(redis.getKeys().countExists(oldList, oldList + ":metadata", ns + "-res:proj:agent:agent-1",
                "stream:events:seq:" + execId, "stream:events:log:" + execId)).isZero();
    }

    /**
     * The keys the stores of the version before hash tags (commit 34463a2) wrote, saved byte for byte: that
     * version's MemoryStore appended two messages (9 tokens, 1 h TTL), its ResourceStore put agent-1 and its
     * version v2, its ExecutionEventStream appended two events. Each line of old-layout-keys.tsv is a key
     * (FIXTURE where the test's namespace goes), its PTTL and its DUMP payload in base64.
     */
    @Test
    void dataWrittenByTheVersionBeforeHashTagsIsReadableAfterOnePass() throws Exception {
        List<String> lines;
        try (var in = KeyLayoutMigrationContract.class.getResourceAsStream("old-layout-keys.tsv")) {
            lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        }
        assertThat(lines).hasSize(8);
        for (String line : lines) {
            String[] fields = line.split("\t");
            long pttl = Long.parseLong(fields[1]);
            redis.getBucket(fields[0].replace("FIXTURE", ns), org.redisson.client.codec.ByteArrayCodec.INSTANCE)
                    .restore(java.util.Base64.getDecoder().decode(fields[2]), Math.max(pttl, 0),
                            java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        assertThat(migration.migrateAll()).isGreaterThanOrEqualTo(8);

        assertThat(memory.readAll("chat")).extracting(m -> m.asJsonObject().getString("content"))
                .containsExactly("hi", "hello");
        assertThat(memory.metadata("chat")).containsEntry("message_count", 2L).containsEntry("token_count", 9L);
        assertThat(redis.getList(memory.fullKey("chat")).remainTimeToLive()).isPositive();
        ResourceKey agent = ResourceKey.of("proj", "agent", "agent-1");
        assertThat(resources.get(agent).json()).isEqualTo("{\"model\":\"m1\"}");
        assertThat(resources.get(new ResourceKey("proj", "agent", "agent-1", "v2")).json()).isEqualTo("{\"model\":\"m2\"}");
        // The stored ETag still guards a conditional write.
        String etag = resources.get(agent).etag();
        resources.putIfMatch(agent, Json.createObjectBuilder().add("model", "m3").build(), etag);
        assertThat(resources.get(agent).json()).isEqualTo("{\"model\":\"m3\"}");
        assertThat(events.replayAfter(execId, 0)).extracting(ExecutionEvent::type)
                .containsExactly("workflow.started", "workflow.succeeded");
        assertThat(events.append(execId, "task.started", JsonValue.NULL).id()).isEqualTo(3);
        assertThat(redis.getKeys().countExists(lines.stream().map(l -> l.split("\t")[0].replace("FIXTURE", ns))
                .toArray(String[]::new))).as("no key of the old layout is left").isZero();
    }

    @Test
    void aSecondPassChangesNothing() {
        redis.getList(ns + ":memory:again", StringCodec.INSTANCE).add("{\"n\":1}");
        assertThat(migration.migrateAll()).isGreaterThanOrEqualTo(1);
        memory.append("again", List.of(Json.createValue("two")), 0, 0);

        migration.migrateAll();

        assertThat(memory.readAll("again")).hasSize(2);
        assertThat(redis.getList(ns + ":memory:again").isExists()).isFalse();
    }

    @Test
    void whenBothLayoutsHoldAnEntityTheHashTaggedOneIsKeptAndTheOldOneLeftAlone() {
        memory.append("both", List.of(Json.createValue("new")), 0, 0);
        redis.getList(ns + ":memory:both", StringCodec.INSTANCE).add("\"old\"");

        migration.migrateAll();

        assertThat(memory.readAll("both")).containsExactly(Json.createValue("new"));
        assertThat(redis.getList(ns + ":memory:both", StringCodec.INSTANCE).readAll()).containsExactly("\"old\"");
    }
}
