package io.compozy.cache.persistence;

import io.compozy.cache.config.Secret;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.redisson.client.RedisClient;
import org.redisson.client.RedisClientConfig;
import org.redisson.client.RedisConnection;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.CommandData;
import org.redisson.client.protocol.CommandsData;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;

/**
 * Redisson's low-level client on a connection of its own to the embedded redis-server, for the few server
 * commands snapshots need (BGSAVE, INFO). Its own connection keeps snapshot control apart from the
 * applications' client, which the adapter shuts down before the final snapshot's server does.
 *
 * <p>One per snapshot (or restore), closed with it: it brings its own I/O thread and timer, and
 * {@link #close()} waits until both have stopped, so nothing outlives it and restarting the adapter leaves
 * no thread behind. Not thread-safe.
 */
final class ControlConnection implements AutoCloseable {

    static final String IO_THREAD = "compozy-cache-snapshot-io";
    static final String TIMER_THREAD = "compozy-cache-snapshot-timer";
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int COMMAND_TIMEOUT_MS = 60_000;
    private static final int STOP_WAIT_SECONDS = 10;

    private final EventLoopGroup group = new NioEventLoopGroup(1, daemon(IO_THREAD));
    private final HashedWheelTimer timer = new HashedWheelTimer(daemon(TIMER_THREAD));
    private final RedisClient client;
    private RedisConnection connection;

    private ControlConnection(final String host, final int port) {
        // Given everything it would otherwise create (an event loop per core, a thread pool, a timer, a DNS
        // resolver), the client owns no thread: ours are the only ones, and close() waits for them.
        client = RedisClient.create(new RedisClientConfig()
                .setAddress(host, port)
                .setGroup(group)
                .setExecutor(group)
                .setTimer(timer)
                .setResolverGroup(DefaultAddressResolverGroup.INSTANCE)
                .setTcpNoDelay(true) // as Redisson's own Config has it: a command goes out as soon as written
                .setConnectTimeout(CONNECT_TIMEOUT_MS)
                .setCommandTimeout(COMMAND_TIMEOUT_MS));
    }

    /**
     * Connects and authenticates.
     *
     * @throws IOException when redis-server cannot be reached or refuses the password (which no message holds)
     */
    static ControlConnection open(final String host, final int port, final Secret password) throws IOException {
        ControlConnection control = new ControlConnection(host, port);
        try {
            control.connection = control.client.connect();
            control.sync(RedisCommands.AUTH, password.reveal());
            return control;
        } catch (RedisException e) {
            control.close();
            throw failure(e);
        } catch (IOException | RuntimeException e) {
            control.close();
            throw e;
        }
    }

    /** Runs one command and returns its reply, decoded as the command says (strings as UTF-8). */
    <T> T sync(final RedisCommand<T> command, final Object... params) throws IOException {
        CommandData<T, T> data = command(command, params);
        connection.send(data);
        return await(data.getPromise());
    }

    /** A command for {@link #pipeline}; its reply is in its promise once the pipeline returns. */
    <T> CommandData<T, T> command(final RedisCommand<T> command, final Object... params) {
        return connection.create(StringCodec.INSTANCE, command, params);
    }

    /**
     * Sends the commands in one write and waits for all their replies: Redis runs commands that arrive
     * together one after the other in the same event-loop turn, with nothing of its own (such as reaping a
     * finished BGSAVE child) in between.
     *
     * @throws IOException with the first error reply, once every reply has arrived
     */
    void pipeline(final CommandData<?, ?>... commands) throws IOException {
        CompletableFuture<Void> all = new CompletableFuture<>();
        connection.send(new CommandsData(all, List.of(commands), false, false));
        await(all);
    }

    /** Closes the connection, then stops the I/O thread and the timer and waits until both have ended. */
    @Override
    public void close() {
        try {
            client.shutdown(); // closes the connection; the client owns nothing else
        } finally {
            timer.stop();
            group.shutdownGracefully(0, STOP_WAIT_SECONDS, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    /**
     * Waits for a reply, at most the command timeout. When the connection drops, Redisson would leave the
     * reply pending until then; it fails at once instead, so a dead server does not hold the snapshot thread
     * (the server's restart runs on it).
     */
    private <R> R await(final CompletableFuture<R> reply) throws IOException {
        ChannelFuture closed = connection.getChannel().closeFuture();
        ChannelFutureListener failReply = future ->
                reply.completeExceptionally(new EOFException("redis-server closed the connection"));
        closed.addListener(failReply);
        try {
            return awaitReply(reply, COMMAND_TIMEOUT_MS);
        } finally {
            closed.removeListener(failReply);
        }
    }

    /**
     * Waits for {@code reply} ourselves rather than through Redisson's {@code RedisConnection.await}, which
     * answers null on an interrupt: a reply that completed in the meantime then looked like Redis's own null.
     * Here an interrupt is always an InterruptedIOException (the flag set again), never a reply.
     */
    static <R> R awaitReply(final CompletableFuture<R> reply, final long timeoutMillis) throws IOException {
        try {
            return reply.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for redis-server's reply");
        } catch (TimeoutException e) {
            reply.cancel(false);
            throw new IOException("redis-server did not reply within " + timeoutMillis + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RedisException redis) {
                throw failure(redis);
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(String.valueOf(cause), cause);
        }
    }

    /**
     * The failure as an IOException: an I/O failure underneath (refused, closed) as it is, and an error
     * reply in Redis's own words, without the channel and command Redisson adds after them (AUTH's password
     * is masked there anyway).
     */
    private static IOException failure(final RedisException e) {
        if (e.getCause() instanceof IOException io) {
            return io;
        }
        String message = String.valueOf(e.getMessage());
        int context = message.indexOf(". channel: ");
        return new IOException(context < 0 ? message : message.substring(0, context), e);
    }

    private static ThreadFactory daemon(final String name) {
        return task -> {
            Thread thread = new FastThreadLocalThread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
