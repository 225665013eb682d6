package io.compozy.cache.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import java.util.List;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import javax.naming.InitialContext;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.OperateOnDeployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.api.RScript;
import org.redisson.client.codec.StringCodec;

/**
 * Two independent applications on one server, each with a factory of its own (it-factories.xml): the same
 * names in both are two sets of data, neither reaches the other's keys or JCache entries, and neither runs an
 * administrative command or takes a snapshot. The methods run in order, each inside the application it names.
 */
@ExtendWith(ArquillianExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoApplicationsIT {

    private static final String WALLED = "eis/compozy/it-walled";
    private static final String OPERATOR = "eis/compozy/it-operator";
    private static final String KEY = "two-apps:greeting";
    private static final String CACHE = "two-apps-cache";

    @Deployment(name = "app-a")
    static WebArchive applicationA() {
        return SecondApplication.archive("app-a", TwoApplicationsIT.class);
    }

    @Deployment(name = "app-b")
    static WebArchive applicationB() {
        return SecondApplication.archive("app-b", TwoApplicationsIT.class);
    }

    @Test
    @Order(1)
    @OperateOnDeployment("app-a")
    void applicationAWritesItsGreetingAndACacheEntry() throws Exception {
        try (CacheConnection a = connect(WALLED)) {
            a.getBucket(KEY, StringCodec.INSTANCE).set("from A");
            cache(a.cacheManager()).put("k", "A's entry");
        }
    }

    @Test
    @Order(2)
    @OperateOnDeployment("app-b")
    void applicationBSeesNoneOfItAndCannotReachIt() throws Exception {
        try (CacheConnection b = connect(OPERATOR)) {
            assertThat(b.getBucket(KEY, StringCodec.INSTANCE).get()).as("B's own name is B's own key").isNull();
            assertThat(cache(b.cacheManager()).get("k")).as("the same cache name is another cache").isNull();
            b.getBucket(KEY, StringCodec.INSTANCE).set("from B");
            cache(b.cacheManager()).put("k", "B's entry");
            // A's key by its full name, inside a script (the wall is Redis's, where the factory has a user).
            if (b.backend().embedded()) {
                assertThatThrownBy(() -> b.getScript(StringCodec.INSTANCE).eval(RScript.Mode.READ_ONLY,
                        "return redis.call('GET', 'it-walled:" + KEY + "')", RScript.ReturnType.VALUE, List.of()))
                        .hasMessageContaining("can't access");
            }
            assertThatThrownBy(() -> b.getKeys().flushall()).hasMessageContaining("NOPERM");
            assertThatThrownBy(b::persistence).isInstanceOf(SecurityException.class);
        }
    }

    @Test
    @Order(3)
    @OperateOnDeployment("app-a")
    void applicationAStillReadsWhatItWrote() throws Exception {
        try (CacheConnection a = connect(WALLED)) {
            assertThat(a.getBucket(KEY, StringCodec.INSTANCE).get()).isEqualTo("from A");
            assertThat(cache(a.cacheManager()).get("k")).isEqualTo("A's entry");
            if (a.backend().embedded()) {
                assertThatThrownBy(() -> a.getKeys().flushall()).hasMessageContaining("NOPERM");
            }
            assertThatThrownBy(a::persistence).isInstanceOf(SecurityException.class);
            a.getBucket(KEY).delete();
            a.cacheManager().destroyCache(CACHE);
        }
    }

    @Test
    @Order(4)
    @OperateOnDeployment("app-b")
    void applicationBCleansUp() throws Exception {
        try (CacheConnection b = connect(OPERATOR)) {
            assertThat(b.getBucket(KEY, StringCodec.INSTANCE).get()).isEqualTo("from B");
            b.getBucket(KEY).delete();
            b.cacheManager().destroyCache(CACHE);
        }
    }

    private static CacheConnection connect(final String jndiName) throws Exception {
        CacheConnectionFactory factory = InitialContext.doLookup(jndiName);
        return factory.getConnection();
    }

    private static Cache<String, String> cache(final CacheManager manager) {
        Cache<String, String> existing = manager.getCache(CACHE);
        return existing != null ? existing : manager.createCache(CACHE, new MutableConfiguration<String, String>());
    }
}
