package io.compozy.cache.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.compozy.cache.api.BackendInfo;
import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import jakarta.annotation.Resource;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.client.ClientBuilder;
import java.io.StringReader;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.TestServer;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.api.BatchOptions;
import org.redisson.api.BatchResult;
import org.redisson.api.RBatch;
import org.redisson.api.RScript;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * What an application on the server relies on, run inside a second application in both modes:
 * the injected client does SET/GET, Lua, MULTI/EXEC and pub/sub, it is the very client the EAR uses,
 * and no handle can shut it down.
 */
@ExtendWith(ArquillianExtension.class)
class SharedClientIT {

    @Deployment
    static WebArchive secondApplication() {
        return SecondApplication.archive(SharedClientIT.class);
    }

    @Inject
    RedissonClient redis;

    @Resource(lookup = CacheConnectionFactory.JNDI_NAME)
    CacheConnectionFactory factory;

    /** The EAR as seen from inside the server (arquillian.xml passes it.http.port to the server JVM). */
    private static final String EAR_URL = TestServer.baseUrl();

    private final String prefix = "it:shared-client:" + UUID.randomUUID() + ":";

    @Test
    void setThenGetThroughTheInjectedClient() {
        redis.getBucket(prefix + "greeting", StringCodec.INSTANCE).set("hello");
        assertThat(redis.getBucket(prefix + "greeting", StringCodec.INSTANCE).get()).isEqualTo("hello");
    }

    @Test
    void luaScriptRunsOnTheServer() {
        Long length = redis.getScript(StringCodec.INSTANCE).eval(RScript.Mode.READ_WRITE,
                "redis.call('RPUSH', KEYS[1], ARGV[1], ARGV[2]); return redis.call('LLEN', KEYS[1])",
                RScript.ReturnType.INTEGER, List.of(prefix + "list"), "a", "b");
        assertThat(length).isEqualTo(2L);
    }

    @Test
    void multiExecBatchAppliesEveryCommandTogether() {
        // One hash tag for the three keys: on Redis Cluster a MULTI block must stay in one slot.
        String prefix = "{" + this.prefix + "}";
        RBatch batch = redis.createBatch(BatchOptions.defaults().executionMode(BatchOptions.ExecutionMode.IN_MEMORY_ATOMIC));
        batch.getBucket(prefix + "value", StringCodec.INSTANCE).setAsync("v1");
        batch.getBucket(prefix + "etag", StringCodec.INSTANCE).setAsync("e1");
        batch.getAtomicLong(prefix + "version").incrementAndGetAsync();
        BatchResult<?> result = batch.execute();
        assertThat(result.getResponses()).hasSize(3);
        assertThat(redis.getBucket(prefix + "value", StringCodec.INSTANCE).get()).isEqualTo("v1");
        assertThat(redis.getBucket(prefix + "etag", StringCodec.INSTANCE).get()).isEqualTo("e1");
        assertThat(redis.getAtomicLong(prefix + "version").get()).isEqualTo(1L);
    }

    @Test
    void publishSubscribeRoundTrip() throws InterruptedException {
        RTopic topic = redis.getTopic(prefix + "events", StringCodec.INSTANCE);
        List<String> received = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        int listener = topic.addListener(String.class, (channel, message) -> {
            received.add(message);
            three.countDown();
        });
        try {
            for (String message : List.of("one", "two", "three")) {
                topic.publish(message);
            }
            assertThat(three.await(10, TimeUnit.SECONDS)).as("all three messages arrive").isTrue();
            assertThat(received).containsExactly("one", "two", "three");
        } finally {
            topic.removeListener(listener);
        }
    }

    @Test
    @RunAsClient
    void theServerRunsInTheModeThisExecutionAsksFor() {
        var response = LibertyProcess.get("/api/admin/status");
        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject status = Json.createReader(new StringReader(response.body())).readObject();
        assertThat(status.getString("mode")).isEqualTo(TestServer.mode());
        assertThat(status.getJsonObject("backend").getString("kind"))
                .isEqualTo(TestServer.mode().equals("standalone") ? "embedded" : "redis");
        assertThat(status.getString("ping")).isEqualTo("ok");
    }

