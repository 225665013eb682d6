package io.compozy.cache.it;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.CurlRequest;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.TestServer;
import io.compozy.cache.testing.EveryType;
import io.compozy.cache.testing.PlainRedis;
import jakarta.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * RDB out and in through the admin API, checked with a plain redis-server: a downloaded generation loads in
 * one, an uploaded RDB restored into the running server comes back out with the same DEBUG DIGEST, and a
 * truncated upload is refused and stores nothing. In distributed mode every endpoint answers 409.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class SnapshotTransferIT {

    /** Keys of this run: the server's data (restored at its next start) may hold an earlier run's. */
    private static final String PREFIX = "it-transfer:" + java.util.UUID.randomUUID().toString().substring(0, 8) + ":";

    @TempDir
    Path dir;

    @Deployment(testable = false)
    static WebArchive secondApplication() {
        return SecondApplication.archive();
    }

    @Test
    void downloadUploadAndRestoreRoundTripToTheSameDigest() throws Exception {
        if (!TestServer.mode().equals("standalone")) {
            for (HttpResponse<?> refused : List.of(upload(new byte[] {1}), Api.send(admin("admin/snapshots/1/rdb").GET()),
                    Api.adminPost("admin/snapshots/1/restore", ""))) {
                assertThat(refused.statusCode()).isEqualTo(409);
                assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            }
            return;
        }
        // Out: the live data, as a file a plain redis-server loads.
        long taken = json(Api.adminPost("admin/snapshots", "")).getJsonNumber("generation").longValue();
        HttpResponse<byte[]> download = download(taken);
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.headers().firstValueAsLong("Content-Length")).hasValue(download.body().length);
        assertThat(download.headers().firstValue("X-Snapshot-SHA256")).hasValue(sha256(download.body()));
        Path live = Files.write(dir.resolve("live.rdb"), download.body());

        // Changed outside the server (every type, expiries), back in as an upload.
        String digest;
        byte[] changed;
        try (PlainRedis plain = PlainRedis.start(Optional.of(live))) {
            EveryType.write(plain, PREFIX);
            // Random hex does not compress: the file is bigger than api.max_body_bytes (1 MiB), which
            // does not apply to an RDB upload.
            byte[] noise = new byte[768 * 1024];
            new java.security.SecureRandom().nextBytes(noise);
            plain.call("SET", PREFIX + "big", HexFormat.of().formatHex(noise));
            // Keys of the other tests that expire soon (locks, rate windows) could expire before the restore
            // loads the file, which is Redis's rule, not a difference: compare only keys that stay.
            for (Object key : (List<?>) plain.call("KEYS", "*")) {
                long ttl = (Long) plain.call("PTTL", key.toString());
                if (ttl >= 0 && ttl < Duration.ofMinutes(10).toMillis()) {
                    plain.call("DEL", key.toString());
                }
            }
            digest = plain.digest();
            changed = Files.readAllBytes(plain.save());
        }
        List<Long> before = generations();
        HttpResponse<String> truncated = upload(Arrays.copyOf(changed, changed.length - 50));
        assertThat(truncated.statusCode()).isEqualTo(400);
        assertThat(truncated.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(truncated).getString("detail")).contains("not stored").contains("truncated");
        assertThat(generations()).as("a refused upload stores nothing").isEqualTo(before);

        assertThat(changed.length).as("bigger than the default api.max_body_bytes").isGreaterThan(1 << 20);
        HttpResponse<String> uploaded = upload(changed);
        assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(201);
        long generation = json(uploaded).getJsonNumber("generation").longValue();
        assertThat(download(generation).body()).as("stored as sent").isEqualTo(changed);

        HttpResponse<String> restore = Api.adminPost("admin/snapshots/" + generation + "/restore", "");
        assertThat(restore.statusCode()).as(restore.body()).isEqualTo(200);
        JsonObject restored = json(restore);
        assertThat(restored.getJsonNumber("restored").longValue()).isEqualTo(generation);
        long after = restored.getJsonObject("snapshot").getJsonNumber("generation").longValue();
        try (PlainRedis plain = PlainRedis.start(Optional.of(Files.write(dir.resolve("after.rdb"),
                download(after).body())))) {
            assertThat(plain.digest()).as("the live data after the restore is the upload").isEqualTo(digest);
        }
        // Applications keep their client: it reconnects to the restarted server by itself.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> Api.put("resources/it-transfer/agent/a",
                "{\"after\":\"restore\"}").statusCode() / 100 == 2);
    }

    /**
     * A backup taken before the hash-tagged key layout (docs/migration.md), restored through the API: its old
     * keys are moved at once, as at a start, so the stores read them without a restart.
     */
    @Test
    void aRestoredBackupOfTheOldKeyLayoutIsReadableAtOnce() throws Exception {
        if (!TestServer.mode().equals("standalone")) {
            return; // the endpoints answer 409 there (above)
        }
        long taken = json(Api.adminPost("admin/snapshots", "")).getJsonNumber("generation").longValue();
        String conversation = "old-layout-" + java.util.UUID.randomUUID();
        byte[] oldBackup;
        try (PlainRedis plain = PlainRedis.start(Optional.of(Files.write(dir.resolve("live.rdb"), download(taken).body())))) {
            // As the version before hash tags kept a conversation, and with no mark that the layout was moved.
            plain.call("RPUSH", "memory:" + conversation, "{\"role\":\"user\",\"content\":\"from the backup\"}");
            plain.call("HSET", "memory:" + conversation + ":metadata", "message_count", "1", "token_count", "3");
            plain.call("DEL", "__compozy_internal__:key_layout");
            oldBackup = Files.readAllBytes(plain.save());
        }
        HttpResponse<String> uploaded = upload(oldBackup);
        assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(201);
        long generation = json(uploaded).getJsonNumber("generation").longValue();

        HttpResponse<String> restore = Api.adminPost("admin/snapshots/" + generation + "/restore", "");
        assertThat(restore.statusCode()).as(restore.body()).isEqualTo(200);
        assertThat(json(restore).getJsonNumber("keysMovedToHashTags").longValue()).isGreaterThanOrEqualTo(2);
        // The stores' client was refused while the pass ran and reconnects on its own back-off (docs/migration.md).
        HttpResponse<String> messages = await().atMost(Duration.ofSeconds(30)).until(
                () -> Api.get("memory/" + conversation + "/messages"), response -> response.statusCode() != 503);
        assertThat(messages.statusCode()).as(messages.body()).isEqualTo(200);
        assertThat(messages.body()).contains("from the backup");
        assertThat(json(Api.get("memory/" + conversation + "/metadata")).getInt("token_count")).isEqualTo(3);
    }

    /**
     * The documented way to take a snapshot (docs/api.md, docs/security.md), sent as curl sends it: no
     * Content-Type and no body. It takes one, as a JSON POST does; only an explicit application/octet-stream
     * body is an RDB upload, and another media type is refused.
     */
    @Test
    void theDocumentedCurlTakesASnapshotAndOnlyAnOctetStreamBodyIsAnUpload() {
        CurlRequest.Answer curl = CurlRequest.asAdmin("POST", "admin/snapshots");
        if (!TestServer.mode().equals("standalone")) {
            assertThat(curl.status()).as(curl.body()).isEqualTo(409);
            assertThat(curl.headers().get("content-type")).isEqualTo("application/problem+json");
            return;
        }
        assertThat(curl.status()).as(curl.body()).isEqualTo(201);
        long taken = json(curl.body()).getJsonNumber("generation").longValue();
        assertThat(generations()).contains(taken);

        HttpResponse<String> withJson = Api.adminPost("admin/snapshots", "{}");
        assertThat(withJson.statusCode()).as(withJson.body()).isEqualTo(201);
        assertThat(json(withJson).getJsonNumber("generation").longValue()).isGreaterThan(taken);

        HttpResponse<String> emptyUpload = upload(new byte[0]);
        assertThat(emptyUpload.statusCode()).as(emptyUpload.body()).isEqualTo(400);
        assertThat(json(emptyUpload).getString("type")).isEqualTo("urn:compozy:cache:problem:invalid-rdb");

        HttpResponse<String> text = Api.send(admin("admin/snapshots").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("a snapshot, please")));
        assertThat(text.statusCode()).as(text.body()).isEqualTo(415);
        assertThat(text.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(text).getString("detail")).contains("application/octet-stream");
    }

    @Test
    void anUnknownGenerationIsA404AndAnonymousCallersAreRefused() {
        if (!TestServer.mode().equals("standalone")) {
            return;
        }
        HttpResponse<String> unknown = Api.send(admin("admin/snapshots/987654321/rdb").GET());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(Api.send(Api.request("admin/snapshots/1/rdb").GET()).statusCode()).isEqualTo(401);
        assertThat(Api.send(Api.request("admin/snapshots").header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {1}))).statusCode()).isEqualTo(401);
    }

    private static HttpRequest.Builder admin(final String path) {
        return Api.transfer(path);
    }

    private static HttpResponse<String> upload(final byte[] rdb) {
        return Api.uploadRdb(rdb);
    }

    private static HttpResponse<byte[]> download(final long generation) {
        return Api.downloadRdb(generation);
    }

    private static List<Long> generations() {
        return json(Api.adminGet("admin/snapshots")).getJsonArray("generations").stream()
                .map(g -> g.asJsonObject().getJsonNumber("generation").longValue()).toList();
    }

    private static String sha256(final byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
