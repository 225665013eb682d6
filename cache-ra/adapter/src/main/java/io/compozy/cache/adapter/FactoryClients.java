package io.compozy.cache.adapter;

import io.compozy.cache.config.Secret;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.persistence.EmbeddedServerOwner;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.command.CommandAsyncExecutor;
import org.redisson.config.BaseConfig;
import org.redisson.config.Config;

/**
 * The clients of the server's connection factories, one per distinct access, built when a factory is first
 * used and closed before the adapter's client. Each is a Redisson client of its own (its own login and name
 * mapper) on the adapter's event loops and thread pool: a factory adds sockets, not threads.
 *
 * <p>Standalone mode creates each ordinary factory's ACL user on the embedded server; distributed mode logs in
 * as the user the factory names. Either way the new client is asked to run {@code CONFIG GET} and to read a
 * key outside its prefix, and a warning says when Redis let it (docs/security.md).
 */
final class FactoryClients implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(CacheBackend.class.getName());
    /** A key no prefix covers: reading whether it exists is harmless, and tells whether the walls hold. */
    private static final String OUTSIDE_PROBE = "compozy-acl-probe:outside-every-prefix";

    private final Redisson adapterClient;
    private final Optional<EmbeddedServerOwner> embedded;
    /** Keyed without the password: one client per prefix, user and role. */
    private final Map<String, FactoryClient> clients = new HashMap<>();
    private boolean closed;

    FactoryClients(final RedissonClient adapterClient, final Optional<EmbeddedServerOwner> embedded) {
        this.adapterClient = (Redisson) adapterClient;
        this.embedded = embedded;
    }

    synchronized FactoryClient clientFor(final FactoryAccess access) {
        if (closed) {
            throw new IllegalStateException("The Compozy cache has stopped");
        }
        String key = access.administrator() + "|" + access.keyPrefix().orElse("") + "|" + access.redisUser().orElse("");
        FactoryClient existing = clients.get(key);
        if (existing != null) {
            return existing;
        }
        FactoryClient created = create(access);
        clients.put(key, created);
        return created;
    }

    private FactoryClient create(final FactoryAccess access) {
        if (access.administrator()) {
            if (access.applications().isEmpty()) {
                LOG.warning("Compozy cache: an administrator connection factory serves every application on the server"
                        + " (snapshots and restores included); name the ones it is for in its property "
                        + FactoryAccess.APPLICATIONS);
            }
            return FactoryClient.adapters(adapterClient, access);
        }
        Optional<String> username;
        Optional<Secret> password;
        if (embedded.isPresent()) {
            ApplicationUser user = ApplicationUser.forFactory(access, EmbeddedRedisServer.newPassword());
            try {
                embedded.get().grant(user.name(), user.rules(access));
            } catch (IOException e) {
                throw new IllegalStateException("The " + access.describe() + " could not get its Redis user on the"
                        + " embedded server: " + e.getMessage(), e);
            }
            username = Optional.of(user.name());
            password = Optional.of(user.password());
        } else if (access.redisUser().isPresent() || access.keyPrefix().isPresent()) {
            username = access.redisUser();
            password = access.redisPassword();
        } else {
            // Distributed, no user and no prefix: the adapter's login, so the adapter's client (as before factories).
            FactoryClient shared = FactoryClient.adapters(adapterClient, access);
            warnWhereWallsAreMissing(shared);
            return shared;
        }
        RedissonClient client;
        try {
            client = Redisson.create(configFor(access, username, password));
        } catch (RuntimeException e) {
            throw new IllegalStateException("The " + access.describe() + " could not connect to Redis"
                    + username.map(u -> " as user '" + u + "'").orElse("") + ": " + rootMessage(e), e);
        }
        FactoryClient own = FactoryClient.own(client, access);
        warnWhereWallsAreMissing(own);
        LOG.info(() -> "Compozy cache: a client for the " + access.describe()
                + username.map(u -> ", logged in as Redis user '" + u + "'").orElse(""));
        return own;
    }

    /** The adapter's settings (addresses, TLS, timeouts), with the factory's login and prefix. */
    private Config configFor(final FactoryAccess access, final Optional<String> username,
                             final Optional<Secret> password) {
        Config config = new Config(adapterClient.getConfig());
        config.setEventLoopGroup(adapterClient.getServiceManager().getGroup());
        config.setExecutor(adapterClient.getServiceManager().getExecutor());
        BaseConfig<?> servers = config.isClusterConfig() ? config.useClusterServers()
                : config.isSentinelConfig() ? config.useSentinelServers() : config.useSingleServer();
        servers.setClientName("compozy-cache-app");
        username.ifPresent(servers::setUsername);
        servers.setPassword(password.map(Secret::reveal).orElse(servers.getPassword()));
        access.keyPrefix().ifPresent(prefix -> servers.setNameMapper(new PrefixNameMapper(prefix)));
        return config;
    }

    private static void warnWhereWallsAreMissing(final FactoryClient factory) {
        CommandAsyncExecutor commands = ((Redisson) factory.client()).getCommandExecutor();
        List<String> missing = new ArrayList<>();
        if (allowed(() -> commands.get(commands.readAsync(OUTSIDE_PROBE, StringCodec.INSTANCE, RedisCommands.CONFIG_GET,
                "maxmemory")))) {
            missing.add("it can run administrative commands (CONFIG GET was allowed)");
        }
        if (factory.keyPrefix().isPresent() && allowed(() -> commands.get(commands.readAsync(OUTSIDE_PROBE,
                StringCodec.INSTANCE, RedisCommands.EXISTS_LONG, OUTSIDE_PROBE)))) {
            missing.add("it can reach keys outside its prefix");
        }
        if (!missing.isEmpty()) {
            LOG.warning("Compozy cache: the " + factory.access().describe() + " is not walled in: "
                    + String.join(" and ", missing) + ". Give it a Redis user limited to its prefix"
                    + " (docs/security.md, \"Applications on the same server\")");
        }
    }

    /** True when Redis ran the probe; NOPERM (or any refusal) is false. */
    private static boolean allowed(final Runnable probe) {
        try {
            probe.run();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String rootMessage(final Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return String.valueOf(root.getMessage());
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (FactoryClient client : clients.values()) {
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.warning("Closing a connection factory's client failed: " + e);
            }
        }
        clients.clear();
    }
}
