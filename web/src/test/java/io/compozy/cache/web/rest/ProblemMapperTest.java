package io.compozy.cache.web.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.api.SnapshotFailedException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.core.Response;
import java.io.StringReader;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisException;

/** Redis refusing writes because it cannot persist: a 503 that names the cause and never the caller's data. */
class ProblemMapperTest {

    @Test
    void aWriteRefusedForAFullDiskIs503NamingTheCauseWithoutTheCommandsArguments() {
        // What Redisson throws for Redis's MISCONF reply: Redis's words, then the channel and the command.
        Response response = new ProblemMapper().toResponse(new RedisException("MISCONF Errors writing to the AOF"
                + " file: No space left on device. channel: [id: 0x1, L:/127.0.0.1:5 - R:/127.0.0.1:6] data:"
                + " CommandData [command=(SET), params=[private-key, private-value]]"));
        assertThat(response.getStatus()).isEqualTo(503);
        assertThat(response.getMediaType().toString()).isEqualTo(ProblemMapper.PROBLEM_JSON);
        String body = (String) response.getEntity();
        assertThat(body).contains("urn:compozy:cache:problem:backend-cannot-persist",
                "Errors writing to the AOF file: No space left on device", "reads keep working", "resume by themselves")
                .doesNotContain("private-value").doesNotContain("channel");
    }

    @Test
    void aScriptRefusedForAFullDiskIs503Too() {
        Response response = new ProblemMapper().toResponse(new RedisException("ERR Error running script: MISCONF"
                + " Errors writing to the AOF file: No space left on device script: abc123, on @user_script:1."
                + " channel: [id: 0x1] data: CommandData [command=(EVAL), params=[private-value]]"));
        assertThat(response.getStatus()).isEqualTo(503);
        assertThat((String) response.getEntity()).contains("backend-cannot-persist",
                "Errors writing to the AOF file: No space left on device").doesNotContain("private-value");
    }

    /**
     * A Redis at its maxmemory (noeviction) refusing a write through the real client: 507 naming the limit's
     * key, nothing of the value in the answer, and reads still served.
     */
    @Test
    void aWriteRefusedAtMaxmemoryIs507CacheFullAndReadsGoOn() {
        try (io.compozy.cache.testing.PlainRedis redis = io.compozy.cache.testing.PlainRedis.start()) {
            redis.call("SET", "kept", "acknowledged before");
            redis.call("CONFIG", "SET", "maxmemory", "1"); // below what an empty server uses: every write refused
            org.redisson.config.Config config = new org.redisson.config.Config()
                    .setCodec(org.redisson.client.codec.StringCodec.INSTANCE);
            config.useSingleServer().setAddress(redis.url()).setRetryAttempts(0);
            org.redisson.api.RedissonClient client = org.redisson.Redisson.create(config);
            try {
                Throwable refused = org.assertj.core.api.Assertions.catchThrowable(
                        () -> client.getBucket("new").set("private-value"));
                assertThat(refused).isNotNull();
                Response response = new ProblemMapper().toResponse(refused);
                assertThat(response.getStatus()).isEqualTo(507);
                assertThat((String) response.getEntity()).contains("urn:compozy:cache:problem:cache-full",
                        "redis.standalone.max_memory", "reads keep working").doesNotContain("private-value");
                assertThat(client.getBucket("kept").get()).isEqualTo("acknowledged before");
            } finally {
                client.shutdown();
            }
        }
    }

    /** The adapter's own persistence failure: its message (written for callers) and whether the live data changed. */
    @Test
    void aSnapshotFailureIs500SnapshotFailedSayingWhetherTheLiveDataChanged() {
        Response response = new ProblemMapper().toResponse(new SnapshotFailedException("Generation 3 is live now,"
                + " but the snapshot of it failed: Cannot write the snapshot to /data"
                + " (redis.standalone.persistence.data_dir): No space left on device", true, null));
        assertThat(response.getStatus()).isEqualTo(500);
        assertThat(response.getMediaType().toString()).isEqualTo(ProblemMapper.PROBLEM_JSON);
        JsonObject problem = Json.createReader(new StringReader((String) response.getEntity())).readObject();
        assertThat(problem.getString("type")).isEqualTo("urn:compozy:cache:problem:snapshot-failed");
        assertThat(problem.getString("detail")).contains("Generation 3 is live now",
                "redis.standalone.persistence.data_dir");
        assertThat(problem.getBoolean("liveDataChanged")).isTrue();
    }

    @Test
    void otherRedisFailuresStayBackendUnavailable() {
        Response response = new ProblemMapper().toResponse(new RedisException("Unable to connect"));
        assertThat(response.getStatus()).isEqualTo(503);
        assertThat((String) response.getEntity()).contains("backend-unavailable");
    }
}
