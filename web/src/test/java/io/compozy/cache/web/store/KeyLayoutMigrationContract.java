package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.eventstream.ExecutionEvent;
import io.compozy.cache.web.store.eventstream.ExecutionEventStream;
import io.compozy.cache.web.store.mcp.McpDefinitionStore;
import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.resource.CanonicalJson;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RType;
import org.redisson.api.options.KeysScanOptions;
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
        String oldList = writeOldConversation("chat");
        String json = writeOldResource("agent-1");
        writeOldResource("agent-1:ver:v2");
        writeOldEvents(execId);

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

    /**
     * docs/migration.md: a key that expires after the SCAN listed it (its TTL runs out just before its rename) is
     * skipped, and the pass goes on: the other stores' keys still move.
     */
    @Test
    void aKeyThatExpiresAfterTheScanSawItIsSkippedAndTheRestStillMove() {
        writeOldConversation("doomed");
        writeOldConversation("kept");
        writeOldResource("doomed");
        String json = writeOldResource("kept");
        writeOldEvents(execId + "-doomed");
        writeOldEvents(execId);
        Set<String> doomed = Set.of(ns + ":memory:doomed", ns + ":memory:doomed:metadata",
                ns + "-res:proj:agent:doomed", ns + "-res:proj:agent:doomed:etag",
                "stream:events:seq:" + execId + "-doomed", "stream:events:log:" + execId + "-doomed");
        KeyLayoutMigration expiring = new KeyLayoutMigration(redis, ns + ":memory:", ns + "-res", oldKey -> {
            if (doomed.contains(oldKey)) {
                expireNow(oldKey);
            }
        });

        assertThat(expiring.migrateAll()).isGreaterThanOrEqualTo(6);

        assertThat(memory.readAll("kept")).hasSize(2);
        assertThat(memory.metadata("kept")).containsEntry("message_count", 2L);
        assertThat(resources.get(ResourceKey.of("proj", "agent", "kept")).json()).isEqualTo(json);
        assertThat(events.replayAfter(execId, 0)).extracting(ExecutionEvent::id).containsExactly(1L, 2L);
        assertThat(memory.readAll("doomed")).isEmpty();
        assertThat(redis.getKeys().countExists(doomed.toArray(String[]::new))).isZero();
    }

    /** A second server moved the keys between this pass's SCAN and its renames: nothing is left to do, no error. */
    @Test
    void keysMovedByAnotherServerAfterTheScanAreSkippedQuietly() {
        writeOldConversation("chat");
        writeOldConversation("other");
        KeyLayoutMigration first = new KeyLayoutMigration(redis, ns + ":memory:", ns + "-res");
        AtomicLong movedByFirst = new AtomicLong(-1);
        KeyLayoutMigration second = new KeyLayoutMigration(redis, ns + ":memory:", ns + "-res", oldKey -> {
            if (movedByFirst.get() < 0) {
                movedByFirst.set(first.migrateAll());
            }
        });

        try (CapturedLog log = new CapturedLog(KeyLayoutMigration.class)) {
            second.migrateAll();
            assertThat(log.at(Level.WARNING)).isEmpty();
        }

        assertThat(movedByFirst.get()).isGreaterThanOrEqualTo(4);
        assertThat(memory.readAll("chat")).hasSize(2);
        assertThat(memory.metadata("other")).containsEntry("message_count", 2L).containsEntry("token_count", 9L);
        assertThat(redis.getKeys().countExists(ns + ":memory:chat", ns + ":memory:other")).isZero();
    }

    /**
     * Two servers starting at once on the same keyspace: both passes finish, and every entity arrives whole. Each
     * pass waits at its first rename until the other has listed its keys too, so the two really race for them.
     */
    @Test
    void twoServersMigratingTheSameKeyspaceAtOnceBothFinishAndEveryEntityArrivesWhole() throws Exception {
        int entities = 150;
        for (int i = 0; i < entities; i++) {
            writeOldConversation("chat-" + i);
            writeOldResource("agent-" + i);
            writeOldEvents(execId + "-" + i);
        }
        CyclicBarrier bothListed = new CyclicBarrier(2);
        Supplier<KeyLayoutMigration> server = () -> {
            AtomicBoolean first = new AtomicBoolean(true);
            return new KeyLayoutMigration(redis, ns + ":memory:", ns + "-res", oldKey -> {
                if (first.getAndSet(false)) {
                    awaitQuietly(bothListed);
                }
            });
        };
        KeyLayoutMigration a = server.get();
        KeyLayoutMigration b = server.get();

        CompletableFuture<Long> passA = CompletableFuture.supplyAsync(a::migrateAll, delivery);
        CompletableFuture<Long> passB = CompletableFuture.supplyAsync(b::migrateAll, delivery);

        assertThat(passA.get(5, TimeUnit.MINUTES) + passB.get(5, TimeUnit.MINUTES)).isGreaterThanOrEqualTo(6L * entities);
        for (int i = 0; i < entities; i++) {
            assertThat(memory.metadata("chat-" + i)).containsEntry("message_count", 2L).containsEntry("token_count", 9L);
            assertThat(memory.readAll("chat-" + i)).hasSize(2);
            assertThat(resources.get(ResourceKey.of("proj", "agent", "agent-" + i)).etag()).isNotEmpty();
            assertThat(events.replayAfter(execId + "-" + i, 0)).hasSize(2);
        }
        assertThat(resources.list("proj", "agent")).hasSize(entities);
        assertThat(keysContaining(ns).stream().filter(k -> !k.startsWith("{"))).as("old-layout keys left").isEmpty();
        assertThat(keysContaining(execId).stream().filter(k -> !k.startsWith("{"))).as("old-layout keys left").isEmpty();
    }

    /**
     * Only keys of a store's own type and shape move: other applications' keys that merely share a prefix stay where
     * they are, untouched, and are named at FINE (not WARNING) in the log.
     */
    @Test
    void keysOfOtherApplicationsThatShareAPrefixAreLeftAsTheyAre() {
        String conversation = writeOldConversation("chat");
        Map<String, String> foreign = new LinkedHashMap<>();
        foreign.put(ns + "-res:config", "string"); // no project:type:id
        foreign.put(ns + "-res:config:limits", "string"); // project:type, no id
        foreign.put(ns + "-res:proj:agent:in-a-hash", "hash"); // a resource's shape, but resources are strings
        foreign.put(ns + "-res:proj:agent:x:ver:a:b", "string"); // a version may not contain ':'
        foreign.put(ns + ":memory:usage", "string"); // conversations are lists
        foreign.put(ns + ":memory:usage:metadata", "list"); // metadata are hashes
        foreign.put("stream:events:seq:" + execId, "hash"); // sequences are strings
        foreign.put("stream:events:log:" + execId, "string"); // logs are lists
        foreign.put("mcp_proxy:mcps:" + ns, "hash"); // MCP definitions are strings
        foreign.put("mcp_proxy:status:" + ns, "list"); // and so are their statuses
        foreign.forEach(this::writeForeign);

        List<String> warnings;
        List<String> details;
        try (CapturedLog log = new CapturedLog(KeyLayoutMigration.class)) {
            migration.migrateAll();
            warnings = log.at(Level.WARNING);
            details = log.at(Level.FINE);
        }

        Set<String> expected = new TreeSet<>(foreign.keySet());
        expected.addAll(List.of(memory.fullKey("chat"), memory.metadataKey("chat")));
        Set<String> present = new TreeSet<>(keysContaining(ns));
        present.addAll(keysContaining(execId));
        assertThat(present).as("the conversation moved, nothing else did").isEqualTo(expected);
        assertThat(redis.getKeys().countExists(conversation)).isZero();
        foreign.forEach((key, type) -> assertThat(redis.getKeys().getType(key)).as(key).isEqualTo(rtype(type)));
        assertThat(redis.<String>getBucket(ns + "-res:config", StringCodec.INSTANCE).get()).isEqualTo("other application");
        assertThat(warnings).isEmpty();
        assertThat(String.join("\n", details)).contains(foreign.keySet());
    }

    /** docs/migration.md: MCP definitions and their status move from two unrelated names to one hash tag. */
    @Test
    void mcpDefinitionsOfTheLayoutWithoutHashTagsAreReadableAfterOnePass() {
        String name = ns + "-fs";
        redis.getBucket("mcp_proxy:mcps:" + name, StringCodec.INSTANCE)
                .set("{\"transport\":\"stdio\",\"command\":\"mcp-fs\",\"name\":\"" + name + "\"}");
        redis.getBucket("mcp_proxy:status:" + name, StringCodec.INSTANCE).set("{\"status\":\"connected\"}");
        McpDefinitionStore mcps = new McpDefinitionStore(redis);

        assertThat(migration.migrateAll()).isGreaterThanOrEqualTo(2);

        assertThat(mcps.get(name)).hasValueSatisfying(d -> assertThat(d.getString("command")).isEqualTo("mcp-fs"));
        assertThat(mcps.status(name).getString("status")).isEqualTo("connected");
        assertThat(mcps.list()).containsKey(name);
        assertThat(redis.getKeys().countExists("mcp_proxy:mcps:" + name, "mcp_proxy:status:" + name)).isZero();
        mcps.delete(name);
        assertThat(keysContaining(name)).isEmpty();
    }

    /** A keyspace migrated by the version before MCP hash tags (its marker says so) is migrated again, once. */
    @Test
    void aKeyspaceMarkedByTheEarlierHashTaggedLayoutIsMigratedAgainOnce() {
        var marker = redis.getBucket(KeyLayoutMigration.MARKER_KEY, StringCodec.INSTANCE);
        String before = (String) marker.get();
        try {
            marker.set("hash-tagged");
            redis.getBucket("mcp_proxy:mcps:" + ns, StringCodec.INSTANCE).set("{\"transport\":\"stdio\",\"command\":\"x\"}");

            assertThat(migration.migrateOnce()).isGreaterThanOrEqualTo(1);

            assertThat(redis.getKeys().countExists("mcp_proxy:mcps:" + ns)).isZero();
            assertThat(new McpDefinitionStore(redis).get(ns)).isPresent();
            assertThat(marker.get()).isNotEqualTo("hash-tagged");
            assertThat(migration.migrateOnce()).isZero();
        } finally {
            if (before == null) {
                marker.delete();
            } else {
                marker.set(before);
            }
        }
    }

    /**
     * Under an empty memory prefix (or a resources prefix beginning with '}'), a name that begins with '}' was
     * given the empty hash tag "{}", which Cluster ignores. Its keys move to the non-empty tag the stores use now.
     */
    @Test
    void keysWithTheEmptyHashTagMoveToTheirNonEmptyOne() {
        String key = "}" + ns + ":chat";
        redis.getList("{" + key + "}", StringCodec.INSTANCE).add("{\"n\":1}");
        redis.getMap("{" + key + "}:metadata", StringCodec.INSTANCE).putAll(Map.of("message_count", "1", "token_count", "4"));
        String resourcesPrefix = "}" + ns + "-res";
        String json = CanonicalJson.write(Json.createObjectBuilder().add("model", "m1").build());
        redis.getBucket("{" + resourcesPrefix + ":proj:agent:a}", StringCodec.INSTANCE).set(json);
        redis.getBucket("{" + resourcesPrefix + ":proj:agent:a}:etag", StringCodec.INSTANCE).set(CanonicalJson.etagOf(json));
        MemoryStore unprefixed = new MemoryStore(redis, "");
        ResourceStore braced = new ResourceStore(redis, scheduler, resourcesPrefix, Duration.ofMillis(300));

        assertThat(new KeyLayoutMigration(redis, "", resourcesPrefix).migrateAll()).isGreaterThanOrEqualTo(4);

        assertThat(unprefixed.readAll(key)).hasSize(1);
        assertThat(unprefixed.tokenCount(key)).isEqualTo(4);
        assertThat(braced.get(ResourceKey.of("proj", "agent", "a")).etag()).isEqualTo(CanonicalJson.etagOf(json));
        assertThat(braced.list("proj", "agent")).hasSize(1);
        assertThat(keysContaining(ns)).noneMatch(k -> k.startsWith("{}"));
    }

    private void writeForeign(final String key, final String type) {
        switch (type) {
            case "string" -> redis.getBucket(key, StringCodec.INSTANCE).set("other application");
            case "hash" -> redis.getMap(key, StringCodec.INSTANCE).put("field", "other application");
            case "list" -> redis.getList(key, StringCodec.INSTANCE).add("other application");
            default -> throw new IllegalArgumentException(type);
        }
    }

    private static RType rtype(final String type) {
        return switch (type) {
            case "string" -> RType.OBJECT;
            case "hash" -> RType.MAP;
            case "list" -> RType.LIST;
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** The key's 1 ms TTL runs out: from now on every command finds it gone, as one that expired would be. */
    private void expireNow(final String key) {
        redis.getBucket(key).expire(Duration.ofMillis(1));
        await().atMost(Duration.ofMinutes(1)).until(() -> redis.getBucket(key).remainTimeToLive() == -2);
    }

    private static void awaitQuietly(final CyclicBarrier barrier) {
        try {
            barrier.await(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("the other pass never reached its first rename", e);
        }
    }

    private List<String> keysContaining(final String part) {
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults().pattern("*" + part + "*"))) {
            return stream.distinct().toList();
        }
    }

    /** As the old MemoryStore wrote a conversation: RPUSH to "<prefix><key>", HINCRBY "<prefix><key>:metadata". */
    private String writeOldConversation(final String key) {
        String oldList = ns + ":memory:" + key;
        redis.getList(oldList, StringCodec.INSTANCE).addAll(List.of("{\"role\":\"user\",\"content\":\"hi\"}",
                "{\"role\":\"assistant\",\"content\":\"hello\"}"));
        redis.getMap(oldList + ":metadata", StringCodec.INSTANCE).putAll(Map.of("message_count", "2", "token_count", "9"));
        redis.getList(oldList, StringCodec.INSTANCE).expire(Duration.ofHours(1));
        redis.getMap(oldList + ":metadata", StringCodec.INSTANCE).expire(Duration.ofHours(1));
        return oldList;
    }

    /** As the old ResourceStore wrote a resource: "<prefix>:<project>:<type>:<id>[:ver:<v>]" and its ":etag". */
    private String writeOldResource(final String suffix) {
        String json = CanonicalJson.write(Json.createObjectBuilder().add("model", "m1").build());
        String oldValue = ns + "-res:proj:agent:" + suffix;
        redis.getBucket(oldValue, StringCodec.INSTANCE).set(json);
        redis.getBucket(oldValue + ":etag", StringCodec.INSTANCE).set(CanonicalJson.etagOf(json));
        return json;
    }

    /** As the old ExecutionEventStream wrote two events: INCR "stream:events:seq:<id>", LPUSH "...:log:<id>". */
    private void writeOldEvents(final String exec) {
        redis.getAtomicLong("stream:events:seq:" + exec).set(2);
        for (int id = 1; id <= 2; id++) {
            redis.getDeque("stream:events:log:" + exec, StringCodec.INSTANCE).addFirst(
                    new ExecutionEvent(id, "task.finished", JsonValue.NULL, Instant.now()).toJson().toString());
        }
    }
}
