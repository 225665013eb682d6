package io.compozy.cache.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.MetricsText;
import io.compozy.cache.web.client.CacheManagerProducer;
import jakarta.annotation.Resource;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import java.io.Serializable;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.expiry.CreatedExpiryPolicy;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.api.RedissonClient;

/**
 * JCache (JSR-107) from a second application, in both modes: {@code @Inject CacheManager} and the
 * connection API's manager on the shared client, the caches the server configuration declares present
 * from the start in this application and in the EAR, entries of this application's own classes, expiry,
 * listeners, and the statistics in the EAR's /metrics.
 */
@ExtendWith(ArquillianExtension.class)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class JCacheIT {

    @Deployment
    static WebArchive secondApplication() {
        return SecondApplication.archive(JCacheIT.class, Purchase.class, Unlisted.class, Recorder.class, CacheManagerProducer.class,
                MetricsText.class)
                .addAsLibraries(SecondApplication.jarOf(org.awaitility.Awaitility.class),
                        SecondApplication.jarOf(org.hamcrest.Matcher.class));
    }

    @Inject
    CacheManager caches;

    @Inject
    RedissonClient redis;

    @Resource(lookup = CacheConnectionFactory.JNDI_NAME)
    CacheConnectionFactory factory;

    private final String key = "it-" + UUID.randomUUID();

    /** A class only this application has: the adapter could not deserialize it with its own class loader. */
    public record Purchase(String id, int quantity) implements Serializable {
    }

    @Test
    void theDeclaredCachesAreThereWithoutBeingCreated() {
        assertThat(caches.getCacheNames()).contains("it-declared", "it-eternal");
        assertThat(caches.getCache("it-declared")).isNotNull();
    }

    @Test
    @RunAsClient
    void theEarHasTheDeclaredCachesFromTheStart() {
        JsonObject status = Json.createReader(new StringReader(LibertyProcess.get("/api/admin/status").body())).readObject();
        assertThat(status.getJsonObject("jcache").getJsonArray("caches").getValuesAs(JsonString::getString))
                .contains("it-declared", "it-eternal");
    }

    @Test
    void anApplicationClassGoesInAndComesBackInTheSharedRedis() throws Exception {
        Cache<String, Purchase> orders = caches.getCache("it-eternal");
        orders.put(key, new Purchase(key, 3));
        assertThat(orders.get(key)).isEqualTo(new Purchase(key, 3)).isInstanceOf(Purchase.class);
        // The manager of the connection API is this application's too, on the same client and Redis.
        try (CacheConnection connection = factory.getConnection()) {
            assertThat(connection.cacheManager().getCache("it-eternal").get(key)).isEqualTo(new Purchase(key, 3));
        }
        assertThat(redis.getKeys().countExists("it-eternal")).as("the cache is a hash in the adapter's Redis").isEqualTo(1);
    }

    /** A class of this application that the server's compozy.jcache.allowed_classes does not name. */
    public record Unlisted(String text) implements Serializable {
    }

    @Test
    void aValueOfAClassTheServerDoesNotAllowIsRefusedOnGetNamingTheClassAndCounted() {
        Cache<String, Object> cache = caches.getCache("it-eternal");
        cache.put(key, new Unlisted("written by this application, never read back as one"));
        double before = MetricsText.scrape().count("compozy_jcache_deserialization_rejected_total");

        assertThatThrownBy(() -> cache.get(key)).isInstanceOf(javax.cache.CacheException.class)
                .hasMessageContaining("JCache refused to deserialize a value of class " + Unlisted.class.getName())
                .hasMessageContaining("compozy.jcache.allowed_classes");

        await().atMost(Duration.ofSeconds(30)).until(() -> MetricsText.scrape()
                .count("compozy_jcache_deserialization_rejected_total") >= before + 1);
        cache.remove(key);
    }

    @Test
    void entriesExpireAsTheirPolicySays() {
        Cache<String, String> shortLived = caches.createCache("it-short-" + UUID.randomUUID(),
                new MutableConfiguration<String, String>().setExpiryPolicyFactory(
                        CreatedExpiryPolicy.factoryOf(new javax.cache.expiry.Duration(TimeUnit.SECONDS, 2))));
        try {
            shortLived.put("k", "v");
            await().atMost(Duration.ofSeconds(30)).until(() -> !shortLived.containsKey("k"));
        } finally {
            caches.destroyCache(shortLived.getName());
        }
    }

    @Test
    void listenersHearCreatedEntries() {
        List<String> created = new CopyOnWriteArrayList<>();
        Recorder.sink = created;
        Cache<String, String> watched = caches.createCache("it-watched-" + UUID.randomUUID(),
                new MutableConfiguration<String, String>().addCacheEntryListenerConfiguration(
                        new MutableCacheEntryListenerConfiguration<>(FactoryBuilder.factoryOf(Recorder.class), null, false, false)));
        try {
            watched.put("k", "v");
            await().atMost(Duration.ofSeconds(20)).until(() -> created.contains("k=v"));
        } finally {
            caches.destroyCache(watched.getName());
        }
    }

    /** Last: the put of {@link #anApplicationClassGoesInAndComesBackInTheSharedRedis} is counted. */
    @Test
    @RunAsClient
    @org.junit.jupiter.api.Order(Integer.MAX_VALUE)
    void statisticsOfTheDeclaredCachesAreInMetrics() {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> MetricsText.scrape().count("compozy_jcache_puts", "cache", "it-eternal") >= 1);
    }

    /** Records created entries as key=value. */
    public static final class Recorder implements CacheEntryCreatedListener<String, String>, Serializable {
        private static final long serialVersionUID = 1L;
        static volatile List<String> sink;

        @Override
        public void onCreated(final Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
            events.forEach(event -> sink.add(event.getKey() + "=" + event.getValue()));
        }
    }
}
