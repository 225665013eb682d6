package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.resource.ResourceEvent;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.resource.ResourceTag;
import io.compozy.cache.web.store.resource.StoredResource;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

/** docs/stores.md, "Resource store". */
public abstract class ResourceStoreContract extends StoreContract {

    private ResourceStore resources;
    private String project;

    @BeforeEach
    void createStore() {
        resources = new ResourceStore(redis, scheduler, ns + "-res", Duration.ofMillis(300));
        project = "project";
    }

    @Test
    void putStoresCanonicalJsonAndItsSha256AsETag() throws Exception {
        ResourceKey key = ResourceKey.of(project, "agent", "a1");
        StoredResource stored = resources.put(key, json("{ \"b\": [3, {\"z\":1, \"a\":2}], \"a\": \"x\" }"));

        String expected = "{\"a\":\"x\",\"b\":[3,{\"a\":2,\"z\":1}]}";
        assertThat(redis.getBucket("{" + ns + "-res:project:agent:a1}", StringCodec.INSTANCE).get()).isEqualTo(expected);
        assertThat(stored.etag()).isEqualTo(sha256(expected));
        assertThat(redis.getBucket("{" + ns + "-res:project:agent:a1}:etag", StringCodec.INSTANCE).get()).isEqualTo(sha256(expected));

        StoredResource read = resources.get(key);
        assertThat(read.json()).isEqualTo(expected);
        assertThat(read.etag()).isEqualTo(stored.etag());
    }

    @Test
    void equalJsonWrittenDifferentlyHasTheSameETag() {
        String first = resources.put(ResourceKey.of(project, "t", "one"), json("{\"n\":1.50,\"s\":\"\\u00e9\",\"o\":{\"y\":1,\"x\":2}}")).etag();
        String second = resources.put(ResourceKey.of(project, "t", "two"), json("{\"o\":{\"x\":2,\"y\":1},\"s\":\"é\",\"n\":15e-1}")).etag();
        assertThat(first).isEqualTo(second);
    }

    @Test
    void versionedKeysLiveBesideTheUnversionedOne() {
        resources.put(ResourceKey.of(project, "t", "id"), json("{\"v\":0}"));
        resources.put(new ResourceKey(project, "t", "id", "2"), json("{\"v\":2}"));
        assertThat(redis.getBucket("{" + ns + "-res:project:t:id:ver:2}", StringCodec.INSTANCE).get()).isEqualTo("{\"v\":2}");
        assertThat(resources.get(new ResourceKey(project, "t", "id", "2")).json()).isEqualTo("{\"v\":2}");
        assertThat(resources.list(project, "t")).extracting(ResourceTag::key)
                .containsExactly(ResourceKey.of(project, "t", "id"), new ResourceKey(project, "t", "id", "2"));
    }

