package io.compozy.cache.web.store;

import static io.compozy.cache.web.store.ResourceStoreContract.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

/** docs/stores.md, "Webhook idempotency". */
public abstract class WebhookIdempotencyContract extends StoreContract {

    private WebhookIdempotency webhooks;

    @BeforeEach
    void createStore() {
        webhooks = new WebhookIdempotency(redis, Duration.ofMinutes(10), "event_id");
    }

    @Test
    void aSecondDeliveryWithinTheTtlIsADuplicate() {
        assertThat(webhooks.firstDelivery(ns, "delivery-1")).isTrue();
        assertThat(webhooks.firstDelivery(ns, "delivery-1")).isFalse();
        assertThat(webhooks.firstDelivery(ns, "delivery-2")).isTrue();
        assertThat(webhooks.firstDelivery(ns + "-other", "delivery-1")).isTrue();

        String key = "idempotency:webhook:" + ns + ":delivery-1";
        assertThat(redis.<String>getBucket(key, StringCodec.INSTANCE).get()).as("the claimer's token").matches("[0-9a-f]{32}");
        assertThat(redis.getBucket(key).remainTimeToLive()).isBetween(1L, Duration.ofMinutes(10).toMillis());
    }

    @Test
    void anIdempotencyKeyOverTheLimitIsRefusedNamingTheKeyAndNothingIsKept() {
        String longest = "k".repeat(256);
        assertThat(webhooks.idempotencyKey(longest, jakarta.json.JsonValue.NULL)).isEqualTo(longest);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> webhooks.idempotencyKey(longest + "k",
                        jakarta.json.JsonValue.NULL))
                .isInstanceOf(io.compozy.cache.web.store.StoreException.class)
                .hasMessageContaining("257 characters").hasMessageContaining(WebhookIdempotency.MAX_KEY_LENGTH_KEY);
        jakarta.json.JsonObject body = jakarta.json.Json.createObjectBuilder().add("event_id", "e".repeat(10_000)).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> webhooks.idempotencyKey(null, body))
                .hasMessageContaining(WebhookIdempotency.MAX_KEY_LENGTH_KEY);
    }

    @Test
    void aKeyCanBeDeliveredAgainAfterItsTtl() {
        WebhookIdempotency shortLived = new WebhookIdempotency(redis, Duration.ofMillis(200), "event_id");
        assertThat(shortLived.firstDelivery(ns, "again")).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> shortLived.firstDelivery(ns, "again"));
    }

    @Test
    void theKeyComesFromTheHeaderElseTheConfiguredBodyField() {
        assertThat(webhooks.idempotencyKey("from-header", json("{\"event_id\":\"from-body\"}"))).isEqualTo("from-header");
        assertThat(webhooks.idempotencyKey(null, json("{\"event_id\":\"from-body\"}"))).isEqualTo("from-body");
        assertThat(webhooks.idempotencyKey(" ", json("{\"event_id\":42}"))).isEqualTo("42");
    }

    @Test
    void neitherHeaderNorFieldIsAClearClientError() {
        assertThatThrownBy(() -> webhooks.idempotencyKey(null, json("{\"other\":1}")))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INVALID_ARGUMENT))
                .hasMessageContaining("X-Idempotency-Key").hasMessageContaining("event_id");
        assertThatThrownBy(() -> webhooks.idempotencyKey(null, json("[1]"))).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> webhooks.idempotencyKey(null, json("{\"event_id\":{}}")))
                .isInstanceOf(StoreException.class).hasMessageContaining("event_id");
    }
}
