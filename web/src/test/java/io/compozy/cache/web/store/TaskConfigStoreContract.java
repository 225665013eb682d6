package io.compozy.cache.web.store;

import static io.compozy.cache.web.store.ResourceStoreContract.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.web.store.taskconfig.TaskConfigStore;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

/** docs/stores.md, "Task config store". */
public abstract class TaskConfigStoreContract extends StoreContract {

    private TaskConfigStore configs;
    private String id;

    @BeforeEach
    void createStore() {
        configs = new TaskConfigStore(redis, Duration.ofHours(24));
        id = "exec-" + ns;
    }

    @Test
    void saveWritesJsonAtConfigKeyWithTheTtl() {
        configs.save(id, json("{\"agent\":\"a\",\"n\":1}"));
        assertThat(redis.getBucket("config:" + id, StringCodec.INSTANCE).get()).isEqualTo("{\"agent\":\"a\",\"n\":1}");
        assertThat(redis.getBucket("config:" + id).remainTimeToLive())
                .isBetween(Duration.ofHours(23).toMillis(), Duration.ofHours(24).toMillis());
    }

    @Test
    void everyReadExtendsTheTtl() {
        configs.save(id, json("{\"x\":1}"));
        redis.getBucket("config:" + id).expire(Duration.ofSeconds(5));

        assertThat(configs.get(id)).contains(json("{\"x\":1}"));

        assertThat(redis.getBucket("config:" + id).remainTimeToLive()).isGreaterThan(Duration.ofHours(23).toMillis());
    }

    @Test
    void metadataLivesAtItsOwnKeyAndReadsExtendItsTtl() {
        configs.saveMetadata(id, json("{\"m\":true}"));
        redis.getBucket("metadata:" + id).expire(Duration.ofSeconds(5));
        assertThat(configs.getMetadata(id)).contains(json("{\"m\":true}"));
        assertThat(redis.getBucket("metadata:" + id).remainTimeToLive()).isGreaterThan(Duration.ofHours(23).toMillis());
        assertThat(configs.listMetadataKeys()).contains(id);
        assertThat(configs.deleteMetadata(id)).isTrue();
        assertThat(configs.getMetadata(id)).isEmpty();
    }

    @Test
    void deleteExtendTtlAndRemainingTtl() {
        configs.save(id, json("{}"));
        assertThat(configs.extendTtl(id, Duration.ofHours(48))).isTrue();
        assertThat(configs.remainingTtl(id)).get().satisfies(ttl -> assertThat(ttl).isGreaterThan(Duration.ofHours(47)));

        assertThat(configs.delete(id)).isTrue();
        assertThat(configs.delete(id)).isFalse();
        assertThat(configs.get(id)).isEmpty();
        assertThat(configs.extendTtl(id, Duration.ofHours(1))).isFalse();
        assertThatThrownBy(() -> configs.remainingTtl(id))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_FOUND));
    }

    @Test
    void listingFindsIdsByScanWithoutOtherKinds() {
        configs.save(id + "-1", json("{}"));
        configs.save(id + ":with:colon", json("{}"));
        configs.saveMetadata(id + "-meta", json("{}"));
        // Other work shares the server: assert containment, never equality.
        assertThat(configs.listIds()).contains(id + "-1", id + ":with:colon").doesNotContain(id + "-meta");
        assertThat(configs.listMetadataKeys()).contains(id + "-meta").doesNotContain(id + "-1");
    }

    @Test
    void anEntryExpiresWithItsTtl() {
        TaskConfigStore shortLived = new TaskConfigStore(redis, Duration.ofMillis(200));
        shortLived.save(id, json("{}"));
        // Poll the raw key: a read through the store would extend the TTL it waits for.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !redis.getBucket("config:" + id).isExists());
        assertThat(shortLived.get(id)).isEmpty();
    }
}
