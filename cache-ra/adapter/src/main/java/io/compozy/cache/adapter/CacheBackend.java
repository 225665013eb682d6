package io.compozy.cache.adapter;

import io.compozy.cache.api.BackendInfo;
import io.compozy.cache.api.TopologyInfo;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.Mode;
import io.compozy.cache.config.RedisAddress;
import io.compozy.cache.config.Secret;
import io.compozy.cache.config.TopologySettings;
import io.compozy.cache.config.TlsSettings;
import io.compozy.cache.embedded.EmbeddedRedisServer;
import io.compozy.cache.migration.DataImport;
import io.compozy.cache.migration.ImportFailure;
import io.compozy.cache.persistence.EmbeddedServerOwner;
import io.compozy.cache.persistence.PersistenceException;
import io.compozy.cache.persistence.SnapshotManager;
import io.compozy.cache.persistence.StartSources;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;

/**
 * The one RedissonClient of a started adapter, and in standalone mode the redis-server behind it.
 * Built once in {@link CacheResourceAdapter#start}; closed once in {@link CacheResourceAdapter#stop}.
 *
 * <p>In standalone mode a redis-server that dies (killed, crashed) is started again on the same port
 * with the same password, from its append-only file or else the newest snapshot when persistence is on:
 * the one client reconnects by itself and resubscribes its channels, so applications keep the references
 * they hold ({@link EmbeddedServerOwner}). Without an AOF, writes since that snapshot are lost
 * (docs/reliability.md).
 */
