package io.compozy.cache.web.store;

import static io.compozy.cache.web.store.ResourceStoreContract.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.web.store.mcp.McpDefinitionStore;
import jakarta.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;

/** docs/stores.md, "MCP definition store". */
public abstract class McpDefinitionStoreContract extends StoreContract {

    private McpDefinitionStore mcps;
    private String name;

    @BeforeEach
    void createStore() {
        mcps = new McpDefinitionStore(redis);
        name = "fs-" + ns;
    }

    @Test
    void aValidDefinitionIsSavedWithItsName() {
        JsonObject saved = mcps.save(name, json("{\"transport\":\"stdio\",\"command\":\"mcp-fs\"}"));

        assertThat(saved.getString("name")).isEqualTo(name);
        assertThat(mcps.get(name)).contains(saved);
        assertThat(json(redis.<String>getBucket(McpDefinitionStore.definitionKey(name), StringCodec.INSTANCE).get())).isEqualTo(saved);
    }

    @Test
    void invalidDefinitionsAreRejectedNamingTheField() {
        assertThatThrownBy(() -> mcps.save(name, json("[]"))).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> mcps.save(name, json("{\"transport\":\"carrier-pigeon\"}")))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.INVALID_ARGUMENT))
                .hasMessageContaining("'transport'");
        assertThatThrownBy(() -> mcps.save(name, json("{\"transport\":\"stdio\"}"))).hasMessageContaining("'command'");
        assertThatThrownBy(() -> mcps.save(name, json("{\"transport\":\"sse\",\"url\":\"ftp://x\"}"))).hasMessageContaining("'url'");
        assertThatThrownBy(() -> mcps.save(name, json("{\"name\":\"other\",\"transport\":\"sse\",\"url\":\"http://h/sse\"}")))
                .hasMessageContaining("'name'");
        assertThat(mcps.get(name)).isEmpty();
    }

    @Test
    void statusIsADefaultUntilSaved() {
        assertThat(mcps.status(name).getString("status")).isEqualTo("disconnected");
        mcps.saveStatus(name, json("{\"status\":\"connected\",\"tools\":3}").asJsonObject());
        assertThat(mcps.status(name).getString("status")).isEqualTo("connected");
        assertThat(redis.getBucket(McpDefinitionStore.statusKey(name), StringCodec.INSTANCE).get()).isNotNull();
    }

    @Test
    void deleteRemovesDefinitionAndStatusAndUnknownNamesAreNotFound() {
        mcps.save(name, json("{\"transport\":\"streamable-http\",\"url\":\"https://mcp.example/mcp\"}"));
        mcps.saveStatus(name, json("{\"status\":\"connected\"}").asJsonObject());

        mcps.delete(name);

        assertThat(redis.getKeys().countExists(McpDefinitionStore.definitionKey(name), McpDefinitionStore.statusKey(name))).isZero();
        assertThatThrownBy(() -> mcps.delete(name))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.reason()).isEqualTo(StoreException.Reason.NOT_FOUND));
    }

    /** Delete removes both keys in one DEL, which Cluster runs only on keys of one hash slot. */
    @Test
    void aDefinitionAndItsStatusShareOneHashTag() {
        mcps.save(name, json("{\"transport\":\"stdio\",\"command\":\"mcp-fs\"}"));
        mcps.saveStatus(name, json("{\"status\":\"connected\"}").asJsonObject());

        List<String> keys;
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults().pattern("*" + name + "*"))) {
            keys = stream.distinct().toList();
        }

        assertThat(keys).hasSize(2);
        HashSlots.assertOneTag(redis, keys.toArray(String[]::new));
    }

    @Test
    void listingHoldsEverySavedDefinition() {
        mcps.save(name + "-a", json("{\"transport\":\"stdio\",\"command\":\"a\"}"));
        mcps.save(name + ":b", json("{\"transport\":\"sse\",\"url\":\"http://b/sse\"}"));
        assertThat(mcps.list()).containsKeys(name + "-a", name + ":b");
        assertThat(mcps.list().get(name + ":b").getString("url")).isEqualTo("http://b/sse");
    }
}