    @Test
    void putIfMatchWithTheCurrentETagReplacesValueAndETagTogether() {
        ResourceKey key = ResourceKey.of(project, "t", "cas");
        String etag = resources.put(key, json("{\"v\":1}")).etag();

        StoredResource replaced = resources.putIfMatch(key, json("{\"v\":2}"), etag);

        assertThat(resources.get(key)).isEqualTo(replaced);
        assertThat(replaced.etag()).isEqualTo(sha256("{\"v\":2}"));
        assertThatThrownBy(() -> resources.putIfMatch(key, json("{\"v\":3}"), etag))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.ETAG_MISMATCH));
        assertThat(resources.get(key).json()).isEqualTo("{\"v\":2}");
    }

    @Test
    void putIfMatchOnAMissingResourceIsNotFound() {
        assertThatThrownBy(() -> resources.putIfMatch(ResourceKey.of(project, "t", "nothing"), json("{}"), sha256("{}")))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_FOUND));
    }

    @Test
    void anEmptyExpectedETagIsInsertIfAbsent() {
        ResourceKey key = ResourceKey.of(project, "t", "new");
        resources.putIfMatch(key, json("{\"first\":true}"), "");
        assertThatThrownBy(() -> resources.putIfMatch(key, json("{\"second\":true}"), ""))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.ALREADY_EXISTS));
        assertThat(resources.get(key).json()).isEqualTo("{\"first\":true}");
    }

    @Test
    void tenConcurrentCompareAndSetsWithOneETagHaveExactlyOneWinner() throws Exception {
        ResourceKey key = ResourceKey.of(project, "t", "contended");
        String etag = resources.put(key, json("{\"v\":0}")).etag();
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<Future<String>> outcomes;
        try {
            CountDownLatch start = new CountDownLatch(1);
            outcomes = IntStream.rangeClosed(1, 10).mapToObj(i -> pool.submit(() -> {
                start.await();
                try {
                    resources.putIfMatch(key, json("{\"v\":" + i + "}"), etag);
                    return "won";
                } catch (StoreException e) {
                    return e.reason().name();
                }
            })).toList();
            start.countDown();
        } finally {
            pool.shutdown();
        }
        List<String> results = outcomes.stream().map(f -> {
            try {
                return f.get();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
        assertThat(results).filteredOn("won"::equals).hasSize(1);
        assertThat(results).filteredOn("ETAG_MISMATCH"::equals).hasSize(9);
        assertThat(resources.get(key).json()).isNotEqualTo("{\"v\":0}");
    }

    @Test
    void getRecomputesTheETagWhenItsKeyIsMissing() {
        ResourceKey key = ResourceKey.of(project, "t", "lost-etag");
        String etag = resources.put(key, json("{\"k\":[1,2]}")).etag();
        redis.getBucket(resources.etagKey(key)).delete();
        assertThat(resources.get(key).etag()).isEqualTo(etag);
    }

    @Test
    void getOfAMissingResourceIsNotFound() {
        assertThatThrownBy(() -> resources.get(ResourceKey.of(project, "t", "none")))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_FOUND))
                .hasMessageContaining("project/t/none");
    }

    @Test
    void deleteReturnsTheOldValueRemovesBothKeysAndIsIdempotent() {
        ResourceKey key = ResourceKey.of(project, "t", "gone");
        StoredResource stored = resources.put(key, json("{\"x\":1}"));

        assertThat(resources.delete(key)).contains(stored);
        assertThat(redis.getKeys().countExists(resources.valueKey(key), resources.etagKey(key))).isZero();
        assertThat(resources.delete(key)).isEmpty();
    }

    @Test
    void listFindsEveryIdIncludingColonsWithTheETagsGetReturns() {
        List<String> ids = List.of("plain", "with:colon", "a:b:c", "glob*[x]?\\");
        for (String id : ids) {
            resources.put(ResourceKey.of(project, "tool", id), json("{\"id\":\"" + id.replace("\\", "\\\\") + "\"}"));
        }
        resources.put(ResourceKey.of(project, "other", "elsewhere"), json("{}"));

        List<ResourceTag> listed = resources.list(project, "tool");

        assertThat(listed).extracting(tag -> tag.key().id()).containsExactlyInAnyOrderElementsOf(ids);
        for (ResourceTag tag : listed) {
            assertThat(tag.etag()).isEqualTo(resources.get(tag.key()).etag());
        }
        assertThat(resources.listWithValues(project, "tool")).extracting(StoredResource::json)
                .contains("{\"id\":\"with:colon\"}");
    }

    /** A prefix that begins with '}' would make "{}...", the empty hash tag: value and ETag would part slots. */
    @Test
    void aPrefixBeginningWithABraceStillKeepsValueAndETagInOneSlot() {
        ResourceStore braced = new ResourceStore(redis, scheduler, "}" + ns + "-res", Duration.ofMillis(300));
        ResourceKey key = ResourceKey.of(project, "agent", "a}1");

        HashSlots.assertOneTag(redis, braced.valueKey(key), braced.etagKey(key));
        String etag = braced.put(key, json("{\"n\":1}")).etag();
        braced.putIfMatch(key, json("{\"n\":2}"), etag);
        assertThat(braced.list(project, "agent")).extracting(t -> t.key().id()).containsExactly("a}1");
        assertThat(braced.delete(key)).isPresent();
        assertThat(redis.getKeys().countExists(braced.valueKey(key), braced.etagKey(key))).isZero();
    }

    @Test
    void globCharactersInProjectOrTypeNeverWidenTheListing() {
        resources.put(ResourceKey.of("px", "tool", "a"), json("{}"));
        resources.put(ResourceKey.of("p*", "tool", "b"), json("{}"));
        resources.put(ResourceKey.of("px", "t?", "c"), json("{}"));
        resources.put(ResourceKey.of("px", "tx", "d"), json("{}"));

        assertThat(resources.list("p*", "tool")).extracting(tag -> tag.key().id()).containsExactly("b");
        assertThat(resources.list("px", "t?")).extracting(tag -> tag.key().id()).containsExactly("c");
        assertThat(resources.list("p?", "tool")).isEmpty();
    }

    @Test
    void ambiguousIdsAndPartsAreRejected() {
        assertThatThrownBy(() -> ResourceKey.of("a:b", "t", "id")).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> ResourceKey.of("p", "t:u", "id")).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> ResourceKey.of("p", "t", "x:ver:1")).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> ResourceKey.of("p", "t", "x:etag")).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> ResourceKey.of("p", "t", "")).isInstanceOf(StoreException.class);
    }

    @Test
    void putAndDeletePublishEventsOfTheDocumentedShape() {
        List<String> messages = new CopyOnWriteArrayList<>();
        var topic = redis.getTopic(resources.eventChannel(project, "t"), StringCodec.INSTANCE);
        int listener = topic.addListener(String.class, (channel, message) -> messages.add(message));
        try {
            ResourceKey key = new ResourceKey(project, "t", "evented", "7");
            String etag = resources.put(key, json("{}")).etag();
            resources.delete(key);

            await().atMost(Duration.ofSeconds(5)).until(() -> messages.size() == 2);
            JsonObject put = json(messages.get(0)).asJsonObject();
            assertThat(put.getString("type")).isEqualTo("put");
            assertThat(put.getJsonObject("key")).isEqualTo(json("{\"project\":\"project\",\"type\":\"t\",\"id\":\"evented\",\"version\":\"7\"}"));
            assertThat(put.getString("etag")).isEqualTo(etag);
            assertThat(put.getString("at")).isNotBlank();
            JsonObject delete = json(messages.get(1)).asJsonObject();
            assertThat(delete.getString("type")).isEqualTo("delete");
            assertThat(delete.getString("etag")).isEqualTo(etag);
        } finally {
            topic.removeListener(listener);
        }
        assertThat(resources.eventChannel(project, "t")).isEqualTo(ns + "-res:events:project:t");
    }

    @Test
    void watchPrimesWithExistingItemsThenForwardsEvents() {
        ResourceKey existing = ResourceKey.of(project, "w", "existing");
        String existingEtag = resources.put(existing, json("{\"n\":1}")).etag();
        List<ResourceEvent> events = new CopyOnWriteArrayList<>();

        try (Subscription watch = resources.watch(project, "w", events::add)) {
            assertThat(events).singleElement().satisfies(e -> {
                assertThat(e.type()).isEqualTo("put");
                assertThat(e.key()).isEqualTo(existing);
                assertThat(e.etag()).isEqualTo(existingEtag);
            });

            ResourceKey added = ResourceKey.of(project, "w", "added");
            String addedEtag = resources.put(added, json("{\"n\":2}")).etag();
            resources.delete(existing);

            await().atMost(Duration.ofSeconds(5)).until(() -> events.size() >= 3);
            assertThat(events.subList(1, 3)).extracting(ResourceEvent::type, ResourceEvent::key, ResourceEvent::etag)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("put", added, addedEtag),
                            org.assertj.core.groups.Tuple.tuple("delete", existing, existingEtag));
        }
    }

    @Test
    void watchHealsAMissedMessageAtTheNextResync() {
        List<ResourceEvent> events = new CopyOnWriteArrayList<>();
        try (Subscription watch = resources.watch(project, "heal", events::add)) {
            ResourceKey silent = ResourceKey.of(project, "heal", "silent");
            // Written behind the store's back: no event is published.
            redis.getBucket(resources.valueKey(silent), StringCodec.INSTANCE).set("{\"quiet\":true}");

            await().atMost(Duration.ofSeconds(5)).until(() -> !events.isEmpty());
            assertThat(events.get(0).type()).isEqualTo("put");
            assertThat(events.get(0).key()).isEqualTo(silent);
            assertThat(events.get(0).etag()).isEqualTo(sha256("{\"quiet\":true}"));

            redis.getBucket(resources.valueKey(silent)).delete();
            await().atMost(Duration.ofSeconds(5)).until(() -> events.size() >= 2);
            assertThat(events.get(1).type()).isEqualTo("delete");
        }
    }

    static JsonValue json(final String text) {
        try (JsonReader reader = Json.createReader(new StringReader(text))) {
            return reader.readValue();
        }
    }

    static String sha256(final String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
