package io.compozy.cache.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.config.Secret;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.client.protocol.RedisCommands;

/**
 * The snapshot control connection: it leaves no thread behind, keeps the password out of its failures, and
 * fails at once when the server dies.
 */
class ControlConnectionTest {

    @TempDir
    Path root;

    @Test
    void closingStopsItsThreadsEveryTime() throws Exception {
        try (EmbeddedRedisServer server = EmbeddedRedisServer.start(Standalone.settings(root), Standalone.PUMP)) {
            for (int i = 0; i < 3; i++) {
                try (ControlConnection redis = Standalone.connect(server)) {
                    assertThat(redis.sync(RedisCommands.INFO_PERSISTENCE)).containsKey("rdb_bgsave_in_progress");
                    assertThat(threads()).isNotEmpty();
                }
                assertNoThreadLeft();
            }
        }
    }

    @Test
    void aWrongPasswordFailsInRedissWordsWithoutThePassword() throws Exception {
        String wrong = "not-the-password-" + System.nanoTime();
        try (EmbeddedRedisServer server = EmbeddedRedisServer.start(Standalone.settings(root), Standalone.PUMP)) {
            assertThatThrownBy(() -> ControlConnection.open(server.host(), server.port(), Secret.of(wrong)))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("WRONGPASS")
                    .satisfies(e -> assertThat(e.toString() + e.getCause()).doesNotContain(wrong));
            assertNoThreadLeft();
        }
    }

    @Test
    void aDeadServerFailsTheNextCommandAtOnceNotAfterTheTimeout() throws Exception {
        EmbeddedRedisServer server = EmbeddedRedisServer.start(Standalone.settings(root), Standalone.PUMP);
        try (server; ControlConnection redis = Standalone.connect(server)) {
            ProcessHandle.of(server.pid()).orElseThrow().destroyForcibly();
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.isAlive());
            long start = System.nanoTime();
            assertThatThrownBy(() -> redis.sync(RedisCommands.INFO_PERSISTENCE)).isInstanceOf(IOException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
        assertNoThreadLeft();
    }

    /** close() has waited for both to terminate; a thread may take a moment more to exit after that. */
    @Test
    void anInterruptedWaitIsAnInterruptedIoExceptionNeverANullReply() throws Exception {
        try (EmbeddedRedisServer server = EmbeddedRedisServer.start(Standalone.settings(root), Standalone.PUMP);
             ControlConnection redis = Standalone.connect(server)) {
            for (int i = 0; i < 200; i++) {
                Thread.currentThread().interrupt();
                try {
                    Object reply = redis.sync(RedisCommands.INFO_PERSISTENCE);
                    assertThat(reply).as("a reply read while interrupted").isNotNull();
                } catch (InterruptedIOException expected) {
                    assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept").isTrue();
                } finally {
                    Thread.interrupted();
                }
            }
        }
    }

    /** The race of the flaky snapshot test, made to happen every time: the reply lands as the interrupt does. */
    @Test
    void aReplyThatCompletesAsTheInterruptLandsIsStillAnInterrupt() {
        CompletableFuture<String> replyDuringInterrupt = new CompletableFuture<>() {
            @Override
            public String get(final long timeout, final TimeUnit unit) throws InterruptedException {
                complete(null); // Redis's reply arrives...
                throw new InterruptedException(); // ...while the waiting thread is interrupted
            }
        };
        try {
            assertThatThrownBy(() -> ControlConnection.awaitReply(replyDuringInterrupt, 1_000))
                    .isInstanceOf(InterruptedIOException.class);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    private static void assertNoThreadLeft() {
        await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(threads()).isEmpty());
    }

    private static List<String> threads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> name.equals(ControlConnection.IO_THREAD) || name.equals(ControlConnection.TIMER_THREAD))
                .toList();
    }
}
