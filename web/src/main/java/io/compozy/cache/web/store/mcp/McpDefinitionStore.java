package io.compozy.cache.web.store.mcp;

import io.compozy.cache.web.observe.Metered;
import io.compozy.cache.web.store.HashTag;
import io.compozy.cache.web.store.JsonText;
import io.compozy.cache.web.store.KeyPatterns;
import io.compozy.cache.web.store.StoreException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;

/**
 * MCP server definitions and their status (see docs/stores.md, "MCP definition store").
 *
 * <p>A definition is a JSON object with a {@code transport} of {@code stdio} (which needs a
 * {@code command}), {@code sse} or {@code streamable-http} (which need an http(s) {@code url}). Its
 * {@code name}, when given, must equal the name it is saved under; when absent it is added.
 *
 * <p>A definition is at {@code {mcp_proxy:mcps:<name>}} and its status at {@code {mcp_proxy:mcps:<name>}:status}:
 * one hash tag ({@link HashTag}), so the DEL that removes both is one command on Cluster too.
 */
@ApplicationScoped
public class McpDefinitionStore {

    static final String DEFINITION_PREFIX = "mcp_proxy:mcps:";
    static final String STATUS_SUFFIX = ":status";
    static final Set<String> TRANSPORTS = Set.of("stdio", "sse", "streamable-http");

    private final RedissonClient redis;

    /** For CDI's proxy only. */
    protected McpDefinitionStore() {
        this.redis = null;
    }

    @Inject
    public McpDefinitionStore(final RedissonClient redis) {
        this.redis = Objects.requireNonNull(redis, "redis");
    }

    /** {@code {mcp_proxy:mcps:<name>}}: the definition, its own hash tag. */
    public static String definitionKey(final String name) {
        return HashTag.of(DEFINITION_PREFIX + StoreException.requireText(name, "MCP name"));
    }

    /** {@code {mcp_proxy:mcps:<name>}:status}, in the definition's hash slot. */
    public static String statusKey(final String name) {
        return definitionKey(name) + STATUS_SUFFIX;
    }

    /**
     * Validates and saves a definition.
     *
     * @return the definition as stored (with its name)
     * @throws StoreException {@code INVALID_ARGUMENT} naming the field to fix
     */
    @Metered("mcp_save")
    public JsonObject save(final String name, final JsonValue definition) {
        JsonObject valid = validate(StoreException.requireText(name, "MCP name"), definition);
        redis.getBucket(definitionKey(name), StringCodec.INSTANCE).set(valid.toString());
        return valid;
    }

    /** The definition saved under {@code name}, if any. */
    @Metered(value = "mcp_get", absent = "not_found")
    public Optional<JsonObject> get(final String name) {
        String key = definitionKey(name);
        return Optional.ofNullable(redis.<String>getBucket(key, StringCodec.INSTANCE).get())
                .map(json -> asObject(JsonText.parseStored(json, key), key));
    }

    /**
     * Deletes a definition and its status.
     *
     * @throws StoreException {@code NOT_FOUND} when no definition has that name
     */
    @Metered("mcp_delete")
    public void delete(final String name) {
        long deleted = redis.getKeys().delete(definitionKey(name), statusKey(name));
        if (deleted == 0) {
            throw StoreException.notFound("no MCP definition is named '" + name + "'");
        }
    }

    /** Every definition, by name (SCAN then MGET), sorted by name. */
    @Metered("mcp_list")
    public Map<String, JsonObject> list() {
        // Definitions end with "}", their statuses with "}:status".
        String opening = HashTag.opening(DEFINITION_PREFIX);
        List<String> keys;
        try (var stream = redis.getKeys().getKeysStream(KeysScanOptions.defaults()
                .pattern(KeyPatterns.startingWith(opening)).chunkSize(500))) {
            keys = stream.filter(k -> k.endsWith("}")).distinct().sorted().toList();
        }
        Map<String, JsonObject> definitions = new LinkedHashMap<>();
        for (int from = 0; from < keys.size(); from += 500) {
            List<String> chunk = keys.subList(from, Math.min(keys.size(), from + 500));
            Map<String, String> values = redis.getBuckets(StringCodec.INSTANCE).get(chunk.toArray(String[]::new));
            for (String key : chunk) {
                String json = values.get(key);
                if (json != null) { // deleted since the SCAN saw it
                    definitions.put(key.substring(opening.length(), key.length() - 1), asObject(JsonText.parseStored(json, key), key));
                }
            }
        }
        return definitions;
    }

    /** The status of {@code name}: the stored one, else a default {@code disconnected} status. */
    @Metered("mcp_status")
    public JsonObject status(final String name) {
        String key = statusKey(name);
        String json = redis.<String>getBucket(key, StringCodec.INSTANCE).get();
        if (json == null) {
            return Json.createObjectBuilder().add("name", name).add("status", "disconnected").build();
        }
        return asObject(JsonText.parseStored(json, key), key);
    }

    /** Saves the status of {@code name} (a JSON object). */
    @Metered("mcp_save_status")
    public void saveStatus(final String name, final JsonObject status) {
        redis.getBucket(statusKey(name), StringCodec.INSTANCE).set(Objects.requireNonNull(status, "status").toString());
    }

    static JsonObject validate(final String name, final JsonValue definition) {
        if (!(definition instanceof JsonObject object)) {
            throw StoreException.invalid("an MCP definition must be a JSON object");
        }
        List<String> problems = new ArrayList<>();
        if (object.containsKey("name") && !(object.get("name") instanceof JsonString given && given.getString().equals(name))) {
            problems.add("'name' must be the string '" + name + "' (the name in the path) or be left out");
        }
        String transport = text(object, "transport");
        if (transport == null || !TRANSPORTS.contains(transport)) {
            problems.add("'transport' must be one of " + String.join(", ", TRANSPORTS.stream().sorted().toList()));
        } else if (transport.equals("stdio")) {
            if (text(object, "command") == null) {
                problems.add("'command' (a non-empty string) is required for the stdio transport");
            }
        } else if (!isHttpUrl(text(object, "url"))) {
            problems.add("'url' (an absolute http or https URL) is required for the " + transport + " transport");
        }
        if (!problems.isEmpty()) {
            throw StoreException.invalid("invalid MCP definition '" + name + "': " + String.join("; ", problems));
        }
        return object.containsKey("name") ? object : Json.createObjectBuilder(object).add("name", name).build();
    }

    private static String text(final JsonObject object, final String field) {
        return object.get(field) instanceof JsonString s && !s.getString().isBlank() ? s.getString() : null;
    }

    private static boolean isHttpUrl(final String url) {
        if (url == null) {
            return false;
        }
        try {
            URI uri = new URI(url);
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static JsonObject asObject(final JsonValue value, final String key) {
        if (value instanceof JsonObject object) {
            return object;
        }
        throw new StoreException(StoreException.Reason.CORRUPT_DATA,
                "the value at Redis key '" + key + "' is not a JSON object; rewrite or delete that key");
    }
}
