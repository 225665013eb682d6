package io.compozy.cache.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.moilioncircle.redis.replicator.util.CRC64;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis's own regression tests for fixes the bundled binary must carry, and the deep payload check the adapter
 * turns on, sent to the server standalone mode runs. The first two kill embedded-redis's upstream 7.0.15 (a
 * segmentation fault, an abort); the third, without the deep check, kills the patched binary too.
 */
class BundledRedisSecurityFixesTest {

    @TempDir
    Path workDir;

    private EmbeddedRedisServer server;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(RedisBinary.platform().equals("linux-amd64"), "the patched build ships for linux-amd64 only");
        server = EmbeddedRedisServer.start(CacheSettings.load(ConfigLookup.of(
                Map.of(CacheSettings.WORK_DIR, workDir.toString()))).standalone(), task -> new Thread(task).start());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** CVE-2025-32023: tests/unit/hyperloglog.tcl of Debian's 0006-CVE-2025-32023.patch, byte for byte. */
    @Test
    void aCorruptSparseHyperLogLogIsRefusedAndTheServerKeepsServing() throws Exception {
        ByteArrayOutputStream hll = new ByteArrayOutputStream();
        hll.writeBytes(new byte[] {'H', 'Y', 'L', 'L', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        int run = 16384 - 1; // an XZERO opcode of the longest run; more than 2^17 of them overflow 32 bits
        for (int i = 0; i < 131072 + 1000; i++) {
            hll.write(0b01000000 | (run >> 8));
            hll.write(run & 0xff);
        }
        hll.write(0b11111111); // a VAL opcode past the registers' end
        try (RawRedis redis = new RawRedis(server.port(), server.password().reveal())) {
            assertThat(redis.call("SET", "hll", hll.toByteArray())).isEqualTo("OK");

            assertThat(redis.text("PFCOUNT", "hll", "hll")).startsWith("-INVALIDOBJ Corrupted HLL object detected");
            assertThat(redis.text("PFDEBUG", "GETREG", "hll")).startsWith("-INVALIDOBJ");
            assertThat(redis.call("PING")).isEqualTo("PONG");
        }
        assertThat(server.isAlive()).isTrue();
    }

    /**
     * CVE-2026-25243 (Debian's patch, its dump.tcl test rewritten for 7.0's RDB version 10 and a real checksum):
     * a string claiming 2^64 - 9 bytes.
     */
    @Test
    void aRestoreClaimingAnImpossibleLengthIsRefusedAsBadData() throws Exception {
        byte[] string = {0x00, (byte) 0x81, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0xff, (byte) 0xff, (byte) 0xf7};
        try (RawRedis redis = new RawRedis(server.port(), server.password().reveal())) {
            assertThat(redis.text("RESTORE", "huge", 0, payload(string))).isEqualTo("-ERR Bad data format");
            assertThat(redis.call("EXISTS", "huge")).isEqualTo(0L);
            assertThat(redis.call("PING")).isEqualTo("PONG");
        }
        assertThat(server.isAlive()).isTrue();
    }

    /**
     * {@code sanitize-dump-payload yes}: a small hash whose listpack header claims 6 entries instead of 4. Only the
     * deep check sees it; without it RESTORE answers OK and the next HGETALL crashes the patched binary too.
     */
    @Test
    void aRestoreOfACorruptListpackIsRefusedAndNothingOfItIsServed() throws Exception {
        try (RawRedis redis = new RawRedis(server.port(), server.password().reveal())) {
            assertThat(redis.texts("CONFIG", "GET", "sanitize-dump-payload"))
                    .containsExactly("sanitize-dump-payload", "yes");
            redis.call("HSET", "h", "a", "1", "b", "2");
            byte[] dump = (byte[]) redis.call("DUMP", "h");
            byte[] corrupt = Arrays.copyOf(dump, dump.length - 10); // type, value; without version and checksum
            assertThat(corrupt[0]).as("RDB_TYPE_HASH_LISTPACK").isEqualTo((byte) 16);
            corrupt[6] = 6; // the listpack header's element count, 4 (a, 1, b, 2), after the type, length and size

            assertThat(redis.text("RESTORE", "h2", 0, payload(corrupt))).isEqualTo("-ERR Bad data format");
            assertThat(redis.call("HGETALL", "h2")).isEqualTo(List.of());
            assertThat(redis.call("PING")).isEqualTo("PONG");
        }
        assertThat(server.isAlive()).isTrue();
    }

    /** A DUMP payload of {@code value} (type byte and serialized value) for Redis 7.0: RDB version 10, CRC64. */
    private static byte[] payload(final byte[] value) {
        ByteBuffer payload = ByteBuffer.allocate(value.length + 10).order(ByteOrder.LITTLE_ENDIAN);
        payload.put(value).putShort((short) 10);
        payload.putLong(CRC64.crc64(Arrays.copyOf(payload.array(), value.length + 2)));
        return payload.array();
    }
}
