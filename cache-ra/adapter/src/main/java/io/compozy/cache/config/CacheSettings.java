package io.compozy.cache.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything the adapter needs, read and validated once when it starts. Each key's default sits next
 * to it; docs/configuration.md lists the same keys.
 */
public record CacheSettings(
        Mode mode,
        RedisAddress address,
        Optional<String> username,
        Optional<Secret> password,
        Standalone standalone,
        TlsSettings tls,
        TopologySettings topology,
        int connectionPoolSize) {

    public static final String ADDR = "redis.addr";
    public static final String USERNAME = "redis.username";
    public static final String PASSWORD = "redis.password";
    public static final String MAX_MEMORY = "redis.standalone.max_memory";
    public static final String MAX_MEMORY_POLICY = "redis.standalone.max_memory_policy";
    public static final String BINARY = "redis.standalone.binary";
    public static final String WORK_DIR = "redis.standalone.work_dir";
    public static final String START_TIMEOUT = "redis.standalone.start_timeout";
    /**
     * Connections of each client to each master (Redisson's connection pool). Redisson's default; bench/run row 1
     * measures other sizes (docs/performance.md): fewer multiplex more single calls per socket.
     */
    public static final String CONNECTION_POOL_SIZE = "redis.connection_pool_size";

    static final String DEFAULT_ADDR = "redis://localhost:6379/0";
    /** A quarter of the machine's (or the container's) memory: see {@link #autoMaxMemory}. */
    static final String DEFAULT_MAX_MEMORY = "auto";
    static final String DEFAULT_MAX_MEMORY_POLICY = "noeviction";
    static final String DEFAULT_START_TIMEOUT = "10s";
    static final String DEFAULT_CONNECTION_POOL_SIZE = "64";

    /** Redis's own eviction policies (redis.conf, "maxmemory-policy"). */
    public static final List<String> MAX_MEMORY_POLICIES = List.of("noeviction", "allkeys-lru", "allkeys-lfu",
            "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl");

    private static final Pattern MEMORY_SIZE = Pattern.compile("\\d+(b|k|kb|m|mb|g|gb)?");

    /** How the adapter runs its own redis-server in standalone mode. */
    public record Standalone(
            String maxMemory,
            String maxMemoryPolicy,
            Optional<Path> binary,
            Path workDir,
            Duration startTimeout,
            PersistenceSettings persistence) {
    }

    /** @throws InvalidConfigurationException for the first invalid key, naming it */
    public static CacheSettings load(final ConfigLookup config) {
        ModeResolver modes = new ModeResolver(config);
        Mode mode = modes.redisMode();
        // The other components' documented keys: a typo fails the start now, not on the day one is read.
        modes.temporalMode();
        modes.mcpProxyMode();
        RedisAddress address = RedisAddress.parse(ADDR, config.get(ADDR).orElse(DEFAULT_ADDR));
        TopologySettings topology = TopologySettings.load(config, address, config.get(ADDR).isPresent());
        // Credentials in a Cluster seed's URI count like those in redis.addr.
        RedisAddress credentials = topology instanceof TopologySettings.Cluster cluster ? cluster.seeds().stream()
                .filter(a -> a.password().isPresent()).findFirst().orElse(address) : address;
        Optional<String> username = config.get(USERNAME).or(credentials::username);
        // The password may be empty on purpose (no AUTH), so read it raw.
        Optional<Secret> password = config.raw(PASSWORD).filter(p -> !p.isEmpty()).map(Secret::of)
                .or(credentials::password);
        TlsSettings tls = TlsSettings.load(config);
        if (mode == Mode.DISTRIBUTED) {
            // TLS settings need rediss:// addresses, on every topology.
            String key = topology instanceof TopologySettings.Cluster ? TopologySettings.CLUSTER_NODES
                    : topology instanceof TopologySettings.Sentinel ? TopologySettings.SENTINEL_NODES : ADDR;
            String where = topology instanceof TopologySettings.Cluster cluster ? cluster.seeds().toString()
                    : topology instanceof TopologySettings.Sentinel sentinel ? sentinel.sentinels().toString()
                    : address.toString();
            tls.requireTlsAddress(key, where, topology.tls());
        }
        String pool = config.get(CONNECTION_POOL_SIZE).orElse(DEFAULT_CONNECTION_POOL_SIZE).trim();
        int connectionPoolSize;
        try {
            connectionPoolSize = Integer.parseInt(pool);
        } catch (NumberFormatException e) {
            connectionPoolSize = 0;
        }
        if (connectionPoolSize < 1 || connectionPoolSize > 1024) {
            throw new InvalidConfigurationException(CONNECTION_POOL_SIZE, "'" + pool + "' is not a pool size: a whole"
                    + " number from 1 to 1024");
        }
        return new CacheSettings(mode, address, username, password, standalone(config, mode == Mode.STANDALONE), tls,
                topology, connectionPoolSize);
    }

    /**
     * A quarter of the memory the JVM sees (a container's limit inside one), in MB: the embedded server
     * shares the machine with Liberty's heap, so without a limit one runaway writer could take it all; at
     * the limit Redis refuses writes (noeviction) and the API answers 507, never losing what it acknowledged.
     */
    static String autoMaxMemory() {
        long total = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
        return Math.max(64, total / 4 / (1024 * 1024)) + "mb";
    }

    private static Standalone standalone(final ConfigLookup config, final boolean active) {
        String maxMemory = config.get(MAX_MEMORY).orElse(DEFAULT_MAX_MEMORY).toLowerCase(Locale.ROOT).trim();
        if (maxMemory.equals("auto")) {
            maxMemory = autoMaxMemory();
        }
        if (!MEMORY_SIZE.matcher(maxMemory).matches()) {
            throw new InvalidConfigurationException(MAX_MEMORY, "'" + maxMemory
                    + "' is not a memory size; write bytes or a size such as 256mb or 2gb (auto: a quarter of the"
                    + " machine's memory; 0 means no limit)");
        }
        String policy = config.get(MAX_MEMORY_POLICY).orElse(DEFAULT_MAX_MEMORY_POLICY);
        if (!MAX_MEMORY_POLICIES.contains(policy)) {
            throw new InvalidConfigurationException(MAX_MEMORY_POLICY, "'" + policy
                    + "' is not an eviction policy; allowed values: " + String.join(" | ", MAX_MEMORY_POLICIES));
        }
        Optional<Path> binary = config.get(BINARY).map(Path::of);
        if (binary.isPresent() && !Files.isExecutable(binary.get())) {
            throw new InvalidConfigurationException(BINARY, "'" + binary.get()
                    + "' is not an executable file; point it at a redis-server 7.x binary or leave it unset"
                    + " to use the bundled one");
        }
        Path workDir = config.get(WORK_DIR).map(Path::of).orElseGet(CacheSettings::defaultWorkDir);
        Duration startTimeout = Durations.parsePositive(START_TIMEOUT,
                config.get(START_TIMEOUT).orElse(DEFAULT_START_TIMEOUT));
        return new Standalone(maxMemory, policy, binary, workDir, startTimeout,
                PersistenceSettings.load(config, active));
    }

    private static Path defaultWorkDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "compozy-cache-" + System.getProperty("user.name"));
    }
}
