package io.compozy.cache.web.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * A Lua script kept as a {@code .lua} resource next to the store that runs it, read once. Every
 * evaluation uses {@code StringCodec}: keys, arguments and replies are plain strings.
 */
public final class LuaScript {

    private final String name;
    private final String source;

    private LuaScript(final String name, final String source) {
        this.name = name;
        this.source = source;
    }

    /** Reads {@code fileName} from the package of {@code owner} (for example {@code delete.lua}). */
    public static LuaScript load(final Class<?> owner, final String fileName) {
        try (InputStream in = owner.getResourceAsStream(fileName)) {
            if (in == null) {
                throw new IllegalStateException("Lua script " + fileName + " is missing next to "
                        + owner.getName() + "; the build must copy src/main/resources");
            }
            return new LuaScript(fileName, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Lua script " + fileName, e);
        }
    }

    /** Runs the script with the given KEYS and ARGV (arguments are sent as their string form). */
    public <R> R eval(final RedissonClient redis, final RScript.ReturnType returnType, final List<String> keys,
            final Object... args) {
        Objects.requireNonNull(redis, "redis");
        return redis.getScript(StringCodec.INSTANCE)
                .eval(RScript.Mode.READ_WRITE, source, returnType, List.copyOf(keys), args);
    }

    @Override
    public String toString() {
        return name;
    }
}
