package io.compozy.cache.config;

import java.util.Objects;
import java.util.Optional;

/**
 * The spec's mode resolver, in one place for every component: the component's own mode when set,
 * else the global {@value #GLOBAL_KEY}, else {@link Mode#DISTRIBUTED}.
 */
public final class ModeResolver {

    public static final String GLOBAL_KEY = "mode";
    public static final String REDIS_KEY = "redis.mode";
    public static final String TEMPORAL_KEY = "temporal.mode";
    public static final String MCP_PROXY_KEY = "mcp_proxy.mode";

    /** Temporal calls the external deployment "remote". */
    public static final String TEMPORAL_REMOTE = "remote";

    private final ConfigLookup config;

    public ModeResolver(final ConfigLookup config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * Resolves the mode of the component whose override lives at {@code componentKey}.
     *
     * @throws InvalidConfigurationException when the value that decides is not a mode (a wrong
     *     global value is reported even when a valid component value overrides it, so a typo
     *     never waits for the day the override is removed)
     */
    public Mode resolve(final String componentKey) {
        Optional<Mode> global = globalMode();
        Optional<Mode> component = config.get(componentKey).map(value -> Mode.parse(componentKey, value));
        return component.or(() -> global).orElse(Mode.DISTRIBUTED);
    }

    /** {@code redis.mode}, else {@code mode}, else distributed. */
    public Mode redisMode() {
        return resolve(REDIS_KEY);
    }

    /** {@code mcp_proxy.mode}, else {@code mode}, else distributed. */
    public Mode mcpProxyMode() {
        return resolve(MCP_PROXY_KEY);
    }

    /**
     * {@code temporal.mode}, else {@code mode}, else distributed, with distributed normalised to
     * {@value #TEMPORAL_REMOTE}. Returns {@code standalone} or {@code remote}; {@code remote} is also
     * accepted as a value of {@code temporal.mode} itself.
     */
    public String temporalMode() {
        Optional<Mode> global = globalMode();
        Optional<String> own = config.get(TEMPORAL_KEY);
        if (own.isPresent() && TEMPORAL_REMOTE.equals(own.get())) {
            return TEMPORAL_REMOTE;
        }
        Mode mode = own.map(value -> Mode.parse(TEMPORAL_KEY, value, "standalone | remote | distributed"))
                .or(() -> global)
                .orElse(Mode.DISTRIBUTED);
        return mode == Mode.DISTRIBUTED ? TEMPORAL_REMOTE : mode.value();
    }

    private Optional<Mode> globalMode() {
        return config.get(GLOBAL_KEY).map(value -> Mode.parse(GLOBAL_KEY, value));
    }
}
