package io.compozy.cache.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import io.compozy.cache.it.support.BackendModeListener;
import jakarta.annotation.Resource;
import java.util.List;
import java.util.UUID;
import javax.cache.Cache;
import javax.cache.configuration.MutableConfiguration;
import javax.naming.InitialContext;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.api.RScript;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.client.codec.StringCodec;

/**
 * An application on the server that is not the product: what the shipped factory, the administrator's and a
 * prefixed one (it-factories.xml) let it reach, in every mode and topology of the suite.
 */
@ExtendWith(ArquillianExtension.class)
class FactoryWallsIT {

    @Deployment
    static WebArchive anotherApplication() {
        return SecondApplication.archive(FactoryWallsIT.class);
    }

    @Resource(lookup = CacheConnectionFactory.JNDI_NAME)
    CacheConnectionFactory shipped;

    @Resource(lookup = "eis/compozy/it-walled")
    CacheConnectionFactory walled;

    @Resource(lookup = "eis/compozy/it-operator")
    CacheConnectionFactory operators;

    private final String name = "it-walls-" + UUID.randomUUID();

    @Test
    void snapshotsAndTheAdministratorsFactoryAreRefusedToAnOrdinaryApplication() throws Exception {
        try (CacheConnection connection = shipped.getConnection()) {
            assertThatThrownBy(connection::persistence).isInstanceOf(SecurityException.class)
                    .hasMessageContaining("administrator=true");
        }
        CacheConnectionFactory admin = InitialContext.doLookup(CacheConnectionFactory.ADMIN_JNDI_NAME);
        assertThatThrownBy(admin::getConnection).isInstanceOf(SecurityException.class)
                .hasMessageContaining("[compozy-cache]");
    }

    @Test
    void onTheEmbeddedServerTheShippedFactoryRunsNoAdministrativeCommand() throws Exception {
        try (CacheConnection connection = shipped.getConnection()) {
            connection.getBucket(name, StringCodec.INSTANCE).set("still here");
            if (connection.backend().embedded()) {
                assertThatThrownBy(() -> connection.getKeys().flushall()).hasMessageContaining("NOPERM");
                assertThatThrownBy(() -> connection.getRedisNodes(RedisNodes.SINGLE).getInstance().getConfig("requirepass"))
                        .hasMessageContaining("NOPERM");
            }
            assertThat(connection.getBucket(name, StringCodec.INSTANCE).get()).isEqualTo("still here");
            connection.getBucket(name).delete();
        }
    }

    @Test
    void aPrefixedFactoryKeepsItsNamesAndItsCachesUnderItsPrefix() throws Exception {
        try (CacheConnection mine = walled.getConnection(); CacheConnection everyone = shipped.getConnection()) {
            mine.getBucket(name, StringCodec.INSTANCE).set("walled in");
            assertThat(mine.getBucket(name, StringCodec.INSTANCE).get()).isEqualTo("walled in");
            assertThat(everyone.getBucket("it-walled:" + name, StringCodec.INSTANCE).get()).isEqualTo("walled in");
            assertThat(everyone.getBucket(name, StringCodec.INSTANCE).isExists()).isFalse();

            String cacheName = name + "-cache";
            Cache<String, String> cache = mine.cacheManager().createCache(cacheName, new MutableConfiguration<>());
            cache.put("k", "v");
            assertThat(cache.get("k")).isEqualTo("v");
            assertThat(everyone.getKeys().getKeysStreamByPattern("*" + cacheName + "*"))
                    .isNotEmpty().allMatch(key -> key.startsWith("it-walled:") || key.contains(":{it-walled:"));
            mine.cacheManager().destroyCache(cacheName);

            if (mine.backend().embedded()) {
                // The wall is Redis's: the factory's user reaches no key outside its prefix, inside a script too.
                everyone.getBucket(name, StringCodec.INSTANCE).set("outside");
                assertThatThrownBy(() -> mine.getScript(StringCodec.INSTANCE).eval(RScript.Mode.READ_ONLY,
                        "return redis.call('GET', '" + name + "')", RScript.ReturnType.VALUE, List.of()))
                        .hasMessageContaining("can't access");
                everyone.getBucket(name).delete();
            }
            mine.getBucket(name).delete();
        }
    }

    @Test
    void aFactoryLoggedInAsItsOwnRedisUserReachesNothingOutsideItsPrefixInEveryTopology() throws Exception {
        try (CacheConnection mine = operators.getConnection(); CacheConnection everyone = shipped.getConnection()) {
            mine.getBucket(name, StringCodec.INSTANCE).set("mine");
            assertThat(everyone.getBucket(BackendModeListener.OPERATOR_PREFIX + name, StringCodec.INSTANCE).get())
                    .isEqualTo("mine");
            // One hash tag: on a Cluster the script's key and the one it reaches for share a slot and a node.
            String outside = "{" + name + "}outside";
            everyone.getBucket(outside, StringCodec.INSTANCE).set("someone else's");
            assertThatThrownBy(() -> mine.getScript(StringCodec.INSTANCE).eval(outside, RScript.Mode.READ_ONLY,
                    "return redis.call('GET', '" + outside + "')", RScript.ReturnType.VALUE, List.of()))
                    .hasMessageContaining("can't access");
            assertThatThrownBy(() -> mine.getKeys().flushall()).hasMessageContaining("NOPERM");
            assertThat(everyone.getBucket(outside, StringCodec.INSTANCE).get()).isEqualTo("someone else's");
            everyone.getBucket(outside).delete();
            mine.getBucket(name).delete();
        }
    }
}
