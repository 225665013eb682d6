package io.compozy.cache.web.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.web.store.memory.MemoryStore;
import io.compozy.cache.web.store.memory.MessagePage;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

/** docs/stores.md, "Memory store", including its reference cases. */
public abstract class MemoryStoreContract extends StoreContract {

    private MemoryStore memory;
    private String key;

    @BeforeEach
    void createStore() {
        memory = new MemoryStore(redis, ns + ":memory:");
        key = "conversation-" + ns;
    }

    @Test
    void appendsOfOneMessageThenOneWithSevenTokensGiveCountsOneZeroThenTwoSeven() {
        assertThat(memory.append(key, List.of(message(0)), 0, 0)).isEqualTo(1);
        assertThat(memory.metadata(key)).containsEntry("message_count", 1L).containsEntry("token_count", 0L);

        assertThat(memory.append(key, List.of(message(1)), 7, 0)).isEqualTo(2);
        assertThat(memory.messageCount(key)).isEqualTo(2);
        assertThat(memory.tokenCount(key)).isEqualTo(7);
    }

    @Test
    void anAppendPastTheMessageOrByteLimitIsRefusedWholeAndATrimmedOneStillFits() {
        MemoryStore small = new MemoryStore(redis, ns + ":small:", 3, 200);
        assertThat(small.append(key, List.of(message(0), message(1)), 2, 0)).isEqualTo(2);
        assertThatThrownBy(() -> small.append(key, List.of(message(2), message(3)), 2, 0))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason())
                        .isEqualTo(StoreException.Reason.LIMIT_REACHED))
                .hasMessageContaining(MemoryStore.MAX_MESSAGES_KEY).hasMessageContaining("nothing was appended");
        assertThat(small.readAll(key)).containsExactly(message(0), message(1));
        assertThat(small.metadata(key)).containsEntry("message_count", 2L).containsEntry("token_count", 2L);
        // With max_len the conversation stays at three messages: within the limit.
        assertThat(small.append(key, List.of(message(2), message(3)), 0, 3)).isEqualTo(3);
        assertThat(small.readAll(key)).containsExactly(message(1), message(2), message(3));

        JsonValue big = Json.createObjectBuilder().add("text", "x".repeat(150)).build();
        assertThatThrownBy(() -> small.append(key, List.of(big), 0, 3))
                .hasMessageContaining(MemoryStore.MAX_BYTES_KEY);
        assertThat(small.readAll(key)).containsExactly(message(1), message(2), message(3));
        assertThatThrownBy(() -> small.replace(key, List.of(message(0), message(1), message(2), message(3)), 0))
                .hasMessageContaining(MemoryStore.MAX_MESSAGES_KEY);
        // After a trim there is room again: the byte count follows every write.
        small.trim(key, 0, 0);
        assertThat(small.append(key, List.of(big), 0, 0)).isEqualTo(1);
    }

    @Test
    void aConversationStoredBeforeTheByteCountIsCountedOnItsNextAppend() {
        MemoryStore small = new MemoryStore(redis, ns + ":old:", 100, 100);
        String list = small.fullKey(key);
        JsonValue ninety = Json.createObjectBuilder().add("text", "y".repeat(80)).build();
        // As an earlier version left it: the list and its counts, no byte count.
        redis.getList(list, StringCodec.INSTANCE).add(ninety.toString());
        redis.getMap(small.metadataKey(key), StringCodec.INSTANCE).put("message_count", "1");
        assertThatThrownBy(() -> small.append(key, List.of(ninety), 0, 0)).hasMessageContaining(MemoryStore.MAX_BYTES_KEY);
        assertThat(small.count(key)).isEqualTo(1);
    }

    @Test
    void tokenIncrementsThreeAndFiveGiveEight() {
        memory.append(key, List.of(message(0)), 3, 0);
        memory.append(key, List.of(message(1)), 5, 0);
        assertThat(memory.tokenCount(key)).isEqualTo(8);
    }

    @Test
    void fiftyConcurrentAppendsLoseNothing() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Callable<Long>> appends = IntStream.range(0, 50).<Callable<Long>>mapToObj(i -> () -> {
                start.await();
                return memory.append(key, List.of(message(i)), 1, 0);
            }).toList();
            List<Future<Long>> results = appends.stream().map(pool::submit).toList();
            start.countDown();
            for (Future<Long> result : results) {
                result.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(memory.messageCount(key)).isEqualTo(50);
        assertThat(memory.tokenCount(key)).isEqualTo(50);
        assertThat(memory.readAll(key)).containsExactlyInAnyOrderElementsOf(
                IntStream.range(0, 50).mapToObj(MemoryStoreContract::message).toList());
    }

    @Test
    void fifteenMessagesTrimmedToTenKeepMessagesFiveToFourteen() {
        memory.append(key, messages(0, 15), 100, 0);

        assertThat(memory.trim(key, 10, 40)).isEqualTo(10);

        assertThat(memory.readAll(key)).containsExactlyElementsOf(messages(5, 15));
        assertThat(memory.metadata(key)).containsEntry("message_count", 10L).containsEntry("token_count", 40L);
    }

    @Test
    void twentyFiveMessagesPagedGiveTheSliceAndTheTotal() {
        memory.append(key, messages(0, 25), 0, 0);

        MessagePage first = memory.readPage(key, 0, 10);
        assertThat(first.messages()).containsExactlyElementsOf(messages(0, 10));
        assertThat(first.total()).isEqualTo(25);

        MessagePage last = memory.readPage(key, 20, 10);
        assertThat(last.messages()).containsExactlyElementsOf(messages(20, 25));
        assertThat(last.total()).isEqualTo(25);
    }

    @Test
    void pagesAreClamped() {
        memory.append(key, messages(0, 5), 0, 0);
        assertThat(memory.readPage(key, -3, 2).messages()).containsExactlyElementsOf(messages(0, 2));
        assertThat(memory.readPage(key, 10, 5)).isEqualTo(new MessagePage(List.of(), 5));
        assertThat(memory.readPage(key, 0, 0)).isEqualTo(new MessagePage(List.of(), 5));
        // "No limit" is Integer.MAX_VALUE: every message from the offset on, whatever the offset.
        assertThat(memory.readPage(key, 0, Integer.MAX_VALUE).messages()).containsExactlyElementsOf(messages(0, 5));
        assertThat(memory.readPage(key, 2, Integer.MAX_VALUE).messages()).containsExactlyElementsOf(messages(2, 5));
        assertThat(memory.readPage(key, 4, Integer.MAX_VALUE).messages()).containsExactlyElementsOf(messages(4, 5));
        assertThat(memory.readPage(key, 5, Integer.MAX_VALUE)).isEqualTo(new MessagePage(List.of(), 5));
        assertThat(memory.readPage(key, Integer.MAX_VALUE, Integer.MAX_VALUE)).isEqualTo(new MessagePage(List.of(), 5));
        assertThat(memory.readPage(key, 3, 1).messages()).containsExactlyElementsOf(messages(3, 4));
    }

    @Test
    void appendWithMaxLenKeepsTheNewestAndCountsWhatIsLeft() {
        memory.append(key, messages(0, 4), 0, 0);
        assertThat(memory.append(key, messages(4, 8), 2, 5)).isEqualTo(5);
        assertThat(memory.readAll(key)).containsExactlyElementsOf(messages(3, 8));
        assertThat(memory.messageCount(key)).isEqualTo(5);
        assertThat(memory.tokenCount(key)).isEqualTo(2);
    }

    @Test
    void appendSetsNoTtl() {
        memory.append(key, List.of(message(0)), 1, 0);
        assertThat(redis.getList(memory.fullKey(key)).remainTimeToLive()).isEqualTo(-1);
        assertThat(redis.getMap(memory.metadataKey(key)).remainTimeToLive()).isEqualTo(-1);
    }

    @Test
    void replaceSwapsMessagesAndCountsAndKeepsTheRemainingTtl() {
        memory.append(key, messages(0, 6), 9, 0);
        memory.setExpiration(key, Duration.ofMinutes(10));

        memory.replace(key, messages(100, 103), 42);

        assertThat(memory.readAll(key)).containsExactlyElementsOf(messages(100, 103));
        assertThat(memory.metadata(key)).containsEntry("message_count", 3L).containsEntry("token_count", 42L);
        assertThat(redis.getList(memory.fullKey(key)).remainTimeToLive()).isBetween(1L, 600_000L);
        assertThat(redis.getMap(memory.metadataKey(key)).remainTimeToLive()).isBetween(1L, 600_000L);
    }

    @Test
    void replaceOfAKeyWithoutTtlSetsNone() {
        memory.append(key, messages(0, 2), 0, 0);
        memory.replace(key, messages(5, 6), 1);
        assertThat(redis.getList(memory.fullKey(key)).remainTimeToLive()).isEqualTo(-1);
        assertThat(memory.readAll(key)).containsExactlyElementsOf(messages(5, 6));
    }

    @Test
    void trimRejectsANegativeKeepAndKeepZeroEmptiesTheList() {
        memory.append(key, messages(0, 3), 0, 0);
        assertThatThrownBy(() -> memory.trim(key, -1, 0))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INVALID_ARGUMENT));
        assertThat(memory.trim(key, 0, 0)).isZero();
        assertThat(memory.count(key)).isZero();
        assertThat(memory.messageCount(key)).isZero();
    }

    @Test
    void anUndecodableElementFailsTheReadNamingTheKey() {
        memory.append(key, List.of(message(0)), 0, 0);
        redis.getList(memory.fullKey(key), StringCodec.INSTANCE).add("{not json");

        assertThatThrownBy(() -> memory.readAll(key))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CORRUPT_DATA))
                .hasMessageContaining(memory.fullKey(key));
    }

    @Test
    void missingCountsReadAsZero() {
        assertThat(memory.metadata(key)).isEqualTo(Map.of("token_count", 0L, "message_count", 0L));
        assertThat(memory.count(key)).isZero();
        assertThat(memory.readAll(key)).isEmpty();
    }

    @Test
    void messagesAreStoredAsPlainJsonReadableByAnyClient() {
        memory.append(key, List.of(message(0)), 0, 0);
        assertThat(redis.getList(memory.fullKey(key), StringCodec.INSTANCE).readAll())
                .containsExactly("{\"role\":\"user\",\"content\":\"message 0\"}");
        assertThat(memory.fullKey(key)).isEqualTo("{" + ns + ":memory:" + key + "}");
        assertThat(memory.metadataKey(key)).isEqualTo("{" + ns + ":memory:" + key + "}:metadata");
    }

    @Test
    void aPrefixWithoutColonGetsOne() {
        MemoryStore bare = new MemoryStore(redis, ns + "-mem");
        assertThat(bare.fullKey("k")).isEqualTo("{" + ns + "-mem:k}");
    }

    /**
     * Under an empty prefix a key may begin with '}': "{}..." would be an empty hash tag, which Cluster ignores
     * (the list and its metadata would land in two slots and every script on them fail with CROSSSLOT).
     */
    @Test
    void underAnEmptyPrefixAKeyBeginningWithABraceStillHasBothKeysInOneSlot() {
        MemoryStore unprefixed = new MemoryStore(redis, "");
        String braced = "}" + ns + "}chat";

        HashSlots.assertOneTag(redis, unprefixed.fullKey(braced), unprefixed.metadataKey(braced));
        assertThat(unprefixed.append(braced, messages(0, 3), 5, 0)).isEqualTo(3);
        assertThat(unprefixed.readPage(braced, 1, 10).total()).isEqualTo(3);
        unprefixed.replace(braced, messages(0, 2), 2);
        assertThat(unprefixed.trim(braced, 1, 1)).isEqualTo(1);
        unprefixed.setExpiration(braced, Duration.ofMinutes(5));
        assertThat(unprefixed.metadata(braced)).containsEntry("message_count", 1L).containsEntry("token_count", 1L);
        assertThat(unprefixed.delete(braced)).isTrue();
        assertThat(redis.getKeys().countExists(unprefixed.fullKey(braced), unprefixed.metadataKey(braced))).isZero();
    }

    @Test
    void deleteRemovesListAndMetadata() {
        memory.append(key, messages(0, 2), 4, 0);
        assertThat(memory.delete(key)).isTrue();
        assertThat(redis.getKeys().countExists(memory.fullKey(key), memory.metadataKey(key))).isZero();
        assertThat(memory.delete(key)).isFalse();
    }

    @Test
    void setExpirationExpiresBothKeys() {
        memory.append(key, messages(0, 2), 4, 0);
        memory.setExpiration(key, Duration.ofSeconds(30));
        assertThat(redis.getList(memory.fullKey(key)).remainTimeToLive()).isBetween(1L, 30_000L);
        assertThat(redis.getMap(memory.metadataKey(key)).remainTimeToLive()).isBetween(1L, 30_000L);
        assertThatThrownBy(() -> memory.setExpiration(key, Duration.ZERO)).isInstanceOf(StoreException.class);
    }

    @Test
    void aSecondFlushMarkWhilePendingIsAnError() {
        memory.markFlushPending(key);
        String flag = "__compozy_internal__:flush_pending:" + memory.fullKey(key);
        assertThat(redis.getBucket(flag, StringCodec.INSTANCE).get()).isEqualTo("1");
        assertThat(redis.getBucket(flag).remainTimeToLive()).isBetween(1L, Duration.ofMinutes(30).toMillis());

        assertThatThrownBy(() -> memory.markFlushPending(key))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.CONFLICT));

        memory.clearFlushPending(key);
        assertThat(memory.isFlushPending(key)).isFalse();
        memory.markFlushPending(key);
        assertThat(memory.isFlushPending(key)).isTrue();
    }

    static JsonValue message(final int n) {
        return Json.createObjectBuilder().add("role", "user").add("content", "message " + n).build();
    }

    static List<JsonValue> messages(final int fromInclusive, final int toExclusive) {
        List<JsonValue> messages = new ArrayList<>();
        for (int i = fromInclusive; i < toExclusive; i++) {
            messages.add(message(i));
        }
        return messages;
    }
}