public final class CacheBackend implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(CacheBackend.class.getName());
    private static final long PING_TIMEOUT_MS = 2_000;

    private final RedissonClient client;
    private final RedissonClient sharedClient;
    private final Optional<SnapshotManager> persistence;
    private final TopologySettings topology;
    private final TopologyWatch topologyWatch;
    /** Only in standalone mode: the embedded server's one owner (the snapshot manager's, when persistence is on). */
    private final Optional<EmbeddedServerOwner> embedded;
    private final BackendInfo startInfo;
    /** The clients of the connection factories that are not the administrator's; closed before this client. */
    private final FactoryClients factories;

    private CacheBackend(final RedissonClient client, final BackendInfo info,
                         final Optional<EmbeddedServerOwner> embedded, final Optional<SnapshotManager> persistence,
                         final TopologySettings topology) {
        this.client = client;
        this.topology = topology;
        this.topologyWatch = new TopologyWatch(client, topology);
        this.sharedClient = SharedClientGuard.guard(client);
        this.startInfo = info;
        this.embedded = embedded;
        this.persistence = persistence;
        this.factories = new FactoryClients(client, embedded);
        embedded.ifPresent(EmbeddedServerOwner::supervise);
    }

    /**
     * Starts the backend the settings ask for and returns once its client answers PING.
     *
     * @throws BackendStartException with a message that names the address, never a secret
     */
    public static CacheBackend start(final CacheSettings settings, final Executor pump) {
        return start(settings, ImportSettings.none(), pump);
    }

    /**
     * Starts the backend as {@link #start(CacheSettings, Executor)} does, first importing what {@code imports}
     * names (docs/migration.md): no connection is handed out before the import has finished.
     */
    public static CacheBackend start(final CacheSettings settings, final ImportSettings imports, final Executor pump) {
        return settings.mode() == Mode.STANDALONE ? startEmbedded(settings, imports, pump)
                : connectExternal(settings, imports, pump);
    }

    /**
     * With persistence on, the store is opened and the newest valid snapshot loaded before the client
     * exists: no connection is handed out on a server that has not been restored.
     */
    private static CacheBackend startEmbedded(final CacheSettings settings, final ImportSettings imports,
                                              final Executor pump) {
        return startEmbedded(settings, imports, pump,
                (uri, username, password, database) -> createClient(uri, password, settings.connectionPoolSize()));
    }

    /** How the client is built; tests pass one that fails the way a broken class path does. */
    @FunctionalInterface
    interface ClientFactory {
        RedissonClient create(String uri, Optional<String> username, Optional<Secret> password, int database);
    }

    static CacheBackend startEmbedded(final CacheSettings settings, final ImportSettings imports, final Executor pump,
                                      final ClientFactory clients) {
        Optional<SnapshotManager> persistence = Optional.empty();
        EmbeddedServerOwner owner = null;
        RedissonClient client = null;
        boolean started = false;
        try {
            if (settings.standalone().persistence().enabled()) {
                persistence = Optional.of(SnapshotManager.open(settings.standalone().persistence()));
                persistence.get().startServer(settings.standalone(), pump, importSource(imports, settings.tls(), clients));
                owner = persistence.get().owner();
            } else {
                owner = EmbeddedServerOwner.startEmpty(settings.standalone(), pump);
            }
            EmbeddedRedisServer server = owner.current();
            String uri = "redis://" + server.host() + ":" + server.port();
            String version;
            TopologySettings single = new TopologySettings.Single(RedisAddress.parse(CacheSettings.ADDR, uri));
            try {
                client = clients.create(uri, Optional.empty(), Optional.of(server.password()), 0);
                version = pingAndVersion(client, single, uri);
                RedissonClient infoClient = client;
                persistence.ifPresent(p -> p.readInfoWith(
                        () -> infoClient.getRedisNodes(RedisNodes.SINGLE).getInstance().info(RedisNode.InfoSection.PERSISTENCE)));
            } catch (RuntimeException e) {
                throw new BackendStartException("Standalone mode: the embedded redis-server at " + uri
                        + " started but the client could not use it: " + e.getMessage(), e);
            }
            CacheBackend backend = new CacheBackend(client, new BackendInfo(Mode.STANDALONE.value(), "embedded",
                    server.host(), server.port(), 0, false, version, server.pid(), 0, server.binaryDescription()), Optional.of(owner),
                    persistence, single);
            started = true;
            return backend;
        } catch (IOException | PersistenceException e) {
            throw new BackendStartException("Standalone mode: " + e.getMessage(), e);
        } catch (ImportFailure e) {
            // The import ran with the AOF off and no snapshot was taken of it: the next start imports again.
            throw new BackendStartException("Standalone mode: " + e.getMessage(), e);
        } catch (BackendStartException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new BackendStartException("Standalone mode: the embedded cache could not start: " + e, e);
        } finally {
            if (!started) {
                // Whatever was thrown: an open store keeps its JE lock, and the next start would wait for it.
                if (client != null) {
                    client.shutdown();
                }
                if (persistence.isPresent()) {
                    persistence.get().close(); // stops its owner's server too
                } else if (owner != null) {
                    owner.close();
                }
            }
        }
    }

    /**
     * {@code redis.standalone.import.from} as a start source: copied through a client of its own into the new
     * server, which the start path runs with the AOF off until the first snapshot holds the copy.
     */
    private static Optional<StartSources.ImportSource> importSource(final ImportSettings imports, final TlsSettings tls,
                                                                    final ClientFactory clients) {
        if (imports.fromRedis().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new StartSources.ImportSource() {
            @Override
            public void copyInto(final EmbeddedRedisServer server) {
                RedissonClient importing = clients.create("redis://" + server.host() + ":" + server.port(),
                        Optional.empty(), Optional.of(server.password()), 0);
                try {
                    DataImport.intoEmbedded(imports, tls, importing);
                } finally {
                    importing.shutdown();
                }
            }

            @Override
            public String describe() {
                return imports.fromRedis().get() + " (" + ImportSettings.STANDALONE_FROM + ")";
            }
        });
    }

    private static CacheBackend connectExternal(final CacheSettings settings, final ImportSettings imports,
                                                final Executor pump) {
        TopologySettings topology = settings.topology();
        Where where = Where.of(settings);
        checkTlsHandshake(settings, null);
        RedissonClient client;
        try {
            client = Redisson.create(RedissonConfigs.distributed(settings));
        } catch (RuntimeException e) {
            checkTlsHandshake(settings, e); // again: on a loaded machine the first check may have seen no alert in time
            throw new BackendStartException("Distributed mode: cannot connect to Redis at " + where.nodes
                    + " (" + where.key + "): " + rootMessage(e)
                    + ". Check that Redis runs there and that " + CacheSettings.PASSWORD + " is right.", e);
        }
        try {
            String version = pingAndVersion(client, topology, where.nodes);
            DataImport.intoEmptyExternal(imports, client, where.nodes, version);
            // host and port: the one node, else the first seed or sentinel (status lists every node).
            return new CacheBackend(client, new BackendInfo(Mode.DISTRIBUTED.value(), "redis", where.first.host(),
                    where.first.port(), where.database, topology.tls(), version, -1, 0, ""), Optional.empty(),
                    Optional.empty(), topology);
        } catch (ImportFailure e) {
            client.shutdown();
            throw new BackendStartException("Distributed mode: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            client.shutdown();
            throw new BackendStartException("Distributed mode: Redis at " + where.nodes + " (" + where.key
                    + ") did not answer: " + rootMessage(e), e);
        }
    }

    /** The configured addresses and the key that set them, for messages (no credentials). */
    private record Where(String key, String nodes, RedisAddress first, int database) {
        static Where of(final CacheSettings settings) {
            TopologySettings topology = settings.topology();
            if (topology instanceof TopologySettings.Cluster cluster) {
                return new Where(TopologySettings.CLUSTER_NODES, cluster.seeds().toString(), cluster.seeds().get(0), 0);
            }
            if (topology instanceof TopologySettings.Sentinel sentinel) {
                return new Where(TopologySettings.SENTINEL_NODES, sentinel.sentinels() + " master '"
                        + sentinel.master() + "'", sentinel.sentinels().get(0), sentinel.database());
            }
            return new Where(CacheSettings.ADDR, settings.address().toString(), settings.address(),
                    settings.address().database());
        }
    }

    /**
     * On a rediss:// address (the one node, else the first Cluster seed or sentinel), one handshake of our
     * own: Redisson reports a refused handshake as a generic connect error or, when the server wants a client
     * certificate, as AUTH timeouts after seconds. Made before the client exists (to fail at once) and after
     * it failed to connect (to say why).
     */
    private static void checkTlsHandshake(final CacheSettings settings, final RuntimeException cause) {
        Where where = Where.of(settings);
        RedisAddress address = where.first;
        if (address.tls()) {
            settings.tls().handshakeProblem(address.host(), address.port()).ifPresent(problem -> {
                throw new BackendStartException("Distributed mode: TLS handshake with Redis at " + address + " ("
                        + where.key + ") failed: " + problem, cause);
            });
        }
    }

    /** The view applications may keep: the same client, shutdown refused. */
    public RedissonClient sharedClient() {
        return sharedClient;
    }

    public RedissonClient client() {
        return client;
    }

    /** The client of a connection factory with this access, built on its first use (docs/security.md). */
    FactoryClient clientFor(final FactoryAccess access) {
        return factories.clientFor(access);
    }

    /** What a connection factory with this access hands applications (shutdown refused); for the benchmarks. */
    public RedissonClient factoryClient(final FactoryAccess access) {
        return clientFor(access).guarded();
    }

    /** What runs: in standalone mode with the current redis-server's pid and the restarts so far. */
    public BackendInfo info() {
        if (embedded.isEmpty()) {
            return startInfo;
        }
        EmbeddedServerOwner owner = embedded.get();
        return new BackendInfo(startInfo.mode(), startInfo.kind(), startInfo.host(), startInfo.port(),
                startInfo.database(), startInfo.tls(), startInfo.redisVersion(), owner.current().pid(),
                owner.restarts(), owner.current().binaryDescription());
    }

    public Optional<EmbeddedRedisServer> embeddedServer() {
        return embedded.map(EmbeddedServerOwner::current);
    }

    /** Snapshot control: present in standalone mode with persistence enabled. */
    public Optional<SnapshotManager> persistence() {
        return persistence;
    }

    /** Whether the server (every master of a Cluster) answers PING within two seconds. */
    public boolean ping() {
        try {
            return TopologyNodes.mastersAnswer(client, topology, PING_TIMEOUT_MS);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Takes the final snapshot (when persistence asks for one), then shuts the client down, then the
     * embedded server, then the snapshot store: in that order, so the snapshot sees every write, no
     * command hits a dead server and the store outlives the last snapshot.
     */
    @Override
    public void close() {
        embedded.ifPresent(EmbeddedServerOwner::stopSupervising);
        topologyWatch.close();
        try {
            persistence.ifPresent(SnapshotManager::snapshotOnShutdown); // after any restart in progress
        } finally {
            try {
                factories.close(); // they run on this client's event loops
                client.shutdown(0, 2, TimeUnit.SECONDS);
            } finally {
                if (persistence.isPresent()) {
                    persistence.get().close(); // its owner's server, then the store
                } else {
                    embedded.ifPresent(EmbeddedServerOwner::close);
                }
            }
        }
    }

    /** The embedded server's client (standalone mode); one node, database 0. */
    private static RedissonClient createClient(final String uri, final Optional<Secret> password, final int poolSize) {
        return Redisson.create(RedissonConfigs.embedded(uri, password.orElseThrow(), poolSize));
    }

    private static String pingAndVersion(final RedissonClient client, final TopologySettings topology,
                                         final String where) {
        if (!TopologyNodes.mastersAnswer(client, topology, PING_TIMEOUT_MS)) {
            throw new IllegalStateException("no PING reply from " + where);
        }
        String version = TopologyNodes.version(client, topology);
        LOG.fine(() -> "PING answered by Redis " + version + " at " + where);
        return version;
    }

    /** The topology's nodes, their roles and reachability, and the failovers seen since start. */
    public TopologyInfo topologyInfo() {
        return topologyWatch.info();
    }

    /** The topology the client talks to (a single node in standalone mode). */
    public TopologySettings topology() {
        return topology;
    }

    /** The most telling message: Redisson's innermost (it names the address), else the root cause's. */
    private static String rootMessage(final Throwable e) {
        Throwable root = e;
        String redisson = null;
        for (Throwable cause = e; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof org.redisson.client.RedisException && cause.getMessage() != null) {
                redisson = cause.getMessage();
            }
            root = cause;
        }
        if (redisson != null) {
            return redisson;
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /** The backend could not be started; the message is safe to log and show. */
    public static final class BackendStartException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BackendStartException(final String message, final Throwable cause) {
            super(message, cause);
        }
    }
}