    @Test
    void theSecondApplicationUsesTheSameServerAsTheEar() throws Exception {
        BackendInfo mine;
        try (CacheConnection connection = factory.getConnection()) {
            mine = connection.backend();
        }
        String body = ClientBuilder.newClient().target(EAR_URL).path("api/admin/status").request().get(String.class);
        JsonObject status = Json.createReader(new StringReader(body)).readObject();
        JsonObject backend = status.getJsonObject("backend");
        assertThat(status.getString("mode")).isEqualTo(mine.mode());
        assertThat(status.getString("ping")).isEqualTo("ok");
        assertThat(backend.getString("host")).isEqualTo(mine.host());
        assertThat(backend.getInt("port")).isEqualTo(mine.port());
        assertThat(backend.getInt("database")).isEqualTo(mine.database());
    }

    @Test
    void whatTheEarWritesTheSecondApplicationReadsAndTheOtherWayRound() {
        String conversation = "it-" + UUID.randomUUID();
        var ear = ClientBuilder.newClient().target(EAR_URL).path("api");
        var appended = ear.path("memory/" + conversation + "/messages").request()
                .post(jakarta.ws.rs.client.Entity.json("{\"messages\":[{\"role\":\"user\",\"text\":\"hi\"}],\"tokens\":3}"));
        assertThat(appended.getStatus()).isEqualTo(200);
        try {
            assertThat(redis.getList("{memory:" + conversation + "}", StringCodec.INSTANCE).readAll())
                    .singleElement().asString().contains("\"hi\"");
            assertThat(redis.getMap("{memory:" + conversation + "}:metadata", StringCodec.INSTANCE).get("token_count"))
                    .isEqualTo("3");

            // And back: a message this application appends is in the EAR's count.
            redis.getList("{memory:" + conversation + "}", StringCodec.INSTANCE).add("{\"role\":\"tool\"}");
            String page = ear.path("memory/" + conversation + "/messages").request().get(String.class);
            assertThat(Json.createReader(new StringReader(page)).readObject().getInt("total")).isEqualTo(2);
        } finally {
            ear.path("memory/" + conversation).request().delete();
        }
    }

    @Test
    void closingAHandleNeverShutsTheSharedClientDown() throws Exception {
        CacheConnection handle = factory.getConnection();
        handle.getBucket(prefix + "via-handle", StringCodec.INSTANCE).set("x");
        handle.close();
        assertThatThrownBy(() -> handle.getBucket(prefix + "via-handle")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(redis.isShutdown()).isFalse();
        assertThat(redis.getBucket(prefix + "via-handle", StringCodec.INSTANCE).get()).isEqualTo("x");
    }

    @Test
    void shutdownThroughAHandleIsRefused() throws Exception {
        try (CacheConnection handle = factory.getConnection()) {
            assertThatThrownBy(handle::shutdown).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("close()");
            assertThatThrownBy(() -> redis.shutdown()).isInstanceOf(UnsupportedOperationException.class);
        }
        try (CacheConnection handle = factory.getConnection()) {
            assertThat(handle.ping()).isTrue();
        }
    }

    @Test
    void everyHandleSharesOneClientAndReportsTheBackend() throws Exception {
        try (CacheConnection first = factory.getConnection(); CacheConnection second = factory.getConnection()) {
            assertThat(first.getId()).isEqualTo(second.getId()).isEqualTo(redis.getId());
            assertThat(first.backend()).isEqualTo(second.backend());
            assertThat(first.sharedClient()).isSameAs(second.sharedClient());
            assertThat(first.backend().redisVersion()).startsWith("7.");
            if (first.backend().embedded()) {
                assertThat(first.backend().host()).isEqualTo("127.0.0.1");
                assertThat(first.backend().processId()).isPositive();
            }
        }
    }
}
